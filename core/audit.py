"""The append-only audit log, hash-chained per tenant.

Each entry stores the hash of the entry before it in the same tenant's chain and its own
hash over its content and that link. Editing or deleting any row breaks the chain at that
point, which ``flask audit verify`` reports (RT-2, PR-4).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import utcnow
from core.extensions import db
from core.tenancy import TenantScoped, subtree_ids, unscoped

GENESIS = "0" * 64
HEADS = "audit_heads"  # session.info: the chains this transaction appended to, with their heads


class AuditEntry(TenantScoped, db.Model):
    """One change: who, when, what, before, after, why.

    ``tenant_id`` is the tenant whose chain holds the entry; platform-level changes (a new
    platform admin) have none and form the platform chain.
    """

    __tablename__ = "audit_entry"
    # ``chain`` is the tenant id, or 0 for the platform: never NULL, so that the unique
    # constraint holds for the platform chain too and concurrent writers cannot fork it.
    __table_args__ = (UniqueConstraint("chain", "seq"), {"info": {"stamp_keys": ()}})  # core.changes: moves no key

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @classmethod
    def __scope_criteria__(cls):
        return cls.tenant_id.in_(subtree_ids())

    def content_hash(self) -> str:
        payload = {
            "tenant_id": self.tenant_id,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        # Keyed: whoever can write to the database but lacks the key cannot re-hash a
        # rewritten chain so that it verifies.
        return hmac.new(_key(), blob.encode("utf-8"), hashlib.sha256).hexdigest()


def _key() -> bytes:
    from flask import current_app

    return str(current_app.config.get("AUDIT_KEY") or current_app.config["SECRET_KEY"]).encode("utf-8")


def record(*, tenant_id, action, obj_type, obj_id=None, before=None, after=None,
           reason=None, actor_id=None) -> AuditEntry:
    """Append an entry to the tenant's chain in the caller's transaction.

    The previous link is read unscoped: the chain is the tenant's, whoever writes to it.
    Two writers racing for the same ``seq`` collide on the unique constraint, so the
    chain never forks; the loser's transaction fails as a whole.
    """
    if actor_id is None:
        actor_id = current_actor_id()
    chain = tenant_id or 0
    heads = db.session.info.setdefault(HEADS, {})
    last = heads.get(chain)
    if last is None:
        # First entry of this chain in the transaction: take the chain's lock, read its head.
        # The lock is held until commit, so the head kept in the session stays true.
        last = _lock_and_read_head(chain) or False
    entry = AuditEntry(
        chain=tenant_id or 0,
        tenant_id=tenant_id,
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=obj_type,
        object_id=None if obj_id is None else str(obj_id),
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry.content_hash()
    db.session.add(entry)
    heads[chain] = _Head(entry.seq, entry.hash)
    return entry


@dataclass
class _Head:
    seq: int
    hash: str


def _forget_heads(session, *args):
    session.info.pop(HEADS, None)


def install():
    """The chain heads kept in a session are valid only inside its transaction."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    for name in ("after_commit", "after_rollback", "after_soft_rollback"):
        if not event.contains(Session, name, _forget_heads):
            event.listen(Session, name, _forget_heads)


def _lock_and_read_head(chain: int):
    """Writers of one chain take turns, holding a lock from reading the previous link until
    commit, so concurrent teachers of one school append one after another instead of
    colliding on the sequence number. On PostgreSQL a transaction-scoped advisory lock, taken
    and followed by the head's read in one round trip (``tabel_audit_head``, migration 0008);
    on SQLite an empty write takes the database's single write lock early."""
    from sqlalchemy import text

    with unscoped("audit: previous link of the tenant's chain", routine=True):
        if db.session.get_bind().dialect.name == "postgresql":
            return db.session.execute(text("SELECT seq, hash FROM tabel_audit_head(:space, :chain)"),
                                      {"space": 0x7AB31, "chain": chain}).first()
        db.session.execute(text("UPDATE audit_entry SET seq = seq WHERE 1 = 0"))
        return db.session.execute(
            select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.chain == chain)
            .order_by(AuditEntry.seq.desc()).limit(1)).first()


