"""The regulation page: a form per section in the reader's words, each value with its
source, bound and lock; a new version shown as its changes and saved only once confirmed;
the JSON view for experts."""
import re
from html import unescape

import pytest

from tests.tenants.forms import form_fields, replace, visible_text


def version(effective_from, values, act="Приказ № 1 от 01.09.2020", locked=()):
    return {"effective_from": effective_from, "act": act, "values": values, "locked": list(locked)}


def page_url(tenant, suffix=""):
    return f"/tenants/{tenant['id']}/regulations{suffix}"


def english(client):
    client.post("/language", data={"lang": "en"})
    return client


def versions(api, user, tenant):
    return api(user, "GET", f"/api/v1/tenants/{tenant['id']}/regulation-versions").json


def changed_paths(html):
    """The key paths the confirm step lists as changed."""
    listing = html.split('class="reg-change-list"', 1)[1].split("</ol>", 1)[0] if "reg-change-list" in html else ""
    return re.findall(r'<li data-path="([^"]+)"', listing)


def test_a_value_changed_on_the_form_is_shown_as_its_change_then_saved_as_a_new_version(client, login, region_tree, api):
    """The round trip: the form as a browser sends it, one value changed; the confirm step
    lists exactly that key, old -> new in words; confirming saves a version holding it."""
    a = region_tree["a"]
    login(english(client), a["school_admin"])
    form = form_fields(client.get(page_url(a["school"])).get_data(as_text=True), form_id="version-form")
    assert form["v:deadlines.grade.written.days"] == "3"
    typed = replace(form, {"v:deadlines.grade.written.days": "2", "effective_from": "2026-12-01",
                           "act": "Приказ школы № 12 от 20.11.2026"})

    preview = client.post(page_url(a["school"]), data=typed)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert changed_paths(html) == ["deadlines.grade.written.days"]
    change = html.split('data-path="deadlines.grade.written.days"', 1)[1].split("</li>", 1)[0]
    assert "3 days" in change and "2 days" in change
    assert versions(api, a["school_admin"], a["school"]) == []  # nothing saved before the confirm step

    confirm = form_fields(html, form_class="reg-confirm")
    confirm.add("action", "confirm")
    saved = client.post(page_url(a["school"]), data=confirm)
    assert saved.status_code == 302
    [stored] = versions(api, a["school_admin"], a["school"])
    assert stored["values"] == {"deadlines": {"grade": {"written": {"days": 2}}}}
    assert (stored["effective_from"], stored["act"], stored["locked"]) == ("2026-12-01", "Приказ школы № 12 от 20.11.2026", [])

    # The page then shows the new value set here, with its act.
    row = _row(client.get(saved.headers["Location"]).get_data(as_text=True), "deadlines.grade.written.days")
    assert "2 days" in row and "Set here" in row and "Приказ школы № 12 от 20.11.2026" in row


def _row(html, path):
    return html.split(f'data-path="{path}"', 1)[1].split('class="reg-row', 1)[0]


