"""IN-2: guardians who chose paper get a printout of results at least every
``informing.paper_interval_days`` (14 by default). The class teacher sees who is due,
prints an A4 PDF per pupil or for the class (grades, absences, remarks, the school's name,
a line for the parent's signature) and records it handed over; overdue ones are flagged."""
import io

import pytest
from pypdf import PdfReader

from tests.diary.test_diary import grade

pytestmark = pytest.mark.usefixtures("school_day")
CHOICE = {"application_number": "21", "application_date": "2026-09-01", "notify_mode": "instant", "language": "ru"}


@pytest.fixture
def on_paper(family, api):
    """Guardians 0 and 2 of the first class chose paper (as the school admin records it)."""
    for index in (0, 2):
        guardian = family["first"]["guardian_ids"][index]
        response = api(family["a"]["school_admin"], "PATCH", f"/api/v1/guardians/{guardian}",
                       json={**CHOICE, "channels": ["paper"]})
        assert response.status_code == 200, response.json
    return family


def keep(pdf: bytes, name: str):
    """Under $TABEL_SHOTS, the PDF as printed, to be rendered to PNG and read."""
    import os

    if os.environ.get("TABEL_SHOTS"):
        os.makedirs(os.environ["TABEL_SHOTS"], exist_ok=True)
        with open(os.path.join(os.environ["TABEL_SHOTS"], f"{name}.pdf"), "wb") as handle:
            handle.write(pdf)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_class_teacher_sees_who_chose_paper_and_that_it_is_overdue(app, on_paper, api):
    """IN-2: nothing handed over since the year began (1 September): long overdue."""
    family = on_paper
    report = api(family["teacher"], "GET", f"/api/v1/classes/{family['first']['class_id']}/paper").get_json()
    assert report["interval_days"] == 14
    assert [(r["pupil"], r["overdue"]) for r in report["rows"]] == [("Ученик000 Иван", True), ("Ученик002 Иван", True)]
    assert report["rows"][0]["since"] == "2026-09-01" and report["rows"][0]["until"] == "2026-11-18"


def test_a_printout_holds_the_grades_absences_and_remarks_of_the_days_and_a_signature_line(
        app, on_paper, api, login, week_lessons):
    family = on_paper
    lessons = week_lessons(family["first"], family["first"]["teacher_id"])
    grade(api, family["teacher"], lessons[0], family["child"], "5")
    grade(api, family["teacher"], lessons[1], family["child"], "3", work_type="КР")
    api(family["teacher"], "POST", f"/api/v1/lessons/{lessons[1]}/remarks",
        json={"pupil_id": family["child"], "kind": "praise", "text": "Помог однокласснику"})
    assert api(family["teacher"], "PUT", f"/api/v1/lessons/{lessons[0]}/attendance/{family['stranger']}",
               json={"status": "absent"}).status_code == 200
    teacher = login(app.test_client(), family["teacher"])
    one = teacher.get(f"/classes/{family['first']['class_id']}/paper.pdf?pupil_id={family['child']}"
                      f"&since=2026-11-16&until=2026-11-18")
    assert one.status_code == 200 and one.mimetype == "application/pdf"
    keep(one.data, "printout-pupil")
    text = " ".join(text_of(one.data).split())  # words wrapped in a table cell: one line
    assert "Выписка об успеваемости: Ученик000 Иван" in text and "Школа A № 1" in text
    assert "16.11.2026 – 18.11.2026" in text and "Математика" in text
    assert "контрольная работа" in text and "похвала: Помог однокласснику" in text
    assert "Получил родитель (законный представитель)" in text and "Ученик002" not in text

    whole = teacher.get(f"/classes/{family['first']['class_id']}/paper.pdf")  # every due one of the class
    pages = PdfReader(io.BytesIO(whole.data)).pages
    assert len(pages) == 2 and "Ученик002 Иван" in pages[1].extract_text()
    assert "16.11 отсутствовал" in pages[1].extract_text() and "отсутствовал" not in pages[0].extract_text()


def test_handing_over_clears_the_due_and_is_recorded_with_who_and_when(app, on_paper, api, login, raw_sql, app_clock):
    family = on_paper
    class_id = family["first"]["class_id"]
    guardian = family["first"]["guardian_ids"][0]
    done = api(family["teacher"], "POST", f"/api/v1/classes/{class_id}/paper/handovers",
               json={"pupil_id": family["child"], "guardian_id": guardian, "since": "2026-09-01",
                     "until": "2026-11-18", "handed_on": "2026-11-18"})
    assert done.status_code == 201
    row = api(family["teacher"], "GET", f"/api/v1/classes/{class_id}/paper").get_json()["rows"][0]
    assert (row["overdue"], row["due"], row["last_handed_on"], row["due_on"], row["since"]) == (
        False, False, "2026-11-18", "2026-12-02", "2026-11-19")
    entry = raw_sql("SELECT actor_id FROM audit_entry WHERE action = 'diary.paper_handed_over'")
    assert [e.actor_id for e in entry] == [family["teacher"]["id"]]
    app_clock.advance(days=15)
    assert api(family["teacher"], "GET", f"/api/v1/classes/{class_id}/paper").get_json()["rows"][0]["overdue"]


def test_bad_handovers_are_refused_by_name_and_nothing_is_written(app, on_paper, api, login, raw_sql):
    family = on_paper
    url = f"/api/v1/classes/{family['first']['class_id']}/paper/handovers"
    body = {"pupil_id": family["own"], "guardian_id": family["first"]["guardian_ids"][1], "since": "2026-09-01",
            "until": "2026-11-18", "handed_on": "2026-11-18"}
    not_paper = api(family["teacher"], "POST", url, json=body)  # guardian 1 did not choose paper
    assert not_paper.status_code == 422 and "guardian_id" in not_paper.get_json()["errors"]
    ahead = api(family["teacher"], "POST", url, json={**body, "pupil_id": family["child"],
                                                       "guardian_id": family["first"]["guardian_ids"][0],
                                                       "handed_on": "2026-11-30"})
    assert ahead.status_code == 422 and "handed_on" in ahead.get_json()["errors"]
    page = login(app.test_client(), family["teacher"]).post(
        f"/classes/{family['first']['class_id']}/paper",
        data={"pupil_id": family["child"], "guardian_id": family["first"]["guardian_ids"][0],
              "since": "2026-09-01", "until": "2026-11-18", "handed_on": "вчера"})
    assert page.status_code == 422 and "ГГГГ-ММ-ДД" in page.get_data(as_text=True)
    assert raw_sql("SELECT count(*) AS n FROM paper_handover")[0].n == 0


def test_only_the_class_teacher_and_the_administration_print(app, on_paper, api, login, make_user, region_tree):
    family = on_paper
    class_id = family["first"]["class_id"]
    other = make_user("teacher-a3", "teacher", family["a"]["school"])
    assert api(other, "GET", f"/api/v1/classes/{class_id}/paper").status_code == 403
    assert api(family["guardian"], "GET", f"/api/v1/classes/{class_id}/paper").status_code == 403
    assert login(app.test_client(), other).get(f"/classes/{class_id}/paper.pdf").status_code == 403
    assert api(region_tree["b"]["school_admin"], "GET", f"/api/v1/classes/{class_id}/paper").status_code == 404
    assert login(app.test_client(), region_tree["b"]["school_admin"]).get(
        f"/classes/{class_id}/paper.pdf").status_code == 404
    page = login(app.test_client(), family["a"]["school_admin"]).get(f"/classes/{class_id}/paper")
    assert page.status_code == 200 and "2 выписки пора выдать" in page.get_data(as_text=True)
