"""The checks of a site and its score: the checklist (WD-1, WD-4), what a page matches of
it, the findings a crawl ends in (items, links for WD-2, outdated documents in
``outdated_findings``, microdata), and the disclosure score the rating ranks schools by
(WD-5).

An ``Item`` is one checklist entry as the regulation stores it (``default_checklist`` is
the platform's); its patterns are regexes a regulation's editor writes, matched on at most
``_MATCH_CHARS`` of a page (``page_hits``), which also ranks the page's links so that the
crawl reads the likely pages first. A ``Finding`` is identified across runs by ``(kind,
key)``; a ``SiteReport`` is what a site's check answers. ``score`` reads the findings
alone. No network here.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from blueprints.disclosure.addresses import site_key
from blueprints.disclosure.parsing import DOC_EXT, Link, Page, squash, trim
from blueprints.disclosure.transport import Response


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
         # A link to the school's page of the e-services catalogue (issue #15: everything WD-4
         # asks a school to disclose about the service, kept by Tabel) counts as the procedure.
         "url_patterns": [r"poryadok[-_]?(?:predostavleniya|polucheniya)",
                          r"/public/schools/\d+/services\b", r"/services/diary\?(?:[^#]*&)?school=\d+"]},
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


# --- what a page matches ----------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.I | re.S)
    except re.error:
        return re.compile(re.escape(pattern), re.I)


_MATCH_CHARS = 200_000  # per page: the link texts and URLs, and the text blocks, the checklist is matched against


def _within(strings, budget: int = _MATCH_CHARS) -> list:
    """The leading ``strings`` whose lengths add up to at most ``budget``."""
    kept = []
    for value, size in strings:
        budget -= size
        if budget < 0:
            break
        kept.append(value)
    return kept


def page_hits(page: Page, items: list[Item], *, rank: bool = False) -> dict:
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
            if link.url not in ranked and not DOC_EXT.search(urlsplit(link.url).path):
                ranked[link.url] = _priority(link, compiled if id(link) in checked else [])
            link.priority = ranked.get(link.url, 0)
    return hits


_SERVICE_WORDS = re.compile(
    r"электронн\w*\s+(?:услуг|дневник|журнал)|e-?services?|dnevnik|zhurnal|uslug|journal|diary", re.I)
_SECTION_WORDS = re.compile(r"сведени\w*\s+об\s+образовательн|документ|услуг|дневник|журнал|sveden|document|docs",
                            re.I)


def _priority(link: Link, compiled) -> int:
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


# --- the dates and remarks of documents (outdated_findings) -------------------------------

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
    return squash(re.sub(r"[^\w]+", " ", text))


# --- findings and the score -------------------------------------------------------------

def item_findings(items: list[Item], pages: list[Page]) -> list[Finding]:
    """WD-1, WD-4: each checklist item, found on the first page that matches it, or missing."""
    found = []
    for item in items:
        hit = _first_hit(item, pages)
        detail = {"required": item.required, "title": item.title}
        if hit is None:
            found.append(Finding("item", item.key, "missing", False, detail=detail))
        else:
            how, url, text, page = hit
            detail.update(matched=how, encoding=page.encoding)
            found.append(Finding("item", item.key, "found", True, url=url, text=trim(text), page=page.url,
                                 detail=detail))
    return found


def _first_hit(item: Item, pages: list[Page]):
    for page in pages:
        hit = page.hits.get(item.key)
        if hit is not None:
            return (*hit, page)
    return None


def link_findings(links: dict[str, Link], fetched: dict[str, Response], checked: dict[str, Response | None],
                  site: set) -> list[Finding]:
    """WD-2: each link crawled (``fetched``) or checked, and how it answered; ``site`` holds the
    site's keys, so that a link elsewhere is marked external."""
    findings = []
    for url, link in links.items():
        if url in fetched:
            response, method = fetched[url], "GET"
        elif url in checked:
            response = checked[url]
            if response is None:
                findings.append(Finding("link", url, "ok", True, url=url, text=trim(link.text), page=link.page,
                                        detail={"robots_disallowed": True}))
                continue
            method = response.method
        else:
            continue
        status, ok = _link_status(response)
        if response.skipped:
            findings.append(Finding("link", url, status, ok, url=url, text=trim(link.text), page=link.page,
                                    detail={"skipped": True}))
            continue
        detail = {"status_code": response.status_code, "elapsed_ms": response.elapsed_ms, "method": method,
                  "external": site_key(url) not in site}
        if response.redirects:
            detail["redirects"] = response.redirects
        if response.error:
            detail["error"] = response.error
        if response.address:
            detail["address"] = response.address
        findings.append(Finding("link", url, status, ok, url=url, text=trim(link.text), page=link.page,
                                detail=detail))
    return findings


def outdated_findings(links: dict[str, Link]) -> list[Finding]:
    """WD-3: a document whose remark says it was replaced or cancelled, or that is older
    than another version of the same act on the site, and lacks "утратил силу"."""
    documents = {}
    for link in links.values():
        if link.url in documents:
            continue
        if DOC_EXT.search(urlsplit(link.url).path) or _ACT_WORDS.search(link.text):
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
                                text=trim(link.context or link.text), page=link.page, detail=detail))
    return findings


def microdata_findings(pages: list[Page]) -> list[Finding]:
    """Each property of ``MICRODATA_PROPS``, present on a page or missing."""
    findings = []
    for name in MICRODATA_PROPS:
        page = next((p for p in pages if name in p.itemprops), None)
        if page is None:
            findings.append(Finding("microdata", name, "missing", False))
        else:
            findings.append(Finding("microdata", name, "present", True, url=page.url,
                                    text=trim(page.itemprops[name]), page=page.url))
    return findings


def _link_status(response: Response) -> tuple[str, bool]:
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
