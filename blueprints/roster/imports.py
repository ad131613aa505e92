"""Imports of pupils with guardians, staff, and the timetable (CSV or XLSX).

Each kind has its template columns, a ``check`` that validates every row against the file
and the school, and an ``apply`` that writes all rows in the caller's transaction. The
caller commits only when no row was rejected."""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, tabular
from core.accounts import service as accounts
from core.extensions import db
from blueprints.roster import schedule, school_classes, service, teaching
from blueprints.roster.models import Enrolment, Guardian, GuardianLink, Pupil, Staff, TimetableEntry

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WEEKDAY_WORDS = {"пн": 1, "понедельник": 1, "вт": 2, "вторник": 2, "ср": 3, "среда": 3, "чт": 4, "четверг": 4,
                 "пт": 5, "пятница": 5, "сб": 6, "суббота": 6}


def _email(raw):
    value = str(raw).strip().lower()
    if not EMAIL.match(value):
        raise ValueError(_("Not an e-mail address: «%(value)s».", value=raw))
    return value


def _phone(raw):
    digits = re.sub(r"\D", "", tabular.parse_text(raw))
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10:
        return "+7" + digits
    raise ValueError(_("Not a phone number: «%(value)s». Write it as +7 900 123-45-67.", value=raw))


def _weekday(raw):
    text = tabular.parse_text(raw).lower().rstrip(".")
    if text.isdigit() and 1 <= int(text) <= 6:
        return int(text)
    if text in WEEKDAY_WORDS:
        return WEEKDAY_WORDS[text]
    raise ValueError(_("Not a day of the week: «%(value)s».", value=raw))


def _split_name(full: str) -> tuple[str, str, str | None]:
    parts = full.split()
    if len(parts) < 2:
        raise ValueError(_("Write the surname and the name: «%(value)s».", value=full))
    last, first, middle = parts[0], parts[1], " ".join(parts[2:]) or None
    limit = tabular.length_of(Guardian.last_name)
    if max(len(last), len(first), len(middle or "")) > limit:
        raise ValueError(_("A part of the name is longer than %(max)s characters.", max=limit))
    return last, first, middle


def _guardian_columns(n):
    return [
        tabular.Column(f"Представитель {n}: ФИО", f"g{n}_name", parse=tabular.parse_text,
                       example="Новиков Дмитрий Алексеевич" if n == 1 else ""),
        tabular.Column(f"Представитель {n}: телефон", f"g{n}_phone", parse=_phone,
                       example="+7 912 345-67-89" if n == 1 else "", max_length=tabular.length_of(Guardian.phone) * 2),
        tabular.Column(f"Представитель {n}: e-mail", f"g{n}_email", parse=_email,
                       example="novikov@example.ru" if n == 1 else "", max_length=tabular.length_of(Guardian.email)),
        tabular.Column(f"Представитель {n}: кем приходится", f"g{n}_relation", parse=tabular.parse_text,
                       example="отец" if n == 1 else "", max_length=tabular.length_of(GuardianLink.relation)),
    ]


