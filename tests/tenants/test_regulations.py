"""The regulation document: defaults, inheritance, locks, bounds, versions, provenance."""
from datetime import date

import pytest

from tenants import regulations


def version(effective_from, values, act="Приказ № 1 от 01.09.2020", locked=()):
    return {"effective_from": effective_from, "act": act, "values": values, "locked": list(locked)}


def effective(api, user, tenant, on="2024-10-01"):
    response = api(user, "GET", f"/api/v1/tenants/{tenant['id']}/regulations?on={on}")
    assert response.status_code == 200, response.json
    return response.json


def test_platform_defaults_follow_the_regulations_digest(api, region_tree):
    """DL-1..DL-4, GR-1, GR-2, PR-1, PR-3, RT-1, IN-2, IN-4 as REGULATIONS.md states them."""
    a = region_tree["a"]
    doc = effective(api, a["school_admin"], a["school"])["document"]
    assert doc["deadlines"]["topic"] == {"rule": "end_of_lesson_day"}  # DL-1
    assert doc["deadlines"]["homework"] == {"rule": "after_last_lesson", "hours": 1}  # DL-2
    assert doc["deadlines"]["grade"]["oral"] == {"days": 1, "levels": [2, 9]}  # DL-3
    assert doc["deadlines"]["grade"]["written"] == {"days": 3, "levels": [2, 9]}  # DL-3
    assert doc["deadlines"]["results_visible_days"] == 3  # DL-4
    assert doc["grading"]["scale"] == ["1", "2", "3", "4", "5"]  # GR-1
    assert doc["grading"]["ungraded_levels"] == [1]  # GR-2
    assert [w["code"] for w in doc["grading"]["work_types"]] == ["У", "КР", "ПР", "ДЗ"]
    assert doc["printing"]["summary_level_groups"] == [[1, 4], [5, 9], [10, 11]]  # PR-3
    assert doc["retention"] == {"journal_years": 5, "final_marks_years": 25}  # RT-1
    assert doc["informing"] == {"paper_interval_days": 14, "parent_checks_per_week": 2}  # IN-2, IN-4
    assert doc["grading"]["min_grades_per_period"] == 3


def test_every_leaf_has_provenance_and_defaults_name_no_tenant(api, region_tree):
    a = region_tree["a"]
    body = effective(api, a["school_admin"], a["school"])
    assert set(body["provenance"]) == set(regulations.leaves(body["document"]))
    assert body["provenance"]["deadlines.grade.oral.days"] == {
        "value": 1, "tenant_id": None, "tenant_name": None, "effective_from": None, "act": None,
        "locked_by": None}


def test_a_region_value_is_inherited_with_its_act_and_lock(api, region_tree):
    """DL-3 configurable at the region, locked for the levels below."""
    a = region_tree["a"]
    response = api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
                   json=version("2020-09-01", {"deadlines": {"grade": {"written": {"days": 2}}}},
                                act="Приказ Минобрнауки МО № 7", locked=["deadlines.grade.written.days"]))
    assert response.status_code == 201, response.json
    source = effective(api, a["school_admin"], a["school"])["provenance"]["deadlines.grade.written.days"]
    assert source == {"value": 2, "tenant_id": a["region"]["id"], "tenant_name": a["region"]["name"],
                      "effective_from": "2020-09-01", "act": "Приказ Минобрнауки МО № 7",
                      "locked_by": a["region"]["id"]}


