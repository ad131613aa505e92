"""A teacher fills the journal with the keyboard; a reload finds every mark saved."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


def test_teacher_enters_marks_by_keyboard_and_they_survive_a_reload(page, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=4, lessons=True, teacher_user=a["teacher"])
    sign_in(page, a["teacher"]["login"], a["teacher"]["password"])
    page.goto(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}")
    editable = page.locator("td.w")
    assert editable.count() > 0, "the term of SCHOOL_DAY is open for entries"
    first = editable.first
    first.focus()
    # Four pupils down one column: 5, 4, absent, then copy the mark above with Ctrl+D.
    page.keyboard.press("5")
    page.keyboard.press("4")
    page.keyboard.press("n")  # «н» on a Russian layout; the grid takes either
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Control+d")
    expect(page.locator("td.saving")).to_have_count(0)  # no eval: the page's CSP forbids it
    page.wait_for_timeout(300)
    column_index = first.evaluate("td => td.cellIndex")
    lesson = page.locator("#journal thead th").nth(column_index).get_attribute("data-l")
    page.reload()
    column = page.locator(f"#journal tbody tr td:nth-child({column_index + 1})")
    assert [column.nth(i).inner_text() for i in range(4)] == ["5", "4", "н", "н"]
    stored = raw_sql("SELECT value FROM grade WHERE lesson_id = :l ORDER BY pupil_id", l=int(lesson))
    assert [r.value for r in stored] == ["5", "4"]
    absent = raw_sql("SELECT COUNT(*) AS n FROM attendance WHERE lesson_id = :l AND status = 'absent'", l=int(lesson))
    assert absent[0].n == 2


def test_marks_typed_while_a_save_is_on_its_way_follow_it_as_one_column(page, region_tree, make_roster, raw_sql):
    """On a slow connection a column typed quickly costs two requests, not one per pupil, and
    every mark is saved with its own version."""
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=5, lessons=True, teacher_user=a["teacher"])
    sign_in(page, a["teacher"]["login"], a["teacher"]["password"])
    page.goto(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}")
    assert page.locator("td.w").count() > 0, "the term of SCHOOL_DAY is open for entries"
    saves = []
    page.on("request", lambda r: saves.append(r.url) if r.method == "PUT" and "/grades" in r.url else None)
    # Five marks down the first writable column, typed before the first answer can arrive.
    page.locator("td.w").first.evaluate("""td => {
        let cell = td;
        for (const key of ["5", "4", "3", "5", "2"]) {
            cell.dispatchEvent(new KeyboardEvent("keydown", {key: key, bubbles: true}));
            cell = cell.parentNode.nextElementSibling && cell.parentNode.nextElementSibling.cells[cell.cellIndex];
        }
    }""")
    expect(page.locator("td.saving")).to_have_count(0)  # no eval: the page's CSP forbids it
    assert len(saves) == 2, saves  # the first mark alone, then the four that waited as one column
    assert saves[1].endswith("/grades")
    column_index = page.locator("td.w").first.evaluate("td => td.cellIndex")
    lesson = page.locator("#journal thead th").nth(column_index).get_attribute("data-l")
    stored = raw_sql("SELECT value, version FROM grade WHERE lesson_id = :l ORDER BY pupil_id", l=int(lesson))
    assert [r.value for r in stored] == ["5", "4", "3", "5", "2"]
    page.reload()
    column = page.locator(f"#journal tbody tr td:nth-child({column_index + 1})")
    assert [column.nth(i).inner_text() for i in range(5)] == ["5", "4", "3", "5", "2"]
    # Typed again over the saved marks: each goes with the version its save gave.
    page.locator("td.w").first.evaluate("""td => {
        let cell = td;
        for (const key of ["4", "4"]) {
            cell.dispatchEvent(new KeyboardEvent("keydown", {key: key, bubbles: true}));
            cell = cell.parentNode.nextElementSibling.cells[cell.cellIndex];
        }
    }""")
    expect(page.locator("td.saving")).to_have_count(0)  # no eval: the page's CSP forbids it
    assert page.locator("td.error").count() == 0
    stored = raw_sql("SELECT value, version FROM grade WHERE lesson_id = :l ORDER BY pupil_id", l=int(lesson))
    assert [r.value for r in stored] == ["4", "4", "3", "5", "2"]
    assert [r.version for r in stored][:2] == [2, 2]


def test_a_mark_changed_or_cleared_meanwhile_shows_in_the_cell_not_overwritten(page, app, region_tree, make_roster,
                                                                               raw_sql, token):
    """Security item 11 in the grid: a new mark goes with version null, a changed one with
    its version; one saved meanwhile by someone else is not overwritten (409), and the cell
    shows what is there now: their mark, or nothing if they cleared it."""
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=2, lessons=True, teacher_user=a["teacher"])
    sign_in(page, a["teacher"]["login"], a["teacher"]["password"])
    page.goto(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}")
    assert page.locator("td.w").count() > 0, "the term of SCHOOL_DAY is open for entries"
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_json) if r.method == "PUT" and "/grades" in r.url else None)
    first = page.locator("td.w").first
    first.focus()
    page.keyboard.press("5")
    expect(page.locator("td.saving")).to_have_count(0)
    assert bodies[0]["version"] is None  # "I saw no mark", said explicitly
    column_index = first.evaluate("td => td.cellIndex")
    lesson = int(page.locator("#journal thead th").nth(column_index).get_attribute("data-l"))
    pupil = roster["pupil_ids"][0]
    saved = raw_sql("SELECT version, work_type FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=pupil)[0]
    other = app.test_client()  # another session of the teacher, e.g. the lesson on a phone
    url = f"/api/v1/lessons/{lesson}/grades/{pupil}"
    meanwhile = other.put(url, headers=token(a["teacher"]),
                          json={"value": "3", "work_type": saved.work_type, "version": saved.version})
    assert meanwhile.status_code == 200

    first.focus()
    page.keyboard.press("4")
    expect(page.locator("td.saving")).to_have_count(0)
    assert bodies[-1]["version"] == saved.version
    assert first.inner_text() == "3"  # theirs, shown; ours not written
    assert raw_sql("SELECT value FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=pupil)[0].value == "3"
    first.focus()
    page.keyboard.press("2")  # now based on what is shown: saved
    expect(page.locator("td.saving")).to_have_count(0)
    assert raw_sql("SELECT value FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=pupil)[0].value == "2"

    current = other.get(f"/api/v1/lessons/{lesson}", headers=token(a["teacher"])).json["grades"][0]
    cleared = other.delete(f"{url}?work_type={current['work_type']}&version={current['version']}",
                           headers=token(a["teacher"]))
    assert cleared.status_code == 204
    first.focus()
    page.keyboard.press("5")
    expect(page.locator("td.saving")).to_have_count(0)
    assert first.inner_text() == ""  # cleared meanwhile: shown empty, not made again
    assert not raw_sql("SELECT 1 FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=pupil)
    first.focus()
    page.keyboard.press("5")
    expect(page.locator("td.saving")).to_have_count(0)
    assert raw_sql("SELECT value FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=pupil)[0].value == "5"
