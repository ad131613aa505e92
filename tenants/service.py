"""The rules of the tenant tree and of regulations. Views and API routes call these."""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm.attributes import flag_modified

from core import audit, clock
from core.errors import NotAllowed, Refused, require  # noqa: F401 - require: the rules' callers use it from here
from core.accounts import service as accounts
from core.orm import get_or_404
from core.tenancy import unscoped
from core.extensions import db
from tenants import regulations
from tenants.models import KINDS, PARENT_KINDS, RegulationVersion, Tenant


# Reading ----------------------------------------------------------------------------------

def _request_cache() -> dict:
    """Tenants already loaded in this request (through the scope): a page asks for its
    school and chain several times; the database answers once."""
    from core.tenancy import current_scope

    if not has_request_context():
        return {}
    if g.get("tenant_rows_scope") != current_scope() or "tenant_rows" not in g:
        g.tenant_rows, g.tenant_rows_scope = {}, current_scope()  # another scope sees other rows
    return g.tenant_rows


def remember(tenant: Tenant) -> Tenant:
    """Keep a tenant read along with another row (through the scope) for this request."""
    _request_cache()[tenant.id] = tenant
    return tenant


def chain_for_path(path: str) -> list[Tenant]:
    """The chain of the tenant at ``path`` (root first), loaded into the request's cache."""
    from core.accounts import kept
    from core.tenancy import current_scope

    ids = [int(part) for part in path.strip("/").split("/") if part]
    cache = _request_cache()
    if any(i not in cache for i in ids):
        scope = current_scope()
        rows = kept.instances(("tenant chain", scope.home_path if scope else None, path), ids,
                              lambda: db.session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars().all())
        cache.update({row.id: row for row in rows})
    return [cache[i] for i in ids if i in cache]


def load(tenant_id: int) -> Tenant:
    """The tenant if the caller's scope shows it, else 404."""
    cache = _request_cache()
    if tenant_id in cache:
        return cache[tenant_id]
    tenant = get_or_404(Tenant, tenant_id)
    cache[tenant.id] = tenant
    return tenant


def chain_of(tenant: Tenant) -> list[Tenant]:
    """The tenant and its ancestors, root first: one query whatever the depth (none when
    this request has loaded them already)."""
    cache = _request_cache()
    missing = [i for i in tenant.path_ids if i not in cache]
    if missing or not has_request_context():
        rows = db.session.execute(select(Tenant).where(Tenant.id.in_(tenant.path_ids))).scalars().all()
        cache.update({row.id: row for row in rows})
        by_id = {row.id: row for row in rows}
        return [by_id[i] for i in tenant.path_ids if i in by_id]
    return [cache[i] for i in tenant.path_ids]


def inherited(tenant: Tenant, chain: list[Tenant] | None = None) -> dict:
    """Time zone and locale, each the nearest one set along the path."""
    chain = chain if chain is not None else chain_of(tenant)
    resolved = {"timezone": None, "locale": None}
    for node in chain:
        for key in resolved:
            if getattr(node, key):
                resolved[key] = getattr(node, key)
    resolved["timezone"] = resolved["timezone"] or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    resolved["locale"] = resolved["locale"] or current_app.config["BABEL_DEFAULT_LOCALE"]
    return resolved


def inherited_many(tenants: list[Tenant]) -> dict[int, dict]:
    """``inherited`` for a page of tenants with one query for all their ancestors."""
    needed = {i for t in tenants for i in t.path_ids} - {t.id for t in tenants}
    known = {t.id: t for t in tenants}
    if needed:
        known.update({t.id: t for t in db.session.execute(
            select(Tenant).where(Tenant.id.in_(needed))).scalars()})
    return {t.id: inherited(t, [known[i] for i in t.path_ids if i in known]) for t in tenants}


def zones_of(tenant_ids) -> dict[int, str]:
    """The time zone of each tenant asked, inherited along its path (DL-5): core's
    ``localtime`` asks for the tenants of the things a platform admin reads. Two queries
    (the tenants, then the ancestors not already among them); a tenant out of the scope
    is left out."""
    ids = [i for i in tenant_ids if i is not None]
    if not ids:
        return {}
    cache = _request_cache()
    rows = [cache[i] for i in ids if i in cache]
    missing = [i for i in ids if i not in cache]
    if missing:
        rows += db.session.execute(select(Tenant).where(Tenant.id.in_(missing))).scalars().all()
    resolved = inherited_many(rows)
    return {tenant_id: values["timezone"] for tenant_id, values in resolved.items()}


