"""The website crawler against fake school sites on loopback (WD-1..WD-4): what a person
reading the report would notice, site by site, and the crawl's limits and settings.
Hostile sites and input are in ``test_crawler_hostile.py``."""
import asyncio
import threading
import time
import tracemalloc

import pytest

from blueprints.disclosure import checks, crawler, parsing, transport
from blueprints.disclosure.settings import Settings
from blueprints.disclosure.sites import demo_sites
from tests.disclosure.crawling import FAST, ITEMS, LOOPBACK, by_kind, check, faults


def test_wd1_wd4_complete_site_every_item_found_and_nothing_wrong(sites_server):
    report = check(sites_server.url("complete"))

    assert report.error is None and faults(report) == []
    items = by_kind(report, "item")
    assert {k: f.status for k, f in items.items()} == {i.key: "found" for i in ITEMS}
    assert items["diary_regulation"].url.endswith("/files/polozhenie-ezh-2023.pdf")
    assert items["diary_regulation"].page.endswith("/eservices/")
    assert "Госуслуг" in items["gosuslugi_link"].text
    assert items["journal_link"].url.startswith(sites_server.portal_url)
    assert "кабинет 204" in items["responsible_contacts"].text
    assert "5-67-89" in items["education_office_contacts"].text
    links = by_kind(report, "link")
    assert len(links) == report.links_checked >= 15 and all(f.status == "ok" for f in links.values())
    assert links[sites_server.portal_url + "journal/login"].detail["external"] is True
    assert all(f.status == "present" for f in by_kind(report, "microdata").values())
    assert checks.score(report) == 100.0


def test_wd3_a_replaced_document_marked_void_is_fine(sites_server):
    outdated = by_kind(check(sites_server.url("complete")), "outdated")
    assert [(k.rsplit("/", 1)[1], f.status, f.ok) for k, f in outdated.items()] == [
        ("polozhenie-ezh-2019.pdf", "marked", True)]
    assert "утратило силу" in next(iter(outdated.values())).text


def test_wd1_wd4_partial_site_names_the_missing_items(sites_server):
    report = check(sites_server.url("partial"))

    items = by_kind(report, "item")
    missing = {k for k, f in items.items() if f.status == "missing"}
    assert missing == {"gosuslugi_link", "service_procedure", "education_office_contacts", "consent_form"}
    assert items["consent_form"].detail["required"] is False and items["gosuslugi_link"].detail["required"] is True
    assert all(not items[k].ok for k in missing)
    microdata = by_kind(report, "microdata")
    assert microdata["fullName"].status == "present" and microdata["regDate"].status == "missing"
    assert 0 < checks.score(report) < checks.score(check(sites_server.url("complete")))


def test_wd2_dead_links_404_and_refused_connection(sites_server):
    report = check(sites_server.url("broken_links"))

    broken = {k: f for k, f in by_kind(report, "link").items() if not f.ok}
    base = sites_server.url("broken_links")
    assert {k: f.status for k, f in broken.items()} == {
        base + "files/plan-olimpiad.pdf": "broken", base + "olimpiady/": "broken",
        sites_server.refused_url: "error", sites_server.refused_url + "uo/": "error"}
    assert broken[base + "files/plan-olimpiad.pdf"].detail | {"elapsed_ms": 0} == {
        "status_code": 404, "method": "HEAD", "external": False, "elapsed_ms": 0}
    assert broken[base + "olimpiady/"].page == base + "docs/"
    assert broken[sites_server.refused_url].detail["error"] == "refused"
    assert broken[sites_server.refused_url].text == "Сайт управления образования"


def test_wd2_redirect_loop_and_an_honest_redirect_chain(sites_server):
    report = check(sites_server.url("redirect_loop"))

    base = sites_server.url("redirect_loop")
    links = by_kind(report, "link")
    loop = links[base + "archive/"]
    assert (loop.status, loop.ok) == ("redirect_loop", False)
    assert loop.detail["redirects"] == [base + "archive/old/", base + "archive/"]
    moved = links[base + "eservices"]
    assert moved.status == "ok" and moved.detail["redirects"] == [base + "eservices/"]


def test_wd2_a_slow_page_is_a_timeout_not_a_hang(sites_server):
    started = time.perf_counter()
    report = check(sites_server.url("slow"), Settings(timeout=0.3, allowed_networks=LOOPBACK))

    assert time.perf_counter() - started < 1.8  # the page answers after 2 s
    news = by_kind(report, "link")[sites_server.url("slow") + "news/"]
    assert (news.status, news.ok, news.detail["error"]) == ("timeout", False, "timeout")
    assert by_kind(report, "item")["diary_regulation"].status == "found"


