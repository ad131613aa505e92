"""The crawler behind the website-disclosure checks (WD-1..WD-4).

From a school's start page it fetches the pages of the same site (bounded by depth and
count, the likely pages first), then reports as findings: each checklist item found or
missing (WD-1, WD-4), each link's status (WD-2), documents replaced without the
"утратил силу" mark (WD-3), and the microdata of the section "Сведения об
образовательной организации". Whatever a site does (an invalid address, 500, silence, a
50 MB page, windows-1251), the result is a finding, never an exception.

Plain asyncio, httpx and selectolax: no database and no Flask here. Politeness: one
honest User-Agent, robots.txt per host, at most ``per_host_concurrency`` requests in
flight per host with ``delay`` between their starts, redirects followed by hand so that
chains and loops are reported.

Safety, since a school's admin writes the start address and any site may redirect
anywhere: before every request (robots.txt, pages, link checks, each redirect hop) the
host's addresses are checked, and only globally routable ones, or those in
``Settings.allowed_networks``, are requested. A site has ``site_seconds`` in all; bodies
are read up to ``max_bytes`` after decompression and dropped once parsed; the parse and
the checklist's regexes run off the event loop, on at most ``_MATCH_CHARS`` of a page.
"""
from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import functools
import heapq
import ipaddress
import logging
import re
import socket
import time
import zlib
from collections import defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Callable
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from selectolax.lexbor import LexborHTMLParser

log = logging.getLogger("tabel.disclosure")


@dataclass
class Settings:
    max_depth: int = 2            # link hops from the start page inside the same site
    max_pages: int = 30           # pages fetched and parsed per site
    timeout: float = 10.0         # seconds per request (connect + read, total)
    per_host_concurrency: int = 2  # simultaneous requests to one host (netloc)
    delay: float = 0.0            # seconds between the starts of two requests to one host
    max_bytes: int = 2_000_000    # body read cap (after decompression); bigger pages are cut and reported
    max_redirects: int = 5
    check_links: bool = True
    user_agent: str = "TabelDisclosureCheck/1.0 (+website-disclosure checks of school sites)"
    respect_robots: bool = True
    max_links: int = 500          # links checked per site; the rest are counted, not checked
    site_seconds: float = 120.0   # the whole check of one site; past it the site keeps what was found
    # CIDRs that may be crawled although not globally routable (loopback for the fake sites
    # of the tests and the demo). Deployment configuration: never read from a regulation.
    allowed_networks: tuple[str, ...] = ()

    _ALIASES = {"timeout_seconds": "timeout", "delay_seconds": "delay"}
    _NOT_FROM_REGULATION = ("allowed_networks",)

    def __post_init__(self):
        if isinstance(self.allowed_networks, str):
            self.allowed_networks = (self.allowed_networks,)
        self.allowed_networks = tuple(str(n).strip() for n in self.allowed_networks)
        _networks(self.allowed_networks)  # a bad CIDR is a configuration error: raise now

    @classmethod
    def from_regulation(cls, section: dict, *, allowed_networks=()) -> "Settings":
        """Settings from the regulation's ``disclosure`` section; unknown keys are ignored.
        ``allowed_networks`` comes from the deployment, never from the regulation (whoever
        edits a regulation must not open the internal network to the crawler)."""
        known = {f.name: f for f in fields(cls)}
        values = {}
        for key, value in (section or {}).items():
            name = cls._ALIASES.get(key, key)
            if name in known and name not in cls._NOT_FROM_REGULATION and value is not None:
                default = known[name].default
                values[name] = type(default)(value) if not isinstance(default, bool) else bool(value)
        return cls(**values, allowed_networks=tuple(allowed_networks or ()))


@functools.lru_cache(maxsize=64)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _embedded_ipv4(ip) -> list:
    """The IPv4 addresses an IPv6 address carries to a v4 host (mapped, 6to4, Teredo, NAT64)."""
    if ip.version != 6:
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refused_address(addresses, allowed_networks: tuple[str, ...] = ()) -> str | None:
    """The first of ``addresses`` that may not be crawled, or None when all may: an address
    may be crawled when it is globally routable or lies in one of ``allowed_networks``
    (an IPv4-mapped IPv6 address counts as its IPv4 address)."""
    networks = _networks(tuple(allowed_networks))
    for address in addresses:
        try:
            ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        except ValueError:
            return str(address)
        embedded = _embedded_ipv4(ip)
        candidates = [ip.ipv4_mapped] if ip.version == 6 and ip.ipv4_mapped is not None else [ip, *embedded]
        for candidate in candidates:
            if any(candidate.version == n.version and candidate in n for n in networks):
                continue
            if not candidate.is_global or candidate.is_multicast or candidate.is_reserved:
                return str(address)
    return None


@dataclass
class Item:
    """One checklist item, as stored in the regulation."""

    key: str
    title: str
    required: bool = True
    text_patterns: list[str] = field(default_factory=list)  # regexes (case-insensitive) on link texts, titles, headings, text blocks
    url_patterns: list[str] = field(default_factory=list)   # regexes on absolute link URLs and page URLs
    itemprops: list[str] = field(default_factory=list)      # microdata itemprop names

    @classmethod
    def from_dict(cls, d: dict) -> "Item":
        return cls(key=str(d["key"]), title=str(d.get("title") or d["key"]),
                   required=bool(d.get("required", True)),
                   text_patterns=list(d.get("text_patterns") or []),
                   url_patterns=list(d.get("url_patterns") or []),
                   itemprops=list(d.get("itemprops") or []))


@dataclass
class Finding:
    kind: str        # "item" | "link" | "outdated" | "microdata" | "site"
    key: str         # identity across runs: item key, link URL, document URL, itemprop, site code
    status: str
    ok: bool         # True when this finding is not a fault
    url: str | None = None
    text: str | None = None
    page: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class SiteReport:
    start_url: str
    findings: list[Finding]
    pages_fetched: int
    links_checked: int
    elapsed_ms: int
    error: str | None = None     # the site finding's status when the site could not be checked
    pages: list[dict] = field(default_factory=list)  # url, status_code, encoding, bytes, depth, truncated
    links_found: int = 0         # distinct links seen, including those past ``max_links``