def children_query(parent: Tenant | None, *, kind=None, q=None, include_inactive=True):
    stmt = select(Tenant)
    stmt = stmt.where(Tenant.parent_id.is_(None) if parent is None else Tenant.parent_id == parent.id)
    return _filtered(stmt, kind=kind, q=q, include_inactive=include_inactive)


def visible_query(*, kind=None, parent_id=None, q=None, include_inactive=True):
    stmt = select(Tenant)
    if parent_id is not None:
        stmt = stmt.where(Tenant.parent_id == parent_id)
    return _filtered(stmt, kind=kind, q=q, include_inactive=include_inactive)


def _filtered(stmt, *, kind, q, include_inactive):
    if kind:
        stmt = stmt.where(Tenant.kind == kind)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Tenant.name).like(like), func.lower(Tenant.short_name).like(like),
                              Tenant.slug.like(like)))
    if not include_inactive:
        stmt = stmt.where(Tenant.is_active.is_(True))
    return stmt.order_by(Tenant.kind, Tenant.name)


# Permissions ------------------------------------------------------------------------------

def can_administer(tenant: Tenant) -> bool:
    return accounts.administers(g.get("membership"), tenant.path)


def can_create_child(parent: Tenant | None, kind: str) -> bool:
    membership = g.get("membership")
    if parent is None:
        return kind == "region" and accounts.is_platform_admin(membership)
    return kind in _child_kinds(parent) and accounts.administers(membership, parent.path)


def can_onboard(region: Tenant) -> bool:
    """Whether the caller may create a region's municipalities and schools from a file."""
    return region.kind == "region" and can_create_child(region, "municipality")


def _child_kinds(parent: Tenant) -> list[str]:
    return [kind for kind, parents in PARENT_KINDS.items() if parent.kind in parents]


def creatable_kinds(parent: Tenant | None) -> list[str]:
    kinds = ["region"] if parent is None else _child_kinds(parent)
    return [k for k in kinds if can_create_child(parent, k)]



# Writing ----------------------------------------------------------------------------------

_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower().translate(_TRANSLIT)).strip("-")
    return slug[:80] or "tenant"


def _validate_fields(data: dict, errors: dict):
    tz = data.get("timezone")
    if tz and tz not in zoneinfo.available_timezones():
        errors["timezone"] = _("Unknown time zone: %(tz)s.", tz=tz)
    locale = data.get("locale")
    if locale and locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("Unsupported language: %(locale)s.", locale=locale)
    url = data.get("website_url")
    if url and not re.match(r"^https?://[^\s/]+", url):
        errors["website_url"] = _("Enter a full address starting with http:// or https://.")
    if "name" in data and not (data.get("name") or "").strip():
        errors["name"] = _("Enter the name.")


def create_tenant(*, kind, name, parent_id=None, short_name=None, slug=None, timezone=None,
                  locale=None, website_url=None, reason=None) -> Tenant:
    errors = {}
    if kind not in KINDS:
        raise Refused({"kind": _("Choose region, municipality or school.")})
    parent = load(parent_id) if parent_id is not None else None
    if (parent.kind if parent else None) not in PARENT_KINDS[kind]:
        raise Refused({"parent_id": _("A %(kind)s cannot be placed here.", kind=kind_label(kind))})
    require(can_create_child(parent, kind))
    data = {"name": name, "timezone": timezone, "locale": locale, "website_url": website_url}
    _validate_fields(data, errors)
    if errors:
        raise Refused(errors)
    slug = slugify(slug or short_name or name)
    if db.session.execute(select(func.count()).select_from(Tenant).where(
            Tenant.parent_id.is_(None) if parent is None else Tenant.parent_id == parent.id,
            Tenant.slug == slug)).scalar_one():
        raise Refused({"slug": _("Another tenant here already uses the slug %(slug)s.", slug=slug)},
                          status=409)
    tenant = Tenant(kind=kind, name=name.strip(), short_name=(short_name or None), slug=slug,
                    parent_id=parent.id if parent else None, timezone=timezone or None,
                    locale=locale or None, website_url=website_url or None, is_active=True,
                    depth=(parent.depth + 1) if parent else 0, path="")
    db.session.add(tenant)
    db.session.flush()
    tenant.path = f"{parent.path if parent else '/'}{tenant.id}/"
    db.session.flush()
    audit.record(tenant_id=tenant.id, action="tenant.create", obj_type="tenant", obj_id=tenant.id,
                 after=snapshot(tenant), reason=reason)
    return tenant


