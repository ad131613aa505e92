"""The journal on a tablet, a laptop and a phone (issue #13): marks and absences entered by
tapping a pad, the pupils' names and the dates held in place while the grid scrolls, the
grid opened on today's lesson, and no page wider than a phone's screen."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]

TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def _journal(new_page, live_server, region_tree, make_roster, pupils, clock=None, days_on=0, **options):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=pupils, lessons=True, teacher_user=a["teacher"])
    if days_on:
        clock.advance(days=days_on)
    page = new_page(live_server, **options)
    sign_in(page, a["teacher"]["login"], a["teacher"]["password"])
    page.goto(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}")
    return page, roster


def _inside(inner, outer, slack=1):
    return (inner["x"] >= outer["x"] - slack and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] >= outer["y"] - slack and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


def test_a_teacher_taps_marks_and_absences_on_a_tablet_and_they_survive_a_reload(new_page, live_server, region_tree,
                                                                                  make_roster, raw_sql):
    page, roster = _journal(new_page, live_server, region_tree, make_roster, 5, **TABLET)
    today = page.locator("#journal thead th[data-now]")
    assert today.get_attribute("data-d") == "18.11" and today.get_attribute("data-w") == "1"
    column = today.evaluate("th => th.cellIndex")
    lesson = int(today.get_attribute("data-l"))
    cells = page.locator(f"#journal tbody tr td:nth-child({column + 1})")
    pad = page.locator("#journal-pad")
    expect(pad).to_be_hidden()
    cells.nth(0).tap()
    expect(pad).to_be_visible()
    expect(page.locator("#journal-pad-title")).to_have_text("Ученик000 Иван · 18.11 · устный ответ")
    pad.get_by_role("button", name="5", exact=True).tap()
    # The line names the pupil, the date and the work type, not the header's choices.
    expect(page.locator("#journal-status")).to_have_text("Ученик000 Иван · 18.11 · устный ответ: 5")
    expect(page.locator("#journal-pad-title")).to_have_text("Ученик001 Иван · 18.11 · устный ответ")  # moved on, as Enter does
    pad.get_by_role("button", name="4", exact=True).tap()
    pad.get_by_role("button", name="н — отсутствовал").tap()
    pad.get_by_role("button", name="б — болел").tap()
    pad.get_by_role("button", name="Закрыть").tap()
    expect(pad).to_be_hidden()
    expect(page.locator("td.saving")).to_have_count(0)
    assert page.locator("td.error").count() == 0
    expect(page.locator("#journal-status")).to_have_text("Ученик003 Иван · 18.11 · болел")

    # A mark tapped by mistake is cleared from the pad.
    cells.nth(4).tap()
    pad.get_by_role("button", name="3", exact=True).tap()
    expect(page.locator("td.saving")).to_have_count(0)
    cells.nth(4).tap()
    pad.get_by_role("button", name="Очистить").tap()
    expect(page.locator("td.saving")).to_have_count(0)
    expect(page.locator("#journal-status")).to_have_text("Ученик004 Иван · 18.11: —")

    page.reload()
    cells = page.locator(f"#journal tbody tr td:nth-child({column + 1})")
    assert [cells.nth(i).inner_text() for i in range(5)] == ["5", "4", "н", "б", ""]
    stored = raw_sql("SELECT pupil_id, value, work_type FROM grade WHERE lesson_id = :l ORDER BY pupil_id", l=lesson)
    assert [(r.pupil_id, r.value, r.work_type) for r in stored] == [
        (roster["pupil_ids"][0], "5", "У"), (roster["pupil_ids"][1], "4", "У")]
    # DL-2: tomorrow's lesson takes no marks yet: a tap on it opens no pad.
    ahead = page.locator("#journal thead th[data-ahead]").first.evaluate("th => th.cellIndex")
    page.locator(f"#journal tbody tr:first-child td:nth-child({ahead + 1})").tap()
    expect(page.locator("#journal-pad")).to_be_hidden()
    absent = raw_sql("SELECT pupil_id, status FROM attendance WHERE lesson_id = :l ORDER BY pupil_id", l=lesson)
    assert [(r.pupil_id, r.status) for r in absent] == [(roster["pupil_ids"][2], "absent"),
                                                        (roster["pupil_ids"][3], "ill")]


def test_the_names_stay_in_view_when_the_grid_is_scrolled_to_the_last_lesson(new_page, live_server, region_tree,
                                                                              make_roster):
    page, _roster = _journal(new_page, live_server, region_tree, make_roster, 12, **LAPTOP)
    box = page.locator("#journal-scroll")
    heads = page.locator("#journal thead th")
    assert heads.count() > 40, "a term of daily maths lessons"
    # About a month of lessons fits the laptop's box at once.
    frame = box.bounding_box()
    fitting = sum(1 for i in range(1, heads.count()) if _inside(heads.nth(i).bounding_box(), frame))
    assert fitting >= 20, fitting
    heads.last.scroll_into_view_if_needed()
    assert box.evaluate("box => box.scrollLeft") > 0
    assert _inside(heads.last.bounding_box(), box.bounding_box())
    for row in (0, 11):
        name = page.locator("#journal tbody tr").nth(row).locator("th")
        assert _inside(name.bounding_box(), box.bounding_box()), row
    assert _inside(page.locator("#journal thead th").first.bounding_box(), box.bounding_box())
    # Scrolled down inside the box, the dates stay on top.
    page.locator("#journal tbody tr").last.locator("td").last.scroll_into_view_if_needed()
    assert _inside(heads.last.bounding_box(), box.bounding_box())


@pytest.mark.parametrize("days_on, day", [(0, "18.11"), (30, "18.12")])
def test_the_grid_opens_with_todays_lesson_in_view(new_page, live_server, region_tree, make_roster, app_clock,
                                                   days_on, day):
    """On the term's second week as a month later: the column of today's lesson is in the
    box, clear of the names, whatever the lessons before it."""
    page, _roster = _journal(new_page, live_server, region_tree, make_roster, 3, clock=app_clock, days_on=days_on,
                             **LAPTOP)
    today = page.locator("#journal thead th[data-now]")
    assert today.get_attribute("data-d") == day
    box = page.locator("#journal-scroll").bounding_box()
    names = page.locator("#journal thead th").first.bounding_box()
    seen = today.bounding_box()
    assert _inside(seen, box)
    assert seen["x"] >= names["x"] + names["width"] - 1  # not hidden under the names
    if days_on:
        assert page.locator("#journal-scroll").evaluate("box => box.scrollLeft") > 0  # it had to scroll


@pytest.mark.parametrize("which", ["grid", "lesson"])
def test_the_grid_and_the_lesson_page_fit_a_phone(new_page, live_server, region_tree, make_roster, which):
    page, roster = _journal(new_page, live_server, region_tree, make_roster, 6, **PHONE)
    if which == "lesson":
        page.locator("#journal thead th[data-now] a").click()
        expect(page.get_by_label("Тема")).to_be_visible()
    else:
        page.locator("#journal tbody tr").first.locator("td.w").last.tap()
        expect(page.locator("#journal-pad")).to_be_visible()
        pad = page.locator("#journal-pad").bounding_box()
        assert pad["x"] >= 0 and pad["x"] + pad["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