def test_the_confirm_step_lists_exactly_the_keys_changed_set_back_or_locked(client, login, region_tree, api):
    """Against the school's version in force: a changed value, a value given back to the
    region (inherited again), a newly locked key; unchanged keys are not listed."""
    a = region_tree["a"]
    api(a["school_admin"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions",
        json=version("2021-09-01", {"informing": {"paper_interval_days": 10, "parent_checks_per_week": 3}}))
    login(english(client), a["school_admin"])
    form = form_fields(client.get(page_url(a["school"])).get_data(as_text=True), form_id="version-form")
    assert form.get("set:informing.parent_checks_per_week") == "on"
    typed = replace(form, {"v:informing.paper_interval_days": "7", "set:informing.parent_checks_per_week": None,
                           "v:informing.parent_checks_per_week": "2", "lock:retention.journal_years": "on",
                           "effective_from": "2026-12-01", "act": "Приказ школы № 13"})
    html = client.post(page_url(a["school"]), data=typed).get_data(as_text=True)
    assert changed_paths(html) == ["retention.journal_years", "informing.paper_interval_days",
                                   "informing.parent_checks_per_week"]
    assert "Locked for the levels below: no → yes" in html
    checks = html.split('data-path="informing.parent_checks_per_week"', 1)[1].split("</li>", 1)[0]
    assert "3 times a week" in checks and "2 times a week" in checks and "platform default" in checks


@pytest.mark.parametrize("typed, message", [
    ("завтра", "Введите целое число."),
    ("61", "Значение должно быть от 0 до 60."),
])
def test_a_bad_value_shows_the_form_again_naming_the_field_and_saves_nothing(client, login, region_tree, api, typed, message):
    a = region_tree["a"]
    login(client, a["region_admin"])
    form = form_fields(client.get(page_url(a["region"])).get_data(as_text=True), form_id="version-form")
    response = client.post(page_url(a["region"]), data=replace(form, {
        "v:deadlines.grade.oral.days": typed, "effective_from": "2026-12-01", "act": "Приказ № 5"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html.split('class="reg-errors"', 1)[1].split("</div>", 1)[0]
    assert "Отметки за устный ответ" in summary and message in summary
    row = _row(html, "deadlines.grade.oral.days")
    assert 'id="deadlines.grade.oral.days-error"' in row and message in row
    assert f'value="{typed}"' in row and 'aria-invalid="true"' in row  # what was typed stays to be corrected
    assert versions(api, a["region_admin"], a["region"]) == []


def test_a_refused_confirm_shows_the_form_again(client, login, region_tree, api):
    """A confirm step posted with a value the region forbids (a school loosening a bound)
    saves nothing and names the field with the region's limit."""
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"informing": {"paper_interval_days": 10}}, act="Приказ министерства № 42"))
    login(english(client), a["school_admin"])
    page = client.get(page_url(a["school"])).get_data(as_text=True)
    assert "Here at most 10 days, as set by Мурманская область." in _row(page, "informing.paper_interval_days")
    form = form_fields(page, form_id="version-form")
    response = client.post(page_url(a["school"]), data=replace(form, {
        "v:informing.paper_interval_days": "20", "effective_from": "2026-12-01", "act": "Приказ школы № 5",
        "action": "confirm"}))
    assert response.status_code == 422
    assert "Мурманская область" in _row(response.get_data(as_text=True), "informing.paper_interval_days")
    assert versions(api, a["school_admin"], a["school"]) == []


def test_back_to_the_form_keeps_what_was_typed_and_cancel_keeps_nothing(client, login, region_tree, api):
    a = region_tree["a"]
    login(client, a["region_admin"])
    form = form_fields(client.get(page_url(a["region"])).get_data(as_text=True), form_id="version-form")
    html = client.post(page_url(a["region"]), data=replace(form, {
        "v:retention.journal_years": "7", "effective_from": "2026-12-01", "act": "Приказ № 8"})).get_data(as_text=True)
    replay = form_fields(html, form_class="reg-confirm")
    replay.add("action", "edit")
    again = client.post(page_url(a["region"]), data=replay)
    assert again.status_code == 200
    assert 'value="7"' in _row(again.get_data(as_text=True), "retention.journal_years")
    cancel = re.search(r'href="([^"]+)" role="button" class="secondary outline">Отмена', html).group(1)
    shown = client.get(cancel.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="5"' in _row(shown, "retention.journal_years")
    assert versions(api, a["region_admin"], a["region"]) == []


def test_another_tenants_admin_gets_404_on_the_pages_and_the_posts(client, login, region_tree, api):
    a, b = region_tree["a"], region_tree["b"]
    login(client, b["region_admin"])
    body = {"effective_from": "2026-12-01", "act": "Приказ", "v:retention.journal_years": "9"}
    assert client.get(page_url(a["school"])).status_code == 404
    assert client.get(page_url(a["school"], "/json")).status_code == 404
    assert client.post(page_url(a["school"]), data=body).status_code == 404
    assert client.post(page_url(a["school"]), data={**body, "action": "confirm"}).status_code == 404
    assert versions(api, a["school_admin"], a["school"]) == []


def test_a_teacher_sees_the_values_but_no_form_and_may_not_post(client, login, region_tree):
    a = region_tree["a"]
    login(client, a["teacher"])
    html = client.get(page_url(a["school"])).get_data(as_text=True)
    assert 'id="version-form"' not in html and "1 день" in _row(html, "deadlines.grade.oral.days")
    assert client.post(page_url(a["school"]), data={"effective_from": "2026-12-01", "act": "x"}).status_code == 403


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_key_has_a_name_and_help_and_no_code_reaches_the_reader(app, client, login, region_tree, lang):
    """Labels, help and the values' words in the reader's language: no key path, no code
    such as end_of_lesson_day or half_year, no true/false."""
    from tenants import regulations

    a = region_tree["a"]
    if lang == "en":
        english(client)
    login(client, a["region_admin"])
    html = client.get(page_url(a["region"])).get_data(as_text=True)
    text = visible_text(html)
    with app.test_request_context(headers={"Accept-Language": lang}):
        paths = regulations.known_paths()
        helps = {path: str(regulations.help_of(path) or "") for path in paths}
    for path in paths:
        row = _row(html, path)
        assert helps[path] and helps[path] in unescape(row) and 'class="reg-label"' in row, path
        assert path not in text
    for code in ("end_of_lesson_day", "after_last_lesson", "half_year", "true", "false", "None"):
        assert not re.search(rf"\b{code}\b", text), code
    if lang == "ru":
        assert not re.search(r"\b(quarter|mean|weighted|oral|written|off|weekly|monthly)\b", text)
        assert not re.search(r"\b(days|hours|years|Platform default|Set here)\b", text)
        assert "до конца дня урока" in text and "3 дня" in text and "1 сентября" in text


def test_a_locked_value_names_who_locked_it_and_cannot_be_set_below(client, login, region_tree, api):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": 2}}}},
                     act="Приказ № 42 от 01.08.2020", locked=["deadlines.grade.oral.days"]))
    login(english(client), a["school_admin"])
    html = client.get(page_url(a["school"])).get_data(as_text=True)
    row = _row(html, "deadlines.grade.oral.days")
    assert "2 days" in row and "Region: Мурманская область" in row and "Приказ № 42 от 01.08.2020, in force from 01.09.2020" in row
    assert "Locked by Мурманская область" in row
    assert "v:deadlines.grade.oral.days" not in form_fields(html, form_id="version-form")  # disabled


