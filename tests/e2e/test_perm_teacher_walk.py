"""The journal issue's walk: a teacher of МАОУ СОШ № 12 (Perm, UTC+5) fills a day's lesson by
keyboard, enters an oral grade two days late and sees it marked late (DL-3: one day); under
a region rule of three days the same late entry is on time."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from core import clock

from tests.e2e import browser

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]
PERM = ZoneInfo("Asia/Yekaterinburg")


@pytest.fixture
def perm_school(make_tenant, make_user, make_roster, raw_sql, as_platform):
    region = make_tenant("Пермский край", timezone="Asia/Yekaterinburg")
    city = make_tenant("г. Пермь", parent=region)
    school = make_tenant("МАОУ «СОШ № 12»", parent=city)
    teacher = make_user("teacher12", "teacher", school)
    roster = make_roster(school, pupils=4, lessons=True, teacher_user=teacher)
    two_days_ago = clock.today(PERM) - dt.timedelta(days=2)
    rows = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on = :d",
                   c=roster["class_id"], t=roster["teacher_id"], d=two_days_ago)
    if rows:
        lesson_id = rows[0].id
    else:
        # Two days ago was a weekend or a holiday: move a maths lesson of that term there
        # (a one-off change of the timetable), so the walk runs on any day.
        from blueprints.roster import schedule
        from blueprints.roster.models import Lesson, Term
        from core.extensions import db

        with as_platform():
            term = db.session.execute(db.select(Term).where(Term.year_id == roster["year_id"], Term.starts_on <= two_days_ago,
                                                            Term.ends_on >= two_days_ago, Term.level_from <= 5,
                                                            Term.level_to >= 5)).scalar_one()
            lesson = db.session.execute(db.select(Lesson).where(Lesson.term_id == term.id,
                                                                Lesson.teacher_id == roster["teacher_id"])
                                        .order_by(Lesson.held_on.desc())).scalars().first()
            schedule.change_lesson(lesson, on=two_days_ago, period=3, reason="перенос")
            db.session.commit()
            lesson_id = lesson.id
    return {"region": region, "admin": make_user("perm", "region_admin", region), "teacher": teacher,
            "roster": roster, "lesson_id": lesson_id}


def sign_in(page, user):
    browser.sign_in(page, user["login"], user["password"])


def test_perm_teacher_fills_a_lesson_and_sees_late_marks(page, perm_school, client, token):
    school = perm_school
    sign_in(page, school["teacher"])
    # The lesson of two days ago: topic and homework, typed into the lesson page.
    page.goto(f"/lessons/{school['lesson_id']}")
    header = page.locator("hgroup").inner_text()
    assert "Екатеринбург, UTC+5" in header and "Asia/Yekaterinburg" not in header  # the zone, named for a person
    assert "2-я четверть" in header
    page.get_by_label("Тема урока").fill("Решение уравнений")
    page.get_by_label("Домашнее задание", exact=True).fill("№ 214, 215")
    page.get_by_role("button", name="Сохранить").click()
    assert page.get_by_label("Тема урока").input_value() == "Решение уравнений"
    assert "с опозданием" in page.locator("#lesson-entry").inner_text()  # DL-1: entered after the lesson day

    # The journal: an oral grade two days after the lesson, by keyboard, is late (DL-3: 1 day).
    page.get_by_role("link", name="Мой журнал").click()
    page.get_by_role("link", name="5а").click()
    column = page.locator(f'#journal thead th[data-l="{school["lesson_id"]}"]')
    index = column.evaluate("th => th.cellIndex")
    cell = page.locator(f"#journal tbody tr:first-child td:nth-child({index + 1})")
    cell.focus()
    page.keyboard.press("5")
    expect(page.locator("td.saving")).to_have_count(0)  # no eval: the page's CSP forbids it
    assert "l" in cell.get_attribute("class").split()

    # The region allows three days for oral answers: the same entry, made again, is on time.
    response = client.post(f"/api/v1/tenants/{school['region']['id']}/regulation-versions",
                           headers=token(school["admin"]), json={
                               "effective_from": "2020-09-01", "act": "Приказ Минобразования Пермского края",
                               "values": {"deadlines": {"grade": {"oral": {"days": 3}}}}})
    assert response.status_code == 201
    cell.focus()
    page.keyboard.press("4")
    expect(page.locator("td.saving")).to_have_count(0)  # no eval: the page's CSP forbids it
    assert "l" not in (cell.get_attribute("class") or "").split()
    page.reload()
    cell = page.locator(f"#journal tbody tr:first-child td:nth-child({index + 1})")
    assert cell.inner_text() == "4" and "l" not in (cell.get_attribute("class") or "").split()
