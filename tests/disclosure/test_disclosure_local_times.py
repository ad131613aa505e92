"""The website checks' times are in the reader's zone (DL-5), as lessons are: no «UTC» on
the pages, the zone named for a platform admin and in the export's header."""
import io
import re

from tests.disclosure.helpers import checked, fake_crawler, kirovsk  # noqa: F401 - fixtures

EN = {"Accept-Language": "en"}


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_schools_check_reads_in_local_time(app, checked, login, raw_sql):
    school = checked["schools"][2]["id"]
    raw_sql("UPDATE disclosure_site_check SET checked_at = '2026-11-18 07:05:00' WHERE tenant_id = :s", s=school)
    raw_sql("UPDATE disclosure_run SET created_at = '2026-11-18 07:04:00'")
    client = app.test_client()
    login(client, checked["admin"])
    page = text_of(client.get(f"/disclosure/schools/{school}").get_data(as_text=True))
    assert "проверено 18.11.2026 10:05" in page
    rating = text_of(client.get(f"/disclosure/tenants/{checked['municipality']['id']}").get_data(as_text=True))
    assert "Последняя проверка запущена 18.11.2026 10:04" in rating and "UTC" not in rating
    assert "UTC" not in page


def test_a_platform_admin_sees_the_schools_zone_named(app, checked, login, make_user, raw_sql):
    school = checked["schools"][2]["id"]
    raw_sql("UPDATE disclosure_site_check SET checked_at = '2026-11-18 07:05:00' WHERE tenant_id = :s", s=school)
    client = app.test_client()
    login(client, make_user("operator", "platform_admin"))
    page = text_of(client.get(f"/disclosure/schools/{school}").get_data(as_text=True))
    assert "18.11.2026 10:05 (Москва, UTC+3)" in page


def test_the_rating_dates_a_check_by_the_local_day(app, checked, login, raw_sql):
    """22:30 UTC is already the next day in Moscow."""
    school = checked["schools"][0]["id"]
    raw_sql("UPDATE disclosure_site_check SET checked_at = '2026-11-18 22:30:00' WHERE tenant_id = :s", s=school)
    client = app.test_client()
    login(client, checked["admin"])
    html = client.get(f"/disclosure/tenants/{checked['municipality']['id']}").get_data(as_text=True)
    row = html[html.index(f'<tr data-school="{school}">'):]
    assert "19.11.2026" in row[:row.index("</tr>")]
    export = client.get(f"/disclosure/tenants/{checked['municipality']['id']}/rating.xlsx", headers=EN)
    from openpyxl import load_workbook

    values = [[c.value for c in row] for row in load_workbook(io.BytesIO(export.data)).active.iter_rows()]
    assert values[1][10] == "Checked (Moscow, UTC+3)"
    first = next(r for r in values[2:] if r[1] == "СОШ № 2")
    assert first[10].strftime("%d.%m.%Y %H:%M") == "19.11.2026 01:30"
