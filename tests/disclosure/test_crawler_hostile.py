"""The website crawler against hostile input (WD-1..WD-4): addresses, encodings, links,
time, memory and patterns that must end as findings, never as a crash or a request
where none may go."""
import asyncio
import threading
import time
import tracemalloc

import pytest

from blueprints.disclosure import addresses, checks, crawler, parsing, transport
from blueprints.disclosure.settings import Settings
from tests.disclosure.crawling import FAST, ITEMS, LOOPBACK, by_kind, check


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
