"""The jobs pages say a job's status in words, never its code, and a page showing a job
learns when it ends (the progress bar's last answer raises «job-finished»)."""
import json
import re

import pytest

from core.extensions import db

EN = {"Accept-Language": "en"}
CODES = ("queued", "running", "retrying", "succeeded", "failed")


def add_job(as_platform, tenant, status):
    from core.jobs.models import Job

    with as_platform():
        row = Job(tenant_id=tenant["id"], tenant_path=tenant["path"], kind="tenant_stats", status=status,
                  progress=100 if status == "succeeded" else 30, message="Running")
        db.session.add(row)
        db.session.commit()
        return row.id


def text_of(html):
    """What a person reads: the text, and the labels of the options."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("headers,words", [
    ({}, ["В очереди", "Выполняется", "Повтор после сбоя", "Выполнено", "Ошибка"]),
    (EN, ["Queued", "Running", "Retrying after a failure", "Completed", "Failed"]),
])
def test_the_jobs_page_names_statuses_in_words(client, login, region_tree, as_platform, headers, words):
    a = region_tree["a"]
    for status in CODES:
        add_job(as_platform, a["school"], status)
    login(client, a["school_admin"])
    page = client.get("/jobs", headers=headers).get_data(as_text=True)
    text = text_of(page)
    for word in words:
        assert text.count(word) >= 2, word  # in its row and among the filter's options
    assert not any(re.search(rf"\b{code}\b", text) for code in CODES), text
    assert '<option value="succeeded"' in page  # the filter still sends the code
    filtered = text_of(client.get("/jobs?status=failed", headers=headers).get_data(as_text=True))
    assert (filtered.count(words[4]), filtered.count(words[3])) == (2, 1)  # the failed row; the rest options


def test_a_jobs_own_page_says_its_status_in_words(client, login, region_tree, as_platform):
    a = region_tree["a"]
    job_id = add_job(as_platform, a["school"], "succeeded")
    login(client, a["school_admin"])
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert re.search(r'data-testid="job-status">Выполнено<', page)
    assert "succeeded" not in text_of(page)


def test_the_answer_that_finds_the_job_ended_raises_job_finished(client, login, region_tree, as_platform, raw_sql):
    a = region_tree["a"]
    job_id = add_job(as_platform, a["school"], "running")
    login(client, a["school_admin"])
    running = client.get(f"/jobs/{job_id}/progress")
    assert "HX-Trigger" not in running.headers
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'hx-trigger="job-finished"' in page and 'hx-select="#job-details"' in page
    assert 'hx-disinherit="*"' in page  # else the bar inside would inherit hx-select and lose its own answers
    raw_sql("UPDATE job SET status = 'succeeded', progress = 100 WHERE id = :id", id=job_id)
    done = client.get(f"/jobs/{job_id}/progress")
    assert json.loads(done.headers["HX-Trigger"]) == {"job-finished": {"job": job_id, "status": "succeeded"}}
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'hx-trigger="job-finished"' not in page  # an ended job's page waits for nothing
