"""Times a person reads are in the zone of their tenant (DL-5), as lessons are; a platform
admin, who acts in no tenant, reads each time in the zone of the tenant it belongs to, with
the zone named. One helper does it: ``core.localtime.local_time``."""
import datetime as dt
import re

import pytest

from core.extensions import db

EN = {"Accept-Language": "en"}
STARTED = dt.datetime(2026, 11, 18, 7, 5)  # stored naive UTC: 12:05 in Perm, 10:05 in Moscow, 14:05 in Tomsk


@pytest.fixture
def perm(make_tenant, make_user):
    region = make_tenant("Пермский край", timezone="Asia/Yekaterinburg")
    municipality = make_tenant("г. Пермь", parent=region)
    school = make_tenant("МАОУ СОШ № 12", parent=municipality)
    return {"region": region, "school": school, "school_admin": make_user("perm-admin", "school_admin", school),
            "root": make_user("operator", "platform_admin")}


def add_job(as_platform, tenant=None, status="succeeded", kind="tenant_stats"):
    from core.jobs.models import Job

    with as_platform():
        row = Job(tenant_id=tenant["id"] if tenant else None, tenant_path=tenant["path"] if tenant else None,
                  kind=kind, status=status, progress=100 if status == "succeeded" else 0, message="Done",
                  created_at=STARTED, finished_at=STARTED + dt.timedelta(seconds=90) if status == "succeeded" else None)
        db.session.add(row)
        db.session.commit()
        return row.id


def signed_in(app, login, user):
    client = app.test_client()
    login(client, user)
    return client


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_school_admin_reads_a_jobs_times_in_the_schools_zone(app, perm, login, as_platform):
    job_id = add_job(as_platform, perm["school"])
    page = text_of(signed_in(app, login, perm["school_admin"]).get(f"/jobs/{job_id}").get_data(as_text=True))
    assert "18.11.2026 12:05:00" in page and "18.11.2026 12:06:30" in page
    assert "UTC" not in page and "07:05" not in page  # their own zone needs no name


def test_a_platform_admin_reads_it_in_the_zone_of_the_jobs_tenant_named(app, perm, login, as_platform):
    job_id = add_job(as_platform, perm["school"])
    client = signed_in(app, login, perm["root"])
    assert "18.11.2026 12:05:00 (Екатеринбург, UTC+5)" in text_of(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    english = text_of(client.get(f"/jobs/{job_id}", headers=EN).get_data(as_text=True))
    assert "18.11.2026 12:05:00 (Yekaterinburg, UTC+5)" in english


def test_the_jobs_page_of_the_platform_gives_each_job_its_tenants_zone(app, perm, region_tree, login, as_platform,
                                                                         count_queries):
    """Perm, Murmansk (Moscow time) and Tomsk on one page; a job of the platform itself in the
    platform's default zone. The zones cost the same queries however many tenants the jobs are of."""
    add_job(as_platform, perm["school"])
    add_job(as_platform, region_tree["a"]["school"])
    add_job(as_platform, None, kind="audit_verify")
    client = signed_in(app, login, perm["root"])
    with count_queries() as few:
        page = text_of(client.get("/jobs").get_data(as_text=True))
    assert "18.11.2026 12:05 (Екатеринбург, UTC+5)" in page
    assert page.count("18.11.2026 10:05 (Москва, UTC+3)") == 2  # Murmansk's school, and the platform's job
    add_job(as_platform, region_tree["b"]["school"])
    for key in ("municipality", "region"):
        add_job(as_platform, region_tree["b"][key])
        add_job(as_platform, region_tree["a"][key])
    with count_queries() as many:
        page = text_of(client.get("/jobs").get_data(as_text=True))
    assert page.count("18.11.2026 14:05 (Томск, UTC+7)") == 3
    assert many.count == few.count, (few.statements, many.statements)


def test_the_change_log_is_in_local_time(app, perm, login):
    client = signed_in(app, login, perm["school_admin"])
    page = text_of(client.get(f"/tenants/{perm['school']['id']}/audit").get_data(as_text=True))
    # the school was created on the test's day, 07:0x UTC: 12:0x in Perm
    assert re.search(r"18\.11\.2026 12:0\d:\d\d", page), page
    assert "UTC" not in page


def test_the_account_page_names_the_zone_only_for_a_reader_without_one(app, perm, login):
    own = text_of(signed_in(app, login, perm["school_admin"]).get("/account").get_data(as_text=True))
    assert re.search(r"18\.11\.2026 12:0\d(?! \()", own) and "UTC+5" not in own
    root = text_of(signed_in(app, login, perm["root"]).get("/account").get_data(as_text=True))
    assert re.search(r"18\.11\.2026 10:0\d \(Москва, UTC\+3\)", root), root


def test_zone_labels(app):
    from core.localtime import local_time, zone_label

    moment = dt.datetime(2026, 11, 18, 7, 5)
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert zone_label("Asia/Kolkata") == "Калькутта, UTC+5:30"
        assert zone_label("UTC") == "UTC"
        assert zone_label("America/St_Johns").endswith("UTC-3:30")
        assert local_time(moment, named=True) == "18.11.2026 10:05 (Москва, UTC+3)"
        assert local_time(None) == ""
