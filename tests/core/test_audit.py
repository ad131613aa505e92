"""The audit log is hash-chained per tenant; `flask audit verify` finds edits and removals (RT-2)."""
import pytest

from core import clock


@pytest.fixture
def history(client, token, region_tree):
    """A few audited changes in school A's chain."""
    a = region_tree["a"]
    headers = token(a["school_admin"])
    url = f"/api/v1/tenants/{a['school']['id']}"
    for name in ("Первое", "Второе", "Третье"):
        version = client.get(url, headers=headers).json["version"]
        assert client.patch(url, headers=headers, json={"version": version, "short_name": name}).status_code == 200
    return a["school"]["id"]


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_an_untouched_log_verifies(app, history):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output


def test_every_tenant_has_its_own_chain(raw_sql, history):
    rows = raw_sql("SELECT seq, prev_hash, hash FROM audit_entry WHERE tenant_id = :t ORDER BY seq", t=history)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == "0" * 64
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))


def test_an_edited_entry_is_reported(app, raw_sql, history):
    raw_sql("UPDATE audit_entry SET reason = 'подделано' WHERE tenant_id = :t AND seq = 2", t=history)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN tenant {history}: at entry 2" in result.output
    assert "edited" in result.output


def test_a_removed_entry_is_reported(app, raw_sql, history):
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t AND seq = 2", t=history)
    result = verify(app)
    assert result.exit_code == 1
    assert f"BROKEN tenant {history}: at entry 3" in result.output
    assert "entry 2 is missing" in result.output


def test_a_rewritten_chain_tail_is_reported(app, raw_sql, history):
    """Replacing an entry's content and its own hash still breaks the next link."""
    from core.audit import AuditEntry
    import hashlib

    raw_sql("UPDATE audit_entry SET hash = :h WHERE tenant_id = :t AND seq = 2",
            h=hashlib.sha256(b"forged").hexdigest(), t=history)
    result = verify(app)
    assert result.exit_code == 1
    assert f"at entry 2" in result.output
    assert AuditEntry.__tablename__ == "audit_entry"


def test_the_change_log_page_shows_entries_to_admins_only(client, login, region_tree, history):
    a = region_tree["a"]
    login(client, a["school_admin"])
    page = client.get(f"/tenants/{history}/audit")
    assert page.status_code == 200
    assert "Изменены сведения об организации" in page.get_data(as_text=True) and "Третье" in page.get_data(as_text=True)
    assert "tenant.update" not in page.get_data(as_text=True)  # the action in words, never its code
    login(client, a["teacher"])
    assert client.get(f"/tenants/{history}/audit").status_code == 403


def test_a_chain_rewritten_and_rehashed_without_the_key_is_reported(app, raw_sql, history):
    """Someone with database access edits entry 1 and recomputes every hash with plain SHA-256."""
    import hashlib
    import json

    rows = raw_sql("SELECT id, seq, at, actor_id, action, object_type, object_id, before, after, reason, tenant_id "
                   "FROM audit_entry WHERE tenant_id = :t ORDER BY seq", t=history)
    prev = "0" * 64
    for row in rows:
        payload = {"tenant_id": row.tenant_id, "seq": row.seq, "at": str(row.at), "actor_id": row.actor_id,
                   "action": row.action, "object_type": row.object_type, "object_id": row.object_id,
                   "before": row.before, "after": row.after, "reason": "переписано", "prev_hash": prev}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
        raw_sql("UPDATE audit_entry SET reason = 'переписано', prev_hash = :p, hash = :h WHERE id = :id",
                p=prev, h=digest, id=row.id)
        prev = digest
    result = verify(app)
    assert result.exit_code == 1 and f"BROKEN tenant {history}: at entry 1" in result.output


def test_the_platform_chain_cannot_fork(raw_sql, app, as_platform):
    """Two platform entries with the same sequence number are refused by the database."""
    import sqlalchemy

    from core import audit
    from core.extensions import db

    with as_platform():
        audit.record(tenant_id=None, action="test", obj_type="test")
        db.session.commit()
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        raw_sql("INSERT INTO audit_entry (chain, tenant_id, seq, at, action, object_type, prev_hash, hash) "
                "VALUES (0, NULL, 1, CURRENT_TIMESTAMP, 'fork', 'test', :z, :z)", z="0" * 64)


# Security item 10: anchors of the chains' heads, and the journal's rows reconciled with the log.

