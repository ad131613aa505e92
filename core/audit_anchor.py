"""Anchors of the audit chains' heads, kept where the database cannot rewrite them, and the
full check behind ``flask audit verify`` (RT-2, PR-4; security item 10).

A hash chain shows an edited or removed entry in its middle, but not that its newest
entries, or a whole tenant's chain, were deleted: what is left is still a valid chain. So
the head of every chain (its last ``seq`` and ``hash``) is written out at intervals as an
anchor: ``{"written_at", "heads": {chain: {"seq", "hash"}}, "signature"}``, signed with an
HMAC under the audit key, stored under ``audit-anchors/<UTC time>.json`` with a retention
date (S3 Object Lock in COMPLIANCE mode: neither the database's owner nor the bucket's can
rewrite or delete it before ``AUDIT_ANCHOR_RETENTION_DAYS``). An hourly job and every
``flask audit verify`` write one.

The check compares each chain with the latest anchor whose signature holds: a chain that
ends before the anchored ``seq`` lost its newest entries, a chain the anchor saw and the
database no longer has was deleted whole, and an entry at the anchored ``seq`` with another
hash means the chain was rewritten (by someone holding the key, or the chain would show
it anyway). An anchor whose signature fails is reported, and the one before it is used.

On the local backend the anchors are read-only files: they show what a database-only
tampering did, not what someone who also owns the disk did. Production keeps them in an
Object Lock bucket, ideally in another account (``AUDIT_ANCHOR_STORAGE``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select, tuple_

from core import audit, clock
from core.audit import AuditEntry, Reconciliation, _Head
from core.extensions import db
from core.storage import Storage, StorageError, build, storage_for
from core.tenancy import unscoped

PREFIX = "audit-anchors/"
STAMP = "%Y%m%dT%H%M%S.%fZ"
_DOMAIN = b"tabel-audit-anchor\n"  # an anchor's signature can never pass for an entry's hash
log = logging.getLogger("tabel.audit")


@dataclass
class Anchor:
    key: str
    written_at: datetime
    heads: dict[int, _Head]

    @property
    def when(self) -> str:
        return self.written_at.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Finding:
    """A problem of an anchor (``kind`` "anchor"), or of a chain measured against one ("chain")."""

    kind: str
    tenant_id: int | None
    subject: str
    problem: str


@dataclass
class Report:
    """Everything ``flask audit verify`` found; ``clean`` when there is nothing to report."""

    checked: int = 0
    chains: int = 0
    breaks: list = field(default_factory=list)
    anchors_read: int = 0
    anchor: Anchor | None = None
    findings: list[Finding] = field(default_factory=list)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    written: str | None = None

    @property
    def clean(self) -> bool:
        return not (self.breaks or self.findings or self.reconciliation.found)

    def as_dict(self) -> dict:
        return {
            "checked": self.checked, "chains": self.chains,
            "breaks": [b.__dict__ for b in self.breaks], "anchors_read": self.anchors_read,
            "anchor": self.anchor.key if self.anchor else None,
            "findings": [f.__dict__ for f in self.findings],
            "rows_reconciled": self.reconciliation.rows,
            "mismatches_found": self.reconciliation.found,
            "mismatches": [m.__dict__ for m in self.reconciliation.mismatches],
            "written": self.written,
        }


def anchor_store() -> Storage:
    """``AUDIT_ANCHOR_STORAGE`` (storage settings of their own), else the default store."""
    settings = current_app.config.get("AUDIT_ANCHOR_STORAGE")
    if not settings:
        return storage_for(None)
    cache = current_app.extensions.setdefault("tabel.storage", {})
    if "audit-anchors" not in cache:
        cache["audit-anchors"] = build(settings, current_app.instance_path, "audit-anchors")
    return cache["audit-anchors"]


def _tenant(chain: int) -> int | None:
    return chain or None  # chain 0 is the platform's


def _sign(payload: dict) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(audit._key(), _DOMAIN + blob.encode("utf-8"), hashlib.sha256).hexdigest()


def key_for(moment: datetime) -> str:
    return f"{PREFIX}{moment.astimezone(timezone.utc).strftime(STAMP)}.json"


def write_anchor(heads: dict[int, _Head], now: datetime | None = None) -> str:
    """Sign the heads and store them under retention; returns the object's key."""
    now = (now or clock.now()).astimezone(timezone.utc)
    payload = {"written_at": now.isoformat(timespec="microseconds"),
               "heads": {str(chain): {"seq": head.seq, "hash": head.hash}
                         for chain, head in sorted(heads.items())}}
    body = json.dumps({**payload, "signature": _sign(payload)}, sort_keys=True, ensure_ascii=False,
                      indent=1)
    days = int(current_app.config.get("AUDIT_ANCHOR_RETENTION_DAYS", 400))
    key = key_for(now)
    anchor_store().put(key, body.encode("utf-8"), content_type="application/json",
                       retain_until=now + timedelta(days=days))
    return key


def _parse(key: str, data: bytes) -> Anchor:
    record = json.loads(data)
    if not isinstance(record, dict):
        raise ValueError("not an anchor")
    signature = record.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(record)):
        raise ValueError("its signature does not match (forged or altered)")
    written_at = datetime.fromisoformat(record["written_at"])
    if key_for(written_at) != key:
        # A genuine older anchor copied under a newer name would hide the anchors after it.
        raise ValueError(f"its name does not match the time it was signed ({record['written_at']})")
    heads = {int(chain): _Head(int(head["seq"]), str(head["hash"]))
             for chain, head in record["heads"].items()}
    return Anchor(key, written_at, heads)


