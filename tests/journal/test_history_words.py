"""The lesson's history and the change log as a person reads them: each change a sentence
with the pupil's and the teacher's names, the work type in words, the school's local time
(DL-5), whether it was on time (DL-6) and a correction's reason; never ``journal.grade`` or
``pupil_id: 1767``."""
import datetime as dt
import re
from html import unescape
from types import SimpleNamespace

import pytest

from core import clock
from tests.conftest import SCHOOL_DAY


def _text(html):
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def lesson(api, region_tree, make_roster, raw_sql):
    """Today's maths lesson of school A (Moscow) with a topic changed, a grade changed, a grade
    removed and an absence, all by the teacher at 10:00 local."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on = :d",
                        c=roster["class_id"], t=roster["teacher_id"], d=SCHOOL_DAY.date().isoformat())[0].id
    first, second, third = roster["pupil_ids"]
    teacher, url = a["teacher"], f"/api/v1/lessons/{lesson_id}"
    version = api(teacher, "PUT", f"{url}/topic", json={"topic": "Дроби", "version": 0}).json["version"]
    api(teacher, "PUT", f"{url}/topic", json={"topic": "Десятичные дроби", "version": version})
    grade = api(teacher, "PUT", f"{url}/grades/{first}", json={"value": "4", "work_type": "У", "version": None}).json
    api(teacher, "PUT", f"{url}/grades/{first}", json={"value": "5", "work_type": "У", "version": grade["version"]})
    written = api(teacher, "PUT", f"{url}/grades/{third}", json={"value": "3", "work_type": "КР", "version": None}).json
    assert api(teacher, "DELETE", f"{url}/grades/{third}?work_type=КР&version={written['version']}").status_code == 204
    assert api(teacher, "PUT", f"{url}/attendance/{second}", json={"status": "ill"}).status_code == 200
    return {"a": a, "id": lesson_id, "roster": roster}


def _history(client, login, user, lesson_id, lang):
    login(client, user)
    if lang == "en":
        client.post("/language", data={"lang": "en"})
    html = client.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    return _text(html[html.index('id="history"'):])


SENTENCES = {
    "ru": [
        "Тема внесена: «Дроби»; 18.11 в 10:00 (местное время), учитель Морозова А. С.; в срок",
        "Тема изменена: «Дроби» → «Десятичные дроби»; 18.11 в 10:00 (местное время), учитель Морозова А. С.; в срок",
        "Оценка 4 (устный ответ), Ученик000 Иван; 18.11 в 10:00 (местное время), учитель Морозова А. С.; в срок",
        "Оценка изменена с 4 на 5 (устный ответ), Ученик000 Иван; 18.11 в 10:00 (местное время), "
        "учитель Морозова А. С.; в срок",
        "Оценка 3 (контрольная работа) удалена, Ученик002 Иван; 18.11 в 10:00 (местное время), учитель Морозова А. С.",
        "Отсутствие (болел), Ученик001 Иван; 18.11 в 10:00 (местное время), учитель Морозова А. С.",
    ],
    "en": [
        "Topic entered: «Дроби»; 18.11 at 10:00 (local time), teacher Морозова А. С.; on time",
        "Topic changed: «Дроби» → «Десятичные дроби»; 18.11 at 10:00 (local time), teacher Морозова А. С.; on time",
        "Grade changed from 4 to 5 (oral answer), Ученик000 Иван; 18.11 at 10:00 (local time), "
        "teacher Морозова А. С.; on time",
        "Grade 3 (test) removed, Ученик002 Иван; 18.11 at 10:00 (local time), teacher Морозова А. С.",
        "Absence (ill), Ученик001 Иван; 18.11 at 10:00 (local time), teacher Морозова А. С.",
    ],
}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_lesson_history_reads_as_sentences(client, login, lesson, lang):
    history = _history(client, login, lesson["a"]["teacher"], lesson["id"], lang)
    for sentence in SENTENCES[lang]:
        assert sentence in history, history
    for code in ("journal.", "pupil_id", "work_type", "late:", "False", "True", "UTC"):
        assert code not in history, code


def test_the_history_is_newest_first_and_one_pupils_cell_only(client, login, lesson):
    login(client, lesson["a"]["teacher"])
    first = lesson["roster"]["pupil_ids"][0]
    html = client.get(f"/lessons/{lesson['id']}?pupil_id={first}").get_data(as_text=True)
    items = [_text(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", html[html.index('id="history"'):])]
    assert [item.split(";")[0] for item in items] == ["Оценка изменена с 4 на 5 (устный ответ), Ученик000 Иван",
                                                       "Оценка 4 (устный ответ), Ученик000 Иван"]


def test_the_history_names_a_school_admin_and_is_in_the_schools_zone(client, login, api, region_tree, make_roster,
                                                                     raw_sql):
    """DL-5: school B is in Tomsk (UTC+7): a change at 07:00 UTC reads 14:00; an admin with no
    staff record is named by their account."""
    b = region_tree["b"]
    roster = make_roster(b["school"], lessons=True, teacher_user=b["teacher"])
    lesson_id = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND held_on = :d ORDER BY period",
                        c=roster["class_id"], d=SCHOOL_DAY.date().isoformat())[0].id
    api(b["school_admin"], "PUT", f"/api/v1/lessons/{lesson_id}/substitute",
        json={"substitute_id": roster["other_teacher_id"], "version": 0})
    history = _history(client, login, b["teacher"], lesson_id, "ru")
    name = raw_sql("SELECT full_name FROM \"user\" WHERE id = :u", u=b["school_admin"]["id"])[0].full_name
    assert f"Замена: Иванов П.; 18.11 в 14:00 (местное время), {name}" in history, history


def test_a_correction_says_its_reason_and_a_whole_list_its_absent_pupils(app, region_tree, make_roster, as_platform):
    """A correction (after the period locked, DL-1) carries the reason it was made for; the
    lesson page's attendance list says who was absent, or that everyone was present."""
    from blueprints.journal import history
    from core.extensions import db
    from tenants import sections
    from tenants.models import Tenant

    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True)
    first, second, _third = roster["pupil_ids"]
    at = dt.datetime(2026, 11, 18, 11, 5)  # stored UTC: 14:05 in Moscow
    entries = [
        SimpleNamespace(action="journal.grade", before={"value": "3", "comment": None}, at=at, actor_id=None,
                        after={"pupil_id": first, "work_type": "КР", "value": "4", "late": True},
                        reason="Ошибка при вводе"),
        SimpleNamespace(action="journal.attendance", before={}, after={str(second): "excused"}, at=at, actor_id=None,
                        reason=None),
        SimpleNamespace(action="journal.attendance", before={str(second): "excused"}, after={}, at=at, actor_id=None,
                        reason=None),
        SimpleNamespace(action="journal.something_new", before=None, after=None, at=at, actor_id=None, reason=None),
    ]
    with app.test_request_context(headers={"Accept-Language": "ru"}), as_platform():
        school = db.session.get(Tenant, a["school"]["id"])
        lines = [line.text for line in history.describe(entries, school, sections.GRADING.defaults)]
    assert lines[0].startswith("Оценка изменена с 3 на 4 (контрольная работа), Ученик000 Иван; 18.11 в 14:05")
    assert lines[0].endswith("; с опозданием; исправление: Ошибка при вводе")
    assert lines[1].startswith("Посещаемость отмечена, отсутствовали: Ученик001 Иван (по уважительной причине); ")
    assert lines[2].startswith("Посещаемость отмечена: присутствовали все; ")
    assert lines[3].startswith("Изменение урока; ")  # an action the history has no words for yet: no code


@pytest.mark.parametrize("lang, words", [("ru", ["Оценка", "Тема урока", "Создана организация"]),
                                         ("en", ["Grade", "Lesson topic", "Organisation created"])])
def test_the_change_log_names_actions_in_words(client, login, lesson, lang, words):
    login(client, lesson["a"]["school_admin"])
    if lang == "en":
        client.post("/language", data={"lang": "en"})
    page = _text(client.get(f"/tenants/{lesson['a']['school']['id']}/audit").get_data(as_text=True))
    for word in words:
        assert word in page
    for code in ("journal.grade", "journal.topic", "tenant.create"):
        assert code not in page


def test_an_unknown_action_is_shown_as_recorded():
    from tenants.audit_words import action_label

    assert action_label("records.archive") == "records.archive"
