"""Every route, probed by users of another tenant: 404 (or 403 where the object is
visible), never the other tenant's data, never a 500 (ARCHITECTURE.md, Tenancy).

The probe walks ``app.url_map``, so a new route is covered without editing this test. A
route with a URL parameter this test cannot fill fails loudly: add the parameter to
``victim_values`` with an object of the victim tenant.
"""
import re

import pytest

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Routes that serve no tenant data at all.
PUBLIC_ENDPOINTS = {"static", "healthz", "readyz", "api_docs", "api-docs.openapi_json", "accounts.login",
                    "accounts.logout", "accounts.set_language", "home",
                    # a signed, expiring download link: whoever holds it may download (like S3's)
                    "storage_download", "accounts.login_with_code",
                    # they end the caller's own sessions, which would sign the probe out
                    "auth_api.revoke_token", "accounts.end_other_sessions",
                    # what a region and a school disclose to everyone (WD-4): tests/services
                    "services.region_catalogue", "services.school_services", "services.deep_link"}


@pytest.fixture
def victim(region_tree, as_platform, make_roster, token):
    """Region B and its people and objects: what region A's users must never reach."""
    from core.extensions import db
    from core.jobs import enqueue
    from tenants.models import Tenant

    b = region_tree["b"]
    roster = make_roster(b["school"], lessons=True)
    with as_platform():
        job_id = enqueue("tenant_stats", tenant=db.session.get(Tenant, b["school"]["id"])).id
        disclosure = _disclosure_results(db.session.get(Tenant, b["school"]["id"]))
    token(b["teacher"])  # an open session of the victim's teacher
    with as_platform():
        from sqlalchemy import select

        from core.accounts import service as accounts
        from core.accounts.models import AccountSession

        handle = accounts.session_handle(db.session.execute(select(AccountSession).where(
            AccountSession.user_id == b["teacher"]["id"])).scalars().first())
    with as_platform():
        from blueprints.diary.messages import Message, Thread
        from core.orm import utcnow

        now = utcnow()
        thread = Thread(pupil_id=roster["pupil_ids"][0], staff_id=roster["teacher_id"], started_at=now, last_at=now,
                        tenant_id=b["school"]["id"], region_id=b["region"]["id"])
        db.session.add(thread)
        db.session.flush()
        db.session.add(Message(thread_id=thread.id, author_id=b["teacher"]["id"], text="Ученик000 забыл дневник",
                               sent_at=now, tenant_id=b["school"]["id"], region_id=b["region"]["id"]))
        db.session.commit()
        thread_id = thread.id
    with as_platform():
        from blueprints.services import catalogue

        service_id = catalogue.preload(db.session.get(Tenant, b["region"]["id"]))[0].id
        import datetime as dt

        from blueprints.services.models import Application

        entry = Application(year=2026, number=1, filed_on=dt.date(2026, 11, 16), guardian_id=roster["guardian_ids"][0],
                            pupil_id=roster["pupil_ids"][0], choice={"channels": ["web"]}, status="pending",
                            filed_by=b["school_admin"]["id"], tenant_id=b["school"]["id"], region_id=b["region"]["id"])
        db.session.add(entry)
        from blueprints.services.models import Appeal

        appeal = Appeal(year=2026, number=1, kind="complaint", received_on=dt.date(2026, 11, 16),
                        due_on=dt.date(2026, 12, 1), applicant="Родитель000 Ольга", text="Жалоба", responsible="Директор",
                        recorded_by=b["school_admin"]["id"], tenant_id=b["school"]["id"], region_id=b["region"]["id"])
        db.session.add(appeal)
        db.session.commit()
        application_id, appeal_id = entry.id, appeal.id
    return {
        "values": {
            "service_id": service_id,  # a service of the victim's region
            "application_id": application_id,  # an entry of the victim school's register
            "appeal_id": appeal_id,  # a complaint in the victim school's register
            "thread_id": thread_id,  # a thread between the victim's parents and teacher
            "tenant_id": b["school"]["id"],
            "school_id": b["school"]["id"],
            "user_id": b["teacher"]["id"],
            "job_id": job_id,
            "year_id": roster["year_id"],
            "term_id": roster["term_id"],
            "class_id": roster["class_id"],
            "pupil_id": roster["pupil_ids"][0],
            "child_id": roster["pupil_ids"][0],  # the diary's pupil: one of the caller's children, else 404
            "subject_id": roster["subject_id"],
            "lesson_id": roster["lesson_id"],
            "guardian_id": roster["guardian_ids"][0],
            "handle": handle,
            **disclosure,
            # not ids: the probe still must get 404 for the victim's school
            "kind": "pupils",
            "fmt": "xlsx",
        },
        "markers": [b["school"]["name"], b["region"]["name"], b["municipality"]["name"],
                    "teacher-b", "school-b", "muni-b", "region-b", "Ученик000", "Родитель000",
                    f"F-{b['school']['id']}-0", "Морозова"],
    }


