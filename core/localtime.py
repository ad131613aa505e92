"""Times as a person reads them: in the time zone of their tenant (DL-5), the zone named
where it could mislead.

Every ``*_at`` column holds naive UTC. A page shows it through :func:`local_time` (also a
template global): in the reader's zone, which is the zone of the tenant they act in
(``g.tenant_timezone``, resolved when the request starts). A platform admin acts in no
tenant: for them a time is shown in the zone of the tenant the thing belongs to (a job's
tenant, the school of a website check), and the zone is named beside it, «18.11.2026 12:00
(Екатеринбург, UTC+5)», since the rows of one page may lie in different zones.

Core does not know the tenant tree: the tenants package registers how a tenant's zone is
found (:func:`register_zone_resolver`), as it registers its other policies.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context

DATE = "dd.MM.yyyy"
MINUTES = "dd.MM.yyyy HH:mm"
SECONDS = "dd.MM.yyyy HH:mm:ss"


def register_zone_resolver(app, resolve):
    """``resolve(tenant_ids) -> {tenant id: IANA zone name}`` for the tenants asked (each
    with its zone inherited along the tree)."""
    app.extensions["tabel.zone_resolver"] = resolve


def _cache() -> dict:
    if not has_request_context():
        return {}
    if "tenant_zones" not in g:
        g.tenant_zones = {}
    return g.tenant_zones


def _tenant_id(tenant):
    return tenant if tenant is None or isinstance(tenant, int) else getattr(tenant, "id", None)


def prefetch(tenants) -> None:
    """Resolve the zones of many tenants at once (a page of jobs), so showing their times
    costs one look-up instead of one per row. Only a reader with no zone of their own
    needs them."""
    if reader_zone() is not None:
        return
    cache = _cache()
    wanted = {i for i in (_tenant_id(t) for t in tenants) if i is not None and i not in cache}
    resolve = current_app.extensions.get("tabel.zone_resolver")
    if wanted and resolve is not None:
        found = resolve(sorted(wanted))
        cache.update({i: found.get(i) for i in wanted})


def reader_zone() -> str | None:
    """The zone of the tenant the reader acts in, or None (a platform admin, no role)."""
    return g.get("tenant_timezone") if has_request_context() else None


def zone_name(tenant=None) -> str:
    """The IANA zone a time about ``tenant`` is shown in for this reader."""
    own = reader_zone()
    if own:
        return own
    tenant_id = _tenant_id(tenant)
    if tenant_id is not None:
        prefetch([tenant_id])
        found = _cache().get(tenant_id)
        if found:
            return found
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def zone_is_named() -> bool:
    """A reader with no zone of their own cannot assume one: the zone is written out."""
    return reader_zone() is None


def _locale():
    from flask_babel import get_locale

    return get_locale() if has_request_context() else current_app.config["BABEL_DEFAULT_LOCALE"]


def zone_label(zone: str | dt.tzinfo, at: dt.datetime | None = None) -> str:
    """«Екатеринбург, UTC+5» / «Yekaterinburg, UTC+5»: the zone's main city in the reader's
    language and its offset from UTC at ``at`` (now by default)."""
    from babel.dates import get_timezone, get_timezone_location

    from core import clock

    name = zone if isinstance(zone, str) else str(zone)
    info = ZoneInfo(name)
    offset = (at or clock.now()).astimezone(info).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    utc = "UTC" if minutes == 0 else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    city = get_timezone_location(get_timezone(name), locale=_locale(), return_city=True)
    return f"{city}, {utc}"


def in_zone(moment: dt.datetime | None, tenant=None) -> dt.datetime | None:
    """A stored instant (naive UTC, or aware) as an aware time in the reader's zone."""
    if moment is None:
        return None
    aware = moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment
    return aware.astimezone(ZoneInfo(zone_name(tenant)))


def local_time(moment: dt.datetime | None, tenant=None, *, seconds=False, named=None) -> str:
    """«18.11.2026 12:00», or with the zone when it could mislead, «18.11.2026 12:00
    (Екатеринбург, UTC+5)»; empty for no time. ``tenant`` (an id or a row) is whom the
    thing belongs to, for a reader with no zone of their own; ``named`` forces or
    suppresses the zone's name."""
    from babel.dates import format_datetime

    local = in_zone(moment, tenant)
    if local is None:
        return ""
    text = format_datetime(local, SECONDS if seconds else MINUTES, tzinfo=local.tzinfo, locale=_locale())
    if named if named is not None else zone_is_named():
        text += f" ({zone_label(local.tzinfo.key, local)})"
    return text


def local_date(moment: dt.datetime | None, tenant=None) -> str:
    """The reader's local date of a stored instant, «18.11.2026» (a check at 23:30 UTC is
    already the next day in Perm)."""
    local = in_zone(moment, tenant)
    return local.strftime("%d.%m.%Y") if local is not None else ""


def init_app(app):
    app.add_template_global(local_time, "local_time")
    app.add_template_global(local_date, "local_date")
    app.add_template_global(zone_label, "zone_label")
    app.add_template_global(zone_name, "zone_name")