def test_a_locked_key_cannot_be_overridden_below(api, region_tree):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": 1}}}}, locked=["deadlines.grade"]))
    response = api(a["school_admin"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions",
                   json=version("2021-09-01", {"deadlines": {"grade": {"oral": {"days": 0}}}}))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == ["deadlines.grade.oral.days"]
    assert region_tree["a"]["region"]["name"] in response.json["errors"]["deadlines.grade.oral.days"][0]


def test_a_school_may_shorten_a_deadline_but_not_lengthen_it(api, region_tree):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"deadlines": {"grade": {"written": {"days": 3}}},
                                    "retention": {"journal_years": 6}}))
    url = f"/api/v1/tenants/{a['school']['id']}/regulation-versions"
    loosen = api(a["school_admin"], "POST", url,
                 json=version("2021-09-01", {"deadlines": {"grade": {"written": {"days": 5}}},
                                             "retention": {"journal_years": 4}}))
    assert loosen.status_code == 422
    assert set(loosen.json["errors"]) == {"deadlines.grade.written.days", "retention.journal_years"}
    tighten = api(a["school_admin"], "POST", url,
                  json=version("2021-09-01", {"deadlines": {"grade": {"written": {"days": 2}}},
                                              "retention": {"journal_years": 10}}))
    assert tighten.status_code == 201, tighten.json
    provenance = effective(api, a["school_admin"], a["school"])["provenance"]
    assert provenance["deadlines.grade.written.days"]["value"] == 2
    assert provenance["deadlines.grade.written.days"]["tenant_id"] == a["school"]["id"]
    assert provenance["retention.journal_years"]["value"] == 10


def test_platform_defaults_bound_nothing(api, region_tree):
    """A region may set any valid value, longer than the platform default too."""
    a = region_tree["a"]
    response = api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
                   json=version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": 3}}}}))
    assert response.status_code == 201
    assert effective(api, a["school_admin"], a["school"])["document"]["deadlines"]["grade"]["oral"]["days"] == 3


def test_the_version_in_force_on_a_date_applies(api, region_tree):
    """A lesson is judged by the version in force on its date."""
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['region']['id']}/regulation-versions"
    api(a["region_admin"], "POST", url, json=version("2017-09-01", {"deadlines": {"grade": {"oral": {"days": 2}}}},
                                                     act="Приказ 2017"))
    api(a["region_admin"], "POST", url, json=version("2019-09-01", {"deadlines": {"grade": {"oral": {"days": 1}}}},
                                                     act="Приказ 2019"))
    days = lambda on: effective(api, a["school_admin"], a["school"], on)["provenance"]["deadlines.grade.oral.days"]  # noqa: E731
    assert days("2016-05-01")["value"] == 1 and days("2016-05-01")["act"] is None
    assert days("2018-03-01")["value"] == 2 and days("2018-03-01")["act"] == "Приказ 2017"
    assert days("2019-09-01")["value"] == 1 and days("2019-09-01")["act"] == "Приказ 2019"


def test_a_later_tightening_above_overrides_a_looser_value_below(api, region_tree):
    a = region_tree["a"]
    api(a["school_admin"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions",
        json=version("2018-09-01", {"informing": {"paper_interval_days": 10}}))
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"informing": {"paper_interval_days": 7}}))
    source = effective(api, a["school_admin"], a["school"], "2021-01-01")["provenance"]["informing.paper_interval_days"]
    assert (source["value"], source["tenant_id"]) == (7, a["region"]["id"])
    before = effective(api, a["school_admin"], a["school"], "2019-01-01")["provenance"]["informing.paper_interval_days"]
    assert (before["value"], before["tenant_id"]) == (10, a["school"]["id"])


def test_lists_are_replaced_whole(api, region_tree):
    a = region_tree["a"]
    work_types = [{"code": "У", "name": "Устный ответ", "kind": "oral"},
                  {"code": "Т", "name": "Тест", "kind": "written"}]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"grading": {"work_types": work_types}}))
    assert effective(api, a["school_admin"], a["school"])["document"]["grading"]["work_types"] == work_types


@pytest.mark.parametrize("values, key", [
    ({"deadlines": {"grade": {"oral": {"days": -1}}}}, "deadlines.grade.oral.days"),
    ({"deadlines": {"grade": {"oral": {"days": "завтра"}}}}, "deadlines.grade.oral.days"),
    ({"deadlines": {"grade": {"oral": {"levels": [9, 2]}}}}, "deadlines.grade.oral.levels"),
    ({"calendar": {"year_start": "31-09"}}, "calendar.year_start"),
    ({"grading": {"final_mark_rule": "median"}}, "grading.final_mark_rule"),
    ({"grading": {"passing": ["3", "4", "5", "6"]}}, "grading.passing"),
    ({"retention": {"journal_yrs": 5}}, "retention.journal_yrs"),
    ({"grading": {"work_types": [{"code": "У", "kind": "oral"}]}}, "grading.work_types.0.name"),
])
def test_invalid_values_get_422_naming_the_key(api, region_tree, values, key):
    a = region_tree["a"]
    response = api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
                   json=version("2020-09-01", values))
    assert response.status_code == 422
    assert key in response.json["errors"], response.json