EDITABLE = ("name", "short_name", "timezone", "locale", "website_url", "is_active")


def update_tenant(tenant: Tenant, changes: dict, reason=None) -> Tenant:
    require(can_administer(tenant))
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    if "is_active" in changes and not _administers_above(tenant):
        raise NotAllowed()
    errors = {}
    _validate_fields(changes, errors)
    if errors:
        raise Refused(errors)
    before = snapshot(tenant)
    for key, value in changes.items():
        setattr(tenant, key, value.strip() if isinstance(value, str) else value)
        if isinstance(value, str) and not value.strip() and key != "name":
            setattr(tenant, key, None)
    after = snapshot(tenant)
    if after != before:
        db.session.flush()
        audit.record(tenant_id=tenant.id, action="tenant.update", obj_type="tenant", obj_id=tenant.id,
                     before=before, after=after, reason=reason)
    return tenant


def _administers_above(tenant: Tenant) -> bool:
    """Deactivating a tenant is its parent's decision (a school cannot switch itself off)."""
    membership = g.get("membership")
    return accounts.is_platform_admin(membership) or (
        accounts.administers(membership, tenant.path) and membership.tenant_path != tenant.path)


def snapshot(tenant: Tenant) -> dict:
    return {k: getattr(tenant, k) for k in ("kind", "name", "short_name", "slug", "parent_id", "path",
                                            "timezone", "locale", "website_url", "is_active")}


def kind_label(kind):
    return {"region": _("region"), "municipality": _("municipality"), "school": _("school")}.get(kind, kind)


# Regulations -----------------------------------------------------------------------------

def effective(tenant: Tenant, on: date | None = None) -> regulations.Effective:
    """The regulation in force for ``tenant`` on ``on``, with provenance: two queries
    whatever the depth of the tree (its chain, then every version along it)."""
    chain = chain_of(tenant)
    return _effective_for_chain(chain, on or local_today(tenant, chain))


def effective_above(tenant: Tenant, on: date) -> regulations.Effective:
    """The regulation the tenant's parent passes down on ``on`` (the platform defaults for
    a region): what the tenant inherits, and the bounds it keeps within."""
    return _effective_for_chain(chain_of(tenant)[:-1], on)


def local_today(tenant: Tenant, chain=None) -> date:
    """Today in the tenant's own time zone (DL-5): in Tomsk the day starts 7 hours before UTC's."""
    return clock.today(zoneinfo.ZoneInfo(inherited(tenant, chain)["timezone"]))


def _effective_for_chain(chain, on):
    """Resolved once per process for each (chain, date): a tenant row's version changes
    whenever the tenant or its regulation changes (:func:`add_version` bumps it), so a
    cached document never outlives what it was made from. Callers must not modify it."""
    key = (tuple((t.id, t.version, t.created_at) for t in chain), on)
    cache = current_app.extensions.setdefault("tabel.effective", {})
    if key in cache:
        return cache[key]
    rows = db.session.execute(
        select(RegulationVersion)
        .where(RegulationVersion.tenant_id.in_([t.id for t in chain]),
               RegulationVersion.effective_from <= on)
        .order_by(RegulationVersion.tenant_id, RegulationVersion.effective_from)
    ).scalars()
    latest = {}
    for row in rows:
        latest[row.tenant_id] = row  # ordered by date: the last one is in force
    result = regulations.resolve(chain, latest, on)
    if db.session.info.get(_WROTE):
        return result  # made from this transaction's own writes: a rollback would leave it stale
    if len(cache) >= 1024:  # (chain, date) pairs; a few tens of MB at most
        cache.clear()
    cache[key] = result
    return result


_WROTE = "tabel.tenants.wrote"


def _note_write(session, flush_context):
    session.info[_WROTE] = True


def _forget_write(session, *args):
    session.info.pop(_WROTE, None)


