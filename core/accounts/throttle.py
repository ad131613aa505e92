"""Sign-in throttling shared by every worker (AC-2: a guessed password must not open the
journal).

Two counters decide: one per account (its normalised login, known or not, so the answer
reveals nothing) and one per client address. An account is locked progressively: after
``LOGIN_FREE_FAILURES`` wrong passwords, for ``LOGIN_LOCK_SECONDS``, doubling with each
further failure up to ``LOGIN_LOCK_MAX_SECONDS``; a correct sign-in clears it. An address
is refused for the rest of its window after ``LOGIN_ADDRESS_FAILURES`` failures in
``LOGIN_ADDRESS_WINDOW`` seconds: high enough that a school behind one address is not shut
out by a few forgetful pupils, which the per-account lock handles.

The counters live where every worker sees them: Redis when ``LOGIN_THROTTLE_URL`` names
it (production), else a table of the application's database (the embedded default).
"""
from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta, timezone

from flask import current_app, request
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from core.accounts.models import SignInThrottle
from core.extensions import db
from core.orm import utcnow

#: How long an account's failures are remembered after the last one.
ACCOUNT_MEMORY = timedelta(days=1)


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = max(1, int(retry_after))


def client_address() -> str:
    """The client's address. ``X-Forwarded-For`` is honoured only when the request comes
    from a proxy of ``TRUSTED_PROXIES`` (networks), read from the right, skipping the
    trusted hops: a client that reaches the app directly cannot choose its address."""
    remote = request.remote_addr or "-"
    trusted = [ipaddress.ip_network(n, strict=False) for n in current_app.config.get("TRUSTED_PROXIES") or ()]

    def is_trusted(address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    if not trusted or not is_trusted(remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop[:64]
    return remote


def _settings():
    c = current_app.config
    return (c["LOGIN_FREE_FAILURES"], c["LOGIN_LOCK_SECONDS"], c["LOGIN_LOCK_MAX_SECONDS"],
            c["LOGIN_ADDRESS_FAILURES"], c["LOGIN_ADDRESS_WINDOW"])


def _lock_seconds(failures: int) -> int:
    free, base, most, _, _ = _settings()
    if failures < free:
        return 0
    return int(min(most, base * 2 ** min(failures - free, 30)))


def check(login: str, now: datetime | None = None):
    """Raise :class:`Throttled` when the account or the client address is locked."""
    if not current_app.config.get("LOGIN_THROTTLE_ENABLED", True):
        return
    now = now or utcnow()
    waits = [(until - now).total_seconds() for until in _store().locked_until(
        [_account_key(login), _address_key()], now) if until and until > now]
    if waits:
        raise Throttled(math.ceil(max(waits)))


def failed(login: str, now: datetime | None = None):
    """Count a failed sign-in for the account and the address (then :func:`check` decides)."""
    if not current_app.config.get("LOGIN_THROTTLE_ENABLED", True):
        return
    now = now or utcnow()
    _, _, _, address_limit, window = _settings()
    store = _store()
    failures = store.count(_account_key(login), now, ACCOUNT_MEMORY)
    lock = _lock_seconds(failures)
    if lock:
        store.lock(_account_key(login), now + timedelta(seconds=lock), ACCOUNT_MEMORY)
    address_failures = store.count(_address_key(), now, timedelta(seconds=window))
    if address_failures >= address_limit:
        store.lock(_address_key(), now + timedelta(seconds=window), timedelta(seconds=window))


def succeeded(login: str):
    if current_app.config.get("LOGIN_THROTTLE_ENABLED", True):
        _store().clear(_account_key(login))


def _account_key(login: str) -> str:
    return "account:" + (login or "").strip().lower()[:120]


def _address_key() -> str:
    return "address:" + client_address()


def _store():
    url = current_app.config.get("LOGIN_THROTTLE_URL")
    if not url:
        return _DatabaseStore()
    stores = current_app.extensions.setdefault("tabel.throttle", {})
    if url not in stores:
        stores[url] = _RedisStore(url)
    return stores[url]


class _DatabaseStore:
    """One row per key, written on a connection of its own and committed at once, so that a
    failed sign-in counts whatever the request does next. The upsert is atomic on SQLite and
    PostgreSQL alike: two workers counting at once both count."""

    def count(self, key: str, now: datetime, memory: timedelta) -> int:
        table = SignInThrottle.__table__
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        stale = table.c.window_started_at < now - memory
        statement = dialect.insert(table).values(key=key, failures=1, window_started_at=now)
        statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
            "failures": case((stale, 1), else_=table.c.failures + 1),
            "window_started_at": case((stale, now), else_=table.c.window_started_at),
            "locked_until": case((stale, None), else_=table.c.locked_until),
        })
        with db.engine.begin() as conn:
            conn.execute(statement)
            failures = conn.execute(select(table.c.failures).where(table.c.key == key)).scalar_one()
            # Forget what no longer counts, so the table stays as small as the attacks are.
            conn.execute(delete(table).where(table.c.window_started_at < now - ACCOUNT_MEMORY,
                                             (table.c.locked_until.is_(None)) | (table.c.locked_until < now)))
        return failures

    def lock(self, key: str, until: datetime, memory: timedelta):
        table = SignInThrottle.__table__
        with db.engine.begin() as conn:
            conn.execute(table.update().where(table.c.key == key).values(locked_until=until))

    def locked_until(self, keys, now):
        table = SignInThrottle.__table__
        with db.engine.connect() as conn:
            return conn.execute(select(table.c.locked_until).where(table.c.key.in_(keys))).scalars().all()

    def clear(self, key: str):
        table = SignInThrottle.__table__
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key))


class _RedisStore:
    """A hash per key (``failures``, ``locked_until`` as a UNIX time) that expires with the
    key's memory."""

    PREFIX = "tabel:sign-in:"

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)

    def count(self, key, now, memory):
        name = self.PREFIX + key
        pipe = self.redis.pipeline()
        pipe.hincrby(name, "failures", 1)
        pipe.expire(name, int(memory.total_seconds()), nx=True)
        return int(pipe.execute()[0])

    def lock(self, key, until, memory):
        name = self.PREFIX + key
        pipe = self.redis.pipeline()
        pipe.hset(name, "locked_until", _unix(until))
        # A lock outlives the memory when it is longer than the window it was earned in. The
        # expiry is relative: Redis counts it on its own clock, which is not the app's.
        pipe.expire(name, int(max(until - utcnow(), memory).total_seconds()), gt=True)
        pipe.execute()

    def locked_until(self, keys, now):
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.hget(self.PREFIX + key, "locked_until")
        return [datetime.fromtimestamp(float(v), timezone.utc).replace(tzinfo=None) if v else None
                for v in pipe.execute()]

    def clear(self, key):
        self.redis.delete(self.PREFIX + key)


def _unix(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()  # naive UTC, as everywhere
