"""The website crawler against fake school sites on loopback (WD-1..WD-4): what a person
reading the report would notice, site by site, and the bad or hostile sites that must
end as findings, never as a crash."""
import asyncio
import threading
import time
import tracemalloc

import pytest

from blueprints.disclosure import addresses, checks, crawler, parsing, transport
from blueprints.disclosure.settings import Settings
from blueprints.disclosure.sites import LOOPBACK_NETWORKS, demo_sites

ITEMS = [checks.Item.from_dict(d) for d in checks.default_checklist()]
LOOPBACK = LOOPBACK_NETWORKS  # the fake sites; by default the crawler refuses what is not on the Internet
FAST = Settings(timeout=0.5, allowed_networks=LOOPBACK)


def check(url, settings=FAST, items=ITEMS):
    return asyncio.run(crawler.check_site(url, items, settings))


def by_kind(report, kind):
    return {f.key: f for f in report.findings if f.kind == kind}


def faults(report):
    return [(f.kind, f.key, f.status) for f in report.findings if not f.ok]


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
    assert broken[sites_server.refused_url].detail["error"] == "connect"
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


# --- hostile input: addresses, encodings, links, time, memory, patterns -----------------------------

def test_ssrf_by_default_a_loopback_site_is_refused_before_any_request(sites_server, make_site):
    name, url = make_site("complete")
    report = check(url, Settings(timeout=0.5))

    assert report.error == "blocked_address"
    assert [(f.kind, f.key, f.status, f.ok, f.detail) for f in report.findings] == [
        ("site", "blocked_address", "blocked_address", False, {"address": "127.0.0.1"})]
    assert sites_server.requests(name) == []  # not even robots.txt
    assert checks.score(report) == 0.0


@pytest.mark.parametrize("url, address", [
    ("http://localhost/", None),
    ("http://2130706433/", "127.0.0.1"),              # 127.0.0.1 as one number
    ("http://0x7f.1/", "127.0.0.1"),                  # and in hex, short form
    ("http://0.0.0.0/", "0.0.0.0"),                   # reaches the local host on Linux
    ("http://[::1]/", "::1"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),  # IPv4-mapped IPv6
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),  # a cloud's metadata service
])
def test_ssrf_literal_addresses_in_any_form_are_refused(url, address):
    report = check(url, Settings(timeout=0.5))
    site = by_kind(report, "site")["blocked_address"]
    assert report.error == "blocked_address" and not site.ok
    if address is not None:  # localhost resolves to 127.0.0.1 or ::1, whichever comes first
        assert site.detail == {"address": address}


def test_ssrf_redirects_and_links_out_of_the_allowed_networks_are_refused(sites_server, make_site):
    """Only 127.0.0.0/8 is allowed: a redirect from the school's site to [::1] (loopback, but
    not in the allowed network) and a link to the metadata service are refused before
    connecting (WD-2: each is a faulty link)."""
    other = sites_server.url("complete").replace("127.0.0.1", "[::1]")
    name, url = make_site("complete", redirects={"/go/": other, "/meta/": "http://169.254.169.254/latest/"},
                          home_links=[("/go/", "Архив сайта"), ("/meta/", "Служебная"),
                                      ("http://169.254.169.254/latest/meta-data/", "Метаданные")])
    report = check(url)

    assert report.error is None
    links = by_kind(report, "link")
    for key, address in ((url + "go/", "::1"), (url + "meta/", "169.254.169.254"),
                         ("http://169.254.169.254/latest/meta-data/", "169.254.169.254")):
        assert (links[key].status, links[key].ok) == ("error", False), key
        assert (links[key].detail["error"], links[key].detail["address"]) == ("blocked_address", address), key
    assert links[url + "go/"].detail["redirects"] == [other]
    assert by_kind(report, "item")["diary_regulation"].status == "found"  # the rest of the site is read


def test_refused_address_every_address_must_be_global_or_allowed():
    refused = addresses.refused_address
    assert refused(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]) is None
    assert refused(["93.184.216.34", "10.0.0.5"]) == "10.0.0.5"  # one private address is enough
    assert refused(["127.0.0.1"]) == "127.0.0.1"
    assert refused(["127.0.0.1"], ("127.0.0.0/8",)) is None
    assert refused(["::ffff:127.0.0.1"], ("127.0.0.0/8",)) is None  # a mapped address is its IPv4 address
    assert refused(["::ffff:10.0.0.1"], ("127.0.0.0/8",)) == "::ffff:10.0.0.1"
    assert refused(["2002:7f00:1::"]) == "2002:7f00:1::"  # 6to4 around 127.0.0.1
    assert refused(["64:ff9b::a9fe:a9fe"]) == "64:ff9b::a9fe:a9fe"  # NAT64 around 169.254.169.254
    assert refused(["fe80::1%eth0"]) == "fe80::1%eth0"
    assert refused(["100.64.0.1", "224.0.0.1"]) == "100.64.0.1"
    with pytest.raises(ValueError):
        Settings(allowed_networks=("not a network",))


def test_settings_allowed_networks_come_from_the_deployment_not_the_regulation():
    assert Settings.from_regulation({"allowed_networks": ["10.0.0.0/8"]}).allowed_networks == ()
    settings = Settings.from_regulation({"max_pages": 3, "site_seconds": 30},
                                        allowed_networks=["127.0.0.0/8"])
    assert (settings.allowed_networks, settings.max_pages, settings.site_seconds) == (("127.0.0.0/8",), 3, 30.0)