PUPIL_COLUMNS = [
    tabular.Column("Фамилия", "last_name", required=True, parse=tabular.parse_text, example="Новикова",
                   max_length=tabular.length_of(Pupil.last_name)),
    tabular.Column("Имя", "first_name", required=True, parse=tabular.parse_text, example="Мария",
                   max_length=tabular.length_of(Pupil.first_name)),
    tabular.Column("Отчество", "middle_name", parse=tabular.parse_text, example="Дмитриевна",
                   max_length=tabular.length_of(Pupil.middle_name)),
    tabular.Column("Дата рождения", "birth_date", required=True, parse=tabular.parse_date, example="14.03.2015"),
    tabular.Column("Номер личного дела", "file_number", required=True, parse=tabular.parse_text, example="Н-1234",
                   max_length=tabular.length_of(Pupil.file_number)),
    tabular.Column("Класс", "class_name", required=True, parse=tabular.parse_text, example="5а"),
    *_guardian_columns(1), *_guardian_columns(2),
]
STAFF_COLUMNS = [
    tabular.Column("Фамилия", "last_name", required=True, parse=tabular.parse_text, example="Морозова",
                   max_length=tabular.length_of(Staff.last_name)),
    tabular.Column("Имя", "first_name", required=True, parse=tabular.parse_text, example="Анна",
                   max_length=tabular.length_of(Staff.first_name)),
    tabular.Column("Отчество", "middle_name", parse=tabular.parse_text, example="Сергеевна",
                   max_length=tabular.length_of(Staff.middle_name)),
    tabular.Column("Должность", "position", required=True, parse=tabular.parse_text, example="учитель математики",
                   max_length=tabular.length_of(Staff.position)),
    tabular.Column("Логин", "login", required=True, parse=tabular.parse_text, example="morozova",
                   max_length=tabular.length_of(Staff.login)),
    tabular.Column("E-mail", "email", parse=_email, example="morozova@school12.example",
                   max_length=tabular.length_of(Staff.email)),
]
TIMETABLE_COLUMNS = [
    tabular.Column("Класс", "class_name", required=True, parse=tabular.parse_text, example="5а"),
    tabular.Column("День недели", "weekday", required=True, parse=_weekday, example="Пн"),
    tabular.Column("Урок", "period", required=True, parse=tabular.parse_int, example="1"),
    tabular.Column("Предмет", "subject", required=True, parse=tabular.parse_text, example="Математика"),
    tabular.Column("Учитель (логин)", "teacher", required=True, parse=tabular.parse_text, example="morozova"),
    tabular.Column("Кабинет", "room", parse=tabular.parse_text, example="21",
                   max_length=tabular.length_of(TimetableEntry.room)),
    tabular.Column("Подгруппа", "subgroup", parse=tabular.parse_text, example="",
                   max_length=tabular.length_of(TimetableEntry.subgroup)),
]
KINDS = {"pupils": PUPIL_COLUMNS, "staff": STAFF_COLUMNS, "timetable": TIMETABLE_COLUMNS}
TITLES = {"pupils": _l("Pupils"), "staff": _l("Staff"), "timetable": _l("Timetable")}
#: What an import's summary counts, as a person reads it.
SUMMARY_LABELS = {"created": _l("created"), "updated": _l("updated"), "unchanged": _l("unchanged"),
                  "guardians_created": _l("guardians added"), "entries": _l("timetable entries")}


def check(kind, school, year, parsed: tabular.Parsed) -> tabular.Parsed:
    {"pupils": _check_pupils, "staff": _check_staff, "timetable": _check_timetable}[kind](school, year, parsed)
    return parsed


def apply(kind, school, year, parsed: tabular.Parsed, issued_by_id=None) -> dict:
    return {"pupils": _apply_pupils, "staff": _apply_staff, "timetable": _apply_timetable}[kind](
        school, year, parsed, issued_by_id)


def run(kind, school, year, filename, data, *, commit: bool, issued_by_id=None, permission_checked=False):
    """Parse and check; with ``commit`` and no rejected row, apply. Returns (parsed, summary).
    ``permission_checked`` is for a job whose starter's permission was checked at start."""
    if not permission_checked:
        service.require_manager(school)
    parsed = check(kind, school, year, tabular.parse(filename, data, KINDS[kind]))
    if not commit or parsed.errors:
        return parsed, None
    summary = apply(kind, school, year, parsed, issued_by_id)
    audit.record(tenant_id=school.id, action=f"import.{kind}", obj_type="import", obj_id=filename[:64],
                 after=summary if kind != "staff" else {k: v for k, v in summary.items() if k != "codes"})
    return parsed, summary


# Pupils ------------------------------------------------------------------------------------------

