"""Background work of the tenant tree."""
import time

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.accounts.models import Membership
from core.extensions import db
from core.i18n import N_
from core.jobs import job
from core.orm import utcnow
from tenants.models import Tenant, TenantStats


@job("tenant_stats", label=_l("Tenant tree statistics"), idempotent=True)
def recompute_statistics(ctx):
    """Count municipalities, schools and accounts under every tenant of the subtree.

    Idempotent and resumable: each tenant's figures are an upsert committed together with
    the checkpoint of tenants done, so a run redelivered after a crash skips them."""
    home = db.session.execute(select(Tenant).where(Tenant.id == ctx.tenant_id)).scalar_one()
    tenants = db.session.execute(
        select(Tenant).where(Tenant.path.startswith(home.path)).order_by(Tenant.path)).scalars().all()
    member_paths = [p for (p,) in db.session.execute(
        select(Membership.tenant_path).where(Membership.tenant_path.startswith(home.path)))]
    done = set(ctx.checkpoint.get("done", []))
    step = float(current_app.config.get("DEMO_JOB_STEP_SECONDS") or 0)
    for index, tenant in enumerate(tenants, start=1):
        if tenant.id not in done:
            below = [t for t in tenants if t.path.startswith(tenant.path)]
            stats = db.session.execute(
                select(TenantStats).where(TenantStats.tenant_id == tenant.id)).scalar_one_or_none()
            if stats is None:
                stats = TenantStats(tenant_id=tenant.id)
                db.session.add(stats)
            stats.municipalities = sum(t.kind == "municipality" for t in below)
            stats.schools = sum(t.kind == "school" for t in below)
            stats.accounts = sum(p.startswith(tenant.path) for p in member_paths)
            stats.computed_at, stats.job_id = utcnow(), ctx.job_id
            db.session.commit()
            done.add(tenant.id)
            ctx.save_checkpoint(done=sorted(done))
            if step:
                time.sleep(step)
        ctx.progress(index * 100 // len(tenants) if index < len(tenants) else 99,
                     N_("%(done)s of %(total)s tenants counted"), done=index, total=len(tenants))
    ctx.set_result({"tenants": len(tenants)}, url=_tenant_url(home.id))


def _tenant_url(tenant_id):
    try:
        return url_for("tenants.show", tenant_id=tenant_id)
    except RuntimeError:  # a worker has no request: build the path by hand
        return f"/tenants/{tenant_id}"
