"""A website that could not be read is not a bad website (WD-5): it is listed apart from
the ranking with the reason in words, its fault cannot be set aside as a false alarm, and
the next scheduled run checks it again and ranks it once it answers."""
import datetime as dt
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.orm import utcnow
from blueprints.disclosure import check_runs, checks, results, service
from blueprints.disclosure.models import Finding, SiteCheck
from tenants import service as tenants
from tenants.models import Tenant
from tests.disclosure.helpers import fake_crawler, kirovsk, report  # noqa: F401 - a fixture

EN = {"Accept-Language": "en"}
DOWN = "http://127.0.0.1:9/school10/"


def tenant(row):
    return db.session.execute(select(Tenant).where(Tenant.id == row["id"])).scalar_one()


def refused(url):
    """What the crawler answers for a site where nothing listens (crawler.py, ``_failed``)."""
    return checks.SiteReport(start_url=url, findings=[checks.Finding(
        "site", "unreachable", "error", False, url=url, detail={"status_code": None, "elapsed_ms": 1, "error": "refused"})],
        pages_fetched=1, links_checked=0, elapsed_ms=3, error="error")


def reports(down=True):
    return {"http://127.0.0.1:9/school2/": report("http://127.0.0.1:9/school2/"),
            "http://127.0.0.1:9/school5/": report("http://127.0.0.1:9/school5/", missing=["journal_link"]),
            DOWN: refused(DOWN) if down else report(DOWN, missing=["service_regulation"])}


@pytest.fixture
def one_down(kirovsk, monkeypatch, as_platform):
    """Kirovsk checked once, with school 10's site refusing connections."""
    fake_crawler(monkeypatch, reports(down=True))
    with as_platform():
        check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
    return kirovsk


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_site_that_refuses_is_outside_the_ranking_with_the_reason(app, one_down, login, as_platform):
    s2, s5, s10 = (s["id"] for s in one_down["schools"])
    with as_platform():
        rows = results.rating(tenant(one_down["municipality"]))
        assert [(r.school.id, r.place, r.unreachable) for r in rows] == [(s2, 1, False), (s5, 2, False),
                                                                         (s10, None, True)]
        assert rows[2].reason == "соединение отклонено"
    client = app.test_client()
    login(client, one_down["admin"])
    html = client.get(f"/disclosure/tenants/{one_down['municipality']['id']}").get_data(as_text=True)
    row = html[html.index(f'<tr data-school="{s10}">'):]
    row = row[:row.index("</tr>")]
    assert "Сайт недоступен: соединение отклонено" in text_of(row)
    assert "0 / 0" not in row and "Вне рейтинга" in row  # no figures that read like a bad site
    assert html.count('class="bar"') == 2  # no bar of 0 in the chart either
    assert "Нет на диаграмме (сайт недоступен): СОШ № 10" in text_of(html)

    english = text_of(client.get(f"/disclosure/tenants/{one_down['municipality']['id']}", headers=EN)
                      .get_data(as_text=True))
    assert "Site unavailable: connection refused" in english and "unreachable" not in english

    api = client.get(f"/api/v1/disclosure/rating?tenant_id={one_down['municipality']['id']}").json
    assert [(r["school_id"], r["place"], r["unreachable"]) for r in api["rows"]] == [
        (s2, 1, False), (s5, 2, False), (s10, None, True)]


