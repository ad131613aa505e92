"""/api/v1 for the e-services catalogue: a region's services (SV-1, SV-2) and a school's
responsible persons (WD-4)."""
from flask import g

from core.access import permission
from core.apispec import Blueprint
from core.errors import NotAllowed
from blueprints.services import catalogue
from blueprints.services.schemas import (AnswerSchema, AppealArgs, AppealInSchema, AppealRegisterSchema,
                                         AppealSchema, ApplicationArgs, ApplicationInSchema, ApplicationRegisterSchema,
                                         ApplicationSchema, CodeArgs, CodeRegisterSchema, ContactSchema,
                                         DecisionSchema, InvitationArgs, ServicePatchSchema, ServiceSchema,
                                         SlipSchema)
from tenants import service as tenants

blp = Blueprint("services_api", __name__, description="The region's e-services and who is responsible for them")


def _region_of(tenant):
    return tenant.path_ids[0]


@blp.route("/tenants/<int:tenant_id>/services")
@blp.response(200, ServiceSchema(many=True))
def list_services(tenant_id):
    """The services of the tenant's region, in SV-1's order."""
    return catalogue.services_of(_region_of(g.loaded["tenant_id"]))


@blp.route("/services/<int:service_id>", methods=["PATCH"])
@blp.arguments(ServicePatchSchema(partial=True))
@blp.response(200, ServiceSchema)
def patch_service(data, service_id):
    """A region admin edits a service card; ``version`` as read (409 if it changed)."""
    service = g.loaded["service_id"]
    region = tenants.load(service.tenant_id)
    if not tenants.can_administer(region):
        raise NotAllowed()
    version = data.pop("version", None)
    return catalogue.update_service(service, data, version)


def _school_admin(school):
    return school.kind == "school" and tenants.can_administer(school)


@blp.route("/schools/<int:school_id>/service-contacts")
@blp.response(200, ContactSchema(many=True))
def list_contacts(school_id):
    """The school's responsible person for each service that has one."""
    contacts = catalogue.contacts_of(g.loaded["school_id"].id)
    return sorted(contacts.values(), key=lambda c: c.service_id)


@blp.route("/schools/<int:school_id>/service-contacts/<int:service_id>", methods=["PUT"])
@permission(_school_admin, "school_id")
@blp.arguments(ContactSchema)
@blp.response(200, ContactSchema)
@blp.alt_response(204, description="The name was empty: the responsible person is removed")
def put_contact(data, school_id, service_id):
    school, service = g.loaded["school_id"], g.loaded["service_id"]
    if service.tenant_id != school.path_ids[0]:
        from flask import abort

        abort(404)
    contact = catalogue.set_contact(school, service, data)
    return contact if contact is not None else ("", 204)


@blp.route("/tenants/<int:tenant_id>/codes")
@permission(tenants.can_administer, "tenant_id")
@blp.arguments(CodeArgs, location="query")
@blp.response(200, CodeRegisterSchema)
def list_codes(args, tenant_id):
    """The register of the one-time sign-in codes the tenant issued (SV-3, AC-3): imports,
    onboarding and administrators' codes alike; never the codes themselves."""
    from blueprints.services import issuance

    return issuance.register(g.loaded["tenant_id"], search=args.get("q"), page=args.get("page", 1))


def _looks_after(school_class):
    from blueprints.services import invitations

    return invitations.may_invite(school_class)


@blp.route("/classes/<int:class_id>/invitations", methods=["POST"])
@permission(_looks_after, "class_id")
@blp.arguments(InvitationArgs)
@blp.response(201, SlipSchema(many=True))
def invite_class(data, class_id):
    """One-time sign-in codes for the class's pupils and/or guardians (AC-3), for the class
    teacher or the school's administration: accounts are made and linked for records that
    have none; by default only those who have never signed in get a code. The codes are in
    this answer only; the register (``/tenants/{id}/codes``) keeps who, by whom and when."""
    from blueprints.services import invitations

    return invitations.issue(g.loaded["class_id"], tuple(data["who"]), everyone=data["everyone"])


def _reads_applications(school):
    from blueprints.services import applications

    return school.kind == "school" and applications.may_read(school)


@blp.route("/schools/<int:school_id>/applications")
@permission(_reads_applications, "school_id")
@blp.arguments(ApplicationArgs, location="query")
@blp.response(200, ApplicationRegisterSchema)
def list_applications(args, school_id):
    """SV-3: the school's register of applications for the diary service, newest first."""
    from blueprints.services import applications

    return applications.register(g.loaded["school_id"], search=args.get("q"), status=args.get("status"),
                                 page=args.get("page", 1))


@blp.route("/schools/<int:school_id>/applications", methods=["POST"])
@permission(_reads_applications, "school_id")
@blp.arguments(ApplicationInSchema)
@blp.response(201, ApplicationSchema)
def file_application(data, school_id):
    """An entry from a paper application: the guardian, the pupil (theirs in the school's
    records), the date and the ways of informing chosen (IN-1)."""
    from blueprints.services import applications

    school = g.loaded["school_id"]
    entry = applications.file(school, guardian_id=data["guardian_id"], pupil_id=data["pupil_id"],
                              choice=data, filed_on=data["filed_on"])
    return _one(entry)


def _one(entry):
    from blueprints.roster.models import Guardian, Pupil
    from blueprints.services import applications
    from core.extensions import db

    return applications.entry_row(entry, db.session.get(Guardian, entry.guardian_id), db.session.get(Pupil, entry.pupil_id))


@blp.route("/applications/<int:application_id>/decision", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, ApplicationSchema)
def decide_application(data, application_id):
    """Provide the service (the choice is written to the guardian's record: the diary informs
    them so from now on) or refuse it with a reason."""
    from blueprints.services import applications

    return _one(applications.decide(g.loaded["application_id"], data["decision"], data.get("reason")))


@blp.route("/schools/<int:school_id>/appeals")
@permission(_reads_applications, "school_id")
@blp.arguments(AppealArgs, location="query")
@blp.response(200, AppealRegisterSchema)
def list_appeals(args, school_id):
    """SV-3: the school's complaints, requests and information requests, overdue flagged."""
    from blueprints.services import appeals

    return appeals.register(g.loaded["school_id"], search=args.get("q"), status=args.get("status"),
                            page=args.get("page", 1))


@blp.route("/schools/<int:school_id>/appeals", methods=["POST"])
@permission(_reads_applications, "school_id")
@blp.arguments(AppealInSchema)
@blp.response(201, AppealSchema)
def record_appeal(data, school_id):
    """A complaint, request or information request as it came in: due by the regulation."""
    from blueprints.services import appeals
    from tenants import service as tenants

    school = g.loaded["school_id"]
    entry = appeals.record(school, data, data["received_on"])
    return appeals.entry_row(entry, tenants.local_today(school))


@blp.route("/appeals/<int:appeal_id>/answer", methods=["POST"])
@blp.arguments(AnswerSchema)
@blp.response(200, AppealSchema)
def answer_appeal(data, appeal_id):
    """The answer given, and when: an answer after the due day stays marked late."""
    from blueprints.services import appeals
    from tenants import service as tenants

    entry = appeals.answer(g.loaded["appeal_id"], data["answer"], data["answered_on"])
    return appeals.entry_row(entry, tenants.local_today(tenants.load(entry.tenant_id)))
