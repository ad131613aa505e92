"""Jobs: a row per run with progress, result, retries; the API and pages that show them.

Here Celery runs tasks eagerly, inside the request; tests/core/test_workers.py runs real
workers over the embedded broker and Redis."""
from flask_babel import lazy_gettext as _l

from core.jobs import job


@job("test_flaky", label=_l("Test job"), idempotent=True, max_retries=2)
def _flaky(ctx, fail_times=1):
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"failure on attempt {ctx.attempt}")
    ctx.progress(50, "Running")
    ctx.set_result({"attempt": ctx.attempt})


@job("test_broken", label=_l("Test job"))
def _broken(ctx):
    raise ValueError("the data is broken")


def start(api, user, tenant):
    response = api(user, "POST", f"/api/v1/tenants/{tenant['id']}/statistics")
    assert response.status_code == 202, response.json
    return response


def test_statistics_job_counts_the_subtree(api, region_tree):
    a = region_tree["a"]
    response = start(api, a["region_admin"], a["region"])
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{response.json['id']}")
    job_state = api(a["region_admin"], "GET", response.headers["Location"]).json
    assert job_state["status"] == "succeeded" and job_state["progress"] == 100
    assert job_state["result_url"] == f"/tenants/{a['region']['id']}"
    assert job_state["message"] == "Готово"
    stats = api(a["region_admin"], "GET", f"/api/v1/tenants/{a['region']['id']}/statistics").json
    assert (stats["municipalities"], stats["schools"], stats["accounts"]) == (1, 1, 4)
    school = api(a["school_admin"], "GET", f"/api/v1/tenants/{a['school']['id']}/statistics").json
    assert (school["schools"], school["accounts"]) == (1, 2)


def test_only_admins_start_jobs_and_read_the_list(api, region_tree):
    a = region_tree["a"]
    assert api(a["teacher"], "POST", f"/api/v1/tenants/{a['school']['id']}/statistics").status_code == 403
    start(api, a["school_admin"], a["school"])
    assert api(a["teacher"], "GET", "/api/v1/jobs").status_code == 403
    listed = api(a["school_admin"], "GET", "/api/v1/jobs?kind=tenant_stats").json
    assert [j["kind"] for j in listed] == ["tenant_stats"]
    assert api(region_tree["b"]["school_admin"], "GET", "/api/v1/jobs").json == []


def test_idempotent_jobs_are_retried_and_succeed(app, region_tree, ctx):
    from core.jobs import enqueue
    from core.jobs.models import Job
    from core.extensions import db
    from tenants.models import Tenant

    tenant = db.session.get(Tenant, region_tree["a"]["school"]["id"])
    row = enqueue("test_flaky", tenant=tenant, params={"fail_times": 1})
    db.session.expire_all()
    row = db.session.get(Job, row.id)
    assert (row.status, row.attempts, row.result) == ("succeeded", 2, {"attempt": 2})
    assert "failure on attempt 1" in row.error


def test_failures_keep_the_traceback_for_admins_and_a_translated_message_for_users(app, api, region_tree, as_platform):
    from core.jobs import enqueue
    from core.extensions import db
    from tenants.models import Tenant

    a = region_tree["a"]
    with as_platform():
        job_id = enqueue("test_broken", tenant=db.session.get(Tenant, a["school"]["id"])).id
    admin_view = api(a["school_admin"], "GET", f"/api/v1/jobs/{job_id}").json
    assert admin_view["status"] == "failed" and admin_view["attempts"] == 1
    assert "ValueError: the data is broken" in admin_view["error"]
    assert admin_view["message"].startswith("Задание не выполнено")
    assert api(a["teacher"], "GET", f"/api/v1/jobs/{job_id}").status_code == 403
    english = api(a["school_admin"], "GET", f"/api/v1/jobs/{job_id}", headers={"Accept-Language": "en"})
    assert english.json["message"].startswith("The job failed")


def test_a_failed_job_can_be_retried_by_an_admin(app, api, region_tree, as_platform):
    """Three automatic attempts fail; an admin's retry gets a fresh budget and succeeds."""
    from core.jobs import enqueue
    from core.extensions import db
    from tenants.models import Tenant

    a = region_tree["a"]
    with as_platform():
        job_id = enqueue("test_flaky", tenant=db.session.get(Tenant, a["school"]["id"]), params={"fail_times": 4}).id
    failed = api(a["school_admin"], "GET", f"/api/v1/jobs/{job_id}").json
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    assert api(a["teacher"], "POST", f"/api/v1/jobs/{job_id}/retry").status_code == 403
    assert api(a["school_admin"], "POST", f"/api/v1/jobs/{job_id}/retry").status_code == 202
    done = api(a["school_admin"], "GET", f"/api/v1/jobs/{job_id}").json
    assert (done["status"], done["attempts"], done["result"]) == ("succeeded", 5, {"attempt": 5})
    assert api(a["school_admin"], "POST", f"/api/v1/jobs/{job_id}/retry").status_code == 409


