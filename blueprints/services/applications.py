"""The register of applications for the diary service (SV-3, IN-1): each school's entries,
numbered per school and calendar year, filed by a guardian in the diary or recorded by the
school from a paper application; the school provides the service (the ways of informing
chosen are then written to the guardian's record, which the diary reads) or refuses it
with a reason. Searchable, exportable to XLSX, every entry and decision audited."""
from __future__ import annotations

import io

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.errors import Refused
from core.extensions import db
from blueprints.roster import guardians as roster_guardians
from blueprints.roster import service as roster
from blueprints.roster.models import Guardian, GuardianLink, Pupil
from blueprints.services.models import Application
from tenants import service as tenants

PAGE = 50
STATUS_LABELS = {"pending": _l("awaiting the decision"), "provided": _l("service provided"),
                 "refused": _l("refused")}
CHOICE_FIELDS = ("channels", "email", "phone", "notify_mode", "digest_hour", "language")


def guardians_with_children(school) -> list[tuple[Guardian, list[Pupil]]]:
    """The school's guardians and their children there, for the form (two statements)."""
    rows = db.session.execute(select(Guardian).where(Guardian.tenant_id == school.id)
                              .order_by(Guardian.last_name, Guardian.first_name)).scalars().all()
    children = roster_guardians.children_of([x.id for x in rows])
    return [(x, children.get(x.id, [])) for x in rows]


def own_guardian_records(school) -> list[tuple[Guardian, list[Pupil]]]:
    """The signed-in guardian's records in the school, with the children linked to each."""
    rows = db.session.execute(select(Guardian).where(Guardian.tenant_id == school.id,
                                                     Guardian.user_id == current_user.id)).scalars().all()
    children = roster_guardians.children_of([x.id for x in rows])
    return [(x, children.get(x.id, [])) for x in rows]


def own_applications(school, guardian_ids) -> list[dict]:
    """The entries of these guardian records, newest first (the applicant's own list)."""
    if not guardian_ids:
        return []
    rows = db.session.execute(
        select(Application, Guardian, Pupil).join(Guardian, Guardian.id == Application.guardian_id)
        .join(Pupil, Pupil.id == Application.pupil_id)
        .where(Application.tenant_id == school.id, Application.guardian_id.in_(guardian_ids))
        .order_by(Application.year.desc(), Application.number.desc())).all()
    return [entry_row(entry, guardian, pupil) for entry, guardian, pupil in rows]


def file(school, *, guardian_id, pupil_id, choice: dict, filed_on) -> Application:
    """A new entry: the applicant must be a guardian of the pupil in this school, and the
    choice complete (IN-1: e-mail chosen needs an address, SMS a mobile number)."""
    errors = {}
    guardian = db.session.get(Guardian, guardian_id) if isinstance(guardian_id, int) else None
    if guardian is None or guardian.tenant_id != school.id:
        errors["guardian_id"] = [_("Applicant: choose a parent or guardian of this school.")]
    pupil = db.session.get(Pupil, pupil_id) if isinstance(pupil_id, int) else None
    if pupil is None or pupil.tenant_id != school.id:
        errors["pupil_id"] = [_("Pupil: choose a pupil of this school.")]
    elif guardian is not None and db.session.execute(select(GuardianLink.id).where(
            GuardianLink.guardian_id == guardian.id, GuardianLink.pupil_id == pupil.id)).first() is None:
        errors["guardian_id"] = [_("Applicant: %(name)s is not a parent or guardian of this pupil in the school's "
                                   "records.", name=guardian.full_name)]
    if filed_on is None:
        errors["filed_on"] = [_("Date: write the date of the application.")]
    elif filed_on > tenants.local_today(school):
        errors["filed_on"] = [_("Date: the application cannot be dated in the future.")]
    values = {k: choice.get(k) for k in CHOICE_FIELDS}
    cleaned, problems = roster_guardians.check({**values, "application_number": "—",
                                                "application_date": filed_on or tenants.local_today(school)})
    errors.update({k: v for k, v in problems.items() if not k.startswith("application_")})
    if errors:
        raise Refused(errors)
    kept = {k: cleaned[k] for k in CHOICE_FIELDS}
    entry = numbered(Application, school, filed_on.year, lambda number: Application(
        year=filed_on.year, number=number, filed_on=filed_on, guardian_id=guardian.id, pupil_id=pupil.id,
        choice=kept, status="pending", filed_by=current_user.id, tenant_id=school.id,
        region_id=school.path_ids[0]))
    audit.record(tenant_id=school.id, action="application.file", obj_type="application", obj_id=entry.id,
                 after={"number": entry.label, "guardian": guardian.id, "pupil": pupil.id, "choice": kept})
    return entry


