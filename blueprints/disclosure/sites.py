"""Fake school websites on loopback, for the tests, the benchmark and the demo.

A small HTTP/1.1 server on asyncio: each site listens on its own port of 127.0.0.1 (so
each is its own host for the crawler's per-host limits), serves Russian pages built from
a scenario, logs every request and counts the most requests it had in flight at once.
Links "to the outside world" (the public services portal, the journal system, the
education office) point to a shared loopback "portal" site or to a port that refuses
connections: nothing here ever leaves the machine.

    server = SiteServer().start()
    server.add("school", "complete")
    server.url("school")            # "http://127.0.0.1:PORT/"
    server.stop()
"""
from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

# The crawler refuses addresses that are not on the Internet unless its settings allow
# them: whoever crawls these sites passes ``Settings(allowed_networks=LOOPBACK_NETWORKS)``.
LOOPBACK_NETWORKS = ("127.0.0.0/8",)

SCENARIOS = ("complete", "partial", "broken_links", "redirect_loop", "slow", "outdated",
             "no_microdata", "server_error", "huge", "cp1251", "robots", "hang", "portal")

# The demo's Kirovsk schools: their sites on fixed loopback ports (the demo tenants'
# website_url), each with its scenario and options. СОШ № 10 carries two false alarms that
# a person would dismiss: a document that answers 404 to HEAD only, and a current act
# flagged as outdated because its remark reads "изменено приказом".
DEMO_PORTS = {"СОШ № 2": 8101, "СОШ № 5": 8102, "СОШ № 7": 8103, "ООШ № 8": 8104, "СОШ № 10": 8105}
DEMO_PORTAL_PORT = 8106
# A demo school whose site is down: nothing listens on its port (a finding, never a crash).
DEMO_DOWN = {"Хибинская гимназия": 8107}


def demo_sites() -> dict[str, tuple[str, dict]]:
    """The demo schools' sites: short name -> (scenario, options)."""
    return {
        "СОШ № 2": ("complete", {"school": "СОШ № 2"}),
        "СОШ № 5": ("outdated", {"school": "СОШ № 5"}),
        "СОШ № 7": ("broken_links", {"school": "СОШ № 7"}),
        "ООШ № 8": ("no_microdata", {"school": "ООШ № 8", "kind": "ООШ"}),
        "СОШ № 10": ("partial", {"school": "СОШ № 10", "head_404": True, "false_outdated": True}),
    }


# --- resources --------------------------------------------------------------------------