# Microdata of the section "Сведения об образовательной организации": the itemprop names of
# the Rosobrnadzor order of 14.08.2020 No. 831 "Об утверждении Требований к структуре
# официального сайта ..." (subsections "Основные сведения", "Руководство", "Документы").
MICRODATA_PROPS: list[str] = [
    "fullName", "shortName", "regDate", "uchredLaw", "address", "addressPlaceSet",
    "workTime", "telephone", "email", "rucovodstvo", "ustavDocLink", "licenseDocLink",
    "accreditationDocLink",
]


def default_checklist() -> list[dict]:
    """The platform's checklist (WD-1: the normative acts of the service; WD-4: links to the
    service and to the journal system, how to get the service, the responsible persons)."""
    ejournal = r"электронн\w*\s+(?:классн\w*\s+)?(?:журнал|дневник)"
    phone = r"(?:телефон|тел\.|\+7|\b8\s?\(\d{3,5}\)|e-?mail|эл\.\s*почт)"
    return [
        {"key": "service_regulation", "required": True,
         "title": "Административный регламент услуги «Предоставление информации о текущей "
                  "успеваемости, ведение электронного дневника и электронного журнала»",
         "text_patterns": [r"(?:административн\w*\s+)?регламент\w*\s+(?:предоставлени\w*\s+)?"
                           r"(?:государственн\w*\s+|муниципальн\w*\s+)?услуг\w*.{0,200}?" + ejournal,
                           r"регламент\w*.{0,120}?текущ\w*\s+успеваемост"],
         "url_patterns": [r"reglament\w*[-_]?(?:uslug|ezh|ed|dnevnik|zhurnal)"]},
        {"key": "diary_regulation", "required": True,
         "title": "Положение о ведении электронного журнала и электронного дневника",
         "text_patterns": [r"положени\w*\s+(?:о|об)\s+(?:ведении\s+)?" + ejournal,
                           r"положени\w*\s+(?:о|об)\s+.{0,60}?" + ejournal],
         "url_patterns": [r"polozheni\w*[-_]?(?:o[-_])?(?:vedenii[-_])?(?:ezh|ed|e-?journal|dnevnik|zhurnal)"]},
        {"key": "journal_order", "required": True,
         "title": "Приказ о введении электронного журнала и электронного дневника",
         "text_patterns": [r"приказ\w*\b.{0,120}?(?:о\s+введении|о\s+переходе|об\s+организации|"
                           r"о\s+ведении|об\s+использовании).{0,80}?" + ejournal,
                           r"приказ\w*\b.{0,120}?безбумажн"],
         "url_patterns": [r"prikaz\w*[-_]?(?:o[-_])?(?:vvedeni\w*|perehod\w*)[-_]?(?:ezh|ed|e-?journal|zhurnal)"]},
        {"key": "journal_link", "required": True,
         "title": "Ссылка на систему электронного журнала",
         "text_patterns": [r"(?:войти|вход|перейти|ссылка)\b.{0,40}?" + ejournal,
                           r"дневник\.ру|элжур|сетевой\s+город|netschool|элшкола|эпос\.школа|\bмэш\b"],
         "url_patterns": [r"dnevnik\.ru|eljur\.ru|elschool\.ru|netschool|\bsgo\.|school\.mos\.ru|"
                          r"\bepos\b|tabel[^/]*/(?:login|journal|diary)"]},
        {"key": "gosuslugi_link", "required": True,
         "title": "Ссылка на услугу на Едином портале государственных услуг",
         "text_patterns": [r"госуслуг", r"портал\w*\s+государственн\w*\s+(?:и\s+муниципальн\w*\s+)?услуг"],
         "url_patterns": [r"gosuslugi"]},
        {"key": "service_procedure", "required": True,
         "title": "Краткий порядок получения услуги в школе",
         "text_patterns": [r"порядок\s+(?:предоставления|получения)\s+(?:муниципальн\w*\s+|государственн\w*\s+)?услуг",
                           r"как\s+(?:получить|подключить)\w*\s+(?:услугу|доступ|электронн\w*\s+дневник)"],
         "url_patterns": [r"poryadok[-_]?(?:predostavleniya|polucheniya)"]},
        {"key": "responsible_contacts", "required": True,
         "title": "Контакты ответственного лица школы (ФИО, кабинет, часы приёма, телефон)",
         "text_patterns": [r"ответственн\w*.{0,300}?(?:кабинет|каб\.|" + phone[3:]]},
        {"key": "education_office_contacts", "required": True,
         "title": "Контакты ответственного лица органа управления образованием",
         "text_patterns": [r"(?:управлени|отдел|комитет|департамент|министерств)\w*\s+(?:\w+\s+){0,2}"
                           r"образовани\w*.{0,300}?" + phone]},
        {"key": "consent_form", "required": False,
         "title": "Форма согласия на обработку персональных данных",
         "text_patterns": [r"согласи\w*\s+(?:на\s+)?обработк\w*\s+персональн"],
         "url_patterns": [r"soglasi\w*[-_]?(?:na[-_])?(?:obrabotk|pd)"]},
    ]


# --- politeness -------------------------------------------------------------------------