def test_a_charset_that_is_no_text_encoding_falls_back_to_the_page_s_own(make_site):
    """``charset=base64`` (or hex, rot13) names a codec that does not turn bytes into text."""
    _name, url = make_site("complete", content_type="text/html; charset=base64")
    report = check(url)

    assert report.error is None
    assert {k: f.status for k, f in by_kind(report, "item").items()} == {i.key: "found" for i in ITEMS}
    assert {p["encoding"] for p in report.pages} == {"utf-8"}


@pytest.mark.parametrize("charset", ["base64", "hex", "rot13", "zlib", "idna", "no-such-charset"])
def test_decoding_skips_charsets_that_are_no_text_encoding(charset):
    assert parsing.decode("Дневник".encode("cp1251"), f"text/html; charset={charset}") == ("Дневник", "cp1251")


def test_a_malformed_link_is_skipped_the_page_is_still_read(make_site):
    _name, url = make_site("complete", home_links=[("http://[bad/", "Битая ссылка"), ("/moved/", "Переехало")],
                           redirects={"/moved/": "http://[bad/"})
    report = check(url)

    assert report.error is None
    assert {k: f.status for k, f in by_kind(report, "item").items()} == {i.key: "found" for i in ITEMS}
    links = by_kind(report, "link")
    assert not any("[bad" in key for key in links)
    moved = links[url + "moved/"]
    assert (moved.status, moved.detail["error"]) == ("error", "invalid_url")  # a Location that is no address


def test_a_site_past_its_deadline_keeps_what_was_found(sites_server):
    """The slow site's news page answers after 2 s; the site has 0.5 s in all."""
    started = time.perf_counter()
    report = check(sites_server.url("slow"), Settings(timeout=5, site_seconds=0.5, allowed_networks=LOOPBACK))

    assert time.perf_counter() - started < 1.5
    deadline = by_kind(report, "site")["deadline"]
    assert (deadline.status, deadline.ok, deadline.detail) == ("deadline", False, {"seconds": 0.5})
    assert report.error is None and report.pages_fetched >= 2
    assert by_kind(report, "item")["diary_regulation"].status == "found"  # the e-services page came first


def test_a_site_silent_past_its_deadline_is_one_finding(sites_server):
    started = time.perf_counter()
    report = check(sites_server.url("hang"), Settings(timeout=5, site_seconds=0.3, allowed_networks=LOOPBACK))

    assert time.perf_counter() - started < 1.5
    assert report.error == "deadline"
    assert [(f.kind, f.key, f.status, f.ok, f.detail) for f in report.findings] == [
        ("site", "deadline", "deadline", False, {"seconds": 0.3})]


def test_wd2_after_five_timeouts_a_host_s_remaining_links_are_not_requested(sites_server, make_site):
    paths = [f"/slow/doc-{n}.pdf" for n in range(12)]
    name, url = make_site("complete", hang_paths=paths, home_links=[(p, f"Документ {n}") for n, p in enumerate(paths)])
    report = check(url, Settings(timeout=0.2, allowed_networks=LOOPBACK))

    links = by_kind(report, "link")
    hung = [links[url + p.lstrip("/")] for p in paths]
    assert all((f.status, f.ok) == ("timeout", False) for f in hung)
    skipped = [f for f in hung if f.detail == {"skipped": True}]
    requested = [t for _m, t, _h in sites_server.requests(name) if t.startswith("/slow/")]
    assert len(skipped) >= 5 and len(requested) == len(paths) - len(skipped)
    assert len(requested) <= transport.HostLimiter.MAX_TIMEOUTS + 2  # at most the requests already in flight


def test_page_and_link_bodies_are_not_kept(make_site):
    _name, url = make_site("complete")

    async def main():
        async with transport.make_client(FAST) as client:
            site = crawler._SiteCheck(url, ITEMS, FAST, client, transport.HostLimiter())
            return site, await site.run()

    site, report = asyncio.run(main())
    assert report.error is None and report.pages_fetched >= 5 and len(site.checked) >= 10
    assert all(r.body == b"" for r in site.fetched.values())
    assert all(r.body == b"" for r in site.checked.values() if r is not None)
    assert all(p["bytes"] > 0 for p in report.pages)


def test_a_gzip_bomb_is_inflated_only_up_to_the_cap(make_site):
    """190 KB on the wire that inflate to 50 MB: the page is cut at ``max_bytes`` of
    inflated text, and no more than that is ever inflated at once."""
    _name, url = make_site("huge", gzip=True)
    settings = Settings(timeout=2, max_bytes=500_000, allowed_networks=LOOPBACK)
    tracemalloc.start()
    try:
        report = check(url, settings)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    too_large = by_kind(report, "site")["too_large"]
    assert (too_large.status, too_large.ok) == ("too_large", False)
    assert too_large.detail["bytes_read"] == too_large.detail["limit"] == 500_000
    assert too_large.detail["content_length"] < 500_000  # the compressed size
    assert url + "docs/" in by_kind(report, "link")
    assert peak < 8_000_000


def test_pages_are_parsed_and_matched_off_the_event_loop(sites_server, monkeypatch):
    threads = []
    parse = crawler.parse_page

    def spy(*args):
        threads.append(threading.current_thread() is threading.main_thread())
        return parse(*args)

    monkeypatch.setattr(crawler, "parse_page", spy)
    assert check(sites_server.url("complete")).error is None
    assert threads and not any(threads)


def test_checklist_patterns_see_at_most_200_kb_of_a_page():
    item = checks.Item("needle", "Иголка", text_patterns=["иголка в стоге"])
    filler = ["сено " * 200 + str(n) for n in range(300)]  # 300 KB of text blocks

    def page(texts):
        return parsing.Page("http://s/", 0, "utf-8", texts, [], {})

    assert checks.page_hits(page(["иголка в стоге"] + filler), [item])["needle"][0] == "text"
    assert checks.page_hits(page(filler + ["иголка в стоге"]), [item]) == {}
