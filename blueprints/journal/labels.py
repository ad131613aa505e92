"""Words for the journal's codes, in the reader's language: work types, attendance marks,
remark kinds. The journal's history says them, and the diary shows them to pupils and
parents (``blueprints/diary/labels.py`` takes them from here). A person never sees a code."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from blueprints.journal.models import ATTENDANCE_LABELS
from tenants import sections

# The platform's default work types (GR-1) by code; a school's own names are its own words.
_DEFAULT_WORK_TYPES = {w["code"]: w["name"] for w in sections.GRADING.defaults["work_types"]}
_WORK_TYPE_WORDS = {"У": _l("Oral answer"), "КР": _l("Test"), "ПР": _l("Practical work"), "ДЗ": _l("Homework")}
REMARK_KINDS = {"remark": _l("Remark"), "praise": _l("Praise"), "note": _l("Note to parents")}


def work_type_names(grading: dict) -> dict[str, str]:
    """Code to name for the regulation's work types: the platform's defaults translated, a
    name the school or region wrote as written."""
    out = {}
    for work_type in grading.get("work_types", []):
        code, name = work_type["code"], work_type.get("name") or work_type["code"]
        if code in _WORK_TYPE_WORDS and _DEFAULT_WORK_TYPES.get(code) == name:
            name = str(_WORK_TYPE_WORDS[code])
        out[code] = name
    return out


def attendance_label(status: str | None) -> str | None:
    if status is None:
        return None
    if status == "present":
        return _("present")
    return str(ATTENDANCE_LABELS.get(status, status))
