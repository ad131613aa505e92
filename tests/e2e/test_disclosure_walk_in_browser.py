"""The website-check issue's walk, as a new user would do it, in a real browser: the
Kirovsk municipality admin checks every Kirovsk school's site (the demo's fake sites on
loopback) on a real worker, watches the progress, opens the rating (WD-5), opens СОШ № 10's
findings, marks one as a false alarm, checks again and sees it stay dismissed."""
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import app_config
from tests.workers import Workers
from tests.e2e.browser import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_sites():
    from blueprints.disclosure.sites import SiteServer, demo_sites

    server = SiteServer()
    for name, (scenario, opts) in demo_sites().items():
        server.add(name, scenario, **opts)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def demo(app, demo_sites, as_platform):
    from core.extensions import db
    from blueprints.disclosure import service
    from blueprints.disclosure.sites import DEMO_PORTS
    from tenants import demo as demo_tenants

    with as_platform():
        demo_tenants.load()
        service.point_demo_schools({name: demo_sites.url(name) for name in DEMO_PORTS})
        # the gymnasium keeps a site that refuses connections (no lookups outside loopback)
        service.point_demo_schools({"Хибинская гимназия": demo_sites.refused_url})
        db.session.commit()


def wait_for_job(page, workers, deadline_seconds=90):
    seen = []
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        bar = page.locator(".job-progress")
        if bar.count():
            status = bar.get_attribute("data-status")
            seen.append((status, page.locator(".job-progress progress").get_attribute("value")))
            if status in ("succeeded", "failed"):
                return seen
        time.sleep(0.2)
    raise AssertionError(f"the check did not finish: {seen[-3:]}\n{workers.logs()}")


def test_kirovsk_checks_its_schools_and_a_false_alarm_stays_dismissed(app, demo, serve, new_page, tmp_path):
    workers = Workers(app, f"sqla+sqlite:///{tmp_path}/broker.sqlite", tmp_path, step_seconds=0)
    workers.env["TABEL_DISCLOSURE_BATCH"] = "1"  # one school at a time: the bar moves per school
    workers.start("disclosure")
    queued = create_queued_app(app, workers)
    try:
        page = new_page(serve(queued))
        sign_in(page, "kirovsk", "demo12345")
        page.locator('header a[href="/disclosure"]').click()
        assert "г. Кировск" in page.locator("h1").inner_text()

        page.locator('#run form button[type="submit"]').click()
        page.evaluate("window.__sameDocument = true")
        seen = wait_for_job(page, workers)
        assert seen[-1] == ("succeeded", "100"), f"{seen}\n{workers.logs()}"
        # the job's end brings the new rating in place: no reload
        expect(page.locator('[data-testid="rating-chart"] rect.bar')).to_have_count(5)
        assert page.evaluate("window.__sameDocument") is True
        expect(page.locator('#run form button[type="submit"]')).to_be_visible()

        rows = page.locator('[data-testid="rating"] tbody tr')
        assert rows.count() == 6
        names = [rows.nth(i).locator("td").nth(1).locator("a").inner_text() for i in range(6)]
        assert names[0] == "СОШ № 2" and names[-1] == "Хибинская гимназия", names
        # the gymnasium's site refuses connections: no place, the reason, no bar (WD-5)
        assert rows.nth(5).locator("td").first.inner_text() == "—"
        expect(rows.nth(5).get_by_test_id("unreachable")).to_contain_text("Сайт недоступен: соединение отклонено")
        export = page.locator('[data-testid="export-xlsx"]')
        assert export.get_attribute("href").endswith("rating.xlsx")

        page.get_by_role("link", name="СОШ № 10").click()
        assert "СОШ № 10" in page.locator("h1").inner_text()
        faults = page.locator('tr.fault[data-finding^="outdated:"]')
        assert faults.count() >= 1
        row = faults.first
        key = row.get_attribute("data-finding")
        row.locator("summary").click()
        row.locator("textarea").fill("Приказ действует: «изменено приказом» — не отмена, проверено вручную")
        row.locator('button[type="submit"]').click()
        dismissed = page.locator(f'tr[data-finding="{key}"]')
        assert dismissed.get_attribute("class") == "dismissed"
        assert "проверено вручную" in dismissed.inner_text()

        # check again from the rating page: the same finding stays dismissed
        page.locator('header a[href="/disclosure"]').click()
        page.locator('#run form button[type="submit"]').click()
        assert wait_for_job(page, workers)[-1][0] == "succeeded", workers.logs()
        page.reload()
        page.get_by_role("link", name="СОШ № 10").click()
        again = page.locator(f'tr[data-finding="{key}"]')
        assert again.get_attribute("class") == "dismissed"
        assert "проверено вручную" in again.inner_text()
        assert page.locator('[data-testid="history"] tbody tr').count() == 2
    finally:
        workers.stop()


def create_queued_app(app, workers):
    from core import create_app

    return create_app(app_config(app.config["DATABASE_URL"], SECRET_KEY=app.config["SECRET_KEY"],
                                 CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=workers.broker,
                                 CELERY_QUEUE=workers.queue))
