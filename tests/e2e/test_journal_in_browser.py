"""A teacher fills the journal with the keyboard; a reload finds every mark saved."""
import pytest

pytestmark = pytest.mark.e2e


def test_teacher_enters_marks_by_keyboard_and_they_survive_a_reload(page, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=4, lessons=True, teacher_user=a["teacher"])
    page.goto("/login")
    page.get_by_label("Логин").fill(a["teacher"]["login"])
    page.get_by_label("Пароль").fill(a["teacher"]["password"])
    page.get_by_role("button", name="Войти").click()
    page.goto(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}")
    editable = page.locator("td.w")
    if editable.count() == 0:
        pytest.skip("the current term is closed for entries today")
    first = editable.first
    first.focus()
    # Four pupils down one column: 5, 4, absent, then copy the mark above with Ctrl+D.
    page.keyboard.press("5")
    page.keyboard.press("4")
    page.keyboard.press("n")  # «н» on a Russian layout; the grid takes either
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Control+d")
    page.wait_for_function("document.querySelectorAll('td.saving').length === 0")
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
