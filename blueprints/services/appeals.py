"""The register of appeals (SV-3): complaints, requests and information requests made to a
school, numbered per school and year, each due by the regulation
(``services.complaint_answer_days`` for a complaint, ``services.request_answer_days`` for
the others, from the day it was received), with the person responsible for the answer; an
appeal unanswered past its day is flagged overdue. Searchable, exportable to XLSX, every
entry and answer audited."""
from __future__ import annotations

import datetime as dt
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select

from core import audit
from core.errors import Refused
from core.extensions import db
from blueprints.roster import service as roster
from blueprints.services.applications import numbered
from blueprints.services.models import Appeal
from tenants import service as tenants

PAGE = 50
KIND_LABELS = {"complaint": _l("complaint"), "request": _l("request"), "information": _l("information request")}
STATUS_LABELS = {"open": _l("awaiting the answer"), "overdue": _l("overdue"), "answered": _l("answered")}
LIMITS = {"applicant": 255, "contact": 255, "responsible": 255, "text": 4000, "answer": 4000}


def due_on(school, kind: str, received_on: dt.date) -> dt.date:
    document = tenants.effective(school, received_on).document["services"]
    days = document["complaint_answer_days"] if kind == "complaint" else document["request_answer_days"]
    return received_on + dt.timedelta(days=days)


def status_of(entry: Appeal, today: dt.date) -> str:
    if entry.answered_on is not None:
        return "answered"
    return "overdue" if entry.due_on < today else "open"


def _text(values, field, errors, message, required=True):
    value = (values.get(field) or "").strip()
    if required and not value:
        errors[field] = [message]
    elif len(value) > LIMITS[field]:
        errors[field] = [_("%(field)s: at most %(n)s characters.", field=message.split(":")[0], n=LIMITS[field])]
    return value or None


def record(school, values: dict, received_on) -> Appeal:
    """A new appeal: its kind, who made it, the text, who answers; due by the regulation."""
    errors = {}
    kind = values.get("kind")
    if kind not in KIND_LABELS:
        errors["kind"] = [_("Kind: choose a complaint, a request or an information request.")]
    applicant = _text(values, "applicant", errors, _("Applicant: write who made the appeal."))
    contact = _text(values, "contact", errors, _("Contact: an address or a phone for the answer."), required=False)
    text = _text(values, "text", errors, _("Text: write what the appeal is about."))
    responsible = _text(values, "responsible", errors, _("Responsible: write who prepares the answer."))
    today = tenants.local_today(school)
    if received_on is None:
        errors["received_on"] = [_("Received: write the date the appeal came in.")]
    elif received_on > today:
        errors["received_on"] = [_("Received: the date cannot be in the future.")]
    if errors:
        raise Refused(errors)
    due = due_on(school, kind, received_on)
    entry = numbered(Appeal, school, received_on.year, lambda number: Appeal(
        year=received_on.year, number=number, kind=kind, received_on=received_on, due_on=due, applicant=applicant,
        contact=contact, text=text, responsible=responsible, recorded_by=current_user.id, tenant_id=school.id,
        region_id=school.path_ids[0]))
    audit.record(tenant_id=school.id, action="appeal.record", obj_type="appeal", obj_id=entry.id,
                 after={"number": entry.label, "kind": kind, "due_on": due.isoformat(), "responsible": responsible})
    return entry


def answer(entry: Appeal, text: str | None, answered_on) -> Appeal:
    school = roster.school_of_row(entry)
    roster.require_manager(school)
    if entry.answered_on is not None:
        raise Refused.on("answer", _("Appeal %(number)s is answered already.", number=entry.label), status=409)
    errors = {}
    value = _text({"answer": text}, "answer", errors, _("Answer: write the answer given."))
    if answered_on is None:
        errors["answered_on"] = [_("Answered on: write the date of the answer.")]
    elif answered_on < entry.received_on or answered_on > tenants.local_today(school):
        errors["answered_on"] = [_("Answered on: a date from the day it was received to today.")]
    if errors:
        raise Refused(errors)
    entry.answer, entry.answered_on = value, answered_on
    db.session.flush()
    audit.record(tenant_id=school.id, action="appeal.answer", obj_type="appeal", obj_id=entry.id,
                 after={"answered_on": answered_on.isoformat(), "late": answered_on > entry.due_on})
    return entry


def register(school, *, search: str | None = None, status: str | None = None, page: int = 1,
             whole: bool = False) -> dict:
    """The school's appeals, newest first, 50 a page; ``status`` open, overdue or answered;
    ``search`` matches the number (3 or 3/2026), the applicant or the responsible person."""
    today = tenants.local_today(school)
    criteria = [Appeal.tenant_id == school.id]
    if status == "answered":
        criteria.append(Appeal.answered_on.is_not(None))
    elif status == "overdue":
        criteria += [Appeal.answered_on.is_(None), Appeal.due_on < today]
    elif status == "open":
        criteria += [Appeal.answered_on.is_(None), Appeal.due_on >= today]
    text = (search or "").strip()
    if text:
        number, _slash, year = text.partition("/")
        if number.isdigit():
            criteria.append(Appeal.number == int(number))
            if year.isdigit():
                criteria.append(Appeal.year == int(year))
        else:
            like = f"%{text.lower()}%"
            criteria.append(or_(func.lower(Appeal.applicant).like(like), func.lower(Appeal.responsible).like(like)))
    total = db.session.execute(select(func.count()).select_from(Appeal).where(*criteria)).scalar_one()
    query = select(Appeal).where(*criteria).order_by(Appeal.year.desc(), Appeal.number.desc())
    if not whole:
        query = query.limit(PAGE).offset((max(page, 1) - 1) * PAGE)
    rows = db.session.execute(query).scalars().all()
    return {"total": total, "page": max(page, 1), "pages": max(1, -(-total // PAGE)), "search": text or None,
            "status": status if status in STATUS_LABELS else None, "rows": [entry_row(e, today) for e in rows]}


def entry_row(entry: Appeal, today: dt.date) -> dict:
    status = status_of(entry, today)
    return {"id": entry.id, "number": entry.label, "kind": entry.kind, "kind_label": str(KIND_LABELS[entry.kind]),
            "received_on": entry.received_on, "due_on": entry.due_on, "applicant": entry.applicant,
            "contact": entry.contact, "text": entry.text, "responsible": entry.responsible, "answer": entry.answer,
            "answered_on": entry.answered_on, "status": status, "status_label": str(STATUS_LABELS[status]),
            "late": entry.answered_on is not None and entry.answered_on > entry.due_on}


def xlsx(school, report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Appeals")[:31]
    sheet.append([_("Register of complaints, requests and information requests") + f": {school.name}"])
    sheet["A1"].font = Font(bold=True)
    sheet.append([_("No."), _("Kind"), _("Received"), _("Due"), _("Applicant"), _("Contact"), _("Text"),
                  _("Responsible"), _("Status"), _("Answered on"), _("Answer")])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    day = lambda d: d.strftime("%d.%m.%Y") if d else ""  # noqa: E731
    for r in report["rows"]:
        sheet.append([r["number"], r["kind_label"], day(r["received_on"]), day(r["due_on"]), r["applicant"],
                      r["contact"] or "", r["text"], r["responsible"], r["status_label"], day(r["answered_on"]),
                      r["answer"] or ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
