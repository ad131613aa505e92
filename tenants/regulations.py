"""The regulation document (../shared/REGULATIONS.md, "The regulation document").

Platform defaults, the typed schema that validates a document or a partial override, the
key paths with their human names, the bounds a tenant below may only tighten, and the
resolution of the effective document with provenance per key path.
"""
from __future__ import annotations

import copy
import fnmatch
import re
from dataclasses import dataclass, field
from datetime import date

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from core.i18n import between

# Platform defaults. Every key here is part of the contract; features add keys, never rename.
DEFAULTS: dict = {
    "calendar": {
        "year_start": "09-01",
        "year_end": "08-31",
        "periods": [
            {"levels": [1, 9], "kind": "quarter"},
            {"levels": [10, 11], "kind": "half_year"},
        ],
    },
    "grading": {  # GR-1, GR-2
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
    "deadlines": {  # DL-1..DL-4, in the school's local time (DL-5)
        "topic": {"rule": "end_of_lesson_day"},  # DL-1
        "attendance": {"rule": "end_of_lesson_day"},  # DL-1
        "homework": {"rule": "after_last_lesson", "hours": 1},  # DL-2
        "grade": {  # DL-3
            "oral": {"days": 1, "levels": [2, 9]},
            "written": {"days": 3, "levels": [2, 9]},
        },
        "results_visible_days": 3,  # DL-4
        "lock_after_period_days": 5,
    },
    "printing": {  # PR-1, PR-3
        "periods": [
            {"levels": [1, 9], "every": "quarter"},
            {"levels": [10, 11], "every": "half_year"},
        ],
        "summary_level_groups": [[1, 4], [5, 9], [10, 11]],
    },
    "retention": {"journal_years": 5, "final_marks_years": 25},  # RT-1
    "informing": {"paper_interval_days": 14, "parent_checks_per_week": 2},  # IN-2, IN-4
    "disclosure": {  # WD-1..WD-5
        "checklist": [],  # the items filled in by the disclosure module (set_default)
        "schedule": "off",  # off | weekly | monthly: how often the schools' sites are checked
        "max_depth": 2,  # links followed from the start page
        "max_pages": 30,  # pages read per site
        "timeout_seconds": 10.0,  # per request
        "per_host_concurrency": 2,  # requests at once to one site
        "delay_seconds": 0.0,  # pause between requests to one site
    },
    "services": {"catalogue": []},  # SV-1: filled by the e-services module
    # Security item 9: the admins of the tenant (and below) sign in with a second factor.
    "security": {"admin_second_factor": False},
}

# Values a tenant below may only tighten: "down" may only decrease, "up" only increase.
BOUNDS = {
    "deadlines.*.hours": "down",
    "deadlines.grade.*.days": "down",
    "deadlines.results_visible_days": "down",
    "deadlines.lock_after_period_days": "down",
    "informing.paper_interval_days": "down",
    "retention.*_years": "up",
    "informing.parent_checks_per_week": "up",
    # The region bounds the load its checks put on the schools' sites.
    "disclosure.max_depth": "down",
    "disclosure.max_pages": "down",
    "disclosure.timeout_seconds": "down",
    "disclosure.per_host_concurrency": "down",
    "disclosure.delay_seconds": "up",
    # A flag bounded "up" may be switched on below, never off once required above.
    "security.admin_second_factor": "up",
}

# Lists whose items carry a key: an override adds items instead of replacing the list
# whole, so a municipality or a school extends the region's checklist (WD-1); only a region
# redefines an item it inherits (the platform's defaults).
MERGED_BY_KEY = {"disclosure.checklist": "key"}

LABELS = {
    "calendar.year_start": _l("School year starts (MM-DD)"),
    "calendar.year_end": _l("School year ends (MM-DD)"),
    "calendar.periods": _l("Reporting periods by grade level"),
    "grading.scale": _l("Grading scale"),
    "grading.passing": _l("Passing marks (progress rate)"),
    "grading.quality": _l("Quality marks (quality rate)"),
    "grading.ungraded_levels": _l("Ungraded grade levels"),
    "grading.work_types": _l("Work types"),
    "grading.final_mark_rule": _l("Suggested final mark rule"),
    "grading.min_grades_per_period": _l("Minimum grades per pupil and subject in a period"),
    "deadlines.topic.rule": _l("Lesson topic: deadline rule"),
    "deadlines.topic.hours": _l("Lesson topic: hours after the last lesson"),
    "deadlines.attendance.rule": _l("Attendance: deadline rule"),
    "deadlines.attendance.hours": _l("Attendance: hours after the last lesson"),
    "deadlines.homework.rule": _l("Homework: deadline rule"),
    "deadlines.homework.hours": _l("Homework: hours after the last lesson"),
    "deadlines.grade.oral.days": _l("Oral answer grades: days to enter"),
    "deadlines.grade.oral.levels": _l("Oral answer grades: grade levels bound"),
    "deadlines.grade.written.days": _l("Written work grades: days to enter"),
    "deadlines.grade.written.levels": _l("Written work grades: grade levels bound"),
    "deadlines.results_visible_days": _l("Final and exam results visible within (days)"),
    "deadlines.lock_after_period_days": _l("A period locks this many days after it ends"),
    "printing.periods": _l("Printout periods by grade level"),
    "printing.summary_level_groups": _l("Summary sheet level groups"),
    "retention.journal_years": _l("Keep journal data (years)"),
    "retention.final_marks_years": _l("Keep final marks (years)"),
    "informing.paper_interval_days": _l("Paper printout for parents at least every (days)"),
    "informing.parent_checks_per_week": _l("Parents check progress at least (times a week)"),
    "disclosure.checklist": _l("Website disclosure checklist"),
    "disclosure.schedule": _l("Website checks: how often"),
    "disclosure.max_depth": _l("Website checks: link depth from the start page"),
    "disclosure.max_pages": _l("Website checks: pages read per site"),
    "disclosure.timeout_seconds": _l("Website checks: seconds to wait for a page"),
    "disclosure.per_host_concurrency": _l("Website checks: requests at once to one site"),
    "disclosure.delay_seconds": _l("Website checks: pause between requests (seconds)"),
    "services.catalogue": _l("E-service catalogue"),
    "security.admin_second_factor": _l("Administrators sign in with a second factor (true or false)"),
}

# Schema -----------------------------------------------------------------------------------

MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
PERIOD_KINDS = ("quarter", "trimester", "half_year", "year")
DEADLINE_RULES = ("end_of_lesson_day", "after_last_lesson")


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


def _level():
    return ma.fields.Integer(strict=True, validate=between(1, 11))


def _level_range(**kwargs):
    return ma.fields.List(_level(), validate=_valid_range, **kwargs)


def _valid_range(value):
    if len(value) != 2 or value[0] > value[1]:
        raise ma.ValidationError(_l("A grade level range is two levels, lowest first (e.g. [2, 9])."))


def _month_day(value):
    if not MONTH_DAY.match(value or ""):
        raise ma.ValidationError(_l("Use the form MM-DD (e.g. 09-01)."))


class PeriodSchema(_Strict):
    levels = _level_range(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(PERIOD_KINDS))


class CalendarSchema(_Strict):
    year_start = ma.fields.String(validate=_month_day)
    year_end = ma.fields.String(validate=_month_day)
    periods = ma.fields.List(ma.fields.Nested(PeriodSchema), validate=ma.validate.Length(min=1))


class WorkTypeSchema(_Strict):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=8))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(("oral", "written")))
    # The weight of the work type in the suggested final mark when final_mark_rule is weighted.
    weight = ma.fields.Integer(strict=True, validate=between(1, 10))


