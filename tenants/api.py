"""/api/v1/tenants: the tree, regulations with provenance, and accounts in a tenant."""
from flask import g, url_for
from flask_babel import gettext as _
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from core.accounts import service as accounts
from core.accounts.models import Membership, User
from core.accounts.schemas import PasswordResetSchema, UserSchema
from core.apispec import Blueprint, UploadSchema, check_version
from core.jobs.schemas import JobSchema
from core.orm import get_or_404
from core.extensions import db
from tenants import service
from tenants.schemas import (ChildrenArgs, EffectiveSchema, MemberCreateSchema, MemberSchema, OnArgs,
                             OnboardingArgs, OnboardingResultSchema, RegulationVersionSchema, StatsSchema, TenantCreateSchema, TenantListArgs, TenantSchema,
                             TenantUpdateSchema)

blp = Blueprint("tenants_api", __name__, description="The tenant tree and its regulations")




def dump_tenants(tenants):
    resolved = service.inherited_many(list(tenants))
    return [_dump(t, resolved[t.id]) for t in tenants]


def dump_tenant(tenant):
    return _dump(tenant, service.inherited(tenant))


def _dump(tenant, resolved):
    data = service.snapshot(tenant)
    data.update(id=tenant.id, version=tenant.version, timezone=resolved["timezone"],
                locale=resolved["locale"], timezone_set=tenant.timezone, locale_set=tenant.locale)
    return TenantSchema().dump(data)


def paginate(stmt, pagination_parameters):
    from sqlalchemy import func

    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    pagination_parameters.item_count = total
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return db.session.execute(stmt.limit(size).offset((page - 1) * size)).scalars().all()


