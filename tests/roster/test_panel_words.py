"""The school panel names terms and years as people do («1-я четверть», «текущий»), never by
the regulation's codes («1 · quarter», «active»)."""
import re
from types import SimpleNamespace

import pytest

EN = {"Accept-Language": "en"}


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("headers,terms,year", [
    ({}, ["1-я четверть", "4-я четверть", "1-е полугодие", "2-е полугодие"], "2026/2027 · текущий"),
    (EN, ["Quarter 1", "Quarter 4", "Half-year 1", "Half-year 2"], "2026/2027 · current"),
])
def test_the_panel_names_terms_and_years_in_words(client, login, region_tree, make_roster, headers, terms, year):
    a = region_tree["a"]
    make_roster(a["school"])
    login(client, a["school_admin"])
    panel = text_of(client.get(f"/schools/{a['school']['id']}/panel", headers=headers).get_data(as_text=True))
    for term in terms:
        assert term in panel, term
    assert year in panel
    assert not re.search(r"\b(quarter|half_year|active)\b", panel), panel


def test_a_drafted_year_reads_as_a_draft(client, login, region_tree, make_roster):
    a = region_tree["a"]
    make_roster(a["school"])
    login(client, a["school_admin"])
    assert client.post(f"/schools/{a['school']['id']}/rollover", data={"final_grade": 11}).status_code == 302
    panel = text_of(client.get(f"/schools/{a['school']['id']}/panel").get_data(as_text=True))
    assert "2027/2028 · черновик" in panel and "draft" not in panel


def test_every_period_kind_has_a_name(app):
    from blueprints.roster.academic_years import TERM_COUNT, term_name
    from tenants.sections import PERIOD_KINDS

    assert set(PERIOD_KINDS) == set(TERM_COUNT)
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert [term_name(SimpleNamespace(kind=kind, number=2)) for kind in PERIOD_KINDS] == [
            "2-я четверть", "2-й триместр", "2-е полугодие", "Учебный год"]
