"""Small helpers over the session that every package uses."""
from datetime import datetime, timezone

from flask import abort
from sqlalchemy import select

from core import clock
from core.extensions import db


def utcnow() -> datetime:
    """Naive UTC, as stored in every ``*_at`` column (SQLite keeps no offset)."""
    return clock.now().astimezone(timezone.utc).replace(tzinfo=None)


def as_aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def get_or_404(model, ident):
    """Load one row through the tenant scope: absent and out-of-scope look the same (404).

    Always a SELECT (never the identity map), so the scope criteria apply.
    """
    if not valid_id(ident):
        abort(404)
    row = db.session.execute(select(model).where(model.id == ident)).scalar_one_or_none()
    if row is None:
        abort(404)
    return row


def valid_id(ident) -> bool:
    """Ids are positive and fit a 32-bit column: anything else cannot exist (and would
    overflow the database driver)."""
    return isinstance(ident, int) and 0 < ident < 2 ** 31
