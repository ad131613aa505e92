"""The checklist in the regulation (WD-1, WD-4): the platform's items by default, extended
and adjusted by key down the tree, strictly validated; the crawl limits bounded above."""
import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import Refused
from core.extensions import db
from blueprints.disclosure import checks
from tenants import regulations
from tenants import service as tenants
from tenants.models import Tenant

ON = dt.date(2024, 1, 1)
EXTRA = {"key": "ege_schedule", "title": "Расписание ГИА", "required": False, "text_patterns": [r"расписани\w+ ГИА"]}


@pytest.fixture
def tree(make_tenant):
    region = make_tenant("Мурманская область")
    municipality = make_tenant("г. Кировск", parent=region)
    school = make_tenant("СОШ № 10", parent=municipality)
    return {"region": region, "municipality": municipality, "school": school}


def load(row):
    return db.session.execute(select(Tenant).where(Tenant.id == row["id"])).scalar_one()


def checklist(row):
    return tenants.effective(load(row), ON).document["disclosure"]["checklist"]


def test_the_platform_checklist_is_the_default(tree, as_platform):
    with as_platform():
        assert [i["key"] for i in checklist(tree["school"])] == [i["key"] for i in checks.default_checklist()]
        # a fresh installation crawls nothing on its own: a region switches the schedule on
        assert regulations.defaults()["disclosure"]["schedule"] == "off"


def test_lower_levels_extend_the_checklist_by_key(tree, as_platform):
    """WD-1: the region adjusts the platform's items and adds its own; a municipality adds
    an item; a school cannot relax an item it is judged by."""
    with as_platform():
        adjusted = {**checks.default_checklist()[0], "title": "Регламент (регион)"}
        tenants.add_version(load(tree["region"]), effective_from=dt.date(2023, 9, 1), act="Приказ министерства № 1",
                            values={"disclosure": {"checklist": [
                                adjusted, {**EXTRA, "key": "region_item", "title": "Региональный"}]}})
        tenants.add_version(load(tree["municipality"]), effective_from=dt.date(2023, 9, 1), act="Приказ УО № 2",
                            values={"disclosure": {"checklist": [EXTRA]}})
        relaxed = {**checks.default_checklist()[0], "required": False, "text_patterns": ["."]}
        with pytest.raises(Refused) as refused:
            tenants.add_version(load(tree["school"]), effective_from=dt.date(2023, 9, 1), act="Приказ школы № 3",
                                values={"disclosure": {"checklist": [relaxed]}})
        assert list(refused.value.errors) == ["disclosure.checklist.0.key"]
        db.session.commit()
        keys = [i["key"] for i in checklist(tree["school"])]
        default_keys = [i["key"] for i in checks.default_checklist()]
        assert keys == default_keys + ["region_item", "ege_schedule"]
        first = checklist(tree["school"])[0]
        assert (first["title"], first["required"]) == ("Регламент (регион)", True)
        assert [i["key"] for i in checklist(tree["municipality"])][-2:] == ["region_item", "ege_schedule"]
        effective = tenants.effective(load(tree["school"]), ON)
        assert effective.provenance["disclosure.checklist"].tenant_id == tree["municipality"]["id"]


def test_a_locked_checklist_cannot_be_extended_below(tree, as_platform):
    with as_platform():
        tenants.add_version(load(tree["region"]), effective_from=dt.date(2023, 9, 1), act="Приказ № 1",
                            values={"disclosure": {"schedule": "weekly"}}, locked=["disclosure.checklist"])
        with pytest.raises(Refused) as refused:
            tenants.add_version(load(tree["municipality"]), effective_from=dt.date(2023, 9, 1), act="Приказ № 2",
                                values={"disclosure": {"checklist": [EXTRA]}})
        assert "disclosure.checklist" in refused.value.errors