def _disclosure_results(school):
    """A website check of the victim school with a dismissed fault."""
    from blueprints.disclosure import check_runs, false_alarms
    from blueprints.disclosure.models import DisclosureRun, Finding
    from core.extensions import db
    from tests.disclosure.helpers import report

    run = DisclosureRun(tenant_id=school.id, status="finished", schools_total=1, schools_done=1)
    db.session.add(run)
    db.session.flush()
    check = check_runs.store_report(run, school, report(school.website_url + "/", missing=["journal_link"]))
    finding = db.session.execute(db.select(Finding).where(Finding.site_check_id == check.id,
                                                          Finding.ok.is_(False))).scalars().first()
    dismissal = false_alarms.dismiss(finding, "Проверено вручную")
    db.session.commit()
    return {"run_id": run.id, "check_id": check.id, "finding_id": finding.id, "dismissal_id": dismissal.id}


def attackers(tree):
    a = tree["a"]
    return [a["region_admin"], a["municipality_admin"], a["school_admin"], a["teacher"],
            a["guardian"], a["pupil"]]


@pytest.fixture
def region_tree(region_tree, make_user):
    """The shared tree, with a guardian and a pupil of school A among the attackers."""
    a = region_tree["a"]
    a["guardian"] = make_user("guardian-a", "guardian", a["school"])
    a["pupil"] = make_user("pupil-a", "pupil", a["school"])
    return region_tree


def fill(rule, values):
    missing = [arg for arg in rule.arguments if arg not in values]
    assert not missing, f"{rule.rule}: add a victim value for {missing} to the probe"
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def probe_targets(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.endswith(".static"):  # static files of a package
            continue
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield rule, method


@pytest.mark.parametrize("auth", ["session", "token"])
def test_other_tenants_users_never_reach_victim_data(app, region_tree, victim, client, login, token, auth):
    targets = list(probe_targets(app))
    assert len(targets) > 15, "the probe found suspiciously few routes"
    failures = []
    for attacker in attackers(region_tree):
        if auth == "session":
            http = app.test_client()
            login(http, attacker)
            headers = {}
        else:
            http = client
            headers = token(attacker)
        for rule, method in targets:
            url = fill(rule, victim["values"])
            body = {"parent_id": victim["values"]["tenant_id"], "kind": "school", "name": "x",
                    "version": 1, "effective_from": "2024-01-01", "act": "x", "values": {},
                    "login": "intruder", "full_name": "x", "password": "long-enough-1", "role": "teacher"}
            response = http.open(url, method=method, headers=headers,
                                 json=body if url.startswith("/api/") else None,
                                 data=None if url.startswith("/api/") else {k: str(v) for k, v in body.items()})
            text = response.get_data(as_text=True)
            leaked = [m for m in victim["markers"] if m in text]
            where = f"{attacker['login']} {method} {url} -> {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{where}: server error")
            elif rule.arguments and response.status_code not in (404, 403, 405):
                failures.append(f"{where}: expected 404")
            elif leaked:
                failures.append(f"{where}: leaked {leaked}")
    print(f"{len(targets)} routes x {len(attackers(region_tree))} roles ({auth}): "
          f"{len(targets) * len(attackers(region_tree))} probes, {len(failures)} failed")
    assert not failures, "\n".join(failures)


def test_posting_under_a_victim_parent_creates_nothing(app, region_tree, client, token, as_platform):
    from sqlalchemy import func, select

    from core.extensions import db
    from tenants.models import Tenant

    victim_municipality = region_tree["b"]["municipality"]
    for attacker in attackers(region_tree)[:3]:  # the admins
        response = client.post("/api/v1/tenants", headers=token(attacker),
                               json={"kind": "school", "name": "Чужая школа", "parent_id": victim_municipality["id"]})
        assert response.status_code == 404
    with as_platform():
        assert db.session.execute(select(func.count()).select_from(Tenant).where(
            Tenant.name == "Чужая школа")).scalar_one() == 0


def test_anonymous_callers_get_401_from_the_api_and_the_login_page_from_pages(app, region_tree):
    http = app.test_client()
    school = region_tree["a"]["school"]["id"]
    assert http.get(f"/api/v1/tenants/{school}").status_code == 401
    page = http.get(f"/tenants/{school}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
