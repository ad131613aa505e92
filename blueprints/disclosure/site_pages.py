"""The pages of the fake school websites (``sites.py`` serves them): what each scenario
answers, path by path."""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Iterator

SCENARIOS = ("complete", "partial", "broken_links", "redirect_loop", "slow", "outdated",
             "no_microdata", "server_error", "huge", "cp1251", "robots", "hang", "portal")


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


_PDF = b"%PDF-1.4\n% fake document\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def html_page(title: str, body: str, *, charset: str = "utf-8", meta: bool = True) -> bytes:
    head = f'<meta charset="{charset}">' if meta else ""
    page = (f'<!DOCTYPE html>\n<html lang="ru"><head>{head}<title>{title}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n")
    return page.encode(charset, "xmlcharrefreplace")


def _links(pairs) -> str:
    return "<ul>\n" + "\n".join(f'<li><a href="{href}">{text}</a>{tail}</li>' for href, text, tail in pairs) + "\n</ul>"


@dataclass
class SiteContext:
    """Where a site's pages are built: its name and base URL, the portal's, a refused URL
    and the site's options."""

    name: str
    base: str
    portal: str
    refused: str
    opts: dict


def _school(ctx: SiteContext, *, missing=(), microdata=True, outdated=False, broken=False, loop=False,
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
        html = html_page(f"{title} — {short}", text, charset=charset)
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
        routes["/news/"] = Resource(body=html_page("Новости", "<h1>Новости</h1>\n" + _links(news + files)))
        for href, text, _tail in news:
            routes[href] = Resource(body=html_page(text, f"<h1>{text}</h1><p>Текст новости.</p>"))
        for href, _text, _tail in files:
            document(href)
    return routes


def _count_links(routes: dict[str, Resource]) -> int:
    hrefs = set()
    for resource in routes.values():
        if resource.content_type.startswith("text/html"):
            hrefs.update(re.findall(rb'href="([^"#]+)"', resource.body))
    return len(hrefs)


def pages_for(scenario: str, ctx: SiteContext) -> dict[str, Resource]:
    """The site of ``scenario``: path -> what it answers."""
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
        return {"/": Resource(status=500, body=html_page("Ошибка", "<h1>500 Internal Server Error</h1>"))}
    if scenario == "huge":
        size = int(opts.get("size", 50 * 1024 * 1024))
        if opts.get("gzip"):  # a few hundred kilobytes on the wire that inflate to ``size``
            return {"/": Resource(body=_gzipped(huge_chunks(size)), headers={"Content-Encoding": "gzip"})}
        return {"/": Resource(stream_bytes=size)}
    if scenario == "hang":
        return {"/": Resource(hang=True)}
    if scenario == "portal":
        return {}
    raise ValueError(f"unknown scenario {scenario!r}")


def huge_chunks(size: int) -> Iterator[bytes]:
    """A page of ``size`` bytes, one 64 KiB block repeated: nothing big is held in memory."""
    head = html_page("Огромная страница", '<h1>Очень длинная страница</h1>\n<p><a href="/docs/">Документы</a></p>')
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
