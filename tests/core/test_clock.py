"""The app reads the time through ``core.clock`` only, and every test runs on ``SCHOOL_DAY``
(tests/fixtures/clock.py) whatever the calendar says."""
import ast
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core import clock
from tests.fixtures.clock import SCHOOL_DAY

ROOT = Path(__file__).resolve().parents[2]


def test_a_fixed_clock_stands_or_runs_on_and_is_put_back():
    moment = dt.datetime(2027, 3, 1, 21, 30, tzinfo=dt.timezone.utc)
    outer = clock.now()
    with clock.fixed(moment) as still:
        assert clock.now() == moment
        time.sleep(0.01)
        assert clock.now() == moment
        still.advance(minutes=5)
        assert clock.now() == moment + dt.timedelta(minutes=5)
        assert clock.today(dt.timezone.utc) == dt.date(2027, 3, 1)
        assert clock.today(ZoneInfo("Asia/Tomsk")) == dt.date(2027, 3, 2)  # already 04:35 there
        with clock.fixed(moment, tick=True):
            first = clock.now()
            time.sleep(0.01)
            assert moment <= first < clock.now() < moment + dt.timedelta(seconds=5)
        assert clock.now() == moment + dt.timedelta(minutes=5)
    assert outer <= clock.now() < outer + dt.timedelta(seconds=5)  # the test's own clock again
    assert clock.now().tzinfo is not None and clock.now().utcoffset() == dt.timedelta(0)


def test_every_test_runs_on_the_school_day(app, client, token, region_tree, raw_sql):
    """The pages and the API answer as on SCHOOL_DAY: today's regulation, a new session's
    time and the audit entries written while the test set its data up."""
    a = region_tree["a"]
    headers = token(a["school_admin"])
    effective = client.get(f"/api/v1/tenants/{a['school']['id']}/regulations", headers=headers)
    assert effective.status_code == 200 and effective.json["on"] == SCHOOL_DAY.date().isoformat()
    sessions = client.get("/api/v1/me/sessions", headers=headers).json
    for created in (dt.datetime.fromisoformat(s["created_at"].replace("Z", "+00:00")) for s in sessions):
        assert SCHOOL_DAY <= created.astimezone(dt.timezone.utc) < SCHOOL_DAY + dt.timedelta(seconds=60)
    written = [dt.datetime.fromisoformat(str(r.at)) for r in raw_sql("SELECT at FROM audit_entry")]
    assert written and all(SCHOOL_DAY.replace(tzinfo=None) <= at < SCHOOL_DAY.replace(tzinfo=None)
                           + dt.timedelta(seconds=60) for at in written)


def test_moving_the_clock_moves_the_apps_today(client, token, region_tree, app_clock):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}/regulations"
    app_clock.advance(hours=14)  # 21:00 UTC: midnight in Moscow
    assert client.get(url, headers=token(a["school_admin"])).json["on"] == "2026-11-19"


def _wall_clock_readings(path: Path, root: Path = ROOT):
    """Calls of datetime.now/utcnow/today, date.today and time.time in one module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if (name, node.func.attr) in {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                                      ("date", "today"), ("time", "time")}:
            yield f"{path.relative_to(root)}:{node.lineno}: {name}.{node.func.attr}()"


@pytest.mark.parametrize("package", ["core", "tenants", "blueprints"])
def test_the_app_reads_the_time_only_through_core_clock(package):
    found = [reading for path in sorted((ROOT / package).rglob("*.py"))
             if "migrations" not in path.parts and path != ROOT / "core" / "clock.py"
             for reading in _wall_clock_readings(path)]
    assert found == []


def test_the_check_finds_a_wall_clock_reading(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import datetime as dt\nimport time\n"
                      "a = dt.datetime.now(dt.timezone.utc)\nb = dt.date.today()\nc = time.time()\n")
    assert [r.split(": ")[1] for r in _wall_clock_readings(module, tmp_path)] == [
        "datetime.now()", "date.today()", "time.time()"]