@pytest.fixture
def graded(client, token, region_tree, make_roster, raw_sql, school_day):
    """School A's 5а: today's maths lesson (tests/fixtures/clock.py, SCHOOL_DAY) with a topic,
    three grades and an absence, each entered by its teacher through the API (so each is in
    the school's chain)."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    headers = token(a["teacher"])

    lesson = raw_sql("SELECT l.id FROM lesson l WHERE l.class_id = :c AND l.teacher_id = :t "
                     "AND l.held_on >= :today ORDER BY l.held_on LIMIT 1",
                     c=roster["class_id"], t=roster["teacher_id"], today=school_day.date())
    assert lesson, "a maths lesson of 5а on or after SCHOOL_DAY"
    lesson_id, pupils = lesson[0].id, roster["pupil_ids"]

    def put(url, body):
        response = client.put(f"/api/v1/lessons/{lesson_id}{url}", headers=headers, json=body)
        assert response.status_code == 200, response.json
        return response.json

    put("/topic", {"topic": "Сложение дробей", "version": 0})  # no record yet
    for pupil, value in zip(pupils, ("5", "4", "3")):
        put(f"/grades/{pupil}", {"value": value, "work_type": "У", "version": None})
    put(f"/attendance/{pupils[2]}", {"status": "ill"})
    def lesson_version():
        return client.get(f"/api/v1/lessons/{lesson_id}", headers=headers).json["version"]

    return {"school_id": a["school"]["id"], "lesson_id": lesson_id, "pupils": pupils, "put": put,
            "lesson_version": lesson_version}


def anchors(app):
    from core import audit_anchor

    with app.app_context():
        return audit_anchor.anchor_store().keys(audit_anchor.PREFIX)


def test_an_untampered_journal_with_writes_after_the_last_anchor_verifies_clean(app, graded):
    """RT-2, PR-4, security item 10: every write after the anchor goes through the journal,
    so the chains have moved past their anchored heads and every row matches its last
    audited value: exit 0, and a new anchor."""
    first = verify(app)
    assert first.exit_code == 0, first.output
    assert "no earlier anchor found" in first.output and len(anchors(app)) == 1
    put, pupils = graded["put"], graded["pupils"]
    version = put(f"/grades/{pupils[0]}", {"value": "2", "work_type": "У", "version": 1})["version"]
    assert version == 2
    put(f"/attendance/{pupils[2]}", {"status": None})
    put(f"/attendance/{pupils[1]}", {"status": "late"})
    put("/topic", {"topic": "Вычитание дробей", "version": graded["lesson_version"]()})
    second = verify(app)
    assert second.exit_code == 0, second.output
    assert "compared with the anchor of" in second.output and "audit log intact" in second.output
    assert "journal rows reconciled" in second.output and len(anchors(app)) == 2


def test_a_grade_edited_in_sql_is_reported(app, raw_sql, graded):
    """Security item 10 (RT-2): an UPDATE that bypasses the journal leaves the chain intact;
    the row no longer matches the chain's last entry for it."""
    pupil = graded["pupils"][0]
    raw_sql("UPDATE grade SET value = '2' WHERE lesson_id = :l AND pupil_id = :p",
            l=graded["lesson_id"], p=pupil)
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert (f"DATA tenant {graded['school_id']}: grade (lesson {graded['lesson_id']}, pupil {pupil}, "
            "work type У): edited outside the journal: value is '2', the audit log's last value is '5'"
            in result.output)
    assert "PROBLEMS FOUND: 1" in result.output