class HostLimiter:
    """Per-host politeness shared by every site of a run: at most ``per_host_concurrency``
    requests in flight to one netloc, their starts spaced by ``delay`` seconds (or the
    host's robots.txt Crawl-delay, if longer, up to 10 s), and what a run needs to ask a
    host only once (its robots.txt; the status of an external link that many schools
    share, such as the public services portal).

    ``max_seen`` holds the highest number of simultaneous requests observed per host;
    ``timeouts`` the number of requests to a host that timed out (past ``MAX_TIMEOUTS``
    the host's remaining links are not checked). ``clock`` and ``sleep`` default to the
    monotonic clock and ``asyncio.sleep``; tests pass a virtual clock.
    """

    MAX_CRAWL_DELAY = 10.0
    MAX_TIMEOUTS = 5

    def __init__(self, per_host_concurrency: int = 2, delay: float = 0.0, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable = asyncio.sleep):
        self.clock, self.sleep = clock, sleep
        self.per_host_concurrency = max(1, int(per_host_concurrency))
        self.delay = max(0.0, float(delay))
        self.max_seen: dict[str, int] = {}
        self._active: dict[str, int] = defaultdict(int)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}
        self._once: dict[str, asyncio.Task] = {}
        self.timeouts: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def slot(self, host: str):
        semaphore = self._semaphores.get(host)
        if semaphore is None:
            semaphore = self._semaphores[host] = asyncio.Semaphore(self.per_host_concurrency)
        async with semaphore:
            delay = self._delays.get(host, self.delay)
            if delay:
                now = self.clock()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + delay
                if start > now:
                    await self.sleep(start - now)
            self._active[host] += 1
            if self._active[host] > self.max_seen.get(host, 0):
                self.max_seen[host] = self._active[host]
            try:
                yield
            finally:
                self._active[host] -= 1

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        self._delays[host] = max(self.delay, min(float(seconds), self.MAX_CRAWL_DELAY))

    async def once(self, key: str, make: Callable):
        """The result of ``await make()``, computed once per ``key`` in this run."""
        task = self._once.get(key)
        if task is None:
            task = self._once[key] = asyncio.ensure_future(make())
        return await asyncio.shield(task)


# --- HTTP -------------------------------------------------------------------------------

@dataclass
class _Response:
    url: str
    final_url: str
    status_code: int | None = None
    content_type: str = ""
    body: bytes = b""            # dropped once parsed; never kept for a link check
    size: int = 0                # bytes of the (decompressed) body read
    truncated: bool = False
    content_length: int | None = None
    redirects: list[str] = field(default_factory=list)
    elapsed_ms: int = 0
    method: str = "GET"
    # timeout | connect | tls | protocol | invalid_url | redirect_loop | too_many_redirects | blocked_address
    error: str | None = None
    address: str | None = None   # the refused address, with error "blocked_address"
    skipped: bool = False        # not requested: the host had timed out too often

    @property
    def is_html(self) -> bool:
        kind = self.content_type.split(";")[0].strip().lower()
        if kind:
            return kind in ("text/html", "application/xhtml+xml")
        return self.body.lstrip()[:1] == b"<"


_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_SMALL_READ = 65_536  # what a link check or a redirect reads, so that the connection can be reused


class _PerHostTransport(httpx.AsyncBaseTransport):
    """A connection pool per host. One pool for hundreds of hosts spends its time scanning
    its connections on every request; a pool per host stays small, so that a run's cost
    grows with the number of requests, not with their square."""

    def __init__(self, per_host: int):
        self._limits = httpx.Limits(max_connections=None, max_keepalive_connections=per_host)
        self._ssl = httpx.create_ssl_context()  # built once: loading the CA bundle is slow
        self._pools: dict[tuple, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(verify=self._ssl, limits=self._limits)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


def _make_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent,
                 "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
                 "Accept-Language": "ru,en;q=0.5",
                 "Accept-Encoding": "gzip, deflate"},  # what ``_read`` inflates within the cap
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=False,
        transport=_PerHostTransport(max(1, settings.per_host_concurrency)),
    )


async def _resolve(host: str, port: int, timeout: float) -> tuple[str | None, list[str]]:
    """(error, the addresses ``host`` resolves to); error "connect" when it resolves to
    nothing, "timeout" when the resolver is silent."""
    try:
        async with asyncio.timeout(timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return "timeout", []
    except (OSError, UnicodeError, ValueError):
        return "connect", []
    addresses = sorted({str(info[4][0]) for info in infos})
    return (None, addresses) if addresses else ("connect", [])


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _classify(exc: Exception) -> str:
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return "invalid_url"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        return "tls" if "SSL" in text or "certificate" in text else "connect"
    return "protocol"


# --- text helpers -----------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_DOC_EXT = re.compile(r"\.(?:pdf|docx?|xlsx?|odt|ods|odp|rtf|pptx?|zip|rar|7z|jpe?g|png|tiff?)$", re.I)
_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "skype:", "viber:", "whatsapp:", "ftp:")
_SERVICE_WORDS = re.compile(
    r"электронн\w*\s+(?:услуг|дневник|журнал)|e-?services?|dnevnik|zhurnal|uslug|journal|diary", re.I)
_SECTION_WORDS = re.compile(r"сведени\w*\s+об\s+образовательн|документ|услуг|дневник|журнал|sveden|document|docs",
                            re.I)
_TEXT_BLOCKS = "title, h1, h2, h3, h4, h5, h6, p, li, td, th, dd, dt, address, caption, figcaption, label"
_CONTEXT_BLOCKS = ("li", "p", "td", "tr", "dd", "dt")
_ACT_WORDS = re.compile(
    r"^\W*(?:приказ|положени|регламент|постановлени|распоряжени|порядок|правила|устав|инструкци|"
    r"договор|план|программ|отч[её]т|лицензи|предписани|решени)", re.I)
_MARK = re.compile(r"утратил\w*\s+сил|утративш\w*\s+сил|не\s+действу|недействующ|отменён\w*\s+и\s+утратил", re.I)
_REPLACED = re.compile(
    r"отмен[её]н|замен[её]н|изм[её]нен\w*\s+приказ|действует\s+нов\w+\s+редакци|"
    r"см\.\s+нов\w+\s+редакци|взамен\s+(?:утвержд[её]н(?:[аоы]\b|\b)|принят|действует)", re.I)
_MONTHS = {m: i for i, m in enumerate(
    ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
     "октября", "ноября", "декабря"), start=1)}
_DATE_NUM = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})(?!\d)")
_DATE_WORDS = re.compile(r"(?<!\d)(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+((?:19|20)\d{2})", re.I)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:г\b|год)")


_SPACE_BEFORE = re.compile(r" (?=[,.:;!?»)])")