def _check_pupils(school, year, parsed):
    classes = {c.name: c for c in school_classes.classes_of(year)}
    enrolled = dict(db.session.execute(
        select(Pupil.file_number, Enrolment.class_id).join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Pupil.tenant_id == school.id, Enrolment.year_id == year.id)).all())
    seen: dict[str, int] = {}
    oldest, youngest = year.starts_on.replace(year=year.starts_on.year - 20), year.starts_on.replace(year=year.starts_on.year - 5)
    for row in parsed.rows:
        number = row["_row"]
        birth = row.get("birth_date")
        if birth and not oldest <= birth <= youngest:
            parsed.reject(number, "Дата рождения", _("A pupil born on %(date)s would be %(age)s on %(start)s.",
                                                     date=birth.strftime("%d.%m.%Y"),
                                                     age=(year.starts_on - birth).days // 365,
                                                     start=year.starts_on.strftime("%d.%m.%Y")))
        name = (row.get("class_name") or "").replace(" ", "").lower()
        school_class = classes.get(name)
        if row.get("class_name") and school_class is None:
            parsed.reject(number, "Класс", _("No class %(name)s in %(year)s.", name=row["class_name"], year=year.name))
        file_number = row.get("file_number")
        if file_number:
            if file_number in seen:
                parsed.reject(number, "Номер личного дела",
                              _("The same personal file number is in row %(row)s.", row=seen[file_number]))
            seen[file_number] = number
            if school_class is not None and enrolled.get(file_number) not in (None, school_class.id):
                parsed.reject(number, "Класс", _("The pupil is already in another class this year."))
        row["_class"] = school_class
        for n in (1, 2):
            if row.get(f"g{n}_name"):
                try:
                    _split_name(row[f"g{n}_name"])
                except ValueError as error:
                    parsed.reject(number, f"Представитель {n}: ФИО", str(error))
                if not row.get(f"g{n}_phone") and not row.get(f"g{n}_email"):
                    parsed.reject(number, f"Представитель {n}: телефон",
                                  _("Give the guardian's phone or e-mail: they must be reachable."))
            elif row.get(f"g{n}_phone") or row.get(f"g{n}_email"):
                parsed.reject(number, f"Представитель {n}: ФИО", _("Give the guardian's full name."))