def numbered(model, school, year: int, make):
    """A new entry of a register numbered per school and year (``model`` has ``tenant_id``,
    ``year`` and ``number``, unique together): ``make(number)`` with the next number, added.
    Two entries made at once may take the same number: the second takes the next."""
    for attempt in range(5):
        number = (db.session.execute(select(func.max(model.number)).where(
            model.tenant_id == school.id, model.year == year)).scalar_one() or 0) + 1
        entry = make(number)
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
            return entry
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def decide(entry: Application, decision: str, reason: str | None = None) -> Application:
    """The school's decision (its managers only): provide, writing the choice to the
    guardian's record with the entry's number and date (IN-1), or refuse with a reason."""
    school = roster.school_of_row(entry)
    roster.require_manager(school)
    if entry.status != "pending":
        raise Refused.on("decision", _("Application %(number)s is decided already.", number=entry.label), status=409)
    if decision not in ("provided", "refused"):
        raise Refused.on("decision", _("Decision: provide the service or refuse it."))
    if decision == "refused" and not (reason or "").strip():
        raise Refused.on("reason", _("Reason: write why the service is refused."))
    if decision == "provided":
        guardian = db.session.get(Guardian, entry.guardian_id)
        roster_guardians.set_informing(guardian, {**entry.choice, "application_number": entry.label,
                                                  "application_date": entry.filed_on})
    entry.status, entry.decided_on, entry.decided_by = decision, tenants.local_today(school), current_user.id
    entry.refusal_reason = (reason or "").strip() or None if decision == "refused" else None
    db.session.flush()
    audit.record(tenant_id=school.id, action="application.decide", obj_type="application", obj_id=entry.id,
                 before={"status": "pending"}, after={"status": decision, "reason": entry.refusal_reason})
    return entry


def register(school, *, search: str | None = None, status: str | None = None, page: int = 1,
             whole: bool = False) -> dict:
    """The school's entries, newest first, 50 a page (``whole``: all, for the export);
    ``search`` matches the number (7 or 7/2026) or the applicant's or pupil's surname."""
    criteria = [Application.tenant_id == school.id]
    if status in STATUS_LABELS:
        criteria.append(Application.status == status)
    text = (search or "").strip()
    if text:
        number, _slash, year = text.partition("/")
        if number.isdigit():
            criteria.append(Application.number == int(number))
            if year.isdigit():
                criteria.append(Application.year == int(year))
        else:
            like = f"{text.lower()}%"
            criteria.append(or_(func.lower(Guardian.last_name).like(like), func.lower(Pupil.last_name).like(like)))
    base = (select(Application, Guardian, Pupil).join(Guardian, Guardian.id == Application.guardian_id)
            .join(Pupil, Pupil.id == Application.pupil_id).where(*criteria))
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    query = base.order_by(Application.year.desc(), Application.number.desc())
    if not whole:
        query = query.limit(PAGE).offset((max(page, 1) - 1) * PAGE)
    rows = db.session.execute(query).all()
    return {"total": total, "page": max(page, 1), "pages": max(1, -(-total // PAGE)), "search": text or None,
            "status": status if status in STATUS_LABELS else None,
            "rows": [entry_row(entry, guardian, pupil) for entry, guardian, pupil in rows]}


def entry_row(entry, guardian, pupil) -> dict:
    return {"id": entry.id, "number": entry.label, "filed_on": entry.filed_on, "guardian_id": guardian.id,
            "guardian": guardian.full_name, "pupil_id": pupil.id, "pupil": pupil.full_name,
            "channels": entry.choice.get("channels", []),
            "channel_labels": [str(roster_guardians.CHANNEL_LABELS[c]) for c in entry.choice.get("channels", [])],
            "email": entry.choice.get("email"), "phone": entry.choice.get("phone"),
            "status": entry.status, "status_label": str(STATUS_LABELS[entry.status]),
            "decided_on": entry.decided_on, "refusal_reason": entry.refusal_reason}


def xlsx(school, report: dict) -> bytes:
    """The register as a workbook: a title row, the header, one row an entry."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Applications")[:31]
    sheet.append([_("Register of applications for the electronic diary service") + f": {school.name}"])
    sheet["A1"].font = Font(bold=True)
    header = [_("No."), _("Date"), _("Applicant"), _("Pupil"), _("Ways of informing"), _("E-mail"), _("Phone"),
              _("Status"), _("Decided on"), _("Reason for refusal")]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for r in report["rows"]:
        sheet.append([r["number"], r["filed_on"].strftime("%d.%m.%Y"), r["guardian"], r["pupil"],
                      ", ".join(r["channel_labels"]), r["email"] or "", r["phone"] or "", r["status_label"],
                      r["decided_on"].strftime("%d.%m.%Y") if r["decided_on"] else "", r["refusal_reason"] or ""])
    for column, width in zip("ABCDEFGHIJ", (9, 11, 28, 28, 30, 26, 16, 20, 12, 30)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def may_read(school) -> bool:
    return roster.can_manage(school)


def may_apply(school) -> bool:
    """A guardian acting in this school files their own applications."""
    membership = g.get("membership")
    return membership is not None and membership.role == "guardian" and membership.tenant_id == school.id