@pytest.mark.parametrize("item,path", [
    ({**EXTRA, "text_patterns": ["(unclosed"]}, "disclosure.checklist.0.text_patterns.0"),
    ({**EXTRA, "url_patterns": ["[a-"]}, "disclosure.checklist.0.url_patterns.0"),
    ({**EXTRA, "key": "Bad Key"}, "disclosure.checklist.0.key"),
    ({**EXTRA, "required": "yes"}, "disclosure.checklist.0.required"),
    ({**EXTRA, "colour": "red"}, "disclosure.checklist.0.colour"),
    ({k: v for k, v in EXTRA.items() if k != "title"}, "disclosure.checklist.0.title"),
    ({"key": "x", "title": "Ничего не ищет"}, "disclosure.checklist.0.text_patterns"),
    ({**EXTRA, "itemprops": ["not a prop"]}, "disclosure.checklist.0.itemprops.0"),
])
def test_checklist_items_are_validated_strictly(item, path, ctx):
    errors = regulations.validate_document({"disclosure": {"checklist": [item]}}, partial=True)
    assert path in errors, errors


def test_item_keys_are_unique(ctx):
    errors = regulations.validate_document({"disclosure": {"checklist": [EXTRA, EXTRA]}}, partial=True)
    assert "disclosure.checklist" in errors


@pytest.mark.parametrize("checklist, path, sentence", [
    ([{**EXTRA, "text_patterns": ["(unclosed"]}], "disclosure.checklist.0.text_patterns.0",
     "Not a valid regular expression: missing ), unterminated subpattern at position 0"),
    ([{**EXTRA, "url_patterns": ["[a-"]}], "disclosure.checklist.0.url_patterns.0",
     "Not a valid regular expression: unterminated character set at position 0"),
    ([EXTRA, EXTRA], "disclosure.checklist", "Checklist item keys must be unique."),
])
def test_a_refused_checklist_is_one_whole_message_under_its_path(api, region_tree, checklist, path, sentence):
    """WD-1: a region's checklist with a broken pattern is refused through the API with one
    sentence naming the fault, not one entry per character."""
    a = region_tree["a"]
    response = api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
                   json={"effective_from": "2023-09-01", "act": "Приказ министерства № 1", "locked": [],
                         "values": {"disclosure": {"checklist": checklist}}}, headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {path: [sentence]}


@pytest.mark.parametrize("values,path", [
    ({"schedule": "daily"}, "disclosure.schedule"),
    ({"max_pages": 0}, "disclosure.max_pages"),
    ({"max_pages": "30"}, "disclosure.max_pages"),
    ({"timeout_seconds": "10"}, "disclosure.timeout_seconds"),
    ({"timeout_seconds": 600}, "disclosure.timeout_seconds"),
    ({"per_host_concurrency": 50}, "disclosure.per_host_concurrency"),
])
def test_crawl_settings_are_validated(values, path, ctx):
    assert path in regulations.validate_document({"disclosure": values}, partial=True)


def test_the_regions_crawl_limits_are_only_tightened_below(tree, as_platform, app):
    with as_platform():
        tenants.add_version(load(tree["region"]), effective_from=dt.date(2023, 9, 1), act="Приказ № 1",
                            values={"disclosure": {"max_pages": 20, "delay_seconds": 1}})
        with pytest.raises(Refused) as refused:
            tenants.add_version(load(tree["municipality"]), effective_from=dt.date(2023, 9, 1), act="Приказ № 2",
                                values={"disclosure": {"max_pages": 50, "delay_seconds": 0}})
        assert {"disclosure.max_pages", "disclosure.delay_seconds"} <= set(refused.value.errors)
        tenants.add_version(load(tree["municipality"]), effective_from=dt.date(2023, 9, 1), act="Приказ № 2",
                            values={"disclosure": {"max_pages": 10, "delay_seconds": 2}})
        db.session.commit()
        from blueprints.disclosure import check_runs

        settings = check_runs.crawl_settings(load(tree["school"]))
        assert (settings.max_pages, settings.delay) == (10, 2.0)


def test_every_new_key_has_a_label(ctx):
    for path in regulations.known_paths():
        if path.startswith("disclosure."):
            assert path in regulations.labels(), path