def test_jobs_cli_lists_and_retries(app, as_platform, region_tree):
    from core.jobs import enqueue
    from core.extensions import db
    from tenants.models import Tenant

    with as_platform():
        job_id = enqueue("test_broken", tenant=db.session.get(Tenant, region_tree["a"]["school"]["id"])).id
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["jobs", "list", "--status", "failed"])
    assert f"{job_id:>6}  failed" in listing.output
    retried = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0 and "queued again" in retried.output
    assert runner.invoke(args=["jobs", "retry", "999999"]).exit_code != 0


def test_the_tenant_page_starts_the_job_and_shows_the_figures(client, login, region_tree):
    a = region_tree["a"]
    login(client, a["municipality_admin"])
    response = client.post(f"/tenants/{a['municipality']['id']}/statistics")
    assert response.status_code == 302
    page = client.get(f"/tenants/{a['municipality']['id']}").get_data(as_text=True)
    assert 'data-testid="stats"' in page and "<strong>1</strong>" in page
    jobs_page = client.get("/jobs").get_data(as_text=True)
    assert "Статистика" in jobs_page


def test_progress_fragment_polls_only_while_running(app, client, login, region_tree, as_platform, raw_sql):
    from core.jobs.models import Job
    from core.extensions import db

    a = region_tree["a"]
    with as_platform():
        row = Job(tenant_id=a["school"]["id"], tenant_path=a["school"]["path"], kind="tenant_stats",
                  status="running", progress=40, message="Running")
        db.session.add(row)
        db.session.commit()
        job_id = row.id
    login(client, a["school_admin"])
    running = client.get(f"/jobs/{job_id}/progress").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in running and 'value="40"' in running
    raw_sql("UPDATE job SET status = 'succeeded', progress = 100 WHERE id = :id", id=job_id)
    done = client.get(f"/jobs/{job_id}/progress").get_data(as_text=True)
    assert "hx-trigger" not in done and 'value="100"' in done


def test_people_other_than_admins_see_only_their_own_jobs(api, region_tree, make_user):
    a = region_tree["a"]
    job_id = start(api, a["school_admin"], a["school"]).json["id"]
    pupil = make_user("pupil-a", "pupil", a["school"])
    assert api(pupil, "GET", f"/api/v1/jobs/{job_id}").status_code == 403
    assert api(a["teacher"], "GET", f"/api/v1/jobs/{job_id}/retry").status_code in (403, 405)


def test_a_job_that_cannot_reach_the_broker_is_marked_failed(app, region_tree, as_platform, monkeypatch):
    from core.jobs import enqueue, service
    from core.jobs.models import Job
    from core.extensions import db
    from tenants.models import Tenant

    def broker_down(job_id, countdown=None):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(service, "send", broker_down)
    with as_platform():
        row = enqueue("tenant_stats", tenant=db.session.get(Tenant, region_tree["a"]["school"]["id"]))
        row = db.session.execute(db.select(Job).where(Job.id == row.id)).scalar_one()
        assert row.status == "failed" and "broker unreachable" in row.error
        assert service.message_of(row) == "Не удалось поставить задание в очередь. Попробуйте позже."


def test_a_job_refused_once_by_the_broker_is_sent_again(app, region_tree, as_platform, monkeypatch):
    """The embedded broker refuses a message whose queue a starting worker is creating at
    the same instant (a unique-name race in its queue table): the job goes out on a second
    try instead of failing."""
    from core.jobs import enqueue, service
    from core.jobs.models import Job
    from core.extensions import db
    from tenants.models import Tenant

    sent = []

    def refused_once(job_id, countdown=None):
        sent.append(job_id)
        if len(sent) == 1:
            raise RuntimeError("UNIQUE constraint failed: kombu_queue.name")

    monkeypatch.setattr(service, "send", refused_once)
    with as_platform():
        row = enqueue("tenant_stats", tenant=db.session.get(Tenant, region_tree["a"]["school"]["id"]))
        row = db.session.execute(db.select(Job).where(Job.id == row.id)).scalar_one()
        assert row.status == "queued" and row.error is None
    assert sent == [row.id, row.id]