def _squash(text: str) -> str:
    """Whitespace collapsed, without the spaces that joining inline elements leaves before
    punctuation."""
    return _SPACE_BEFORE.sub("", " ".join(text.split()))


def _trim(text: str | None, limit: int = 300) -> str | None:
    if text is None:
        return None
    text = _squash(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _decode(body: bytes, content_type: str) -> tuple[str, str]:
    """Text and encoding: the Content-Type charset, else <meta charset>, else utf-8, else
    windows-1251 (the usual encoding of older Russian sites)."""
    candidates = []
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    if match:
        candidates.append(match.group(1))
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    for name in candidates:
        try:
            info = codecs.lookup(name)
            if not info._is_text_encoding:  # base64, hex, rot13, zlib...: not a charset
                continue
            return body.decode(info.name, "replace"), info.name
        except Exception:  # noqa: BLE001 - an unknown name or a codec that cannot decode bytes
            continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(body) - 3:  # a multibyte character cut by the read cap
            return body.decode("utf-8", "replace"), "utf-8"
    return body.decode("cp1251", "replace"), "cp1251"


def _doc_date(text: str) -> date | None:
    for pattern, build in ((_DATE_NUM, lambda m: (int(m[3]), int(m[2]), int(m[1]))),
                           (_DATE_WORDS, lambda m: (int(m[3]), _MONTHS[m[2].lower()], int(m[1]))),
                           (_YEAR, lambda m: (int(m[1]), 1, 1))):
        match = pattern.search(text)
        if match:
            try:
                return date(*build(match))
            except ValueError:
                continue
    return None


def _act_title(text: str) -> str:
    """The title of a normative act with its dates, numbers and remarks removed, so that
    two versions of one act compare equal."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text.lower().replace("ё", "е"))
    for pattern in (_DATE_NUM, _DATE_WORDS, _YEAR):
        text = pattern.sub(" ", text)
    text = re.sub(r"№\s*[\w/.-]+|\b(?:от|г|года|год|редакци\w*|нов\w*)\b\.?|\.(?:pdf|docx?)\b", " ", text)
    return _squash(re.sub(r"[^\w]+", " ", text))


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.I | re.S)
    except re.error:
        return re.compile(re.escape(pattern), re.I)


# --- pages ------------------------------------------------------------------------------

@dataclass
class _Link:
    url: str
    text: str
    context: str
    page: str
    priority: int = 0   # crawl order (``_priority``), set off the event loop with the page's matches


@dataclass
class _Page:
    url: str
    depth: int
    encoding: str
    texts: list[str]
    links: list[_Link]
    itemprops: dict[str, str]
    hits: dict = field(default_factory=dict)  # item key -> (how, url, text): the page's first match


def _link_context(node, text: str) -> str:
    """The text around a link that may carry a remark about it ("— утратил силу"): its
    block when the block holds no other link, else the link and what follows it."""
    block = node.parent
    for _ in range(4):
        if block is None or block.tag in _CONTEXT_BLOCKS:
            break
        block = block.parent
    if block is not None and block.tag in _CONTEXT_BLOCKS and len(block.css("a")) == 1:
        return _squash(block.text(separator=" "))[:600]
    parts = [text]
    sibling = node.next
    while sibling is not None and sum(map(len, parts)) < 300:
        if sibling.tag == "a" or (sibling.tag != "-text" and sibling.css_first("a") is not None):
            break
        parts.append(sibling.text(separator=" "))
        sibling = sibling.next
    return _squash(" ".join(parts))[:600]


def _parse(url: str, html: str, depth: int, encoding: str) -> _Page:
    tree = LexborHTMLParser(html)
    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        try:
            base = urljoin(url, (base_node.attributes.get("href") or "").strip())
            urlsplit(base)
        except ValueError:
            base = url
    texts, seen = [], set()
    for node in tree.css(_TEXT_BLOCKS):
        text = _squash(node.text(separator=" "))[:1000]
        if text and text not in seen:
            seen.add(text)
            texts.append(text)
    links = []
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
            continue
        try:  # "http://[bad/" raises; one such link must not cost the page
            absolute = urldefrag(urljoin(base, href))[0]
            parts = urlsplit(absolute)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            continue
        if parts.scheme not in ("http", "https"):
            continue
        text = (_squash(node.text(separator=" ")) or _squash(node.attributes.get("title") or ""))[:1000]
        if not text:
            image = node.css_first("img[alt]")
            text = _squash(image.attributes.get("alt") or "") if image is not None else ""
        links.append(_Link(absolute, text, _link_context(node, text), url))
    itemprops: dict[str, str] = {}
    for node in tree.css("[itemprop]"):
        for name in (node.attributes.get("itemprop") or "").split():
            if name not in itemprops:
                itemprops[name] = _squash(node.text(separator=" "))[:300] or (
                    node.attributes.get("content") or node.attributes.get("href") or "")
    return _Page(url, depth, encoding, texts, links, itemprops)


_MATCH_CHARS = 200_000  # per page: the link texts and URLs, and the text blocks, the checklist is matched against


def _digest(url: str, body: bytes, content_type: str, depth: int, items: list[Item], *,
            rank: bool = True) -> _Page:
    """Decode and parse a page, then match the checklist (regexes a regulation's editor
    writes) against it and, when ``rank``, rank its links for the crawl: the CPU-heavy
    part of a page, run off the event loop. ``items`` are those still to be found (an
    earlier page's match wins anyway). A page the parser cannot read is a page without
    content."""
    text, encoding = _decode(body, content_type)
    del body
    try:
        page = _parse(url, text, depth, encoding)
    except Exception:  # noqa: BLE001
        log.warning("cannot parse %s", url, exc_info=True)
        return _Page(url, depth, encoding, [], [], {})
    page.hits = _page_hits(page, items, rank=rank)
    return page


def _within(strings, budget: int = _MATCH_CHARS) -> list:
    """The leading ``strings`` whose lengths add up to at most ``budget``."""
    kept = []
    for value, size in strings:
        budget -= size
        if budget < 0:
            break
        kept.append(value)
    return kept


def _page_hits(page: _Page, items: list[Item], *, rank: bool = False) -> dict:
    """Per item key, the page's first match, looked for in this order: link texts, text
    blocks, link URLs, the page URL, microdata. At most ``_MATCH_CHARS`` of link texts and
    URLs and as many of text blocks are matched, however big the page. With ``rank``, sets
    the crawl priority of the links the crawl may follow (not documents) on the way."""
    links = _within((link, len(link.text) + len(link.url)) for link in page.links)
    texts = _within((text, len(text)) for text in page.texts)
    compiled = [(item, [_regex(p) for p in item.text_patterns], [_regex(p) for p in item.url_patterns])
                for item in items]
    hits = {}
    for item, text_res, url_res in compiled:
        hit = next((("text", link.url, link.text) for link in links
                    if any(r.search(link.text) for r in text_res)), None)
        hit = hit or next((("text", page.url, text) for text in texts if any(r.search(text) for r in text_res)), None)
        hit = hit or next((("url", link.url, link.text) for link in links if any(r.search(link.url) for r in url_res)),
                          None)
        if hit is None and any(r.search(page.url) for r in url_res):
            hit = ("url", page.url, page.texts[0] if page.texts else None)
        if hit is None:
            name = next((name for name in item.itemprops if name in page.itemprops), None)
            if name is not None:
                hit = ("itemprop", page.url, page.itemprops[name])
        if hit is not None:
            hits[item.key] = hit
    if rank:
        checked = {id(link) for link in links}
        ranked: dict[str, int] = {}
        for link in page.links:
            if link.url not in ranked and not _DOC_EXT.search(urlsplit(link.url).path):
                ranked[link.url] = _priority(link, compiled if id(link) in checked else [])
            link.priority = ranked.get(link.url, 0)
    return hits


def _priority(link: _Link, compiled) -> int:
    """Which pages to fetch first: those a checklist item names, then the e-services
    section (where WD-1 puts the acts), then the other disclosure sections."""
    for _item, text_res, url_res in compiled:
        if any(r.search(link.text) for r in text_res) or any(r.search(link.url) for r in url_res):
            return 3
    path = urlsplit(link.url).path
    for rank, words in ((2, _SERVICE_WORDS), (1, _SECTION_WORDS)):
        if words.search(link.text) or words.search(path):
            return rank
    return 0


# --- one site ---------------------------------------------------------------------------

_HOSTLIKE = re.compile(r"^(?:[\w-]+\.)+[\w-]+(?::\d+)?(?:/.*)?$")


def _start_url(url: str | None) -> str | None:
    """The start URL, or None when it is no http(s) address; a bare host gets http://."""
    url = (url or "").strip()
    if url and "://" not in url and _HOSTLIKE.match(url):
        url = "http://" + url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in url for c in " \t\r\n<>\"'"):
        return None
    return urldefrag(url)[0]


def _site_key(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return host, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


class _SiteCheck:
    def __init__(self, url: str, items: list[Item], settings: Settings, client: httpx.AsyncClient,
                 limiter: HostLimiter):
        self.url = url
        self.items = [item if isinstance(item, Item) else Item.from_dict(item) for item in items]
        self.settings = settings
        self.client = client
        self.limiter = limiter
        self.started = time.perf_counter()
        self.findings: list[Finding] = []
        self.pages: list[_Page] = []
        self.page_info: list[dict] = []
        self.fetched: dict[str, _Response] = {}   # crawled URL -> response
        self.links: dict[str, _Link] = {}          # every distinct link, first occurrence
        self.fetches = 0
        self.parsed: set[str] = set()
        self.checked: dict[str, _Response | None] = {}
        self.site: set = set()                      # the site's (host, port) keys, once the start page answered

    # HTTP --------------------------------------------------------------------------------

    async def request(self, url: str, *, method: str = "GET", cap: int = _SMALL_READ,
                      headers: dict | None = None, html_only: bool = False, keep: bool = True,
                      skip_dead: bool = False) -> _Response:
        """One request with redirects followed by hand; never raises. Each hop's address
        is checked first (``_address``); ``keep`` False reads the body without keeping it;
        ``skip_dead`` answers "timeout" without a request when the host timed out too often."""
        result = _Response(url=url, final_url=url)
        started = time.perf_counter()
        seen, current = {url}, url
        try:
            for _hop in range(self.settings.max_redirects + 1):
                location = await self._hop(result, current, method, cap, headers, html_only, keep, skip_dead)
                if location is None:
                    return result
                try:
                    target = urldefrag(urljoin(current, location))[0]
                except ValueError:  # a Location such as "http://[bad/"
                    result.error = "invalid_url"
                    return result
                result.redirects.append(target)
                if target in seen:
                    result.error = "redirect_loop"
                    return result
                seen.add(target)
                current = result.final_url = target
                if result.status_code == 303:
                    method = "GET"
            result.error = "too_many_redirects"
            return result
        finally:
            result.elapsed_ms = int((time.perf_counter() - started) * 1000)

    async def _hop(self, result, url, method, cap, headers, html_only, keep, skip_dead) -> str | None:
        error, address = await self._address(url)
        if error:
            result.error, result.address = error, address
            return None
        host = _netloc(url)
        async with self.limiter.slot(host):
            if skip_dead and self.limiter.timeouts[host] >= self.limiter.MAX_TIMEOUTS:
                result.error, result.skipped = "timeout", True
                return None
            try:
                async with asyncio.timeout(self.settings.timeout):
                    async with self.client.stream(method, url, headers=headers) as response:
                        result.status_code = response.status_code
                        result.content_type = response.headers.get("content-type", "")
                        location = response.headers.get("location")
                        if response.status_code in _REDIRECT_STATUSES and location:
                            await _read(response, _SMALL_READ, keep=False)
                            return location
                        try:
                            result.content_length = int(response.headers.get("content-length", ""))
                        except ValueError:
                            pass
                        if method == "HEAD" or (html_only and not result.is_html):
                            result.body, result.size, result.truncated = b"", 0, False
                        else:
                            result.body, result.size, result.truncated = await _read(response, cap, keep)
                        return None
            except TimeoutError:
                result.error = "timeout"
                self.limiter.timeouts[host] += 1
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                result.error = _classify(exc)
            except OSError:
                result.error = "connect"
            except ValueError:
                result.error = "invalid_url"
            return None

    async def _address(self, url: str) -> tuple[str | None, str | None]:
        """(error, refused address) before a request to ``url``: every address its host
        resolves to must be globally routable or in ``Settings.allowed_networks``, else
        ("blocked_address", the address); a literal IP, in any form getaddrinfo reads
        (http://2130706433/, http://0x7f.1/, http://[::ffff:127.0.0.1]/), is checked the
        same way. The resolution is cached per host for the run. The checked address is not
        pinned: httpx resolves the host again to connect, so DNS rebinding between the two
        is not prevented here."""
        try:
            parsed = httpx.URL(url)
            host = parsed.raw_host.decode("ascii")
        except (httpx.InvalidURL, ValueError, UnicodeError):
            return "invalid_url", None
        if not host or parsed.scheme not in ("http", "https"):
            return "invalid_url", None
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        error, addresses = await self.limiter.once(
            "resolve " + host, lambda: _resolve(host, port, self.settings.timeout))
        if error:
            return error, None
        address = refused_address(addresses, self.settings.allowed_networks)
        return ("blocked_address", address) if address else (None, None)

    async def allowed(self, url: str) -> bool:
        if not self.settings.respect_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = await self.limiter.once("robots " + origin, lambda: self._load_robots(origin))
        return robots is None or robots.can_fetch(self.settings.user_agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """robots.txt of one origin: 401/403 forbid everything; other errors and 4xx/5xx
        allow everything (the pages' own errors are then reported as such)."""
        response = await self.request(origin + "/robots.txt", cap=512_000)
        if response.error or response.status_code is None:
            return None
        parser = RobotFileParser(origin + "/robots.txt")
        if response.status_code in (401, 403):
            parser.disallow_all = True
            return parser
        if response.status_code >= 400:
            return None
        text, _ = _decode(response.body, response.content_type)
        parser.parse(text.splitlines())
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay:
            self.limiter.set_crawl_delay(_netloc(origin), float(delay))
        return parser

    # the check ---------------------------------------------------------------------------

    async def run(self) -> SiteReport:
        start = _start_url(self.url)
        if start is None:
            return self._failed("invalid_url", "invalid_url", url=self.url or None)
        deadline = asyncio.timeout(self.settings.site_seconds)
        try:
            async with deadline:
                failed = await self._visit(start)
        except TimeoutError:
            if not deadline.expired():
                raise
            failed = None
            if not self.site:  # the start page did not answer in time: nothing to report but that
                return self._failed("deadline", "deadline", url=start,
                                    detail={"seconds": self.settings.site_seconds})
        if failed is not None:
            return failed
        self.findings[:0] = self.item_findings()
        self.findings.extend(self.link_findings())
        self.findings.extend(self.outdated_findings())
        self.findings.extend(self.microdata_findings())
        if deadline.expired():  # what was found so far, and why there is no more
            self.findings.append(Finding("site", "deadline", "deadline", False, url=start,
                                         detail={"seconds": self.settings.site_seconds}))
        return self._report()

    async def _visit(self, start: str) -> SiteReport | None:
        """Fetch the start page, crawl, check the links; a report when the site fails early."""
        if not await self.allowed(start):
            return self._failed("robots_disallowed", "robots_disallowed", url=start)
        response = await self.fetch_page(start, depth=0)
        if response.error == "blocked_address":
            detail = {"address": response.address}
            if response.redirects:
                detail["redirects"] = response.redirects
            return self._failed("blocked_address", "blocked_address", url=start, detail=detail)
        if response.error:
            status = {"timeout": "timeout", "invalid_url": "invalid_url"}.get(response.error, "error")
            key = {"connect": "unreachable", "tls": "tls"}.get(response.error, response.error)
            return self._failed(status, key, url=start, response=response)
        if response.status_code >= 400:
            return self._failed("http_error", "http_error", url=start, response=response)
        self.site = {_site_key(start), _site_key(response.final_url)}
        await self.crawl(start)
        if self.settings.check_links:
            await self.check_links()
        return None

    async def fetch_page(self, url: str, depth: int) -> _Response:
        """Fetch, decode and parse one page (the parse and the checklist's patterns off the
        event loop); the body is not kept past that."""
        self.fetches += 1
        response = await self.request(url, cap=self.settings.max_bytes, html_only=True)
        self.fetched[url] = response
        body, html = response.body, response.is_html
        response.body = b""
        if response.error or response.status_code >= 400 or response.final_url in self.parsed:
            return response
        self.parsed.add(response.final_url)
        info = {"url": response.final_url, "status_code": response.status_code, "depth": depth,
                "bytes": response.size, "truncated": response.truncated, "encoding": None}
        self.page_info.append(info)
        if response.truncated:
            code = "too_large" if depth == 0 else f"too_large:{response.final_url}"
            self.findings.append(Finding(
                "site", code, "too_large", False, url=response.final_url,
                detail={"bytes_read": response.size, "limit": self.settings.max_bytes,
                        "content_length": response.content_length}))
        if html and body:
            found = {key for page in self.pages for key in page.hits}
            page = await asyncio.to_thread(_digest, response.final_url, body, response.content_type, depth,
                                           [item for item in self.items if item.key not in found],
                                           rank=depth < self.settings.max_depth)
            info["encoding"] = page.encoding
            self.pages.append(page)
        return response

    async def crawl(self, start: str) -> None:
        queued = {start} | {self.fetched[start].final_url}
        heap: list = []
        order = 0
        parsed = 0

        def enqueue(page: _Page) -> None:
            nonlocal order
            for link in page.links:
                self.links.setdefault(link.url, link)
                if (page.depth < self.settings.max_depth and link.url not in queued
                        and _site_key(link.url) in self.site and not _DOC_EXT.search(urlsplit(link.url).path)):
                    queued.add(link.url)
                    order += 1
                    heapq.heappush(heap, (-link.priority, page.depth + 1, order, link.url))

        while True:
            while parsed < len(self.pages):
                enqueue(self.pages[parsed])
                parsed += 1
            if not heap or self.fetches >= self.settings.max_pages:
                break
            batch = []
            while heap and len(batch) < min(self.settings.per_host_concurrency,
                                            self.settings.max_pages - self.fetches):
                _, depth, _, url = heapq.heappop(heap)
                if url not in self.parsed and await self.allowed(url):
                    batch.append((url, depth))
            await asyncio.gather(*(self.fetch_page(url, depth) for url, depth in batch))
            for url, _depth in batch:
                queued.add(self.fetched[url].final_url)

    async def check_links(self) -> None:
        pending = [url for url in self.links if url not in self.fetched][:self.settings.max_links]

        async def one(url):  # recorded as each answers, so that a deadline keeps what was checked
            self.checked[url] = await self.check_link(url)

        await asyncio.gather(*(one(url) for url in pending))

    async def check_link(self, url: str) -> _Response | None:
        """Documents by HEAD (GET of the first bytes when HEAD is refused), pages by GET of
        their first bytes, read and dropped; None when robots.txt forbids it. An external
        link is checked once per run, however many schools link to it; past
        ``HostLimiter.MAX_TIMEOUTS`` timeouts on a host its remaining links are not requested."""
        if _site_key(url) not in self.site:
            return await self.limiter.once("link " + url, lambda: self._check_link(url))
        return await self._check_link(url)

    async def _check_link(self, url: str) -> _Response | None:
        if not await self.allowed(url):
            return None
        if _DOC_EXT.search(urlsplit(url).path):
            response = await self.request(url, method="HEAD", skip_dead=True)
            if response.status_code in (405, 501) and not response.error:
                response = await self.request(url, headers={"Range": "bytes=0-1023"}, html_only=True, keep=False,
                                              skip_dead=True)
            else:
                response.method = "HEAD"
            return response
        return await self.request(url, html_only=True, keep=False, skip_dead=True)

    # findings ----------------------------------------------------------------------------

    def item_findings(self) -> list[Finding]:
        found = []
        for item in self.items:
            hit = self._find(item)
            detail = {"required": item.required, "title": item.title}
            if hit is None:
                found.append(Finding("item", item.key, "missing", False, detail=detail))
            else:
                how, url, text, page = hit
                detail.update(matched=how, encoding=page.encoding)
                found.append(Finding("item", item.key, "found", True, url=url, text=_trim(text), page=page.url,
                                     detail=detail))
        return found

    def _find(self, item: Item):
        for page in self.pages:
            hit = page.hits.get(item.key)
            if hit is not None:
                return (*hit, page)
        return None

    def link_findings(self) -> list[Finding]:
        checked = self.checked
        findings = []
        for url, link in self.links.items():
            if url in self.fetched:
                response, method = self.fetched[url], "GET"
            elif url in checked:
                response = checked[url]
                if response is None:
                    findings.append(Finding("link", url, "ok", True, url=url, text=_trim(link.text), page=link.page,
                                            detail={"robots_disallowed": True}))
                    continue
                method = response.method
            else:
                continue
            status, ok = _link_status(response)
            if response.skipped:
                findings.append(Finding("link", url, status, ok, url=url, text=_trim(link.text), page=link.page,
                                        detail={"skipped": True}))
                continue
            detail = {"status_code": response.status_code, "elapsed_ms": response.elapsed_ms, "method": method,
                      "external": _site_key(url) not in self.site}
            if response.redirects:
                detail["redirects"] = response.redirects
            if response.error:
                detail["error"] = response.error
            if response.address:
                detail["address"] = response.address
            findings.append(Finding("link", url, status, ok, url=url, text=_trim(link.text), page=link.page,
                                    detail=detail))
        return findings

    def outdated_findings(self) -> list[Finding]:
        """WD-3: a document whose remark says it was replaced or cancelled, or that is older
        than another version of the same act on the site, and lacks "утратил силу"."""
        documents = {}
        for link in self.links.values():
            if link.url in documents:
                continue
            if _DOC_EXT.search(urlsplit(link.url).path) or _ACT_WORDS.search(link.text):
                documents[link.url] = link
        newest: dict[str, tuple[date, str]] = {}
        dated = {}
        for url, link in documents.items():
            title = _act_title(link.text)
            when = _doc_date(link.text) or _doc_date(link.context)
            if len(title) < 10 or when is None:
                continue
            dated[url] = (title, when)
            if title not in newest or when > newest[title][0]:
                newest[title] = (when, url)
        findings = []
        for url, link in documents.items():
            marked = bool(_MARK.search(link.context))
            replaced = bool(_REPLACED.search(link.context))
            newer = None
            if url in dated:
                title, when = dated[url]
                if newest[title][0] > when:
                    newer = newest[title][1]
            if not (marked or replaced or newer):
                continue
            detail = {"reason": "replaced" if replaced else "newer_version" if newer else "marked"}
            if newer:
                detail["newer"] = newer
            if url in dated:
                detail["date"] = dated[url][1].isoformat()
            findings.append(Finding("outdated", url, "marked" if marked else "outdated", marked, url=url,
                                    text=_trim(link.context or link.text), page=link.page, detail=detail))
        return findings

    def microdata_findings(self) -> list[Finding]:
        findings = []
        for name in MICRODATA_PROPS:
            page = next((p for p in self.pages if name in p.itemprops), None)
            if page is None:
                findings.append(Finding("microdata", name, "missing", False))
            else:
                findings.append(Finding("microdata", name, "present", True, url=page.url,
                                        text=_trim(page.itemprops[name]), page=page.url))
        return findings

    def _failed(self, status: str, key: str, *, url: str | None, response: _Response | None = None,
                detail: dict | None = None) -> SiteReport:
        detail = dict(detail or {})
        if response is not None:
            detail = {"status_code": response.status_code, "elapsed_ms": response.elapsed_ms}
            if response.redirects:
                detail["redirects"] = response.redirects
            if response.error:
                detail["error"] = response.error
        self.findings = [Finding("site", key, status, False, url=url, detail=detail)]
        return self._report(error=status)

    def _report(self, error: str | None = None) -> SiteReport:
        return SiteReport(
            start_url=self.url, findings=self.findings, pages_fetched=self.fetches,
            links_checked=sum(1 for f in self.findings if f.kind == "link"),
            elapsed_ms=int((time.perf_counter() - self.started) * 1000), error=error,
            pages=self.page_info, links_found=len(self.links))


async def _read(response: httpx.Response, cap: int, keep: bool = True) -> tuple[bytes, int, bool]:
    """At most ``cap`` bytes of the decompressed body (kept only when ``keep``), how many
    were read, and True when there was more. gzip and deflate are inflated here, never
    more than ``cap`` bytes at a time, so that a small compressed body that expands to
    gigabytes costs no more memory than ``cap``."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        chunks = _inflate(response.aiter_raw(), encoding, cap)
    else:  # identity (or an encoding we did not ask for: httpx's own decoder)
        chunks = response.aiter_bytes()
    buffer = bytearray()
    size = 0
    try:
        async for chunk in chunks:
            room = cap - size
            if len(chunk) > room:
                if keep:
                    buffer += chunk[:room]
                return bytes(buffer), cap, True
            size += len(chunk)
            if keep:
                buffer += chunk
        return bytes(buffer), size, False
    finally:
        await chunks.aclose()


async def _inflate(raw, encoding: str, cap: int):
    """The decompressed body in pieces of at most ``cap + 1`` bytes."""
    wbits = zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    first = True
    async for data in raw:
        if first and encoding == "deflate":  # "deflate" is zlib-wrapped by the RFC, raw by some servers
            first = False
            try:
                inflater.copy().decompress(data[:64])
            except zlib.error:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            while True:
                piece = inflater.decompress(data, cap + 1)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
                if not data and len(piece) <= cap:  # input used up and no output left behind
                    break
        except zlib.error as exc:
            raise httpx.DecodingError(str(exc)) from None
        if inflater.eof:
            return


def _link_status(response: _Response) -> tuple[str, bool]:
    if response.error in ("redirect_loop", "too_many_redirects"):
        return "redirect_loop", False
    if response.error == "timeout":
        return "timeout", False
    if response.error:
        return "error", False
    # 401 and 429 say "log in" and "slow down": the page is there.
    if response.status_code >= 400 and response.status_code not in (401, 429):
        return "broken", False
    return "ok", True


# --- entry points -----------------------------------------------------------------------

async def check_site(url: str, items: list[Item], settings: Settings, *,
                     client: httpx.AsyncClient | None = None, limiter: HostLimiter | None = None) -> SiteReport:
    """Check one site; never raises (a crawler fault becomes a "site" finding "error")."""
    own_client = client is None
    if own_client:
        client = _make_client(settings)
    limiter = limiter or HostLimiter(settings.per_host_concurrency, settings.delay)
    check = _SiteCheck(url, items, settings, client, limiter)
    try:
        return await check.run()
    except Exception as exc:
        log.exception("website check of %s failed", url)
        check.findings = [Finding("site", "crawler_error", "error", False, url=url,
                                  detail={"error": type(exc).__name__})]
        return check._report(error="error")
    finally:
        if own_client:
            await client.aclose()


async def check_sites(sites: dict[int, tuple[str, list[Item]]], settings: Settings, *,
                      progress: Callable[[int, int], None] | None = None,
                      concurrency: int = 20, limiter: HostLimiter | None = None) -> dict[int, SiteReport]:
    """Check many sites in one event loop, ``concurrency`` at a time, sharing one client and
    one per-host limiter; ``progress(done, total)`` after each site."""
    limiter = limiter or HostLimiter(settings.per_host_concurrency, settings.delay)
    gate = asyncio.Semaphore(max(1, concurrency))
    reports: dict[int, SiteReport] = {}
    total, done = len(sites), 0
    async with _make_client(settings) as client:
        async def one(site_id, url, items):
            nonlocal done
            async with gate:
                reports[site_id] = await check_site(url, items, settings, client=client, limiter=limiter)
            done += 1
            if progress is not None:
                progress(done, total)

        await asyncio.gather(*(one(site_id, url, items) for site_id, (url, items) in sites.items()))
    return {site_id: reports[site_id] for site_id in sites}


def run(sites: dict[int, tuple[str, list[Item]]], settings: Settings,
        progress: Callable[[int, int], None] | None = None, **options) -> dict[int, SiteReport]:
    """``check_sites`` from synchronous code (a worker, eager mode, any thread); inside a
    running event loop it runs on a helper thread. ``options`` go to ``check_sites``."""
    work = functools.partial(check_sites, sites, settings, progress=progress, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def score(report: SiteReport) -> float:
    """Disclosure score 0..100 (WD-5), from the findings alone (a dismissed finding is
    passed in with ``ok=True`` and counts as fine):

    - checklist items, 80 points: a required item weighs 3, an optional one 1;
    - microdata, 20 points: the share of properties present;
    - minus 2 points per faulty link (at most 10) and 5 per outdated document without
      the "утратил силу" mark (at most 10).

    A report with no item findings (the site could not be checked) scores 0.
    """
    items = [f for f in report.findings if f.kind == "item"]
    if not items:
        return 0.0
    weights = [(3 if f.detail.get("required", True) else 1, f.ok) for f in items]
    result = 80.0 * sum(w for w, ok in weights if ok) / sum(w for w, _ in weights)
    microdata = [f for f in report.findings if f.kind == "microdata"]
    result += 20.0 * (sum(f.ok for f in microdata) / len(microdata) if microdata else 1.0)
    result -= min(10.0, 2.0 * sum(1 for f in report.findings if f.kind == "link" and not f.ok))
    result -= min(10.0, 5.0 * sum(1 for f in report.findings if f.kind == "outdated" and not f.ok))
    return round(max(0.0, min(100.0, result)), 1)
