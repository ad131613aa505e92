"""The platform's own sections of the regulation document: those every module reads
(calendar, grading, deadlines, security) and those still awaiting the module that will
declare them beside its code (printing, retention, informing, the e-service catalogue).

``tenants.init_app`` registers them; a feature declares its own section from its own
``init_app`` the same way (docs/ARCHITECTURE.md, "Regulations"). The ``order`` of each
is its place in the document: the platform's take tens, leaving room between them.
"""
from __future__ import annotations

import re

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.i18n import between
from tenants.regulations import Section, StrictSchema

MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
PERIOD_KINDS = ("quarter", "trimester", "half_year", "year")
PERIOD_WORDS = {"quarter": _l("quarters"), "trimester": _l("trimesters"), "half_year": _l("half-years"),
                "year": _l("the whole year")}
DEADLINE_RULES = ("end_of_lesson_day", "after_last_lesson")


# ``metadata["widget"]`` tells the admin page's form how to show a field
# (tenants/regulation_words.py): a grade level, a range of two levels, a month and a day.
def _level():
    return ma.fields.Integer(strict=True, validate=between(1, 11), metadata={"widget": "level"})


def _level_range(**kwargs):
    return ma.fields.List(_level(), validate=_valid_range, metadata={"widget": "range"}, **kwargs)


def _month_day_field():
    return ma.fields.String(validate=_month_day, metadata={"widget": "month_day"})


# A validator words its message when it runs (gettext, not lazy_gettext): marshmallow takes
# any message that is not a str for a list of messages, and a lazy string would reach the
# user one character per entry.
def _valid_range(value):
    if len(value) != 2 or value[0] > value[1]:
        raise ma.ValidationError(_("A grade level range is two levels, lowest first (e.g. [2, 9])."))


def _month_day(value):
    if not MONTH_DAY.match(value or ""):
        raise ma.ValidationError(_("Use the form MM-DD (e.g. 09-01)."))


# Calendar -----------------------------------------------------------------------------------

class PeriodSchema(StrictSchema):
    levels = _level_range(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(PERIOD_KINDS))


class CalendarSchema(StrictSchema):
    year_start = _month_day_field()
    year_end = _month_day_field()
    periods = ma.fields.List(ma.fields.Nested(PeriodSchema), validate=ma.validate.Length(min=1))


CALENDAR = Section(
    key="calendar", order=10, schema=CalendarSchema,
    defaults={
        "year_start": "09-01",
        "year_end": "08-31",
        "periods": [
            {"levels": [1, 9], "kind": "quarter"},
            {"levels": [10, 11], "kind": "half_year"},
        ],
    },
    title=_l("School calendar"),
    labels={
        "year_start": _l("Start of the school year"),
        "year_end": _l("End of the school year"),
        "periods": _l("Reporting periods by grade level"),
        "periods.*.levels": _l("Grade levels"),
        "periods.*.kind": _l("Periods"),
    },
    help={
        "year_start": _l("The first day of the school year."),
        "year_end": _l("The last day of the school year."),
        "periods": _l("How the year is divided into reporting periods for each range of grade levels."),
    },
    choices={"periods.*.kind": PERIOD_WORDS},
)


# Grading (GR-1, GR-2) ------------------------------------------------------------------------

class WorkTypeSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=8))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(("oral", "written")))
    # The weight of the work type in the suggested final mark when final_mark_rule is weighted.
    weight = ma.fields.Integer(strict=True, validate=between(1, 10))


class GradingSchema(StrictSchema):
    scale = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=8)),
                           validate=ma.validate.Length(min=2))
    passing = ma.fields.List(ma.fields.String())
    quality = ma.fields.List(ma.fields.String())
    ungraded_levels = ma.fields.List(_level())
    work_types = ma.fields.List(ma.fields.Nested(WorkTypeSchema), validate=ma.validate.Length(min=1))
    final_mark_rule = ma.fields.String(validate=ma.validate.OneOf(("mean", "weighted")))
    min_grades_per_period = ma.fields.Integer(strict=True, validate=between(0, 100))


def _grading_errors(grading: dict) -> dict:
    errors = {}
    scale = set(grading["scale"])
    if not set(grading["passing"]) <= scale:
        errors["passing"] = [str(_l("Every passing mark must be on the grading scale."))]
    if not set(grading["quality"]) <= set(grading["passing"]):
        errors["quality"] = [str(_l("Every quality mark must also be a passing mark."))]
    codes = [w["code"] for w in grading["work_types"]]
    if len(codes) != len(set(codes)):
        errors["work_types"] = [str(_l("Work type codes must be unique."))]
    return errors