def test_rows_inserted_deleted_or_moved_in_sql_are_reported(app, raw_sql, graded):
    """Security item 10: a grade with no audit entry, an audited one gone, an absence
    removed, a topic rewritten and a late grade made on time are each named."""
    lesson, (first, second, third) = graded["lesson_id"], graded["pupils"]
    raw_sql("DELETE FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=second)
    raw_sql("INSERT INTO grade (tenant_id, region_id, lesson_id, pupil_id, work_type, value, entered_at, is_late, "
            "version) SELECT tenant_id, region_id, lesson_id, pupil_id, 'КР', '5', entered_at, is_late, 1 "
            "FROM grade WHERE lesson_id = :l AND pupil_id = :p", l=lesson, p=first)
    raw_sql("DELETE FROM attendance WHERE lesson_id = :l", l=lesson)
    raw_sql("UPDATE lesson_record SET topic = 'Другая тема' WHERE lesson_id = :l", l=lesson)
    raw_sql("UPDATE grade SET is_late = :t WHERE lesson_id = :l AND pupil_id = :p", t=True, l=lesson, p=third)
    result = verify(app)
    assert result.exit_code == 1
    out = result.output
    assert f"pupil {second}, work type У): the audit log has it, the row is gone: deleted outside" in out
    assert f"pupil {first}, work type КР): the row has no audit entry: inserted outside the journal" in out
    assert f"attendance (lesson {lesson}, pupil {third}): the audit log has it, the row is gone" in out
    assert f"lesson record (lesson {lesson}): edited outside the journal: topic is 'Другая тема'" in out
    assert f"pupil {third}, work type У): edited outside the journal: late is True" in out
    assert "PROBLEMS FOUND: 5" in out


def test_deleting_the_newest_entry_is_reported(app, raw_sql, graded):
    """Security item 10 (RT-2, PR-4): what is left after the newest entry goes is a valid
    chain; the anchor written by the last verify says it was longer."""
    assert verify(app).exit_code == 0
    school = graded["school_id"]
    newest = raw_sql("SELECT MAX(seq) AS seq FROM audit_entry WHERE tenant_id = :t", t=school)[0].seq
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t AND seq = :s", t=school, s=newest)
    written = anchors(app)
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert (f"BROKEN tenant {school}: the newest entries were deleted: the chain ends at {newest - 1}, "
            f"the anchor of " in result.output and f"saw {newest}" in result.output)
    # The absence it recorded is now a row without its entry, too.
    assert f"DATA tenant {school}: attendance (lesson {graded['lesson_id']}" in result.output
    assert anchors(app) == written  # a tampered state is not anchored
    assert verify(app).exit_code == 1  # so the next run still sees it


def test_deleting_a_tenants_whole_chain_is_reported(app, raw_sql, graded):
    """Security item 10 (RT-2, PR-4): no entry is left to break; the anchor saw the chain."""
    assert verify(app).exit_code == 0
    school = graded["school_id"]
    length = raw_sql("SELECT COUNT(*) AS n FROM audit_entry WHERE tenant_id = :t", t=school)[0].n
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t", t=school)
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"BROKEN tenant {school}: the whole chain was deleted: the anchor of " in result.output
    assert f"saw {length} entries" in result.output
    assert "the row has no audit entry" in result.output  # and the grades lost their history


def test_a_chain_rewritten_with_the_key_is_caught_by_its_anchor(app, raw_sql, history, as_platform):
    """Whoever holds the key can drop the newest entry and append another in its place: a
    valid chain of the same length. The anchored hash at that seq no longer matches."""
    from core import audit
    from core.extensions import db

    assert verify(app).exit_code == 0
    newest = raw_sql("SELECT MAX(seq) AS seq FROM audit_entry WHERE tenant_id = :t", t=history)[0].seq
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t AND seq = :s", t=history, s=newest)
    with as_platform():
        audit.record(tenant_id=history, action="tenant.update", obj_type="tenant", obj_id=history,
                     after={"short_name": "Подменено"})
        db.session.commit()
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert (f"BROKEN tenant {history}: entry {newest} no longer has the hash the anchor of" in result.output
            and "the chain was rewritten" in result.output)


def test_an_anchor_with_a_broken_signature_is_reported(app, raw_sql, history):
    """An anchor is signed with the audit key: one written by someone without it (here: a
    newer anchor claiming a shorter chain, to hide deleted entries) is reported, and the
    check falls back on the latest anchor whose signature holds."""
    import json

    from core import audit_anchor

    assert verify(app).exit_code == 0
    genuine = anchors(app)[0]
    newest = raw_sql("SELECT MAX(seq) AS seq FROM audit_entry WHERE tenant_id = :t", t=history)[0].seq
    with app.app_context():
        store = audit_anchor.anchor_store()
        forged = json.loads(store.get(genuine))
        forged["heads"][str(history)]["seq"] = newest - 1
        forged["written_at"] = "2099-01-01T00:00:00.000000+00:00"
        key = "audit-anchors/20990101T000000.000000Z.json"
        store.put(key, json.dumps(forged).encode())
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t AND seq = :s", t=history, s=newest)
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"ANCHOR anchor {key}: is not valid: its signature does not match" in result.output
    assert f"BROKEN tenant {history}: the newest entries were deleted" in result.output


def test_an_anchor_copied_under_a_newer_name_is_reported(app, history):
    """A genuine older anchor stored again under a later time would hide the anchors after it."""
    from core import audit_anchor

    assert verify(app).exit_code == 0
    with app.app_context():
        store = audit_anchor.anchor_store()
        store.put("audit-anchors/20990101T000000.000000Z.json", store.get(anchors(app)[0]))
    result = verify(app)
    assert result.exit_code == 1
    assert "its name does not match the time it was signed" in result.output


def test_the_hourly_job_anchors_the_heads_unless_a_chain_went_back(app, raw_sql, history, as_platform):
    """Security item 10: the beat runs ``audit_anchor`` every hour; it compares the heads
    with the latest anchor and does not anchor a chain that lost entries."""
    from core.jobs import enqueue
    from core.jobs.models import Job
    from core.extensions import db
    from sqlalchemy import select

    schedule = app.config["CELERY_BEAT_SCHEDULE"]["audit-anchor"]
    assert schedule["schedule"] == 3600 and schedule["args"] == ["audit_anchor"]

    def run():
        with as_platform():
            job_id = enqueue("audit_anchor", user_id=None).id
            db.session.remove()
            return db.session.execute(select(Job).where(Job.id == job_id)).scalar_one().result

    first = run()
    assert first["written"] and first["findings"] == [] and anchors(app) == [first["written"]]
    newest = raw_sql("SELECT MAX(seq) AS seq FROM audit_entry WHERE tenant_id = :t", t=history)[0].seq
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t AND seq = :s", t=history, s=newest)
    second = run()
    assert second["written"] is None and anchors(app) == [first["written"]]
    assert second["findings"][0]["tenant_id"] == history
    assert "the newest entries were deleted" in second["findings"][0]["problem"]


def test_anchors_on_s3_are_under_object_lock(app, s3_server, history, monkeypatch):
    """RT-2, security item 10: on a real S3 server (SeaweedFS) an anchor is stored in
    COMPLIANCE mode; deleting it fails, and the next verify reads it back."""
    import uuid

    from core import audit_anchor, storage

    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_STORAGE", {
        "backend": "s3", "bucket": f"anchors-{uuid.uuid4().hex[:12]}", "object_lock": True, **s3_server})
    with app.app_context():
        store = audit_anchor.anchor_store()
        assert isinstance(store, storage.S3Storage)
        store.ensure_bucket()
    assert verify(app).exit_code == 0
    (key,) = anchors(app)
    with app.app_context():
        head = store.head(key)
        assert head.retain_until is not None and head.retain_until.year >= 2026
        with pytest.raises(storage.ObjectLocked):
            store.delete(key)
    again = verify(app)
    assert again.exit_code == 0 and "compared with the anchor of" in again.output


