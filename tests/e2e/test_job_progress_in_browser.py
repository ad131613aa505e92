"""A job started from a page runs on a real worker; its progress bar moves, and when it ends
the card shows the new figures and its button again, all without a reload."""
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import app_config
from tests.workers import Workers
from tests.e2e.browser import sign_in

pytestmark = pytest.mark.e2e


def test_statistics_progress_moves_to_completion(app, region_tree, make_tenant, serve, new_page, tmp_path):
    from core import create_app

    a = region_tree["a"]
    for n in range(12):
        make_tenant(f"Школа № {n + 40}", parent=a["municipality"])
    workers = Workers(app, f"sqla+sqlite:///{tmp_path}/broker.sqlite", tmp_path, step_seconds=0.25)
    workers.start("browser")
    queued = create_app(app_config(app.config["DATABASE_URL"], SECRET_KEY=app.config["SECRET_KEY"],
                                   CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=workers.broker,
                                   CELERY_QUEUE=workers.queue))
    try:
        page = new_page(serve(queued))
        sign_in(page, a["region_admin"]["login"], a["region_admin"]["password"])
        page.get_by_role("button", name="Пересчитать статистику").click()
        expect(page.locator("#statistics .job-progress")).to_be_visible()
        page.evaluate("window.__sameDocument = true")
        assert page.get_by_role("button", name="Пересчитать статистику").count() == 0  # while it runs
        seen = []
        deadline = time.monotonic() + 60
        # the bar's value, read in one go: the section may be swapped out between two reads
        value = "() => { const p = document.querySelector('#statistics .job-progress progress'); return p ? Number(p.value) : null }"
        while time.monotonic() < deadline and not page.get_by_test_id("stats").count():
            current = page.evaluate(value)
            if current is not None:
                seen.append(current)
            time.sleep(0.2)
        moving = sorted({v for v in seen if 0 < v < 100})
        assert len(moving) >= 2, f"the bar did not move: {seen}\n{workers.logs()}"
        # the job's end brings the new figures and the button back, with no reload
        expect(page.get_by_test_id("stats")).to_be_visible()
        # municipalities, schools, accounts of the region
        assert page.locator('[data-testid="stats"] strong').all_inner_texts() == ["1", "13", "4"]
        expect(page.get_by_role("button", name="Пересчитать статистику")).to_be_visible()
        assert "Ещё не подсчитано" not in page.locator("#statistics").inner_text()
        assert page.locator("#statistics .job-progress").count() == 0
        assert page.evaluate("window.__sameDocument") is True  # updated in place, never reloaded
    finally:
        workers.stop()