def test_lists_and_items_are_edited_as_lists(client, login, region_tree, api):
    """Work types as items with their fields, grade levels as ticks, the scale as a list."""
    a = region_tree["a"]
    login(client, a["region_admin"])
    form = form_fields(client.get(page_url(a["region"])).get_data(as_text=True), form_id="version-form")
    assert form.getlist("v:grading.ungraded_levels") == ["1"]
    typed = replace(form, {
        "v:grading.work_types:4:code": "Т", "v:grading.work_types:4:name": "Тест",
        "v:grading.work_types:4:kind": "written", "v:grading.work_types:4:weight": "2",
        "del:grading.work_types:3": "on",  # ДЗ removed
        "v:grading.ungraded_levels": None,  # every level graded
        "effective_from": "2026-12-01", "act": "Приказ № 9"})
    html = client.post(page_url(a["region"]), data=typed).get_data(as_text=True)
    assert changed_paths(html) == ["grading.ungraded_levels", "grading.work_types"]
    work_types = html.split('data-path="grading.work_types"', 1)[1].split("</li>\n  \n", 1)[0]
    assert re.search(r'<li class="added">.*Т · Тест · письменная', work_types)
    assert re.search(r'<li class="removed">.*ДЗ · Домашняя работа · письменная', work_types)
    confirm = form_fields(html, form_class="reg-confirm")
    confirm.add("action", "confirm")
    assert client.post(page_url(a["region"]), data=confirm).status_code == 302
    [stored] = versions(api, a["region_admin"], a["region"])
    assert stored["values"]["grading"]["ungraded_levels"] == []
    assert [w["code"] for w in stored["values"]["grading"]["work_types"]] == ["У", "КР", "ПР", "Т"]
    assert stored["values"]["grading"]["work_types"][3] == {"code": "Т", "name": "Тест", "kind": "written", "weight": 2}


def test_the_json_view_shows_the_document_and_takes_a_version_through_the_same_confirm_step(client, login, region_tree, api):
    a = region_tree["a"]
    login(client, a["region_admin"])
    html = client.get(page_url(a["region"], "/json")).get_data(as_text=True)
    assert '"lock_after_period_days": 5' in unescape(html) and 'aria-current="page">JSON' in html
    form = form_fields(html, form_class="reg-json-form")
    bad = client.post(page_url(a["region"]), data=replace(form, {
        "document": '{"values": {', "effective_from": "2026-12-01", "act": "Приказ № 3"}))
    assert bad.status_code == 422 and "Версия в JSON" in bad.get_data(as_text=True)
    preview = client.post(page_url(a["region"]), data=replace(form, {
        "document": '{"values": {"retention": {"journal_years": 6}}, "locked": ["retention.journal_years"]}',
        "effective_from": "2026-12-01", "act": "Приказ № 3"})).get_data(as_text=True)
    assert changed_paths(preview) == ["retention.journal_years"]
    confirm = form_fields(preview, form_class="reg-confirm")
    confirm.add("action", "confirm")
    assert client.post(page_url(a["region"]), data=confirm).status_code == 302
    [stored] = versions(api, a["region_admin"], a["region"])
    assert (stored["values"], stored["locked"]) == ({"retention": {"journal_years": 6}}, ["retention.journal_years"])


def test_the_page_makes_as_many_queries_with_many_versions_as_with_one(client, login, region_tree, api, count_queries):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}/regulation-versions"
    api(a["school_admin"], "POST", url, json=version("2017-09-01", {"informing": {"paper_interval_days": 13}}))
    login(client, a["school_admin"])
    client.get(page_url(a["school"]))  # warm: the tenants and documents a worker keeps
    with count_queries() as one:
        assert client.get(page_url(a["school"])).status_code == 200
    for year in range(2018, 2024):
        api(a["school_admin"], "POST", url, json=version(f"{year}-09-01", {"informing": {"paper_interval_days": 12},
                                                                              "retention": {"journal_years": 6}}))
    client.get(page_url(a["school"]))
    with count_queries() as many:
        assert client.get(page_url(a["school"])).status_code == 200
    assert many.count == one.count <= 12