def test_wd3_documents_replaced_without_the_mark_are_outdated(sites_server):
    report = check(sites_server.url("outdated"))

    outdated = {k.rsplit("/", 1)[1]: f for k, f in by_kind(report, "outdated").items()}
    assert {k: (f.status, f.ok, f.detail["reason"]) for k, f in outdated.items()} == {
        "prikaz-45-2018.pdf": ("outdated", False, "replaced"),
        "polozhenie-ezh-2019.pdf": ("outdated", False, "newer_version")}
    assert outdated["polozhenie-ezh-2019.pdf"].detail["newer"].endswith("polozhenie-ezh-2023.pdf")
    assert outdated["polozhenie-ezh-2019.pdf"].detail["date"] == "2019-09-02"
    assert "отменён приказом" in outdated["prikaz-45-2018.pdf"].text
    assert checks.score(report) == 90.0


def test_microdata_absent_is_one_finding_per_property(sites_server):
    report = check(sites_server.url("no_microdata"))

    microdata = by_kind(report, "microdata")
    assert set(microdata) == set(checks.MICRODATA_PROPS)
    assert all(f.status == "missing" and not f.ok for f in microdata.values())
    assert by_kind(check(sites_server.url("complete")), "microdata")["fullName"].text.startswith(
        "Муниципальное бюджетное общеобразовательное учреждение")


def test_a_site_answering_500_is_a_finding(sites_server):
    report = check(sites_server.url("server_error"))

    assert report.error == "http_error"
    assert [(f.kind, f.key, f.status, f.detail["status_code"]) for f in report.findings] == [
        ("site", "http_error", "http_error", 500)]
    assert checks.score(report) == 0.0


def test_a_site_that_never_answers_is_a_timeout(sites_server):
    started = time.perf_counter()
    report = check(sites_server.url("hang"), Settings(timeout=0.3, allowed_networks=LOOPBACK))

    assert time.perf_counter() - started < 1.5
    assert report.error == "timeout" and faults(report) == [("site", "timeout", "timeout")]


def test_a_50_mb_page_is_cut_and_reported_without_holding_it(make_site):
    name, url = make_site("huge")
    tracemalloc.start()
    try:
        report = check(url)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 24_000_000
    too_large = by_kind(report, "site")["too_large"]
    assert (too_large.status, too_large.ok) == ("too_large", False)
    assert too_large.detail == {"bytes_read": 2_000_000, "limit": 2_000_000, "content_length": 50 * 1024 * 1024}
    assert url + "docs/" in by_kind(report, "link")  # what was read was parsed
    assert report.error is None


def test_a_windows_1251_page_with_the_charset_only_in_meta_reads_as_russian(sites_server):
    report = check(sites_server.url("cp1251"))

    items = by_kind(report, "item")
    assert all(f.status == "found" for f in items.values())
    assert items["diary_regulation"].text.startswith("Положение о ведении электронного журнала")
    assert items["diary_regulation"].detail["encoding"] == "cp1251"
    assert {p["encoding"] for p in report.pages} == {"cp1251"}


@pytest.mark.parametrize("body, content_type, text, encoding", [
    ("Дневник".encode("cp1251"), "text/html; charset=windows-1251", "Дневник", "cp1251"),
    ('<meta charset="windows-1251">Дневник'.encode("cp1251"), "text/html", "Дневник", "cp1251"),
    ("Дневник".encode("utf-8"), "text/html", "Дневник", "utf-8"),
    ("Дневник".encode("cp1251"), "", "Дневник", "cp1251"),
    ("Дневник".encode("utf-8")[:-1], "", "Дневни", "utf-8"),  # a character cut by the read cap
])
def test_decoding_order(body, content_type, text, encoding):
    decoded, used = parsing.decode(body, content_type)
    assert text in decoded and used == encoding


def test_robots_txt_is_respected_the_disallowed_page_never_requested(sites_server, make_site):
    name, url = make_site("robots")
    report = check(url)

    paths = [target for _method, target, _headers in sites_server.requests(name)]
    assert "/private/" not in paths and paths.count("/robots.txt") == 1
    private = by_kind(report, "link")[url + "private/"]
    assert private.ok and private.detail == {"robots_disallowed": True}


