"""The audit log is hash-chained per tenant; `flask audit verify` finds edits and removals (RT-2)."""
import pytest


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
    assert "tenant.update" in page.get_data(as_text=True) and "Третье" in page.get_data(as_text=True)
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