class GradingSchema(_Strict):
    scale = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=8)),
                           validate=ma.validate.Length(min=2))
    passing = ma.fields.List(ma.fields.String())
    quality = ma.fields.List(ma.fields.String())
    ungraded_levels = ma.fields.List(_level())
    work_types = ma.fields.List(ma.fields.Nested(WorkTypeSchema), validate=ma.validate.Length(min=1))
    final_mark_rule = ma.fields.String(validate=ma.validate.OneOf(("mean", "weighted")))
    min_grades_per_period = ma.fields.Integer(strict=True, validate=between(0, 100))


class DeadlineRuleSchema(_Strict):
    rule = ma.fields.String(validate=ma.validate.OneOf(DEADLINE_RULES))
    hours = ma.fields.Integer(strict=True, validate=between(0, 72))


class GradeDeadlineSchema(_Strict):
    days = ma.fields.Integer(strict=True, validate=between(0, 60))
    levels = _level_range()


class GradeDeadlinesSchema(_Strict):
    oral = ma.fields.Nested(GradeDeadlineSchema)
    written = ma.fields.Nested(GradeDeadlineSchema)


class DeadlinesSchema(_Strict):
    topic = ma.fields.Nested(DeadlineRuleSchema)
    attendance = ma.fields.Nested(DeadlineRuleSchema)
    homework = ma.fields.Nested(DeadlineRuleSchema)
    grade = ma.fields.Nested(GradeDeadlinesSchema)
    results_visible_days = ma.fields.Integer(strict=True, validate=between(0, 60))
    lock_after_period_days = ma.fields.Integer(strict=True, validate=between(0, 120))