@dataclass
class Resource:
    """What one path answers."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0            # seconds before answering (the connection may be dropped meanwhile)
    head_status: int | None = None  # a different status for HEAD
    stream_bytes: int = 0         # when set, a body of this size generated on the fly
    hang: bool = False            # never answer


_REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error"}
_PDF = b"%PDF-1.4\n% fake document\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _html(title: str, body: str, *, charset: str = "utf-8", meta: bool = True) -> bytes:
    head = f'<meta charset="{charset}">' if meta else ""
    page = (f'<!DOCTYPE html>\n<html lang="ru"><head>{head}<title>{title}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n")
    return page.encode(charset, "xmlcharrefreplace")


def _links(pairs) -> str:
    return "<ul>\n" + "\n".join(f'<li><a href="{href}">{text}</a>{tail}</li>' for href, text, tail in pairs) + "\n</ul>"


@dataclass
class _Context:
    name: str
    base: str
    portal: str
    refused: str
    opts: dict


def _school(ctx: _Context, *, missing=(), microdata=True, outdated=False, broken=False, loop=False,
            slow=0.0, robots="", charset="utf-8", head_404=False, false_outdated=False) -> dict[str, Resource]:
    """The pages of one school's site; the flags take parts away or break them. Options
    of the site (``ctx.opts``) besides those of the scenarios: ``content_type`` (the pages'
    Content-Type header), ``home_links`` ((href, text) pairs added to the home page),
    ``redirects`` (path -> Location, answered with 302) and ``hang_paths`` (paths that
    never answer)."""
    opts = ctx.opts
    number = opts.get("school", "СОШ № 1").split("№")[-1].strip() or "1"
    kind = opts.get("kind", "СОШ")
    long_kind = "Основная общеобразовательная школа" if kind == "ООШ" else "Средняя общеобразовательная школа"
    city = opts.get("city", "Кировск")
    short = f"МБОУ «{kind} № {number}»"
    full = f"Муниципальное бюджетное общеобразовательное учреждение «{long_kind} № {number}» г. {city}а"
    phone = f"+7 (81531) 9-{int(number) % 100:02d}-34" if number.isdigit() else "+7 (81531) 9-00-34"
    routes: dict[str, Resource] = {}
    meta = charset == "utf-8"
    content_type = opts.get("content_type") or ("text/html; charset=utf-8" if meta else "text/html")

    def page(path, title, body):
        menu = _links([
            ("/", "Главная", ""),
            ("/sveden/", "Сведения об образовательной организации", ""),
            ("/docs/", "Документы", ""),
            ("/eservices", "Электронные услуги", ""),
            ("/news/", "Новости", ""),
            ("/contacts/", "Контакты", ""),
        ] + ([("/archive/", "Архив", "")] if loop else [])
          + ([("/private/", "Служебный раздел", "")] if robots else []))
        text = (f"<header><h1>{full}</h1></header>\n<nav>{menu}</nav>\n<main>{body}</main>\n"
                f"<footer><p>© {short}, {city}. Телефон: {phone}</p></footer>")
        html = _html(f"{title} — {short}", text, charset=charset)
        if not meta:
            html = html.replace(b'<meta charset="', b'<meta http-equiv="Content-Type" content="text/html; charset=')
        routes[path] = Resource(body=html, content_type=content_type)

    def document(path, *, status=200):
        routes[path] = Resource(status=status, body=_PDF, content_type="application/pdf",
                                head_status=404 if head_404 and "polozhenie" in path else None)

    page("/", "Главная", """
<h2>Новости</h2>
<p>1 сентября 2024 года в школе прошла торжественная линейка, посвящённая Дню знаний.</p>
<p>Родителям учащихся: текущие отметки, домашние задания и расписание доступны в
<a href="/eservices/">электронном дневнике</a>.</p>""" + (
        _links([(href, text, "") for href, text in opts["home_links"]]) if opts.get("home_links") else ""))
    for path, location in (opts.get("redirects") or {}).items():
        routes[path] = Resource(status=302, headers={"Location": location})
    for path in opts.get("hang_paths") or ():
        routes[path] = Resource(hang=True)
    routes["/eservices"] = Resource(status=301, headers={"Location": "/eservices/"})

    if microdata:
        props = set(microdata) if isinstance(microdata, (list, tuple, set)) else None

        def prop(name):
            return f' itemprop="{name}"' if props is None or name in props else ""
    else:
        def prop(name):
            return ""
    page("/sveden/", "Сведения об образовательной организации", f"""
