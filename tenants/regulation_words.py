"""Regulation values as a person reads them: the kind of input each key takes, and each
value in words in the reader's language (units, the words for codes, grade ranges, dates).

The kinds follow the section's schema (``tenants.regulations.field_of``); a field may name
its own with ``metadata={"widget": ...}`` (a grade level, a range of levels, a month and
day), and a section lists the keys only an expert edits (``Section.expert``).
"""
from __future__ import annotations

import json
from datetime import date

import marshmallow as ma
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from tenants import regulations

# A number of one of these, in words; ``fractional`` numbers take the form of 2 (English
# "1.5 seconds", Russian "1,5 секунды"), as the plural rules are written for whole numbers.
UNITS = {
    "days": lambda n, num: ngettext("%(count)s day", "%(count)s days", n, count=num),
    "hours": lambda n, num: ngettext("%(count)s hour", "%(count)s hours", n, count=num),
    "years": lambda n, num: ngettext("%(count)s year", "%(count)s years", n, count=num),
    "seconds": lambda n, num: ngettext("%(count)s second", "%(count)s seconds", n, count=num),
    "times_a_week": lambda n, num: ngettext("%(count)s time a week", "%(count)s times a week", n, count=num),
    "marks": lambda n, num: ngettext("%(count)s mark", "%(count)s marks", n, count=num),
    "pages": lambda n, num: ngettext("%(count)s page", "%(count)s pages", n, count=num),
    "requests": lambda n, num: ngettext("%(count)s request", "%(count)s requests", n, count=num),
    "links": lambda n, num: ngettext("%(count)s link deep", "%(count)s links deep", n, count=num),
}
# The unit beside a number's input.
UNIT_NAMES = {
    "days": _l("days"), "hours": _l("hours"), "years": _l("years"), "seconds": _l("seconds"),
    "times_a_week": _l("times a week"), "marks": _l("marks"), "pages": _l("pages"),
    "requests": _l("requests"), "links": _l("links deep"),
}
LIST_KINDS = ("levels", "strings", "records", "ranges", "expert")


def kind_of(path: str) -> str:
    """The kind of input for a key path: flag, integer, decimal, choice, text, month_day,
    range, levels, strings, records, ranges or expert."""
    if regulations.is_expert(path):
        return "expert"
    return field_kind(regulations.field_of(path))


def field_kind(field) -> str:
    if field is None:
        return "expert"
    named = (field.metadata or {}).get("widget")
    if named == "level":
        return "integer"
    if named:
        return named
    if isinstance(field, ma.fields.Boolean):
        return "flag"
    if isinstance(field, ma.fields.Integer):
        return "integer"
    if isinstance(field, ma.fields.Float):
        return "decimal"
    if isinstance(field, ma.fields.String):
        return "choice" if _one_of(field) else "text"
    if isinstance(field, ma.fields.List):
        inner = field.inner
        if (inner.metadata or {}).get("widget") == "level":
            return "levels"
        inner_kind = field_kind(inner)
        if inner_kind in ("text", "choice"):
            return "strings"
        if inner_kind == "range":
            return "ranges"
        if isinstance(inner, ma.fields.Nested):
            return "records"
    return "expert"


def _one_of(field):
    return next((v for v in field.validators if isinstance(v, ma.validate.OneOf)), None)


def _range(field):
    return next((v for v in field.validators if isinstance(v, ma.validate.Range)), None)


def subfields(path: str) -> list[tuple[str, object]]:
    """``[(name, field)]`` of a list's items, in the schema's order (``records`` only)."""
    field = regulations.field_of(path)
    if not isinstance(field, ma.fields.List) or not isinstance(field.inner, ma.fields.Nested):
        return []
    nested = field.inner.nested
    return list(nested._declared_fields.items())


def item_field(path: str):
    """The field of one item of a list (``ranges``, ``strings``)."""
    field = regulations.field_of(path)
    return field.inner if isinstance(field, ma.fields.List) else None


