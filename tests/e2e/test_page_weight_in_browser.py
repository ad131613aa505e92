"""What a page costs on the wire (issue #13, item 17), as Chromium counts it (the DevTools
protocol's encodedDataLength: headers and compressed body). A first visit takes under
100 KB with the styles and scripts gzipped; a repeat visit takes the page alone, every
static file coming from the browser's cache without a request to revalidate it.
bench/page_weight.py prints the figures for the demo's pages."""
import pytest

from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


class Wire:
    """Bytes received per URL, from the browser's network events."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.urls, self.received, self.encodings = {}, {}, {}
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", lambda e: self.received.__setitem__(e["requestId"], e["encodedDataLength"]))
        self.cdp.send("Network.enable")

    def _response(self, event):
        headers = {name.lower(): value for name, value in event["response"]["headers"].items()}
        self.encodings[event["requestId"]] = headers.get("content-encoding", "")

    def load(self, page, address):
        """Visit ``address``; (bytes by URL path, content encoding by URL path)."""
        self.urls.clear(), self.received.clear(), self.encodings.clear()
        page.goto(address)
        page.wait_for_load_state("networkidle")
        paths = {rid: url.split("://", 1)[-1].split("/", 1)[-1] for rid, url in self.urls.items() if url.startswith("http")}
        return ({"/" + paths[rid]: size for rid, size in self.received.items() if rid in paths},
                {"/" + paths[rid]: enc for rid, enc in self.encodings.items() if rid in paths})


def static(sizes):
    return {path: size for path, size in sizes.items() if path.startswith("/static/")}


def test_a_first_visit_is_light_and_a_repeat_visit_takes_only_the_page(page, region_tree, make_roster):
    wire = Wire(page)
    first, encodings = wire.load(page, "/login")
    assert sum(first.values()) < 100_000, first
    assert any("/pico.min." in path for path in first) and any("/htmx.min." in path for path in first), first
    for path in static(first):
        if path.endswith((".css", ".js")) and first[path] > 2_000:
            assert encodings[path] == "gzip", path
    again, _ = wire.load(page, "/login")
    assert sum(again.values()) < 20_000, again
    assert sum(static(again).values()) == 0, static(again)  # from the cache, not even asked

    # A teacher's journal: its own script is new (the rest is cached), then nothing static.
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=25, lessons=True, teacher_user=a["teacher"])
    sign_in(page, a["teacher"]["login"], a["teacher"]["password"])
    journal = f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}"
    first, _ = wire.load(page, journal)
    assert [path for path, size in static(first).items() if size] == [
        path for path in static(first) if path.startswith("/static/journal/")], first
    assert sum(first.values()) < 100_000, first
    again, _ = wire.load(page, journal)
    assert sum(static(again).values()) == 0, static(again)
    # Only the page itself crossed the wire, gzipped (25 pupils by the term's lessons: about
    # 23 KB as HTML, 4-5 KB on the wire, from the app as through infra/nginx.conf).
    assert [path for path, size in again.items() if size] == [journal], again
    assert sum(again.values()) < 20_000, again


def test_the_diary_week_is_under_60_kb_first_and_10_kb_again(browser, live_server, family, api, week_lessons):
    """Issue #14, item 8: a parent on a slow link. The page's own requests are counted with
    the diary's service worker blocked (it fetches pages from the network first anyway)."""
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{family['child']}",
        json={"value": "5", "work_type": "У", "version": None, "comment": "Решил задачу у доски"})
    context = browser.new_context(base_url=live_server, locale="ru-RU", viewport={"width": 390, "height": 844},
                                  service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, family["guardian"]["login"], family["guardian"]["password"])
        page.wait_for_url("**/diary")
        wire = Wire(page)
        wire.cdp.send("Network.clearBrowserCache")
        first, _ = wire.load(page, f"/diary/{family['child']}")
        assert sum(first.values()) < 60_000, first
        again, _ = wire.load(page, f"/diary/{family['child']}")
        assert sum(again.values()) < 10_000, again
        assert sum(static(again).values()) == 0, static(again)
    finally:
        context.close()
