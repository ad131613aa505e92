"""A job started from a page runs on a real worker; its progress bar moves without a reload."""
import time

import pytest

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
        page.evaluate("window.__sameDocument = true")
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            bar = page.locator(".job-progress")
            if bar.count():
                seen.append(int(bar.get_attribute("data-status") == "succeeded") * 1000
                            + int(page.locator(".job-progress progress").get_attribute("value")))
                if seen[-1] >= 1000:
                    break
            time.sleep(0.2)
        moving = sorted({v for v in seen if 0 < v < 100})
        assert len(moving) >= 2, f"the bar did not move: {seen}\n{workers.logs()}"
        assert seen[-1] == 1100, seen
        assert "Готово" in page.locator(".job-progress").inner_text()
        assert page.evaluate("window.__sameDocument") is True  # updated in place, never reloaded
        page.reload()
        # municipalities, schools, accounts of the region
        assert page.locator('[data-testid="stats"] strong').all_inner_texts() == ["1", "13", "4"]
    finally:
        workers.stop()