def test_invalid_input_is_not_half_written(api, region_tree):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['region']['id']}/regulation-versions"
    api(a["region_admin"], "POST", url, json=version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": -1}}}}))
    assert api(a["region_admin"], "GET", url).json == []


def test_errors_come_in_the_callers_language(client, token, region_tree):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['region']['id']}/regulation-versions"
    body = version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": "x"}}}})
    ru = client.post(url, headers={**token(a["region_admin"]), "Accept-Language": "ru"}, json=body)
    en = client.post(url, headers={**token(a["region_admin"]), "Accept-Language": "en"}, json=body)
    assert en.json["errors"]["deadlines.grade.oral.days"] == ["Not a valid integer."]
    assert ru.json["errors"]["deadlines.grade.oral.days"] == ["Нужно целое число."]
    assert (ru.json["title"], en.json["title"]) == ("Некорректные данные", "Invalid data")


def test_an_act_is_required_and_dates_are_unique(api, region_tree):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['region']['id']}/regulation-versions"
    assert "act" in api(a["region_admin"], "POST", url, json=version("2020-09-01", {}, act=" ")).json["errors"]
    assert api(a["region_admin"], "POST", url, json=version("2020-09-01", {})).status_code == 201
    assert api(a["region_admin"], "POST", url, json=version("2020-09-01", {})).status_code == 409