<h1>Сведения об образовательной организации</h1>
<h2>Основные сведения</h2>
<table>
<tr><th>Полное наименование</th><td{prop("fullName")}>{full}</td></tr>
<tr><th>Сокращённое наименование</th><td{prop("shortName")}>{short}</td></tr>
<tr><th>Дата создания</th><td{prop("regDate")}>01.09.1962</td></tr>
<tr{prop("uchredLaw")}><th>Учредитель</th><td>Администрация города {city}а</td></tr>
<tr><th>Место нахождения</th><td{prop("address")}>184250, Мурманская область, г. {city}, ул. Школьная, д. {number}</td></tr>
<tr><th>Места осуществления образовательной деятельности</th><td{prop("addressPlaceSet")}>184250, г. {city}, ул. Школьная, д. {number}</td></tr>
<tr><th>Режим и график работы</th><td{prop("workTime")}>понедельник — пятница, 8:00–18:00; суббота, 9:00–14:00</td></tr>
<tr><th>Телефон</th><td{prop("telephone")}>{phone}</td></tr>
<tr><th>Электронная почта</th><td{prop("email")}>school{number}@{city.lower()}.example</td></tr>
</table>
<h2>Руководство</h2>
<p{prop("rucovodstvo")}>Директор: Смирнова Елена Викторовна, приём по вторникам 15:00–17:00, телефон {phone}</p>
<h2>Документы</h2>
<ul>
<li><a{prop("ustavDocLink")} href="/files/ustav.pdf">Устав {short}</a></li>
<li><a{prop("licenseDocLink")} href="/files/licenziya.pdf">Лицензия на осуществление образовательной деятельности</a></li>
<li><a{prop("accreditationDocLink")} href="/files/akkreditaciya.pdf">Свидетельство о государственной аккредитации</a></li>
</ul>""")
    for name in ("ustav", "licenziya", "akkreditaciya"):
        document(f"/files/{name}.pdf")

    docs = [("/files/ustav.pdf", f"Устав {short}", ""),
            ("/files/pravila-rasporyadka.pdf", "Правила внутреннего распорядка обучающихся от 30.08.2023", ""),
            ("/files/plan-raboty.pdf", "План работы школы на 2024/2025 учебный год", "")]
    if outdated:
        docs.append(("/files/prikaz-45-2018.pdf", "Приказ от 01.09.2018 № 45 «Об утверждении порядка "
                     "ведения классных журналов»", " (отменён приказом от 28.08.2023 № 112)"))
    if broken:
        docs.append(("/files/plan-olimpiad.pdf", "План проведения школьного этапа олимпиад", ""))
        docs.append(("/olimpiady/", "Олимпиады и конкурсы", ""))
        docs.append((ctx.refused, "Сайт управления образования", ""))
    page("/docs/", "Документы", "<h1>Документы</h1>\n" + _links(docs))
    for href, _text, _tail in docs:
        if href.startswith("/files/") and href != "/files/plan-olimpiad.pdf":
            document(href)

    service_docs = []
    if "service_regulation" not in missing:
        service_docs.append(("/files/reglament-uslugi.pdf", "Административный регламент предоставления "
                             "муниципальной услуги «Предоставление информации о текущей успеваемости учащегося, "
                             "ведение электронного дневника и электронного журнала успеваемости»", ""))
    if "diary_regulation" not in missing:
        tail = " (изменено приказом от 10.01.2024 № 3)" if false_outdated else ""
        service_docs.append(("/files/polozhenie-ezh-2023.pdf", "Положение о ведении электронного журнала "
                             "и электронного дневника от 01.09.2023", tail))
        service_docs.append(("/files/polozhenie-ezh-2019.pdf", "Положение о ведении электронного журнала "
                             "и электронного дневника от 02.09.2019", "" if outdated else " — утратило силу"))
    if "journal_order" not in missing:
        service_docs.append(("/files/prikaz-112.pdf", "Приказ от 28.08.2023 № 112 «О введении электронного "
                             "журнала и электронного дневника»", ""))
    if "consent_form" not in missing:
        service_docs.append(("/files/soglasie-pd.pdf", "Форма согласия на обработку персональных данных", ""))
    for href, _text, _tail in service_docs:
        document(href)
    parts = ["<h1>Электронные услуги: электронный дневник и электронный журнал</h1>",
             "<h2>Нормативные документы</h2>", _links(service_docs)]
    if "journal_link" not in missing:
        parts.append(f'<p><a href="{ctx.portal}journal/login">Войти в электронный журнал «Табель»</a></p>')
    if "gosuslugi_link" not in missing:
        parts.append(f'<p><a href="{ctx.portal}gosuslugi/600101/1/form">Подать заявление на портале Госуслуг</a></p>')
    if "service_procedure" not in missing:
        parts.append("<h2>Порядок предоставления услуги</h2>\n<p>Родитель (законный представитель) подаёт "
                     "заявление в канцелярию школы или на портале Госуслуг и в течение трёх рабочих дней "
                     "получает логин и пароль для входа в электронный дневник. Услуга бесплатная.</p>")
    if "responsible_contacts" not in missing:
        parts.append(f"<p>Ответственный за ведение электронного журнала: Иванова Мария Петровна, "
                     f"заместитель директора, кабинет 204, приём во вторник и четверг 14:00–17:00, "
                     f"телефон {phone}.</p>")
    if "education_office_contacts" not in missing:
        office = f"{ctx.refused if broken else ctx.portal}uo/"
        parts.append(f'<p><a href="{office}">Управление образования администрации г. {city}а</a>: '
                     f"специалист Петрова Ольга Ивановна, телефон +7 (81531) 5-67-89, e-mail uo@{city.lower()}.example</p>")
    page("/eservices/", "Электронные услуги", "\n".join(parts))

    page("/news/", "Новости", "<h1>Новости</h1>\n<p>Итоги школьного этапа всероссийской олимпиады школьников.</p>")
    if slow:
        routes["/news/"].delay = slow
    page("/contacts/", "Контакты", f"<h1>Контакты</h1>\n<p>Адрес: 184250, г. {city}, ул. Школьная, д. {number}. "
         f"Телефон приёмной: {phone}.</p>")
    if loop:
        routes["/archive/"] = Resource(status=302, headers={"Location": "/archive/old/"})
        routes["/archive/old/"] = Resource(status=302, headers={"Location": "/archive/"})
    if robots:
        routes["/robots.txt"] = Resource(body=f"User-agent: *\nDisallow: {robots}\n".encode(),
                                         content_type="text/plain")
        page("/private/", "Служебный раздел", "<h1>Служебный раздел</h1>")

    extra = int(opts.get("links", 0)) - _count_links(routes)
    if extra > 0:
        news = [(f"/news/{i}/", f"Новость № {i}", "") for i in range(1, extra // 2 + 1)]
        files = [(f"/files/doc-{i}.pdf", f"Документ № {i}", "") for i in range(1, extra - len(news) + 1)]
        routes["/news/"] = Resource(body=_html("Новости", "<h1>Новости</h1>\n" + _links(news + files)))
        for href, text, _tail in news:
            routes[href] = Resource(body=_html(text, f"<h1>{text}</h1><p>Текст новости.</p>"))
        for href, _text, _tail in files:
            document(href)
    return routes


def _count_links(routes: dict[str, Resource]) -> int:
    hrefs = set()
    for resource in routes.values():
        if resource.content_type.startswith("text/html"):
            hrefs.update(re.findall(rb'href="([^"#]+)"', resource.body))
    return len(hrefs)


def _build(scenario: str, ctx: _Context) -> dict[str, Resource]:
    opts = ctx.opts
    flags = {key: opts[key] for key in ("head_404", "false_outdated") if key in opts}
    if scenario == "complete":
        return _school(ctx, **flags)
    if scenario == "partial":
        missing = ("gosuslugi_link", "service_procedure", "education_office_contacts", "consent_form")
        return _school(ctx, missing=opts.get("missing", missing),
                       microdata=["fullName", "shortName", "address", "telephone", "email"], **flags)
    if scenario == "broken_links":
        return _school(ctx, broken=True, **flags)
    if scenario == "redirect_loop":
        return _school(ctx, loop=True, **flags)
    if scenario == "slow":
        return _school(ctx, slow=float(opts.get("delay", 3.0)), **flags)
    if scenario == "outdated":
        return _school(ctx, outdated=True, **flags)
    if scenario == "no_microdata":
        return _school(ctx, microdata=False, **flags)
    if scenario == "cp1251":
        return _school(ctx, charset="windows-1251", **flags)
    if scenario == "robots":
        return _school(ctx, robots=opts.get("disallow", "/private/"), **flags)
    if scenario == "server_error":
        return {"/": Resource(status=500, body=_html("Ошибка", "<h1>500 Internal Server Error</h1>"))}
    if scenario == "huge":
        size = int(opts.get("size", 50 * 1024 * 1024))
        if opts.get("gzip"):  # a few hundred kilobytes on the wire that inflate to ``size``
            return {"/": Resource(body=_gzipped(_huge_chunks(size)), headers={"Content-Encoding": "gzip"})}
        return {"/": Resource(stream_bytes=size)}
    if scenario == "hang":
        return {"/": Resource(hang=True)}
    if scenario == "portal":
        return {}
    raise ValueError(f"unknown scenario {scenario!r}")


def _huge_chunks(size: int) -> Iterator[bytes]:
    """A page of ``size`` bytes, one 64 KiB block repeated: nothing big is held in memory."""
    head = _html("Огромная страница", '<h1>Очень длинная страница</h1>\n<p><a href="/docs/">Документы</a></p>')
    head = head.replace(b"</body></html>\n", b"")
    block = ("<p>Строка новостной ленты, повторённая много раз. " * 40 + "</p>\n").encode()
    block = (block * (65_536 // len(block) + 1))[:65_536]
    yield head
    sent = len(head)
    while sent + len(block) <= size:
        yield block
        sent += len(block)
    if size > sent:
        yield block[:size - sent]


def _gzipped(chunks: Iterator[bytes]) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(packer.compress(chunk) for chunk in chunks) + packer.flush()


# --- the server -------------------------------------------------------------------------

@dataclass
class _Site:
    name: str
    scenario: str
    opts: dict
    port: int = 0
    routes: dict = field(default_factory=dict)
    server: asyncio.AbstractServer | None = None
    active: int = 0
    max_active: int = 0
    log: list = field(default_factory=list)   # (method, target, headers)


class SiteServer:
    """Many fake sites in one background thread with its own event loop.

    ``max_concurrent[name]`` is the most requests the site had in flight at once, and
    ``requests(name)`` its log of (method, path, headers), headers with lower-case names.
    """

    def __init__(self, host: str = "127.0.0.1", *, any_port: bool = False):
        self.host = host
        # With ``any_port``, a site whose port is taken listens on a free one instead.
        self.any_port = any_port
        self.sites: dict[str, _Site] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.refused_url = ""
        self.portal_url = ""

    # lifecycle ---------------------------------------------------------------------------

    def start(self, *, portal_port: int = 0, refused_port: int | None = None) -> "SiteServer":
        ready = threading.Event()

        def main():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

        self._thread = threading.Thread(target=main, name="fake-school-sites", daemon=True)
        self._thread.start()
        ready.wait()
        if refused_port and self.any_port and not _port_is_free(self.host, refused_port):
            refused_port = None
        self.refused_url = f"http://{self.host}:{refused_port or _free_port(self.host)}/"
        pending = [s for s in self.sites.values() if s.server is None]
        self._call(self._open(_Site("portal", "portal", {}, port=portal_port)))
        self.portal_url = self.url("portal")
        for site in pending:
            self._call(self._open(site))
        return self

    def stop(self) -> None:
        if self.loop is None:
            return

        async def close():
            for site in self.sites.values():
                if site.server is not None:
                    site.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        self._call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # sites -------------------------------------------------------------------------------

    def add(self, name: str, scenario: str, *, port: int = 0, **opts) -> str:
        """Add a site (before or after ``start``) and return its base URL once started."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        site = _Site(name, scenario, opts, port=port)
        self.sites[name] = site
        if self.loop is not None:
            self._call(self._open(site))
            return self.url(name)
        return ""

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.sites[name].port}/"

    @property
    def max_concurrent(self) -> dict[str, int]:
        return {name: site.max_active for name, site in self.sites.items()}

    def requests(self, name: str) -> list[tuple[str, str, dict]]:
        return list(self.sites[name].log)

    def reset_stats(self) -> None:
        for site in self.sites.values():
            site.max_active = 0
            site.log.clear()

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    async def _open(self, site: _Site) -> None:
        def serve(reader, writer):
            return self._serve(site, reader, writer)

        try:
            site.server = await asyncio.start_server(serve, self.host, site.port, backlog=512, reuse_address=True)
        except OSError:
            if not (site.port and self.any_port):
                raise
            # The wanted port is someone else's: any free one will do, the caller reads ``url``.
            site.server = await asyncio.start_server(serve, self.host, 0, backlog=512, reuse_address=True)
        site.port = site.server.sockets[0].getsockname()[1]
        self.sites[site.name] = site
        ctx = _Context(site.name, self.url(site.name), self.portal_url, self.refused_url, site.opts)
        site.routes = _build(site.scenario, ctx)

    # HTTP --------------------------------------------------------------------------------

    async def _serve(self, site: _Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                site.log.append((method, target, headers))
                site.active += 1
                site.max_active = max(site.max_active, site.active)
                flight = _Flight(site)
                try:
                    keep = await self._respond(site, method, urlsplit(target).path or "/", reader, writer, flight)
                finally:
                    flight.done()
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _respond(self, site, method, path, reader, writer, flight) -> bool:
        resource = site.routes.get(path)
        if resource is None and site.scenario == "portal":
            resource = Resource(body=_html("Портал", f"<h1>Портал</h1><p>{path}</p>"))
        if resource is None:
            resource = Resource(status=404, body=_html("Страница не найдена", "<h1>404: страница не найдена</h1>"))
        if resource.hang:
            await reader.read()
            return False
        delay = resource.delay or float(site.opts.get("latency", 0))
        if delay:
            try:
                if await asyncio.wait_for(reader.read(1), delay) == b"":
                    return False     # the client gave up
            except asyncio.TimeoutError:
                pass
        status = resource.head_status if method == "HEAD" and resource.head_status else resource.status
        length = resource.stream_bytes or len(resource.body)
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Length: {length}",
                "Server: tabel-fake-sites", "Connection: keep-alive"]
        if resource.content_type:
            head.append(f"Content-Type: {resource.content_type}")
        head += [f"{key}: {value}" for key, value in resource.headers.items()]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if method == "HEAD":
            writer.write(data)
            flight.done()
            await writer.drain()
            return True
        if not resource.stream_bytes:
            writer.write(data + resource.body)
            flight.done()
            await writer.drain()
            return True
        writer.write(data)
        for chunk in _huge_chunks(resource.stream_bytes):
            if reader.at_eof() or writer.is_closing():
                return False
            writer.write(chunk)
            await writer.drain()
        flight.done()
        return True