GRADING = Section(
    key="grading", order=20, schema=GradingSchema, check=_grading_errors,
    defaults={  # GR-1, GR-2
        "scale": ["1", "2", "3", "4", "5"],
        "passing": ["3", "4", "5"],  # MO-2 progress rate
        "quality": ["4", "5"],  # MO-2 quality rate
        "ungraded_levels": [1],  # GR-2
        "work_types": [
            {"code": "У", "name": "Устный ответ", "kind": "oral"},
            {"code": "КР", "name": "Контрольная работа", "kind": "written"},
            {"code": "ПР", "name": "Практическая работа", "kind": "written"},
            {"code": "ДЗ", "name": "Домашняя работа", "kind": "written"},
        ],
        "final_mark_rule": "mean",
        "min_grades_per_period": 3,  # MO-1 grade accumulation norm
    },
    title=_l("Grading"),
    labels={
        "scale": _l("Grading scale"),
        "passing": _l("Passing marks (progress rate)"),
        "quality": _l("Quality marks (quality rate)"),
        "ungraded_levels": _l("Ungraded grade levels"),
        "work_types": _l("Work types"),
        "work_types.*.code": _l("Code"),
        "work_types.*.name": _l("Name"),
        "work_types.*.kind": _l("Kind of work"),
        "work_types.*.weight": _l("Weight"),
        "final_mark_rule": _l("Suggested final mark rule"),
        "min_grades_per_period": _l("Minimum grades per pupil and subject in a period"),
    },
    help={
        "scale": _l("The marks a teacher may give, lowest first."),
        "passing": _l("Marks that count as passed in the progress rate; each must be on the scale."),
        "quality": _l("Marks that count for the quality rate; each must also be a passing mark."),
        "ungraded_levels": _l("Pupils of these grade levels get no marks."),
        "work_types": _l("The kinds of work a grade column may carry; oral or written decides the grade's deadline. "
                         "The weight counts when the final mark is a weighted average."),
        "final_mark_rule": _l("How the journal suggests a period's mark from the current marks."),
        "min_grades_per_period": _l("A pupil with fewer grades in a subject by the end of a period is below the norm in the reports."),
    },
    units={"min_grades_per_period": "marks"},
    choices={
        "work_types.*.kind": {"oral": _l("oral"), "written": _l("written")},
        "final_mark_rule": {"mean": _l("the average of the marks"),
                            "weighted": _l("the average weighted by work type")},
    },
)


# Deadlines (DL-1..DL-4, in the school's local time: DL-5) ---------------------------------

class DeadlineRuleSchema(StrictSchema):
    rule = ma.fields.String(validate=ma.validate.OneOf(DEADLINE_RULES))
    hours = ma.fields.Integer(strict=True, validate=between(0, 72))


class GradeDeadlineSchema(StrictSchema):
    days = ma.fields.Integer(strict=True, validate=between(0, 60))
    levels = _level_range()


class GradeDeadlinesSchema(StrictSchema):
    oral = ma.fields.Nested(GradeDeadlineSchema)
    written = ma.fields.Nested(GradeDeadlineSchema)


class DeadlinesSchema(StrictSchema):
    topic = ma.fields.Nested(DeadlineRuleSchema)
    attendance = ma.fields.Nested(DeadlineRuleSchema)
    homework = ma.fields.Nested(DeadlineRuleSchema)
    grade = ma.fields.Nested(GradeDeadlinesSchema)
    results_visible_days = ma.fields.Integer(strict=True, validate=between(0, 60))
    lock_after_period_days = ma.fields.Integer(strict=True, validate=between(0, 120))
    grades_and_absences_ahead = ma.fields.Boolean(truthy={True}, falsy={False})


def _deadline_errors(deadlines: dict) -> dict:
    errors = {}
    for key in ("topic", "attendance", "homework"):
        rule = deadlines[key]
        if rule.get("rule") == "after_last_lesson" and rule.get("hours") is None:
            errors[f"{key}.hours"] = [str(_l("Set the hours for this rule."))]
    return errors


