"""A live server and Debian's Chromium driven by Playwright (never a downloaded browser)."""
import os
import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

# Playwright's assertions wait 5 s by default, less than the pages' 10 s: a save on a loaded
# CI machine (PostgreSQL, the audit chain's lock) can take longer than that.
expect.set_options(timeout=15_000)

CHROMIUM = os.environ.get("TABEL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class LiveServer:
    """An app served on a free loopback port from a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def serve():
    servers = []

    def start(app):
        servers.append(LiveServer(app))
        return servers[-1].url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(app, serve):
    return serve(app)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"chromium is required in CI and missing at {CHROMIUM}")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """A page in a fresh context. Every walk in a browser also checks the
    Content-Security-Policy (security item 8): a script or style the policy blocked fails
    the test that loaded it."""
    contexts, violations = [], []

    def make(base_url, locale="ru-RU", **options):
        """``options`` go to the browser context: another ``viewport``, ``has_touch``, ``is_mobile``."""
        contexts.append(browser.new_context(**{"base_url": base_url, "locale": locale,
                                               "viewport": {"width": 1280, "height": 900}, **options}))
        page = contexts[-1].new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert violations == [], "blocked by the Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
def page(new_page, live_server):
    return new_page(live_server)