class _Flight:
    """One request in flight; ``done`` is called as soon as the last byte is handed to the
    socket, so that the count never includes a request the client already has in full."""

    def __init__(self, site: _Site):
        self.site = site
        self.open = True

    def done(self) -> None:
        if self.open:
            self.open = False
            self.site.active -= 1


def _free_port(host: str) -> int:
    """A port that nothing listens on (bound, then released): connections to it are refused."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def start_demo(host: str = "127.0.0.1", base_port: int = 8101) -> tuple[SiteServer, dict[str, str]]:
    """Start the demo schools' sites on ports ``base_port`` + i (``DEMO_PORTS``), the portal
    on the port after them, and leave the next one unanswered (the school whose site is
    down, ``DEMO_DOWN``). A port that something else holds is swapped for a free one, so
    the answer names where each school's site really is: short name -> base URL."""
    server = SiteServer(host, any_port=True)
    for i, (name, (scenario, opts)) in enumerate(demo_sites().items()):
        server.add(name, scenario, port=base_port + i, **opts)
    server.start(portal_port=base_port + len(DEMO_PORTS), refused_port=base_port + len(DEMO_PORTS) + 1)
    urls = {name: server.url(name) for name in DEMO_PORTS}
    urls.update({name: server.refused_url for name in DEMO_DOWN})
    return server, urls


def serve_forever(server: SiteServer) -> None:
    """Keep ``server`` serving until interrupted."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