DEADLINES = Section(
    key="deadlines", order=30, schema=DeadlinesSchema, check=_deadline_errors,
    defaults={
        "topic": {"rule": "end_of_lesson_day"},  # DL-1
        "attendance": {"rule": "end_of_lesson_day"},  # DL-1
        "homework": {"rule": "after_last_lesson", "hours": 1},  # DL-2
        "grade": {  # read by blueprints/journal/deadlines.py, grade_due
            "oral": {"days": 1, "levels": [2, 9]},
            "written": {"days": 3, "levels": [2, 9]},
        },
        "results_visible_days": 3,  # DL-4
        "lock_after_period_days": 5,
        # DL-2 lets topics and homework be planned ahead, not grades or absences: those wait
        # for the lesson's local day (DL-5) unless a region allows them earlier.
        "grades_and_absences_ahead": False,
    },
    bounds={
        "*.hours": "down",
        "grade.*.days": "down",
        "results_visible_days": "down",
        "lock_after_period_days": "down",
    },
    # The hours of a deadline rule are optional; they follow their rule.
    optional={"topic.hours": "topic.rule", "attendance.hours": "attendance.rule"},
    title=_l("Entry deadlines"),
    labels={
        "topic.rule": _l("Lesson topic: deadline rule"),
        "topic.hours": _l("Lesson topic: hours after the last lesson"),
        "attendance.rule": _l("Attendance: deadline rule"),
        "attendance.hours": _l("Attendance: hours after the last lesson"),
        "homework.rule": _l("Homework: deadline rule"),
        "homework.hours": _l("Homework: hours after the last lesson"),
        "grade.oral.days": _l("Oral answer grades: days to enter"),
        "grade.oral.levels": _l("Oral answer grades: grade levels bound"),
        "grade.written.days": _l("Written work grades: days to enter"),
        "grade.written.levels": _l("Written work grades: grade levels bound"),
        "results_visible_days": _l("Final and exam results visible within"),
        "lock_after_period_days": _l("Time until a period locks after it ends"),
        "grades_and_absences_ahead": _l("Grades and absences before the lesson's day"),
    },
    help={
        "topic.rule": _l("When a lesson's topic is due, in the school's local time."),
        "topic.hours": _l("Only for the rule «a set number of hours after the class's last lesson»."),
        "attendance.rule": _l("When the absent pupils of a lesson are due, in the school's local time."),
        "attendance.hours": _l("Only for the rule «a set number of hours after the class's last lesson»."),
        "homework.rule": _l("When a lesson's homework is due, in the school's local time."),
        "homework.hours": _l("Counted from the end of the class's last lesson of that day."),
        "grade.oral.days": _l("A grade for an oral answer is due by the end of this day after the lesson (0: the lesson day)."),
        "grade.oral.levels": _l("Only grades of these levels have the deadline; others have none."),
        "grade.written.days": _l("A grade for written, control or test work is due by the end of this day after the lesson."),
        "grade.written.levels": _l("Only grades of these levels have the deadline; others have none."),
        "results_visible_days": _l("Final and exam marks are shown to pupils and parents no later than this after they are entered."),
        "lock_after_period_days": _l("After that only a school admin may change the period's entries, giving a reason."),
        "grades_and_absences_ahead": _l("Topics and homework may always be entered ahead. Grades and absence marks "
                                        "are accepted from the lesson's day (in the school's time zone) unless this is allowed."),
    },
    units={"*.hours": "hours", "grade.*.days": "days", "results_visible_days": "days",
           "lock_after_period_days": "days"},
    choices={"*.rule": {"end_of_lesson_day": _l("by the end of the lesson day"),
                        "after_last_lesson": _l("a set number of hours after the class's last lesson")},
             "grades_and_absences_ahead": {True: _l("allowed"), False: _l("not allowed")}},
)


# Printing, retention, informing (PR-1, PR-3, RT-1, IN-2, IN-4) -----------------------------

class PrintPeriodSchema(StrictSchema):
    levels = _level_range(required=True)
    every = ma.fields.String(required=True, validate=ma.validate.OneOf(PERIOD_KINDS))


class PrintingSchema(StrictSchema):
    periods = ma.fields.List(ma.fields.Nested(PrintPeriodSchema))
    summary_level_groups = ma.fields.List(_level_range())


PRINTING = Section(
    key="printing", order=40, schema=PrintingSchema,
    defaults={  # PR-1, PR-3
        "periods": [
            {"levels": [1, 9], "every": "quarter"},
            {"levels": [10, 11], "every": "half_year"},
        ],
        "summary_level_groups": [[1, 4], [5, 9], [10, 11]],
    },
    title=_l("Printing the journal"),
    labels={
        "periods": _l("Printout periods by grade level"),
        "periods.*.levels": _l("Grade levels"),
        "periods.*.every": _l("Printed"),
        "summary_level_groups": _l("Summary sheet level groups"),
    },
    help={
        "periods": _l("When the journal is printed, signed and archived for each range of grade levels."),
        "summary_level_groups": _l("At the end of the year the summary sheet of final marks groups the classes by these levels."),
    },
    choices={"periods.*.every": {"quarter": _l("every quarter"), "trimester": _l("every trimester"),
                                 "half_year": _l("every half-year"), "year": _l("at the end of the year")}},
)