def test_a_chain_deleted_before_any_anchor_is_reported(app, raw_sql, history):
    """Security item 10: a tenant's chain begins with its creation, so a tenant without a
    single entry lost its chain, even if no anchor had seen it yet."""
    raw_sql("DELETE FROM audit_entry WHERE tenant_id = :t", t=history)
    result = verify(app)
    assert result.exit_code == 1 and anchors(app) == []
    assert (f"BROKEN tenant {history}: the tenant has no audit entry at all, not even its creation: "
            "the whole chain was deleted") in result.output


def test_a_final_mark_edited_in_sql_is_reported_by_the_nightly_job(app, client, token, raw_sql, graded, as_platform,
                                                                   region_tree):
    """Security item 10: term marks are reconciled by their id; the nightly ``audit_verify``
    job runs the same check as the command and keeps what it found in its result."""
    import datetime as dt

    from sqlalchemy import select

    from core.extensions import db
    from core.jobs import enqueue
    from core.jobs.models import Job

    today = clock.today()  # SCHOOL_DAY: the graded fixture runs on it
    term = next((t for t in raw_sql("SELECT id, starts_on, ends_on FROM term WHERE level_from <= 5 AND level_to >= 5")
                 if str(t.starts_on) <= str(today) <= str(t.ends_on)), None)
    assert term is not None, "SCHOOL_DAY falls in a term"
    lesson = raw_sql("SELECT class_id, subject_id FROM lesson WHERE id = :l", l=graded["lesson_id"])[0]
    pupil = graded["pupils"][0]
    response = client.put(f"/api/v1/classes/{lesson.class_id}/final-marks/{pupil}",
                          headers=token(region_tree["a"]["teacher"]),
                          json={"subject_id": lesson.subject_id, "term_id": term.id, "value": "4", "version": None})
    assert response.status_code == 200, response.json
    assert verify(app).exit_code == 0
    raw_sql("UPDATE final_mark SET value = '5' WHERE id = :m", m=response.json["id"])
    with as_platform():
        job_id = enqueue("audit_verify", user_id=None).id
        db.session.remove()
        result = db.session.execute(select(Job).where(Job.id == job_id)).scalar_one().result
    assert result["mismatches_found"] == 1 and result["breaks"] == [] and result["written"]
    (mismatch,) = result["mismatches"]
    assert mismatch["subject"] == f"final mark {response.json['id']}"
    assert mismatch["problem"] == "edited outside the journal: value is '5', the audit log's last value is '4'"