def test_a_site_that_could_not_be_read_offers_no_false_alarm(app, one_down, login, as_platform):
    s10 = one_down["schools"][2]["id"]
    client = app.test_client()
    login(client, one_down["admin"])  # the municipality may mark its schools' faults as false alarms
    html = client.get(f"/disclosure/schools/{s10}").get_data(as_text=True)
    assert 'data-testid="unreachable"' in html and 'data-testid="score"' not in html
    assert "Сайт недоступен: соединение отклонено" in text_of(html)
    assert "сайт не отвечает" in text_of(html)  # the finding in words, not its key «unreachable»
    assert "Ложное срабатывание?" not in html and "/dismissal" not in html
    with as_platform():
        finding_id = db.session.execute(select(Finding.id).where(Finding.tenant_id == s10)).scalar_one()
    token = client.post("/api/v1/auth/token", json={"login": "kirovsk", "password": one_down["admin"]["password"]})
    answer = app.test_client().post(f"/api/v1/disclosure/findings/{finding_id}/dismissal",
                                    json={"reason": "Сайт работает"},
                                    headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert answer.status_code == 409 and "finding_id" in answer.json["errors"]


def test_the_next_scheduled_run_checks_it_again_and_ranks_it_when_it_is_back(one_down, monkeypatch, as_platform,
                                                                              app_clock):
    s2, s5, s10 = (s["id"] for s in one_down["schools"])
    with as_platform():
        tenants.add_version(tenant(one_down["region"]), effective_from=dt.date(2020, 1, 1), act="Приказ № 1",
                            values={"disclosure": {"schedule": "weekly"}})
        db.session.commit()
        # the next day: the schools read yesterday are not due for a week; the one that was down is
        app_clock.advance(days=1)
        assert check_runs.due_schools() == {one_down["municipality"]["id"]: [s10]}
        fake_crawler(monkeypatch, reports(down=False))
        runs = check_runs.start_due_checks()
        assert [r.schools_total for r in runs] == [1] and runs[0].is_scheduled
        back = {r.school.id: r for r in results.rating(tenant(one_down["municipality"]))}[s10]
        assert back.place is not None and not back.unreachable and back.check.required_total == 8
        # read at last: it waits for the schedule's week like the others
        assert check_runs.due_schools() == {}


def test_a_site_that_keeps_failing_is_tried_at_every_scheduled_run(one_down, monkeypatch, as_platform, app_clock):
    s10 = one_down["schools"][2]["id"]
    with as_platform():
        tenants.add_version(tenant(one_down["region"]), effective_from=dt.date(2020, 1, 1), act="Приказ № 1",
                            values={"disclosure": {"schedule": "monthly"}})
        db.session.commit()
        for _day in range(2):
            app_clock.advance(days=1)
            assert check_runs.due_schools() == {one_down["municipality"]["id"]: [s10]}
            check_runs.start_due_checks()
        count = db.session.execute(select(SiteCheck).where(SiteCheck.tenant_id == s10)).scalars().all()
        assert len(count) == 3 and all(c.error == "error" for c in count)


@pytest.mark.parametrize("error,detail,key,words", [
    ("error", {"error": "refused"}, "unreachable", "соединение отклонено"),
    ("error", {"error": "dns"}, "unreachable", "имя сайта не найдено (DNS)"),
    ("error", {"error": "connect"}, "unreachable", "нет соединения с сервером"),
    ("error", {"error": "tls"}, "tls", "ошибка защищённого соединения (TLS)"),
    ("http_error", {"status_code": 503}, "http_error", "сервер отвечает ошибкой: HTTP 503"),
    ("timeout", {"error": "timeout"}, "timeout", "нет ответа за отведённое время"),
    ("timeout", {"seconds": 60}, "deadline", "нет ответа за 60 с"),
    ("robots_disallowed", {}, "robots_disallowed", "закрыто в robots.txt"),
])
def test_the_reason_is_said_in_words(app, error, detail, key, words):
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        finding = Finding(kind="site", key=key, status=error, ok=False, detail=detail)
        assert service.failure_reason(error, finding) == words


def test_the_transport_tells_a_refusal_from_a_name_that_does_not_resolve():
    import asyncio

    from blueprints.disclosure.addresses import resolve
    from blueprints.disclosure.transport import _connect_failure

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError) as refusal:
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert _connect_failure(refusal.value) == "refused"
    assert _connect_failure(socket.gaierror(-2, "Name or service not known")) == "dns"
    assert asyncio.run(resolve("no-such-host.invalid", 80, 5))[0] == "dns"


def test_a_start_page_silent_past_the_sites_deadline_is_stored_as_a_timeout(kirovsk, monkeypatch, as_platform):
    """Nothing was read: as a timeout, not as a site read in part (which keeps "deadline")."""
    silent = checks.SiteReport(start_url=DOWN, findings=[checks.Finding("site", "deadline", "deadline", False, url=DOWN,
                                                                        detail={"seconds": 60})],
                               pages_fetched=1, links_checked=0, elapsed_ms=60_000, error="deadline")
    partial = report("http://127.0.0.1:9/school5/")
    partial.findings.append(checks.Finding("site", "deadline", "deadline", False, detail={"seconds": 60}))
    fake_crawler(monkeypatch, {DOWN: silent, "http://127.0.0.1:9/school5/": partial})
    with as_platform():
        run = check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
        by_school = {c.tenant_id: c for c in results.run_checks(run)}
        assert by_school[kirovsk["schools"][2]["id"]].error == "timeout"
        assert service.is_unreadable(by_school[kirovsk["schools"][2]["id"]])
        assert by_school[kirovsk["schools"][1]["id"]].error == "deadline"
        assert not service.is_unreadable(by_school[kirovsk["schools"][1]["id"]])
        assert utcnow() - by_school[kirovsk["schools"][1]["id"]].checked_at < timedelta(minutes=5)