def test_only_admins_at_or_above_may_set_regulations(api, region_tree):
    a = region_tree["a"]
    body = version("2020-09-01", {"informing": {"paper_interval_days": 7}})
    assert api(a["teacher"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions", json=body).status_code == 403
    assert api(a["school_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions", json=body).status_code == 403
    assert api(a["municipality_admin"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions", json=body).status_code == 201


def test_resolution_makes_a_fixed_number_of_queries_whatever_the_depth(app, make_tenant, as_platform, count_queries):
    """Two queries (the chain, then every version along it), for a region or a school."""
    from tenants import service
    from tenants.models import Tenant
    from core.extensions import db

    region = make_tenant("Регион")
    municipality = make_tenant("Муниципалитет", parent=region)
    school = make_tenant("Школа", parent=municipality)
    counts = {}
    with as_platform():
        for node in (region, municipality, school):
            tenant = db.session.get(Tenant, node["id"])
            service.add_version(tenant, effective_from=date(2020, 9, 1), act="Приказ",
                                values={"informing": {"paper_interval_days": 14 - node["path"].count("/")}})
        db.session.commit()
        from flask import g

        for node in (region, school):
            tenant = db.session.get(Tenant, node["id"])
            g.pop("tenant_rows", None)  # nothing cached from earlier in this request
            with count_queries() as counter:
                result = service.effective(tenant, date(2021, 1, 1))
            counts[node["kind"]] = counter.count
        assert result.provenance["informing.paper_interval_days"].tenant_id == school["id"]
    assert counts == {"region": 2, "school": 2}


def test_the_regulation_page_shows_values_and_where_they_come_from(client, login, region_tree, api):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": 2}}}},
                     act="Приказ № 42 от 01.08.2020", locked=["deadlines.grade.oral.days"]))
    login(client, a["school_admin"])
    page = client.get(f"/tenants/{a['school']['id']}/regulations?on=2024-10-01").get_data(as_text=True)
    assert "Приказ № 42 от 01.08.2020" in page
    assert "01.09.2020" in page
    assert a["region"]["name"] in page


def test_the_page_form_refuses_a_loosened_value_and_names_it(client, login, region_tree, api):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {"informing": {"paper_interval_days": 10}}))
    login(client, a["school_admin"])
    response = client.post(f"/tenants/{a['school']['id']}/regulations",
                           data={"effective_from": "01.09.2021", "act": "Приказ школы № 5",
                                 "v:informing.paper_interval_days": "20"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="informing.paper_interval_days-error"' in page
    assert "10" in page
    fixed = {"effective_from": "2021-09-01", "act": "Приказ школы № 5", "v:informing.paper_interval_days": "7"}
    assert client.post(f"/tenants/{a['school']['id']}/regulations", data=fixed).status_code == 200  # the changes
    saved = client.post(f"/tenants/{a['school']['id']}/regulations", data={**fixed, "action": "confirm"})
    assert saved.status_code == 302


def test_the_page_form_takes_fractions_written_with_a_comma(client, login, region_tree, api):
    """Seconds between requests to a school's site: «1,5» as written in Russian."""
    a = region_tree["a"]
    login(client, a["region_admin"])
    saved = client.post(f"/tenants/{a['region']['id']}/regulations",
                        data={"effective_from": "2021-09-01", "act": "Приказ министерства № 7",
                              "v:disclosure.delay_seconds": "1,5", "action": "confirm"})
    assert saved.status_code == 302
    body = api(a["region_admin"], "GET", f"/api/v1/tenants/{a['region']['id']}/regulations").json
    assert body["document"]["disclosure"]["delay_seconds"] == 1.5


def test_numbers_must_be_numbers_so_bounds_compare_numbers(api, region_tree):
    """A string "5" would compare as text ("10" <= "5"): it is refused outright."""
    a = region_tree["a"]
    response = api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
                   json=version("2020-09-01", {"deadlines": {"grade": {"oral": {"days": "5"}}}}))
    assert response.status_code == 422 and "deadlines.grade.oral.days" in response.json["errors"]


@pytest.mark.parametrize("values, key", [({"disclosure": {}}, "disclosure"), ({"deadlines": {}}, "deadlines"),
                                         ({"deadlines": {"grade": {}}}, "deadlines.grade")])
def test_an_empty_section_is_refused_not_allowed_to_erase_inherited_values(api, region_tree, values, key):
    a = region_tree["a"]
    response = api(a["school_admin"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions",
                   json=version("2021-09-01", values))
    assert response.status_code == 422 and key in response.json["errors"]
    assert effective(api, a["school_admin"], a["school"])["document"]["deadlines"]["grade"]["oral"]["days"] == 1


def test_a_lock_on_a_section_holds_for_keys_nobody_above_has_set(api, region_tree):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
        json=version("2020-09-01", {}, locked=["deadlines.topic"]))
    response = api(a["school_admin"], "POST", f"/api/v1/tenants/{a['school']['id']}/regulation-versions",
                   json=version("2021-09-01", {"deadlines": {"topic": {"rule": "after_last_lesson", "hours": 5}}}))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"deadlines.topic.rule", "deadlines.topic.hours"}


def test_today_is_the_schools_local_date(app, region_tree, as_platform):
    """DL-5: at 20:00 UTC it is already tomorrow in Tomsk (UTC+7)."""
    import datetime as dt

    from core import clock
    from core.extensions import db
    from tenants import service
    from tenants.models import Tenant

    with as_platform(), clock.fixed(dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.timezone.utc)):
        tomsk = db.session.get(Tenant, region_tree["b"]["school"]["id"])
        murmansk = db.session.get(Tenant, region_tree["a"]["school"]["id"])
        assert service.local_today(tomsk) == dt.date(2026, 11, 23)
        assert service.local_today(murmansk) == dt.date(2026, 11, 22)


def test_a_document_resolved_inside_a_rolled_back_transaction_is_not_kept(app, region_tree, as_platform):
    """The cache of resolved regulations keys on the tenants' versions: a version added
    and rolled back must not leave its document behind for the next change to the tenant."""
    import datetime as dt

    from core.extensions import db
    from tenants import service
    from tenants.models import Tenant

    region_id = region_tree["a"]["region"]["id"]
    with as_platform():
        region = db.session.get(Tenant, region_id)
        service.add_version(region, effective_from=dt.date(2021, 9, 1), act="Проект приказа",
                            values={"informing": {"paper_interval_days": 3}})
        assert service.effective(region, dt.date(2022, 1, 1)).document["informing"]["paper_interval_days"] == 3
        db.session.rollback()
        region = db.session.get(Tenant, region_id)
        region.name = region.name + " "  # the next change takes the version the rolled-back one had
        db.session.commit()
        region = db.session.get(Tenant, region_id)
        assert service.effective(region, dt.date(2022, 1, 1)).document["informing"]["paper_interval_days"] != 3