def _jsonable(value):
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def current_actor_id():
    """The signed-in user's id, or None for operator commands and jobs."""
    from flask import has_request_context
    from flask_login import current_user

    if not has_request_context() or current_user is None or not current_user.is_authenticated:
        return None
    return current_user.id


@dataclass
class Break:
    tenant_id: int | None
    seq: int
    entry_id: int | None
    problem: str


@dataclass
class Walk:
    """What one pass over every chain saw: the breaks, where each chain ends, and the hash
    found at each sequence number an anchor asked about."""

    checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    ends: dict[int, _Head] = field(default_factory=dict)
    hashes_at: dict[int, str] = field(default_factory=dict)


def verify() -> tuple[int, list[Break]]:
    """Walk every chain; return the number of entries checked and the first break per chain."""
    walked = walk()
    return walked.checked, walked.breaks


def walk(anchored_seqs: dict[int, int] | None = None) -> Walk:
    """Recompute every chain in one ordered pass (RT-2). ``anchored_seqs`` maps a chain to
    the sequence number whose hash the caller wants to compare with an anchor."""
    anchored_seqs = anchored_seqs or {}
    out = Walk()
    with unscoped("audit verify: every tenant's chain"):
        rows = db.session.execute(
            select(AuditEntry).order_by(AuditEntry.chain, AuditEntry.seq)
            .execution_options(populate_existing=True, yield_per=2000)
        ).scalars()
        chain_key = object()
        expected_prev, expected_seq, broken = GENESIS, 1, False
        for entry in rows:
            out.checked += 1
            if entry.chain != chain_key:
                chain_key, expected_prev, expected_seq, broken = entry.chain, GENESIS, 1, False
            out.ends[entry.chain] = _Head(entry.seq, entry.hash)
            if anchored_seqs.get(entry.chain) == entry.seq:
                out.hashes_at[entry.chain] = entry.hash
            if broken:
                continue
            problem = None
            if entry.seq != expected_seq:
                problem = f"entry {expected_seq} is missing (next found: {entry.seq})"
            elif entry.prev_hash != expected_prev:
                problem = "link to the previous entry does not match"
            elif entry.content_hash() != entry.hash:
                problem = "content does not match its hash (edited)"
            if problem:
                out.breaks.append(Break(entry.tenant_id, entry.seq, entry.id, problem))
                broken = True
            expected_prev, expected_seq = entry.hash, entry.seq + 1
    return out


# Reconciliation: the journal's current rows against the last audited value of each -------------

RECONCILERS = "tabel.audit.reconcilers"


def register_reconciler(app, fn):
    """A feature declares how its current rows compare with the audit log (security item 10).

    ``fn(result)`` runs inside an unscoped block during ``flask audit verify``; it reads the
    log with :func:`audited_changes` and its own table (one streamed query each, not one per
    row), adds the rows it compared to ``result.rows`` and calls ``result.mismatch`` for
    each row edited, inserted or deleted outside the audited service."""
    app.extensions.setdefault(RECONCILERS, []).append(fn)


@dataclass
class Mismatch:
    tenant_id: int | None
    subject: str
    problem: str


@dataclass
class Reconciliation:
    """What the reconcilers found; only the first ``limit`` mismatches are kept (a table
    filled outside the service would otherwise print a line per row), all are counted."""

    rows: int = 0
    found: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    limit: int = 1000

    def mismatch(self, tenant_id, subject, problem):
        self.found += 1
        if len(self.mismatches) < self.limit:
            self.mismatches.append(Mismatch(tenant_id, subject, problem))


def audited_changes(actions):
    """Entries with these actions, oldest first in each chain, streamed as rows of
    ``(tenant_id, seq, action, object_id, before, after)``: replaying them in order leaves
    the last audited state of every object. Call inside ``unscoped``."""
    table = AuditEntry.__table__  # plain rows: no ORM loading for a log of millions of entries
    return db.session.execute(
        select(table.c.tenant_id, table.c.seq, table.c.action, table.c.object_id, table.c.before, table.c.after)
        .where(table.c.action.in_(list(actions)))
        .order_by(table.c.chain, table.c.seq).execution_options(yield_per=5000))


def reconcile(app) -> Reconciliation:
    result = Reconciliation()
    with unscoped("audit verify: journal rows against their last audited values"):
        for fn in app.extensions.get(RECONCILERS, []):
            fn(result)
    return result