def _apply_pupils(school, year, parsed, issued_by_id):
    owned = {"tenant_id": school.id, "region_id": service.region_id_of(school)}
    pupils = {p.file_number: p for p in db.session.execute(select(Pupil).where(Pupil.tenant_id == school.id)).scalars()}
    enrolments = {e.pupil_id: e for e in db.session.execute(
        select(Enrolment).where(Enrolment.tenant_id == school.id, Enrolment.year_id == year.id)).scalars()}
    guardians_of: dict[int, list[Guardian]] = {}
    for link, guardian in db.session.execute(
            select(GuardianLink, Guardian).join(Guardian, Guardian.id == GuardianLink.guardian_id)
            .where(GuardianLink.tenant_id == school.id)).all():
        guardians_of.setdefault(link.pupil_id, []).append(guardian)
    summary = {"created": 0, "updated": 0, "unchanged": 0, "guardians_created": 0}
    for row in parsed.rows:
        pupil = pupils.get(row["file_number"])
        values = {"last_name": row["last_name"], "first_name": row["first_name"],
                  "middle_name": row.get("middle_name"), "birth_date": row["birth_date"]}
        if pupil is None:
            pupil = Pupil(file_number=row["file_number"], **values, **owned)
            db.session.add(pupil)
            db.session.flush()
            pupils[pupil.file_number] = pupil
            summary["created"] += 1
        elif any(getattr(pupil, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(pupil, key, value)
            summary["updated"] += 1
        else:
            summary["unchanged"] += 1
        if pupil.id not in enrolments:
            enrolments[pupil.id] = Enrolment(pupil_id=pupil.id, class_id=row["_class"].id, year_id=year.id,
                                             from_on=year.starts_on,  # the class's pupil for the whole year
                                             reason="enrolled", **owned)
            db.session.add(enrolments[pupil.id])
        for n in (1, 2):
            if not row.get(f"g{n}_name"):
                continue
            last, first, middle = _split_name(row[f"g{n}_name"])
            known = guardians_of.setdefault(pupil.id, [])
            guardian = next((x for x in known if (x.last_name, x.first_name, x.middle_name) == (last, first, middle)), None)
            if guardian is None:
                guardian = Guardian(last_name=last, first_name=first, middle_name=middle, **owned)
                db.session.add(guardian)
                db.session.flush()
                db.session.add(GuardianLink(pupil_id=pupil.id, guardian_id=guardian.id,
                                            relation=row.get(f"g{n}_relation"), **owned))
                known.append(guardian)
                summary["guardians_created"] += 1
            guardian.phone = row.get(f"g{n}_phone") or guardian.phone
            guardian.email = row.get(f"g{n}_email") or guardian.email
    db.session.flush()
    return summary


# Staff -------------------------------------------------------------------------------------------

def _check_staff(school, year, parsed):
    seen = {}
    for row in parsed.rows:
        login = accounts.normalise_login(row.get("login") or "")
        if login in seen:
            parsed.reject(row["_row"], "Логин", _("The same login is in row %(row)s.", row=seen[login]))
        seen[login] = row["_row"]
    existing = {s.login for s in db.session.execute(select(Staff).where(Staff.tenant_id == school.id)).scalars()}
    for row in parsed.rows:
        login = accounts.normalise_login(row.get("login") or "")
        if login and login not in existing and accounts.login_taken(login):
            parsed.reject(row["_row"], "Логин", _("This login is already taken."))


def _apply_staff(school, year, parsed, issued_by_id):
    import secrets

    summary = {"created": 0, "updated": 0, "codes": []}
    for row in parsed.rows:
        staff, created = teaching.upsert_staff(
            school, last_name=row["last_name"], first_name=row["first_name"], middle_name=row.get("middle_name"),
            position=row["position"], login=row["login"], email=row.get("email"),
            password=secrets.token_urlsafe(24))
        summary["created" if created else "updated"] += 1
        if created:
            user = db.session.execute(select(accounts.User).where(accounts.User.id == staff.user_id)).scalar_one()
            code = accounts.issue_code(user, tenant_id=school.id, issued_by_id=issued_by_id)
            summary["codes"].append({"login": staff.login, "name": staff.full_name, "code": code})
    return summary


# Timetable ---------------------------------------------------------------------------------------

def _check_timetable(school, year, parsed):
    classes = {c.name: c for c in school_classes.classes_of(year)}
    staff = {s.login: s for s in db.session.execute(select(Staff).where(Staff.tenant_id == school.id)).scalars()}
    bells = {p.number for p in schedule.bell_schedule(school)}
    subjects = {s.name.lower(): s for s in teaching.subjects_for(school)}
    subjects.update({(s.short_name or "").lower(): s for s in teaching.subjects_for(school) if s.short_name})
    taken = {(e.weekday, e.period, e.teacher_id): e for e in db.session.execute(
        select(TimetableEntry).where(TimetableEntry.year_id == year.id)).scalars()}
    class_slots = {(e.weekday, e.period, e.class_id, e.subgroup): e for e in taken.values()}
    in_file_teacher, in_file_class = {}, {}
    for row in parsed.rows:
        number = row["_row"]
        school_class = classes.get((row.get("class_name") or "").replace(" ", "").lower())
        if row.get("class_name") and school_class is None:
            parsed.reject(number, "Класс", _("No class %(name)s in %(year)s.", name=row["class_name"], year=year.name))
        teacher = staff.get(accounts.normalise_login(row.get("teacher") or ""))
        if row.get("teacher") and teacher is None:
            parsed.reject(number, "Учитель (логин)", _("No staff member with the login «%(login)s».", login=row["teacher"]))
        subject = subjects.get((row.get("subject") or "").lower())
        if row.get("subject") and subject is None:
            parsed.reject(number, "Предмет", _("Unknown subject «%(name)s». Add it to the list first.", name=row["subject"]))
        if row.get("period") is not None and row["period"] not in bells:
            parsed.reject(number, "Урок", _("Lesson %(n)s is not in the bell schedule.", n=row["period"]))
        row.update(_class=school_class, _teacher=teacher, _subject=subject)
        if not (school_class and teacher and subject and row.get("weekday") and row.get("period") in bells):
            continue
        subgroup = row.get("subgroup") or ""
        same = lambda e: (e.class_id, e.subject_id, e.subgroup) == (school_class.id, subject.id, subgroup)  # noqa: E731
        slot = (row["weekday"], row["period"])
        other = taken.get((*slot, teacher.id))
        if (*slot, teacher.id) in in_file_teacher or (other is not None and not same(other)):
            parsed.reject(number, "Учитель (логин)", _("%(teacher)s already teaches in this slot.", teacher=teacher.short_name))
        in_file_teacher[(*slot, teacher.id)] = number
        other_class = class_slots.get((*slot, school_class.id, subgroup))
        if (*slot, school_class.id, subgroup) in in_file_class or (other_class is not None and not same(other_class)):
            parsed.reject(number, "Класс", _("The class already has a lesson in this slot."))
        in_file_class[(*slot, school_class.id, subgroup)] = number


def _apply_timetable(school, year, parsed, issued_by_id):
    summary = {"entries": 0}
    for row in parsed.rows:
        schedule.add_timetable_entry(year, weekday=row["weekday"], period=row["period"], school_class=row["_class"],
                                     subject=row["_subject"], teacher=row["_teacher"],
                                     subgroup=row.get("subgroup") or "", room=row.get("room"))
        summary["entries"] += 1
    return summary