def test_robots_txt_forbidding_the_start_page_stops_there(sites_server, make_site):
    name, url = make_site("robots", disallow="/")
    report = check(url)

    assert report.error == "robots_disallowed" and faults(report) == [("site", "robots_disallowed", "robots_disallowed")]
    assert [target for _m, target, _h in sites_server.requests(name)] == ["/robots.txt"]


def test_ignoring_robots_is_a_setting(sites_server, make_site):
    name, url = make_site("robots")
    check(url, Settings(timeout=0.5, respect_robots=False, allowed_networks=LOOPBACK))
    paths = [target for _method, target, _headers in sites_server.requests(name)]
    assert "/private/" in paths and "/robots.txt" not in paths


@pytest.mark.parametrize("url", ["", "htp:/x", "javascript:", "http://", "http://exa mple.ru/", "ftp://school.ru/",
                                 "http://school.ru:99999/", None])
def test_an_invalid_address_is_a_finding(url):
    report = check(url)
    assert report.error == "invalid_url"
    assert [(f.kind, f.key, f.status, f.ok) for f in report.findings] == [("site", "invalid_url", "invalid_url", False)]


def test_a_bare_host_name_gets_http(sites_server):
    host = sites_server.url("complete").removeprefix("http://")
    assert check(host).error is None


def test_the_user_agent_is_honest_on_every_request(sites_server, make_site):
    name, url = make_site("complete")
    check(url)
    agents = {headers.get("user-agent") for _method, _target, headers in sites_server.requests(name)}
    assert agents == {Settings().user_agent}


def test_no_host_gets_more_than_the_configured_concurrency(sites_server, make_site):
    made = [make_site("complete", links=40, latency=0.002) for _ in range(6)]
    sites = {i: (url, ITEMS) for i, (_name, url) in enumerate(made)}
    names = [name for name, _url in made]

    for limit in (1, 2):
        sites_server.reset_stats()
        reports = crawler.run(sites, Settings(timeout=2, per_host_concurrency=limit, allowed_networks=LOOPBACK))
        assert all(r.links_checked >= 35 for r in reports.values())
        seen = sites_server.max_concurrent
        assert max(seen[name] for name in names) == limit
        assert seen["portal"] <= limit  # the external links of all six sites share that host


class VirtualClock:
    """Time that passes only when every task waits: ``sleep`` parks the caller until
    ``run`` has moved the clock to its instant, so no result depends on the machine's speed."""

    def __init__(self):
        self.now, self._waiting, self._order = 0.0, [], 0

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        import heapq

        future = asyncio.get_running_loop().create_future()
        self._order += 1
        heapq.heappush(self._waiting, (self.now + seconds, self._order, future))
        await future

    async def run(self, coroutine):
        import heapq

        task = asyncio.ensure_future(coroutine)
        while not task.done():
            for _ in range(20):  # let every ready task run up to its next wait
                await asyncio.sleep(0)
            if self._waiting:
                self.now, _order, future = heapq.heappop(self._waiting)
                future.set_result(None)
        return task.result()


def test_the_host_limiter_spaces_requests_and_counts_concurrency():
    clock = VirtualClock()
    limiter = transport.HostLimiter(per_host_concurrency=2, delay=0.05, clock=clock, sleep=clock.sleep)
    starts = []

    async def request():
        async with limiter.slot("school.example"):
            starts.append(clock())
            await clock.sleep(0.01)

    async def main():
        await asyncio.gather(*(request() for _ in range(5)))

    asyncio.run(clock.run(main()))
    assert starts == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    assert limiter.max_seen == {"school.example": 1}  # the delay keeps even two slots apart

    busy = transport.HostLimiter(per_host_concurrency=2, delay=0.0, clock=clock, sleep=clock.sleep)

    async def long_request():
        async with busy.slot("school.example"):
            await clock.sleep(1.0)

    async def crowd():
        await asyncio.gather(*(long_request() for _ in range(5)))

    asyncio.run(clock.run(crowd()))
    assert busy.max_seen == {"school.example": 2}  # without a delay, two slots run at once


def test_depth_and_page_bounds(sites_server):
    url = sites_server.url("complete")
    only_start = check(url, Settings(timeout=0.5, max_depth=0, allowed_networks=LOOPBACK))
    assert only_start.pages_fetched == 1 and only_start.links_checked >= 5  # the menu is still link-checked
    two = check(url, Settings(timeout=0.5, max_pages=2, allowed_networks=LOOPBACK))
    assert two.pages_fetched == 2
    assert by_kind(two, "item")["diary_regulation"].status == "found"  # the likely page goes first


