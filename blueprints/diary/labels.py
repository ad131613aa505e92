"""Words the diary shows for the journal's codes, in the reader's language: work types,
attendance, remark kinds, reporting periods. A person never sees a code."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# The journal's words for its own codes (work types, attendance, remark kinds), shared.
from blueprints.journal.labels import REMARK_KINDS, attendance_label, work_type_names  # noqa: F401

PERIOD_KINDS = {"quarter": _l("Quarter"), "trimester": _l("Trimester"), "half_year": _l("Half-year"),
                "year": _l("Year")}
FINAL_KINDS = {"term": _l("Period mark"), "year": _l("Year mark"), "exam": _l("Exam mark"),
               "final": _l("Final mark")}


def term_label(term) -> str:
    return _("%(kind)s %(n)s", kind=PERIOD_KINDS.get(term.kind, term.kind), n=term.number)

# The five-point scale in words (messages to guardians say "5 (excellent)"); other marks as written.
MARK_WORDS = {"5": _l("excellent"), "4": _l("good"), "3": _l("satisfactory"), "2": _l("unsatisfactory"),
              "1": _l("very poor")}


def mark_in_words(value: str) -> str:
    words = MARK_WORDS.get(value)
    return f"{value} ({words})" if words else value