def latest_anchor(findings: list[Finding]) -> tuple[Anchor | None, int]:
    """The newest anchor whose signature holds, and how many were read to find it; each
    newer one that fails is added to ``findings``."""
    store = anchor_store()
    read = 0
    for key in reversed(store.keys(PREFIX)):
        if not key.endswith(".json"):
            continue
        read += 1
        try:
            return _parse(key, store.get(key, verify=True)), read
        except (StorageError, ValueError, KeyError, TypeError, AttributeError) as error:
            findings.append(Finding("anchor", None, f"anchor {key}", f"is not valid: {error}"))
    return None, read


def compare(anchor: Anchor, ends: dict[int, _Head], hashes_at: dict[int, str]) -> list[Finding]:
    """Each chain the anchor saw, against where it ends now and its entry at the anchored seq."""
    out = []
    for chain, head in sorted(anchor.heads.items()):
        subject = "platform chain" if chain == 0 else "chain"
        end = ends.get(chain)
        if end is None:
            problem = f"the whole chain was deleted: the anchor of {anchor.when} saw {head.seq} entries"
        elif end.seq < head.seq:
            problem = (f"the newest entries were deleted: the chain ends at {end.seq}, "
                       f"the anchor of {anchor.when} saw {head.seq}")
        elif hashes_at.get(chain) != head.hash:
            problem = (f"entry {head.seq} no longer has the hash the anchor of {anchor.when} saw: "
                       "the chain was rewritten")
        else:
            continue
        out.append(Finding("chain", _tenant(chain), subject, problem))
    return out


def current_heads() -> dict[int, _Head]:
    """The last entry of every chain, in one statement (the unique index on chain, seq)."""
    last = (select(AuditEntry.chain.label("chain"), func.max(AuditEntry.seq).label("seq"))
            .group_by(AuditEntry.chain).subquery())
    rows = db.session.execute(
        select(AuditEntry.chain, AuditEntry.seq, AuditEntry.hash)
        .join(last, (AuditEntry.chain == last.c.chain) & (AuditEntry.seq == last.c.seq)))
    return {row.chain: _Head(row.seq, row.hash) for row in rows}


def _hashes_at(anchor: Anchor) -> dict[int, str]:
    pairs = [(chain, head.seq) for chain, head in anchor.heads.items()]
    if not pairs:
        return {}
    rows = db.session.execute(select(AuditEntry.chain, AuditEntry.hash)
                              .where(tuple_(AuditEntry.chain, AuditEntry.seq).in_(pairs)))
    return {row.chain: row.hash for row in rows}


def anchor_heads() -> dict:
    """The hourly anchor: the heads as they stand, checked against the latest anchor first
    (two statements, no walk of the chains), written only if none of them went backwards."""
    findings: list[Finding] = []
    with unscoped("audit anchor: the head of every tenant's chain", routine=True):
        anchor, read = latest_anchor(findings)
        heads = current_heads()
        if anchor is not None:
            findings += compare(anchor, heads, _hashes_at(anchor))
    written = None if any(f.kind == "chain" for f in findings) else write_anchor(heads)
    for finding in findings:
        log.error("audit anchor: tenant %s, %s: %s", finding.tenant_id, finding.subject, finding.problem)
    return {"anchors_read": read, "chains": len(heads), "findings": [f.__dict__ for f in findings],
            "written": written}


def _tenants_without_chain(ends: dict[int, _Head], findings: list[Finding]) -> list[Finding]:
    """Every tenant's chain starts with its creation (``tenant.create``, in the creating
    transaction), so a tenant with no entry at all lost its whole chain, even before any
    anchor saw it."""
    from core.tenancy import _tenant_table

    reported = {f.tenant_id for f in findings if f.kind == "chain"}
    with unscoped("audit verify: tenants without a chain", routine=True):
        ids = db.session.execute(select(_tenant_table().c.id)).scalars().all()
    return [Finding("chain", tenant_id, "chain", "the tenant has no audit entry at all, not even its creation: "
                                                 "the whole chain was deleted")
            for tenant_id in ids if tenant_id not in ends and tenant_id not in reported]


def _snapshot():
    """On PostgreSQL, read the log and the journal's tables in one snapshot, so a teacher's
    write landing mid-check is not taken for a row changed outside the journal. Possible
    only when the session has not begun yet (the CLI); a job's session has, and reads
    committed data. SQLite is not snapshotted: a write during the check may be reported."""
    if db.session.get_bind().dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def check(*, write: bool = True) -> Report:
    """The full check (security item 10): every chain recomputed, compared with the latest
    valid anchor, the journal's rows reconciled with their last audited values; then, if
    no chain is broken and none went back on its anchor, a new anchor of the verified heads.

    Rows that differ from the log do not hold the anchor back: the anchor pins the log, not
    the rows, and withholding it would leave the log unanchored as long as one row is wrong."""
    report = Report()
    _snapshot()
    report.anchor, report.anchors_read = latest_anchor(report.findings)
    anchored = {chain: head.seq for chain, head in report.anchor.heads.items()} if report.anchor else {}
    walked = audit.walk(anchored)
    report.checked, report.breaks, report.chains = walked.checked, walked.breaks, len(walked.ends)
    if report.anchor is not None:
        report.findings += compare(report.anchor, walked.ends, walked.hashes_at)
    report.findings += _tenants_without_chain(walked.ends, report.findings)
    report.reconciliation = audit.reconcile(current_app)
    if write and not report.breaks and not any(f.kind == "chain" for f in report.findings):
        try:
            report.written = write_anchor(walked.ends)
        except Exception as error:  # noqa: BLE001 - a store fails in many ways (boto, OS): all reported
            report.findings.append(Finding("anchor", None, "new anchor",
                                           f"could not be written: {error}"))
    return report