def number_range(field) -> tuple | None:
    found = _range(field) if field is not None else None
    return (found.min, found.max) if found else None


def choices(path: str, field=None) -> list[tuple[str, str]]:
    """``[(value, words)]`` for a key (or a field of a list's items) whose values are codes."""
    field = field if field is not None else regulations.field_of(path)
    words = regulations.choices_of(path)
    if isinstance(field, ma.fields.Boolean) and not words:
        words = {True: _l("yes"), False: _l("no")}
    one_of = _one_of(field) if field is not None else None
    values = list(one_of.choices) if one_of else list(words)
    return [(value, str(words.get(value, value))) for value in values]


# Values in words ---------------------------------------------------------------------------

def number(value) -> str:
    return format_decimal(value)


def with_unit(unit: str | None, value) -> str:
    if unit not in UNITS or isinstance(value, bool) or not isinstance(value, (int, float)):
        return number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
    whole = float(value).is_integer()
    return UNITS[unit](int(value) if whole else 2, number(value))


def flag(path: str, value) -> str:
    words = regulations.choices_of(path)
    if value in words:
        return str(words[value])
    return _("yes") if value else _("no")


def grade_range(value) -> str:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return json.dumps(value, ensure_ascii=False)
    first, last = value
    if first == last:
        return _("grade %(level)s", level=first)
    return _("grades %(first)s–%(last)s", first=first, last=last)


def month_day(value) -> str:
    try:
        month, day = (int(part) for part in str(value).split("-"))
        return format_date(date(2000, month, day), "d MMMM")  # 2000: 29 February exists
    except (ValueError, TypeError):
        return str(value)


def words(path: str, value, kind: str | None = None):
    """``value`` of ``path`` in words: a string, or a list of strings for a list of items."""
    kind = kind or kind_of(path)
    if value is None:
        return "—"
    if kind == "flag":
        return flag(path, value)
    if kind in ("integer", "decimal"):
        return with_unit(regulations.unit_of(path), value)
    if kind == "choice":
        return dict(choices(path)).get(value, str(value))
    if kind == "month_day":
        return month_day(value)
    if kind == "range":
        return grade_range(value)
    if not isinstance(value, list):
        return str(value) if kind == "text" else json.dumps(value, ensure_ascii=False)
    if kind == "levels":
        if not value:
            return _("none")
        return (_("grade %(level)s", level=value[0]) if len(value) == 1
                else _("grades %(levels)s", levels=", ".join(str(v) for v in value)))
    if kind == "strings":
        return ", ".join(str(v) for v in value) if value else _("none")
    if not value:
        return [_("none")]
    if kind == "ranges":
        return [grade_range(item) for item in value]
    if kind == "records":
        return [record(path, item) for item in value]
    return [expert_item(path, item) for item in value]


def record(path: str, item) -> str:
    """One item of a list of records: its fields in words (``grades 1–9 · quarter``)."""
    if not isinstance(item, dict):
        return json.dumps(item, ensure_ascii=False)
    parts = []
    for name, field in subfields(path):
        if name not in item:
            continue
        sub = f"{path}.*.{name}"
        kind = field_kind(field)
        text = words(sub, item[name], kind)
        if kind in ("integer", "decimal") and not regulations.unit_of(sub):
            text = f"{regulations.subfield_label(sub) or name}: {text}"
        parts.append(text)
    return " · ".join(parts)


def expert_item(path: str, item) -> str:
    """An item of a list edited as JSON, by its title (or name) and its flags in words; its
    patterns stay in the JSON field."""
    if not isinstance(item, dict):
        return json.dumps(item, ensure_ascii=False)
    name = item.get("title") or item.get("name")
    if name is None:
        return json.dumps(item, ensure_ascii=False)
    flags = [flag(f"{path}.*.{key}", value) for key, value in item.items() if isinstance(value, bool)]
    return " · ".join([str(name), *flags])


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
