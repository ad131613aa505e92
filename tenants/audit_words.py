"""The change log's actions in words (the audit page of a tenant): every action the platform
records, in the reader's language. A code not listed (a module added later) is shown as
recorded, the only place a code may reach a person."""
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "tenant.create": _l("Organisation created"),
    "tenant.update": _l("Organisation details changed"),
    "regulation.version": _l("Regulation version added"),
    "membership.create": _l("Role granted"),
    "user.password_reset": _l("Password reset"),
    "code.issue": _l("One-time sign-in code issued"),
    "code.use": _l("One-time sign-in code used"),
    "second_factor.enable": _l("Second factor switched on"),
    "second_factor.disable": _l("Second factor switched off"),
    "second_factor.reset": _l("Second factor removed by the operator"),
    "second_factor.recovery_code_used": _l("Recovery code used"),
    "second_factor.recovery_codes": _l("New recovery codes issued"),
    "job.succeeded": _l("Background task completed"),
    "journal.topic": _l("Lesson topic"),
    "journal.homework": _l("Homework"),
    "journal.attendance": _l("Attendance"),
    "journal.grade": _l("Grade"),
    "journal.grade.delete": _l("Grade removed"),
    "journal.remark": _l("Remark to parents"),
    "journal.substitute": _l("Substitute teacher"),
    "journal.final_mark": _l("Period, year or final mark"),
    "lessons.generate": _l("Lessons made from the timetable"),
    "lesson.change": _l("Lesson changed"),
    "year.create": _l("Academic year created"),
    "term.update": _l("Period dates changed"),
    "year.rollover": _l("Next academic year prepared"),
    "year.confirm": _l("Academic year confirmed"),
    "import.pupils": _l("Pupils imported"),
    "import.staff": _l("Staff imported"),
    "import.timetable": _l("Timetable imported"),
    "disclosure.check": _l("Website check started"),
    "disclosure.dismiss": _l("Finding marked as a false alarm"),
    "disclosure.withdraw": _l("False alarm withdrawn"),
}


def action_label(action: str) -> str:
    """The action in words; an unknown code as it was recorded."""
    words = ACTIONS.get(action)
    return str(words) if words is not None else action