def test_a_school_cannot_switch_off_the_second_factor_its_region_requires(client, login, token, region_tree):
    """Security item 9: ``security.admin_second_factor`` is off by default; a region switches
    it on; a school below may not switch it off (422 under the key path, on the API and the
    page), while a school under a region that leaves it off may switch it on for itself.
    (Signed in first: once it is on, these admins need a second factor to sign in.)"""
    a, b = region_tree["a"], region_tree["b"]
    headers = {(key, user): token(region_tree[key][user]) for key in ("a", "b")
               for user in ("region_admin", "school_admin")}
    login(client, a["school_admin"])

    def post(key, user, tenant, values, on="2021-09-01"):
        return client.post(f"/api/v1/tenants/{tenant['id']}/regulation-versions", json=version(on, values),
                           headers=headers[(key, user)])

    def document(key, user, tenant, on="2024-10-01"):
        return client.get(f"/api/v1/tenants/{tenant['id']}/regulations?on={on}", headers=headers[(key, user)]).json

    assert document("a", "school_admin", a["school"])["document"]["security"] == {"admin_second_factor": False}
    on = {"security": {"admin_second_factor": True}}
    off = {"security": {"admin_second_factor": False}}
    assert post("a", "region_admin", a["region"], on, "2020-09-01").status_code == 201
    refused = post("a", "school_admin", a["school"], off)
    assert refused.status_code == 422 and "security.admin_second_factor" in refused.json["errors"]
    assert a["region"]["name"] in refused.json["errors"]["security.admin_second_factor"][0]
    # The same through the page's form, where the flag is typed as text.
    page = client.post(f"/tenants/{a['school']['id']}/regulations",
                       data={"effective_from": "2021-09-01", "act": "Приказ школы № 5",
                             "v:security.admin_second_factor": "false"})
    assert page.status_code == 422 and 'id="security.admin_second_factor-error"' in page.get_data(as_text=True)
    source = document("a", "school_admin", a["school"], "2022-01-01")["provenance"]["security.admin_second_factor"]
    assert (source["value"], source["tenant_id"]) == (True, a["region"]["id"])
    # Switching on below is a tightening.
    assert post("b", "school_admin", b["school"], on).status_code == 201
    assert document("b", "school_admin", b["school"])["document"]["security"]["admin_second_factor"] is True
    assert document("b", "region_admin", b["region"])["document"]["security"]["admin_second_factor"] is False
    # Only JSON booleans: "yes" would compare oddly against the bound.
    assert post("b", "region_admin", b["region"], {"security": {"admin_second_factor": "yes"}}).status_code == 422


def test_the_region_above_wins_over_a_school_that_had_it_off(client, token, region_tree):
    """A school's earlier «off» gives way to the region's later «on» (a later tightening above)."""
    a = region_tree["a"]
    school, region = token(a["school_admin"]), token(a["region_admin"])
    client.post(f"/api/v1/tenants/{a['school']['id']}/regulation-versions", headers=school,
                json=version("2018-09-01", {"security": {"admin_second_factor": False}}))
    client.post(f"/api/v1/tenants/{a['region']['id']}/regulation-versions", headers=region,
                json=version("2020-09-01", {"security": {"admin_second_factor": True}}))
    body = client.get(f"/api/v1/tenants/{a['school']['id']}/regulations?on=2021-01-01", headers=school).json
    source = body["provenance"]["security.admin_second_factor"]
    assert (source["value"], source["tenant_id"]) == (True, a["region"]["id"])


@pytest.mark.parametrize("values, path, sentence", [
    ({"calendar": {"year_start": "1 September"}}, "calendar.year_start", "Use the form MM-DD (e.g. 09-01)."),
    # PR-1: print periods per grade range
    ({"printing": {"periods": [{"levels": [9, 1], "every": "quarter"}]}}, "printing.periods.0.levels",
     "A grade level range is two levels, lowest first (e.g. [2, 9])."),
])
def test_a_refused_value_is_one_whole_message_under_its_path(api, region_tree, values, path, sentence):
    """A validator's message is one sentence, not one entry per character."""
    a = region_tree["a"]
    response = api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions",
                   json=version("2020-09-01", values), headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {path: [sentence]}