class PrintPeriodSchema(_Strict):
    levels = _level_range(required=True)
    every = ma.fields.String(required=True, validate=ma.validate.OneOf(PERIOD_KINDS))


class PrintingSchema(_Strict):
    periods = ma.fields.List(ma.fields.Nested(PrintPeriodSchema))
    summary_level_groups = ma.fields.List(_level_range())


class RetentionSchema(_Strict):
    journal_years = ma.fields.Integer(strict=True, validate=between(1, 100))
    final_marks_years = ma.fields.Integer(strict=True, validate=between(1, 100))


class InformingSchema(_Strict):
    paper_interval_days = ma.fields.Integer(strict=True, validate=between(1, 120))
    parent_checks_per_week = ma.fields.Integer(strict=True, validate=between(0, 7))


SCHEDULES = ("off", "weekly", "monthly")
ITEM_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ITEMPROP = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _pattern(value):
    try:
        re.compile(value)
    except (re.error, TypeError) as error:
        raise ma.ValidationError(_l("Not a valid regular expression: %(error)s", error=str(error)))


class _Number(ma.fields.Float):
    """A JSON number (``"5"`` and booleans are refused, as for the integers)."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._validated(value)


class ChecklistItemSchema(_Strict):
    """An item of the disclosure checklist (WD-1, WD-4) and how to recognise it on a site:
    link text or page title patterns, URL patterns (regular expressions, case-insensitive),
    or a microdata property (``itemprop``)."""

    key = ma.fields.String(required=True, validate=ma.validate.Regexp(
        ITEM_KEY, error=_l("Use lowercase Latin letters, digits, dots, dashes and underscores (up to 64).")))
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    required = ma.fields.Boolean(truthy={True}, falsy={False})
    text_patterns = ma.fields.List(ma.fields.String(validate=_pattern))
    url_patterns = ma.fields.List(ma.fields.String(validate=_pattern))
    itemprops = ma.fields.List(ma.fields.String(validate=ma.validate.Regexp(
        ITEMPROP, error=_l("Not a valid microdata property name."))))

    @ma.validates_schema
    def _recognisable(self, data, **kwargs):
        # An item is one whole value even in a partial override: its key and title are due.
        missing = {name: [self.fields[name].error_messages["required"]] for name in ("key", "title")
                   if name not in data}
        if missing:
            raise ma.ValidationError(missing)
        if not any(data.get(k) for k in ("text_patterns", "url_patterns", "itemprops")):
            raise ma.ValidationError(_l("Give at least one text pattern, URL pattern or microdata property."),
                                     "text_patterns")


def _unique_keys(items):
    keys = [item.get("key") for item in items if isinstance(item, dict)]
    if len(keys) != len(set(keys)):
        raise ma.ValidationError(_l("Checklist item keys must be unique."))


class DisclosureSchema(_Strict):
    checklist = ma.fields.List(ma.fields.Nested(ChecklistItemSchema), validate=_unique_keys)
    schedule = ma.fields.String(validate=ma.validate.OneOf(SCHEDULES))
    max_depth = ma.fields.Integer(strict=True, validate=between(0, 5))
    max_pages = ma.fields.Integer(strict=True, validate=between(1, 500))
    timeout_seconds = _Number(validate=between(0.1, 60))
    per_host_concurrency = ma.fields.Integer(strict=True, validate=between(1, 8))
    delay_seconds = _Number(validate=between(0, 10))


class ServicesSchema(_Strict):
    catalogue = ma.fields.List(ma.fields.Dict())


class SecuritySchema(_Strict):
    # Only JSON true and false: "yes" or 1 would compare oddly against the bound.
    admin_second_factor = ma.fields.Boolean(truthy={True}, falsy={False})


class RegulationSchema(_Strict):
    """The whole document (``partial=True`` for one tenant's overrides)."""

    calendar = ma.fields.Nested(CalendarSchema)
    grading = ma.fields.Nested(GradingSchema)
    deadlines = ma.fields.Nested(DeadlinesSchema)
    printing = ma.fields.Nested(PrintingSchema)
    retention = ma.fields.Nested(RetentionSchema)
    informing = ma.fields.Nested(InformingSchema)
    disclosure = ma.fields.Nested(DisclosureSchema)
    services = ma.fields.Nested(ServicesSchema)
    security = ma.fields.Nested(SecuritySchema)


def validate_document(document: dict, *, partial: bool) -> dict:
    """Errors keyed by dotted path (``deadlines.grade.oral.days``); empty when valid.

    Numbers must be JSON numbers (``"5"`` is refused, so bounds compare numbers), and an
    override may not hold an empty section (it would silently erase what is inherited)."""
    from core.apispec import flatten_errors

    errors = {path: [str(_l("An empty section changes nothing; leave it out."))]
              for path in _empty_sections(document)}
    try:
        RegulationSchema().load(document, partial=partial)
    except ma.ValidationError as error:
        errors.update(flatten_errors(error.messages))
    if errors or partial:
        return errors
    return _consistency_errors(document)


def _empty_sections(document, prefix=""):
    for key, value in (document or {}).items() if isinstance(document, dict) else ():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            if not value:
                yield path
            else:
                yield from _empty_sections(value, path)


def _consistency_errors(doc: dict) -> dict:
    errors = {}
    grading = doc["grading"]
    scale = set(grading["scale"])
    if not set(grading["passing"]) <= scale:
        errors["grading.passing"] = [str(_l("Every passing mark must be on the grading scale."))]
    if not set(grading["quality"]) <= set(grading["passing"]):
        errors["grading.quality"] = [str(_l("Every quality mark must also be a passing mark."))]
    for key in ("topic", "attendance", "homework"):
        rule = doc["deadlines"][key]
        if rule.get("rule") == "after_last_lesson" and rule.get("hours") is None:
            errors[f"deadlines.{key}.hours"] = [str(_l("Set the hours for this rule."))]
    codes = [w["code"] for w in grading["work_types"]]
    if len(codes) != len(set(codes)):
        errors["grading.work_types"] = [str(_l("Work type codes must be unique."))]
    return errors


# Key paths ------------------------------------------------------------------------------

def set_default(path: str, value):
    """A feature module fills in its part of the platform defaults at start-up (the
    disclosure checklist): the tenants layer holds the document, not the features' data."""
    set_path(DEFAULTS, path, copy.deepcopy(value))


def merge_by_key(above: list, below: list, key: str, *, replace=True) -> list:
    """``below``'s items replace ``above``'s items with the same key, in place (only with
    ``replace``; otherwise the item above stands); new items follow in their own order."""
    merged = [copy.deepcopy(item) for item in above or []]
    index = {item.get(key): n for n, item in enumerate(merged) if isinstance(item, dict)}
    for item in below or []:
        if isinstance(item, dict) and item.get(key) in index:
            if replace:
                merged[index[item[key]]] = copy.deepcopy(item)
        else:
            index[item.get(key) if isinstance(item, dict) else object()] = len(merged)
            merged.append(copy.deepcopy(item))
    return merged


def leaves(document: dict, prefix: str = "") -> dict:
    """``{dotted path: value}`` for every leaf; a list is one value (replaced whole)."""
    out = {}
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.update(leaves(value, path))
        else:
            out[path] = value
    return out


def known_paths() -> list[str]:
    """Every key path, in the order of the document (the admin page lists them so)."""
    paths = []
    for path in leaves(DEFAULTS):
        paths.append(path)
        # The hours of a deadline rule are optional; they follow their rule.
        if path.startswith("deadlines.") and path.endswith(".rule"):
            hours = path[: -len("rule")] + "hours"
            if hours not in leaves(DEFAULTS):
                paths.append(hours)
    return list(dict.fromkeys(paths))


def is_known_prefix(path: str) -> bool:
    return any(p == path or p.startswith(path + ".") for p in known_paths())


def covers(lock: str, path: str) -> bool:
    return path == lock or path.startswith(lock + ".")


def bound_of(path: str) -> str | None:
    for pattern, direction in BOUNDS.items():
        if fnmatch.fnmatchcase(path, pattern):
            return direction
    return None


def within_bound(direction: str, value, limit) -> bool:
    return value <= limit if direction == "down" else value >= limit


def set_path(document: dict, path: str, value):
    node = document
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def nest(flat: dict) -> dict:
    document: dict = {}
    for path, value in flat.items():
        set_path(document, path, value)
    return document


# Resolution -------------------------------------------------------------------------------

@dataclass
class Source:
    value: object
    tenant_id: int | None = None
    tenant_name: str | None = None
    effective_from: date | None = None
    act: str | None = None
    locked_by: int | None = None

    def as_dict(self):
        return {
            "value": self.value,
            "tenant_id": self.tenant_id,
            "tenant_name": self.tenant_name,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "act": self.act,
            "locked_by": self.locked_by,
        }


@dataclass
class Effective:
    on: date
    document: dict
    provenance: dict[str, Source] = field(default_factory=dict)
    locks: dict[str, int] = field(default_factory=dict)

    def value(self, path):
        return self.provenance[path].value


def resolve(chain, versions_by_tenant, on: date) -> Effective:
    """Merge the versions in force along ``chain`` (root first) over the platform defaults.

    A key locked above is not overridden below; a bounded value set above is only
    tightened below (a looser value below, e.g. one set before the parent tightened it,
    gives way to the parent's). A list named in ``MERGED_BY_KEY`` is merged item by item.
    """
    document = copy.deepcopy(DEFAULTS)
    provenance = {path: Source(value) for path, value in leaves(DEFAULTS).items()}
    locks: dict[str, int] = {}  # key path locked -> the tenant that locked it
    for tenant in chain:
        version = versions_by_tenant.get(tenant.id)
        if version is None:
            continue
        for path, value in leaves(version.values).items():
            if locked_by(locks, path) is not None:
                continue
            source = provenance.get(path)
            if path in MERGED_BY_KEY and source is not None:
                # The region sets the standard: below it, items are added, never redefined
                # (a school must not relax the item it is judged by).
                value = merge_by_key(source.value, value, MERGED_BY_KEY[path],
                                     replace=getattr(tenant, "kind", None) == "region")
            direction = bound_of(path)
            if (direction and source is not None and source.tenant_id is not None
                    and not within_bound(direction, value, source.value)):
                continue
            provenance[path] = Source(value, tenant.id, tenant.name, version.effective_from,
                                      version.act)
            set_path(document, path, copy.deepcopy(value))
        for lock in version.locked or ():
            locks.setdefault(lock, tenant.id)
            for path, source in provenance.items():
                if covers(lock, path) and source.locked_by is None:
                    source.locked_by = tenant.id
    return Effective(on=on, document=document, provenance=provenance, locks=locks)


def locked_by(locks: dict, path: str):
    """The tenant that locked ``path`` (or a section holding it), if any."""
    return next((owner for lock, owner in locks.items() if covers(lock, path) or covers(path, lock)), None)