class RetentionSchema(StrictSchema):
    journal_years = ma.fields.Integer(strict=True, validate=between(1, 100))
    final_marks_years = ma.fields.Integer(strict=True, validate=between(1, 100))


RETENTION = Section(
    key="retention", order=50, schema=RetentionSchema,
    defaults={"journal_years": 5, "final_marks_years": 25},  # RT-1
    bounds={"*_years": "up"},
    title=_l("Keeping the records"),
    labels={
        "journal_years": _l("Keep journal data"),
        "final_marks_years": _l("Keep final marks"),
    },
    help={
        "journal_years": _l("Lessons, attendance and grades are kept at least this long."),
        "final_marks_years": _l("Term, year and final marks are kept at least this long."),
    },
    units={"*_years": "years"},
)


class InformingSchema(StrictSchema):
    paper_interval_days = ma.fields.Integer(strict=True, validate=between(1, 120))
    parent_checks_per_week = ma.fields.Integer(strict=True, validate=between(0, 7))


INFORMING = Section(
    key="informing", order=60, schema=InformingSchema,
    defaults={"paper_interval_days": 14, "parent_checks_per_week": 2},  # IN-2, IN-4
    bounds={"paper_interval_days": "down", "parent_checks_per_week": "up"},
    title=_l("Informing parents"),
    labels={
        "paper_interval_days": _l("Paper printout for parents at least every"),
        "parent_checks_per_week": _l("Parents check progress at least"),
    },
    help={
        "paper_interval_days": _l("Parents who chose paper instead of the electronic diary get a printout of results this often."),
        "parent_checks_per_week": _l("The norm the activity report compares parents' visits to the diary with."),
    },
    units={"paper_interval_days": "days", "parent_checks_per_week": "times_a_week"},
)

# order 70: the website-disclosure checks (blueprints/disclosure/regulations.py)


# E-services and security -------------------------------------------------------------------

class ServicesSchema(StrictSchema):
    catalogue = ma.fields.List(ma.fields.Dict())
    complaint_answer_days = ma.fields.Integer(strict=True, validate=between(1, 60))
    request_answer_days = ma.fields.Integer(strict=True, validate=between(1, 60))


SERVICES = Section(
    key="services", order=80, schema=ServicesSchema,
    # SV-1: the catalogue is filled by the e-services module. SV-3: a complaint about a
    # public service is answered within 15 days (210-FZ art. 11.2), a citizen's request or
    # an information request within 30 (59-FZ art. 12); a tenant below may only shorten them.
    defaults={"catalogue": [], "complaint_answer_days": 15, "request_answer_days": 30},
    bounds={"*_answer_days": "down"},
    title=_l("E-services"),
    labels={"catalogue": _l("E-service catalogue"), "complaint_answer_days": _l("Answer a complaint within"),
            "request_answer_days": _l("Answer a request or an information request within")},
    help={"catalogue": _l("The e-services the region provides, with their links; kept as data for experts."),
          "complaint_answer_days": _l("Days from its registration; the register flags a complaint unanswered by then."),
          "request_answer_days": _l("Days from its registration; the register flags a request unanswered by then.")},
    units={"*_answer_days": "days"},
)


class SecuritySchema(StrictSchema):
    # Only JSON true and false: "yes" or 1 would compare oddly against the bound.
    admin_second_factor = ma.fields.Boolean(truthy={True}, falsy={False})


SECURITY = Section(
    key="security", order=90, schema=SecuritySchema,
    # Security item 9: the admins of the tenant (and below) sign in with a second factor.
    defaults={"admin_second_factor": False},
    # A flag bounded "up" may be switched on below, never off once required above.
    bounds={"admin_second_factor": "up"},
    title=_l("Security"),
    labels={"admin_second_factor": _l("Administrators sign in with a second factor")},
    help={"admin_second_factor": _l("After the password, the administrators of this level and below enter a one-time code from an app.")},
    choices={"admin_second_factor": {True: _l("switched on"), False: _l("switched off")}},
)

PLATFORM_SECTIONS = (CALENDAR, GRADING, DEADLINES, PRINTING, RETENTION, INFORMING, SERVICES, SECURITY)
