"""Benchmark: bytes on the wire for a first and a repeat visit of the demo's pages, as
Chromium counts them (the DevTools protocol's encodedDataLength: headers and body as sent).

    .venv/bin/python bench/page_weight.py [--pupils 25] [--base http://127.0.0.1:8080]

Without --base it loads the demo (`flask demo load`, PUPILS pupils a class) into a
temporary SQLite file and serves it from this process, as `make run` does (the app
gzips static files and pages). With --base it measures a server already
running the demo, e.g. nginx (infra/nginx.conf, which compresses pages too) in front of
`make run`. Each account signs in, then each page is visited with an empty cache
("first") and again ("repeat"). Needs the test extras (Playwright) and Debian's chromium.
"""
import argparse
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGES = {  # account: pages (the teacher's class and lesson are found on its journal list)
    None: ["/login"],
    "teacher12": ["my-journal", "journal", "lesson"],
    "school12": ["/schools/{school}/panel", "/schools/{school}/pupils", "/tenants/{school}/audit"],
    "kirovsk": ["/disclosure"],
    "parent12": ["/diary"],
}


def serve_demo(pupils):
    from werkzeug.serving import make_server

    from core import clock, create_app
    import datetime as dt

    folder = tempfile.mkdtemp(prefix="page-weight-")
    app = create_app({"SECRET_KEY": "bench" * 8, "DATABASE_URL": f"sqlite:///{folder}/demo.db",
                      "SESSION_COOKIE_SECURE": False, "LOG_LEVEL": "WARNING", "DEMO_PUPILS_PER_CLASS": pupils,
                      "STORAGE": {"backend": "local", "root": f"{folder}/storage"}}, instance_path=folder)
    # The demo's school day (the tests' SCHOOL_DAY): its terms and lessons are current.
    clock.fixed(dt.datetime(2026, 11, 18, 7, 0, tzinfo=dt.timezone.utc), tick=True).__enter__()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", app.config["DEMO_PASSWORD"]


def measure(base, password):
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        for login, pages in PAGES.items():
            # The diary's service worker would take the pages' requests out of the page's own
            # network events; it fetches each page from the network anyway (network first).
            context = browser.new_context(base_url=base, locale="ru-RU", viewport={"width": 390, "height": 844},
                                          service_workers="block")
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            received = {}
            cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], e["encodedDataLength"]))
            cdp.send("Network.enable")
            if login:
                page.goto("/login")
                page.locator("input[name=login]").fill(login)
                page.locator("input[name=password]").fill(password)
                page.locator("form button[type=submit]").last.click()
                page.wait_for_load_state()
            for address in pages:
                address = resolve(page, address)
                cdp.send("Network.clearBrowserCache")
                sizes = []
                for _visit in ("first", "repeat"):
                    received.clear()
                    page.goto(address)
                    page.wait_for_load_state("networkidle")
                    sizes.append(sum(received.values()))
                rows.append((login or "—", address, *sizes))
            context.close()
        browser.close()
    return rows


def resolve(page, address):
    """The teacher's pages by following its links; the school's id from where it landed."""
    page.goto("/")
    if "{school}" in address:
        return address.format(school=page.locator("header a", has_text="Школа").get_attribute("href").split("/")[2])
    if address in ("my-journal", "journal", "lesson"):
        mine = page.locator("header a", has_text="Мой журнал").get_attribute("href")
        if address == "my-journal":
            return mine
        page.goto(mine)
        journal = page.locator("#my-classes a").first.get_attribute("href")
        if address == "journal":
            return journal
        page.goto(journal)
        return page.locator("#journal thead a").last.get_attribute("href")
    return address


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pupils", type=int, default=25)
    parser.add_argument("--base", help="a running demo to measure instead of a fresh one")
    parser.add_argument("--password", default="demo12345")
    args = parser.parse_args()
    base, password = (args.base, args.password) if args.base else serve_demo(args.pupils)
    print(f"{'account':<10} {'page':<48} {'first KB':>9} {'repeat KB':>9}")
    for login, address, first, repeat in measure(base, password):
        print(f"{login:<10} {address:<48} {first / 1000:>9.1f} {repeat / 1000:>9.1f}")


if __name__ == "__main__":
    main()