def install_session_events():
    """Documents resolved inside a transaction that has written are not cached: its
    version numbers are not committed yet."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_flush", _note_write):
        event.listen(Session, "after_flush", _note_write)
        for name in ("after_commit", "after_rollback"):  # the whole transaction, not a savepoint
            event.listen(Session, name, _forget_write)


def effective_on_dates(tenant: Tenant, dates) -> dict:
    """The effective regulation on each of many dates (a term's lessons) with two queries:
    the chain and every version along it, resolved per date in memory."""
    chain = chain_of(tenant)
    rows = db.session.execute(
        select(RegulationVersion).where(RegulationVersion.tenant_id.in_([t.id for t in chain]))
        .order_by(RegulationVersion.tenant_id, RegulationVersion.effective_from)).scalars().all()
    out = {}
    for day in sorted(set(dates)):
        latest = {}
        for row in rows:
            if row.effective_from <= day:
                latest[row.tenant_id] = row
        out[day] = regulations.resolve(chain, latest, day)
    return out


def admin_second_factor_required(memberships) -> bool:
    """Security item 9, the policy registered with ``core.accounts.second_factor``: whether
    a tenant of any of these admin roles has ``security.admin_second_factor`` in force today
    (set there or above; bounded, so a tenant below cannot switch off what is required
    above). Read unscoped: at sign-in no scope is set yet, and one account may hold roles in
    several trees. The rows stay out of the request's tenant cache, which serves its scope."""
    paths = {m.tenant_path for m in memberships if m.tenant_path}
    ids = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    if not ids:
        return False
    with unscoped("second factor: the regulations over an admin's tenants", routine=True):
        rows = {t.id: t for t in db.session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars()}
        for path in sorted(paths):
            chain = [rows[int(part)] for part in path.strip("/").split("/") if part and int(part) in rows]
            if chain and _effective_for_chain(chain, local_today(chain[-1], chain)).value(
                    "security.admin_second_factor"):
                return True
    return False


def versions_of(tenant: Tenant) -> list[RegulationVersion]:
    return db.session.execute(
        select(RegulationVersion).where(RegulationVersion.tenant_id == tenant.id)
        .order_by(RegulationVersion.effective_from.desc())
    ).scalars().all()


def add_version(tenant: Tenant, *, effective_from: date, act: str, values: dict,
                locked: list | None = None) -> RegulationVersion:
    """Store a new version of ``tenant``'s overrides after checking, key by key, that it is
    valid, touches nothing locked above, and only tightens bounded values set above."""
    locked = list(locked or [])
    values = values or {}
    check_version(tenant, effective_from=effective_from, act=act, values=values, locked=locked)
    version = RegulationVersion(tenant_id=tenant.id, effective_from=effective_from, act=act.strip(),
                                values=values, locked=locked, created_by_id=_actor_id())
    db.session.add(version)
    flag_modified(tenant, "name")  # bumps the tenant's version: cached documents of its subtree are stale
    db.session.flush()
    audit.record(tenant_id=tenant.id, action="regulation.version", obj_type="regulation_version",
                 obj_id=version.id, after={"effective_from": effective_from.isoformat(), "act": version.act,
                                           "values": values, "locked": locked})
    return version


@dataclass
class Proposal:
    """What a new version would change (the admin page's confirm step): the version of the
    tenant it replaces from its date (or none), and the regulation in force on that date
    before and after it."""

    effective_from: date
    act: str
    values: dict
    locked: list
    replaces: RegulationVersion | None
    before: regulations.Effective
    after: regulations.Effective


def propose_version(tenant: Tenant, *, effective_from: date, act: str, values: dict,
                    locked: list | None = None) -> Proposal:
    """Check a version as :func:`add_version` would and work out what it changes, writing
    nothing. Three queries beyond the checks at most (the tenant's versions, and the
    documents in force on the date, often cached)."""
    locked = list(locked or [])
    values = values or {}
    check_version(tenant, effective_from=effective_from, act=act, values=values, locked=locked)
    chain = chain_of(tenant)
    replaces = next((v for v in versions_of(tenant) if v.effective_from <= effective_from), None)
    before = _effective_for_chain(chain, effective_from)
    rows = db.session.execute(
        select(RegulationVersion).where(RegulationVersion.tenant_id.in_([t.id for t in chain[:-1]]),
                                        RegulationVersion.effective_from <= effective_from)
        .order_by(RegulationVersion.tenant_id, RegulationVersion.effective_from)).scalars()
    latest = {row.tenant_id: row for row in rows}  # ordered by date: the last one is in force
    # Not a row: nothing the session could flush.
    latest[tenant.id] = SimpleNamespace(effective_from=effective_from, act=act.strip(), values=values, locked=locked)
    after = regulations.resolve(chain, latest, effective_from)
    return Proposal(effective_from, act.strip(), values, locked, replaces, before, after)


def check_version(tenant: Tenant, *, effective_from: date, act: str, values: dict,
                  locked: list | None = None):
    """Refuse (``Refused``, 422 under each key path; 409 for a date taken) a version that is
    invalid, touches a key locked above or loosens a bounded value set above."""
    require(can_administer(tenant))
    locked = list(locked or [])
    values = values or {}
    errors = {}
    if not (act or "").strip():
        errors["act"] = _("Name the normative act that sets these values.")
    for index, lock in enumerate(locked):
        if not isinstance(lock, str) or not regulations.is_known_prefix(lock):
            errors[f"locked.{index}"] = _("Unknown key path: %(path)s.", path=lock)
    errors.update(regulations.validate_document(values, partial=True))
    if errors:
        raise Refused(errors)

    chain = chain_of(tenant)
    above = _effective_for_chain(chain[:-1], effective_from)
    if tenant.kind != "region":
        errors.update(_redefined_items(values, above))
    for path, value in regulations.leaves(values).items():
        owner = regulations.locked_by(above.locks, path)
        if owner is not None:
            errors[path] = _("Locked by %(tenant)s: this value cannot be changed here.",
                             tenant=_tenant_name(chain, owner))
            continue
        source = above.provenance.get(path)
        if source is None:
            continue
        direction = regulations.bound_of(path)
        if direction and source.tenant_id is not None and not regulations.within_bound(direction, value, source.value):
            if isinstance(source.value, bool):
                message = _("Required by %(tenant)s (%(act)s): it cannot be switched off here.")
            elif direction == "down":
                message = _("May not exceed %(limit)s, the value set by %(tenant)s (%(act)s).")
            else:
                message = _("May not be less than %(limit)s, the value set by %(tenant)s (%(act)s).")
            errors[path] = message % {"limit": source.value, "tenant": source.tenant_name,
                                                  "act": source.act}
    if not errors:
        merged = regulations.nest({**regulations.leaves(above.document), **regulations.leaves(values)})
        errors.update(regulations.validate_document(merged, partial=False))
    if errors:
        raise Refused(errors)
    if db.session.execute(select(func.count()).select_from(RegulationVersion).where(
            RegulationVersion.tenant_id == tenant.id,
            RegulationVersion.effective_from == effective_from)).scalar_one():
        raise Refused({"effective_from": _("A version from this date already exists.")}, status=409)


def _redefined_items(values: dict, above) -> dict:
    """Below the region, a list merged by key only gains items: an item the tenant inherits
    is not redefined (a school must not relax the item its site is judged by)."""
    errors = {}
    for path, key in regulations.merged_by_key().items():
        mine = regulations.leaves(values).get(path) or []
        inherited = {item.get(key) for item in (regulations.leaves(above.document).get(path) or [])
                     if isinstance(item, dict)}
        for index, item in enumerate(mine):
            if isinstance(item, dict) and item.get(key) in inherited:
                errors[f"{path}.{index}.{key}"] = _(
                    "«%(key)s» is set above and cannot be redefined here; add an item with a new key.",
                    key=item.get(key))
    return errors


def _tenant_name(chain, tenant_id):
    return next((t.name for t in chain if t.id == tenant_id), str(tenant_id))


def _actor_id():
    from core.audit import current_actor_id

    return current_actor_id()


# Statistics ------------------------------------------------------------------------------

def statistics(tenant: Tenant):
    from tenants.models import TenantStats

    return db.session.execute(select(TenantStats).where(TenantStats.tenant_id == tenant.id)).scalar_one_or_none()


def latest_statistics_job(tenant: Tenant):
    """The tenant's newest statistics job, finished or not (the card shows its progress, or
    says that it failed)."""
    from core.jobs.models import Job

    return db.session.execute(
        select(Job).where(Job.tenant_id == tenant.id, Job.kind == "tenant_stats")
        .order_by(Job.id.desc()).limit(1)).scalar_one_or_none()


def running_statistics_job(tenant: Tenant):
    from core.jobs.models import FINISHED, Job

    return db.session.execute(
        select(Job).where(Job.tenant_id == tenant.id, Job.kind == "tenant_stats", Job.status.not_in(FINISHED))
        .order_by(Job.id.desc()).limit(1)).scalar_one_or_none()


def start_statistics(tenant: Tenant):
    """Recompute the subtree's statistics in the background (admins of the tenant)."""
    from core.jobs import enqueue

    require(can_administer(tenant))
    return running_statistics_job(tenant) or enqueue("tenant_stats", tenant=tenant)