def test_links_are_not_checked_when_switched_off(sites_server):
    report = check(sites_server.url("broken_links"),
                   Settings(timeout=0.5, check_links=False, allowed_networks=LOOPBACK))
    links = by_kind(report, "link")
    assert sites_server.refused_url not in links and all("/files/" not in k for k in links)


def test_demo_school_10_carries_two_false_alarms_to_dismiss(sites_server, make_site):
    scenario, options = demo_sites()["СОШ № 10"]
    _name, url = make_site(scenario, **options)
    report = check(url)

    regulation = by_kind(report, "link")[url + "files/polozhenie-ezh-2023.pdf"]
    assert (regulation.status, regulation.detail["method"], regulation.detail["status_code"]) == ("broken", "HEAD", 404)
    current = by_kind(report, "outdated")[url + "files/polozhenie-ezh-2023.pdf"]
    assert (current.status, current.detail["reason"]) == ("outdated", "replaced")

    before = checks.score(report)
    for finding in report.findings:
        if finding.url == url + "files/polozhenie-ezh-2023.pdf":
            finding.ok = True  # what a dismissal does
    assert checks.score(report) == before + 7.0


def test_score_weighs_required_items_most():
    def report(*findings):
        return checks.SiteReport("http://s/", list(findings), 1, 0, 1)

    def item(ok, required=True):
        return checks.Finding("item", "k", "found" if ok else "missing", ok, detail={"required": required})

    assert checks.score(report(item(True), item(True, False))) == 100.0
    assert checks.score(report(item(True), item(False, False))) == 80.0 * 3 / 4 + 20
    assert checks.score(report(item(False), item(True, False))) == 80.0 * 1 / 4 + 20
    broken = [checks.Finding("link", str(n), "broken", False) for n in range(10)]
    assert checks.score(report(item(True), *broken)) == 90.0
    assert checks.score(report(checks.Finding("site", "timeout", "timeout", False))) == 0.0


def test_settings_from_the_regulation():
    settings = Settings.from_regulation({"max_depth": 1, "max_pages": "12", "timeout_seconds": 3,
                                         "per_host_concurrency": 4, "delay_seconds": 0.5,
                                         "checklist": [], "schedule": "monthly"})
    assert (settings.max_depth, settings.max_pages, settings.timeout, settings.per_host_concurrency,
            settings.delay) == (1, 12, 3.0, 4, 0.5)
    assert Settings.from_regulation({}) == Settings()


def test_the_default_checklist_is_complete_and_compiles():
    keys = [d["key"] for d in checks.default_checklist()]
    assert {"service_regulation", "diary_regulation", "journal_order", "journal_link", "gosuslugi_link",
            "service_procedure", "responsible_contacts", "education_office_contacts"} <= set(keys)
    assert len(keys) == len(set(keys))
    for item in ITEMS:
        assert item.title and (item.text_patterns or item.url_patterns or item.itemprops)
        for pattern in item.text_patterns + item.url_patterns:
            assert checks._regex(pattern).pattern == pattern


def test_run_works_from_a_thread_and_from_inside_an_event_loop(sites_server):
    sites = {1: (sites_server.url("complete"), ITEMS), 2: ("htp:/x", ITEMS)}
    results, progress = {}, []
    thread = threading.Thread(target=lambda: results.update(crawler.run(sites, FAST, lambda d, t: progress.append((d, t)))))
    thread.start()
    thread.join(30)
    assert results[1].error is None and results[2].error == "invalid_url"
    assert sorted(progress) == [(1, 2), (2, 2)]

    async def inside():
        return crawler.run({3: (sites_server.url("server_error"), ITEMS)}, FAST)

    assert asyncio.run(inside())[3].error == "http_error"


def test_wd4_a_link_to_the_schools_public_service_page_is_the_procedure(app):
    """Issue #15, item 2: a school's site that links to its page of Tabel's e-services
    catalogue (or the portal's deep link) discloses how to get the service."""
    items = [checks.Item.from_dict(d) for d in checks.default_checklist() if d["key"] == "service_procedure"]
    for href in ("https://tabel.example.ru/public/schools/12/services", "/services/diary?school=12"):
        page = parsing.parse_page("https://school12.example.ru/svedenia/",
                                  f'<html><body><a href="{href}">Электронный дневник</a></body></html>', 0, "utf-8")
        assert checks.page_hits(page, items).keys() == {"service_procedure"}, href
    elsewhere = parsing.parse_page("https://school12.example.ru/", '<a href="/news/services">Новости</a>', 0, "utf-8")
    assert checks.page_hits(elsewhere, items) == {}