@blp.route("/tenants")
class Tenants(MethodView):
    @blp.arguments(TenantListArgs, location="query")
    @blp.response(200, TenantSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Tenants the caller can see (their subtree and its ancestors)."""
        stmt = service.visible_query(kind=args.get("kind"), parent_id=args.get("parent_id"), q=args.get("q"))
        return dump_tenants(paginate(stmt, pagination_parameters))

    @blp.arguments(TenantCreateSchema)
    @blp.response(201, TenantSchema)
    def post(self, data):
        """Create a region (platform admin), municipality (region admin) or school."""
        tenant = service.create_tenant(**data)
        return dump_tenant(tenant)


@blp.route("/tenants/<int:tenant_id>")
class TenantItem(MethodView):
    @blp.response(200, TenantSchema)
    def get(self, tenant_id):
        return dump_tenant(service.load(tenant_id))

    @blp.arguments(TenantUpdateSchema)
    @blp.response(200, TenantSchema)
    def patch(self, data, tenant_id):
        """Change a tenant; send the ``version`` you read. Tenants are deactivated, never deleted."""
        tenant = service.load(tenant_id)
        service.require(service.can_administer(tenant))
        check_version(tenant, data.pop("version"), dump_tenant)
        reason = data.pop("reason", None)
        service.update_tenant(tenant, data, reason=reason)
        return dump_tenant(tenant)


@blp.route("/tenants/<int:tenant_id>/children")
@blp.arguments(ChildrenArgs, location="query")
@blp.response(200, TenantSchema(many=True))
@blp.paginate()
def children(args, pagination_parameters, tenant_id):
    parent = service.load(tenant_id)
    stmt = service.children_query(parent, kind=args.get("kind"), q=args.get("q"))
    return dump_tenants(paginate(stmt, pagination_parameters))


@blp.route("/tenants/<int:tenant_id>/regulations")
@blp.arguments(OnArgs, location="query")
@blp.response(200, EffectiveSchema)
def effective_regulations(args, tenant_id):
    """The effective regulation on a date, with the provenance of every key path."""
    result = service.effective(service.load(tenant_id), args.get("on"))
    return {"on": result.on, "document": result.document,
            "provenance": {path: source.as_dict() for path, source in result.provenance.items()}}


@blp.route("/tenants/<int:tenant_id>/regulation-versions")
class RegulationVersions(MethodView):
    @blp.response(200, RegulationVersionSchema(many=True))
    def get(self, tenant_id):
        return service.versions_of(service.load(tenant_id))

    @blp.arguments(RegulationVersionSchema)
    @blp.response(201, RegulationVersionSchema)
    def post(self, data, tenant_id):
        """Add a version of this tenant's overrides. Invalid values, keys locked above and
        loosened bounds are refused with 422, each error under its key path."""
        version = service.add_version(service.load(tenant_id), **data)
        return version


@blp.route("/tenants/<int:tenant_id>/users")
class TenantUsers(MethodView):
    @blp.response(200, MemberSchema(many=True))
    @blp.paginate()
    def get(self, tenant_id, pagination_parameters):
        """Accounts holding a role in this tenant (admins only)."""
        tenant = service.load(tenant_id)
        service.require(service.can_administer(tenant))
        stmt = (select(Membership).join(User, User.id == Membership.user_id)
                .where(Membership.tenant_id == tenant.id).order_by(User.full_name))
        rows = paginate(stmt, pagination_parameters)
        _attach_users(rows)
        return rows

    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, data, tenant_id):
        """Create an account with a role in this tenant."""
        tenant = service.load(tenant_id)
        service.require(service.can_administer(tenant))
        membership = create_member(tenant, data)
        return membership


def create_member(tenant, data):
    user = accounts.create_user(login=data["login"], password=data["password"],
                                full_name=data["full_name"], email=data.get("email"))
    membership = accounts.grant(user, role=data["role"], tenant_id=tenant.id, tenant_path=tenant.path,
                                tenant_kind=tenant.kind, by=g.membership, reason="account created by an admin")
    membership.user = user
    return membership


def _attach_users(memberships):
    ids = {m.user_id for m in memberships}
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()} if ids else {}
    for m in memberships:
        m.user = users[m.user_id]


@blp.route("/tenants/<int:tenant_id>/statistics")
class TenantStatistics(MethodView):
    @blp.response(200, StatsSchema)
    def get(self, tenant_id):
        """The subtree's counts as last computed (404 before the first run)."""
        stats = service.statistics(service.load(tenant_id))
        if stats is None:
            abort(404)
        return stats

    @blp.response(202, JobSchema)
    def post(self, tenant_id):
        """Recompute the counts in the background; follow the job at its Location."""
        job = service.start_statistics(service.load(tenant_id))
        return job, 202, {"Location": url_for("jobs_api.get_job", job_id=job.id)}


@blp.route("/tenants/<int:tenant_id>/onboarding", methods=["POST"])
@blp.arguments(OnboardingArgs, location="query")
@blp.arguments(UploadSchema, location="files")
@blp.response(200, OnboardingResultSchema)
def onboarding(args, files, tenant_id):
    """Create a region's municipalities and schools with their admins from one spreadsheet
    (multipart field ``file``). ``commit=false`` only checks. Nothing is created while any
    row is rejected (422, errors keyed ``rows.N.column``). Admins get one-time codes."""
    from tenants import onboarding as onboard

    region = service.load(tenant_id)
    if region.kind != "region":
        abort(422, errors={"tenant_id": [_("Onboarding is done at the region.")]})
    upload = files["file"]
    data = upload.read()
    if args["commit"]:
        parsed, report = onboard.commit(region, upload.filename, data, issued_by_id=g.membership.user_id)
    else:
        parsed, report = onboard.preview(region, upload.filename, data), None
    if args["commit"] and report is None:
        abort(422, errors=parsed.errors_by_path())
    return {"rows": len(parsed.rows), "rejected": len(parsed.rejected_rows),
            "errors": [e.as_dict() for e in parsed.errors], "committed": report is not None,
            "report": report.as_dict() if report else None}


@blp.route("/users/<int:user_id>/password", methods=["POST"])
@blp.arguments(PasswordResetSchema)
@blp.response(200, UserSchema)
def reset_password(data, user_id):
    """Set a new password for an account below the caller's tenant; its sessions and tokens end."""
    user = get_or_404(User, user_id)
    service.require(accounts.may_manage_user(g.membership, user))
    accounts.reset_password(user, data["password"], reason=data.get("reason"))
    return user
