"""Guardians: how each chose to be informed (IN-1), recorded from their written application,
and the school's list of guardians by channel (those who chose paper, IN-2).

The choice lives on the ``Guardian`` row, so that whoever records applications (a school
admin on the guardian's page today, the e-services' applications register later) writes it
through :func:`set_informing` and the diary reads it when it notifies."""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core import audit, clock
from core.errors import Refused
from core.extensions import db
from blueprints.roster.models import CHANNELS, Guardian, GuardianLink, Pupil
from blueprints.roster.service import require_manager, school_of_row
from tenants import service as tenants

CHANNEL_LABELS = {"web": _l("Electronic diary (web)"), "email": _l("E-mail"), "sms": _l("SMS"),
                  "paper": _l("Paper printout")}
MODE_LABELS = {"instant": _l("At once, for each entry"), "digest": _l("Once a day, as a digest")}
LANGUAGE_LABELS = {"ru": _l("Russian"), "en": _l("English")}
FIELDS = ("channels", "email", "phone", "application_number", "application_date", "notify_mode", "digest_hour",
          "language")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def informing(guardian: Guardian) -> dict:
    return {"channels": guardian.channels, "email": guardian.email, "phone": guardian.phone,
            "application_number": guardian.application_number, "application_date": guardian.application_date,
            "notify_mode": guardian.notify_mode, "digest_hour": guardian.digest_hour, "language": guardian.language}


def _phone(raw: str) -> str | None:
    """A mobile number as +<digits> (a Russian 8XXXXXXXXXX becomes +7XXXXXXXXXX), or None."""
    digits = re.sub(r"[\s()\-.]", "", raw)
    if re.fullmatch(r"8\d{10}", digits):
        digits = "+7" + digits[1:]
    return digits if re.fullmatch(r"\+\d{10,15}", digits) else None


def check(values: dict) -> tuple[dict, dict]:
    """IN-1: the whole choice, checked. Returns the cleaned values and the errors by field,
    each message naming its field."""
    errors: dict[str, list] = {}

    def fail(field, message):
        errors.setdefault(field, []).append(message)

    channels = values.get("channels") or []
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        fail("channels", _("Unknown way of informing: %(names)s.", names=", ".join(map(str, unknown))))
    channels = [c for c in CHANNELS if c in channels]
    if not channels and not unknown:
        fail("channels", _("Ways of informing: choose at least one, as the application says."))
    email = (values.get("email") or "").strip() or None
    if email and not EMAIL.match(email):
        fail("email", _("E-mail: «%(value)s» is not an e-mail address.", value=email))
    elif "email" in channels and not email:
        fail("email", _("E-mail: the guardian chose e-mail, write their address."))
    phone = (values.get("phone") or "").strip() or None
    if phone:
        normal = _phone(phone)
        if normal is not None:
            phone = normal
        elif "sms" in channels:  # a number kept for calls may stay as written
            fail("phone", _("Phone: write the number with its country code, e.g. +7 912 345-67-89."))
    if "sms" in channels and not phone:
        fail("phone", _("Phone: the guardian chose SMS, write their mobile number."))
    number = (values.get("application_number") or "").strip() or None
    if not number:
        fail("application_number", _("Application No.: write the number of the guardian's written application."))
    date = values.get("application_date")
    if isinstance(date, str):
        try:
            text = date.strip()
            date = (dt.datetime.strptime(text, "%d.%m.%Y").date() if "." in text else dt.date.fromisoformat(text)) \
                if text else None
        except ValueError:
            fail("application_date", _("Application date: write a date, e.g. 01.09.2026."))
            date = None
    if date is None and "application_date" not in errors:
        fail("application_date", _("Application date: write the date of the guardian's written application."))
    elif date is not None and date > clock.today():
        fail("application_date", _("Application date: the application cannot be dated in the future."))
    mode = values.get("notify_mode") or "instant"
    if mode not in MODE_LABELS:
        fail("notify_mode", _("Notifications: choose at once or a daily digest."))
    hour = values.get("digest_hour")
    if isinstance(hour, str):
        hour = int(hour) if hour.strip().isdigit() else -1
    if hour is None:
        hour = 18
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        fail("digest_hour", _("Digest hour: choose an hour from 0 to 23."))
    language = values.get("language") or "ru"
    if language not in current_app.config.get("LANGUAGES", ["ru", "en"]):
        fail("language", _("Language of messages: choose Russian or English."))
    cleaned = {"channels": channels, "email": email, "phone": phone, "application_number": number,
               "application_date": date, "notify_mode": mode, "digest_hour": hour, "language": language}
    return cleaned, errors


def set_informing(guardian: Guardian, values: dict) -> Guardian:
    """Record the guardian's choice (IN-1) from their application: the school's managers
    only; the values given replace the current ones, the rest stay. Audited."""
    school = school_of_row(guardian)
    require_manager(school)
    merged = {**informing(guardian), **{k: v for k, v in values.items() if k in FIELDS}}
    cleaned, errors = check(merged)
    if errors:
        raise Refused(errors)
    before = _audited(informing(guardian))
    for channel in CHANNELS:
        setattr(guardian, f"by_{channel}", channel in cleaned["channels"])
    for field in FIELDS[1:]:
        setattr(guardian, field, cleaned[field])
    db.session.flush()
    audit.record(tenant_id=school.id, action="guardian.informing", obj_type="guardian", obj_id=guardian.id,
                 before=before, after=_audited(informing(guardian)))
    return guardian


def _audited(values: dict) -> dict:
    return {**values, "application_date": values["application_date"].isoformat() if values["application_date"] else None}


def children_of(guardian_ids) -> dict[int, list[Pupil]]:
    """Guardian id to their children in the school's records (one statement)."""
    out: dict[int, list[Pupil]] = {}
    if not guardian_ids:
        return out
    for guardian_id, pupil in db.session.execute(
            select(GuardianLink.guardian_id, Pupil).join(Pupil, Pupil.id == GuardianLink.pupil_id)
            .where(GuardianLink.guardian_id.in_(list(guardian_ids))).order_by(Pupil.last_name, Pupil.first_name)):
        out.setdefault(guardian_id, []).append(pupil)
    return out


def list_statement(school, *, channel: str | None = None, q: str | None = None):
    """The school's guardians, by surname, optionally those who chose ``channel`` (paper:
    the printouts' list, IN-2) or whose surname starts with ``q``."""
    stmt = select(Guardian).where(Guardian.tenant_id == school.id).order_by(Guardian.last_name, Guardian.first_name,
                                                                            Guardian.id)
    if channel in CHANNELS:
        stmt = stmt.where(getattr(Guardian, f"by_{channel}").is_(True))
    if q:
        stmt = stmt.where(or_(func.lower(Guardian.last_name).like(f"{q.lower()}%"),
                              func.lower(Guardian.application_number) == q.lower()))
    return stmt


def school_name(guardian: Guardian) -> str:
    return tenants.load(guardian.tenant_id).display_name
