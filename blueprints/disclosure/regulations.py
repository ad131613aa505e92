"""The disclosure section of the regulation (WD-1..WD-5): the checklist a school's website
is judged by, how often the sites are checked, and the load a check puts on a site.

``init_app`` registers it (``tenants.regulations.register_section``); an app built without
this module has no ``disclosure`` section.
"""
from __future__ import annotations

import re

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.i18n import between
from tenants.regulations import Section, StrictSchema

SCHEDULES = ("off", "weekly", "monthly")
ITEM_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ITEMPROP = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _pattern(value):
    # Worded when it runs (gettext): a lazy string would be taken for a list of messages,
    # one character each (see tenants/sections.py).
    try:
        re.compile(value)
    except (re.error, TypeError) as error:
        raise ma.ValidationError(_("Not a valid regular expression: %(error)s", error=str(error)))


class _Number(ma.fields.Float):
    """A JSON number (``"5"`` and booleans are refused, as for the integers)."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._validated(value)


class ChecklistItemSchema(StrictSchema):
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
            raise ma.ValidationError(_("Give at least one text pattern, URL pattern or microdata property."),
                                     "text_patterns")


def _unique_keys(items):
    keys = [item.get("key") for item in items if isinstance(item, dict)]
    if len(keys) != len(set(keys)):
        raise ma.ValidationError(_("Checklist item keys must be unique."))


class DisclosureSchema(StrictSchema):
    checklist = ma.fields.List(ma.fields.Nested(ChecklistItemSchema), validate=_unique_keys)
    schedule = ma.fields.String(validate=ma.validate.OneOf(SCHEDULES))
    max_depth = ma.fields.Integer(strict=True, validate=between(0, 5))
    max_pages = ma.fields.Integer(strict=True, validate=between(1, 500))
    timeout_seconds = _Number(validate=between(0.1, 60))
    per_host_concurrency = ma.fields.Integer(strict=True, validate=between(1, 8))
    delay_seconds = _Number(validate=between(0, 10))


def section(checklist: list[dict]) -> Section:
    """The section, with ``checklist`` (the platform's items, which live in ``checks.py``
    with the checks that read them) as its default."""
    return Section(
        key="disclosure", order=70, schema=DisclosureSchema,
        defaults={
            "checklist": checklist,
            "schedule": "off",  # off | weekly | monthly: how often the schools' sites are checked
            "max_depth": 2,  # links followed from the start page
            "max_pages": 30,  # pages read per site
            "timeout_seconds": 10.0,  # per request
            "per_host_concurrency": 2,  # requests at once to one site
            "delay_seconds": 0.0,  # pause between requests to one site
        },
        # The region bounds the load its checks put on the schools' sites.
        bounds={
            "max_depth": "down",
            "max_pages": "down",
            "timeout_seconds": "down",
            "per_host_concurrency": "down",
            "delay_seconds": "up",
        },
        # A municipality or a school extends the region's checklist (WD-1): items are added
        # by key; only a region redefines an item it inherits (the platform's defaults).
        merged_by_key={"checklist": "key"},
        labels={
            "checklist": _l("Website disclosure checklist"),
            "schedule": _l("Website checks: how often"),
            "max_depth": _l("Website checks: link depth from the start page"),
            "max_pages": _l("Website checks: pages read per site"),
            "timeout_seconds": _l("Website checks: seconds to wait for a page"),
            "per_host_concurrency": _l("Website checks: requests at once to one site"),
            "delay_seconds": _l("Website checks: pause between requests (seconds)"),
        },
        # What the admin page's form shows (tenants/regulations.py, Section).
        title=_l("Website disclosure"),
        help={
            "checklist": _l("What a school's website must publish, and how each item is recognised (regular "
                            "expressions). Levels below add items; only a region redefines one."),
            "schedule": _l("How often the schools' websites are checked."),
            "max_depth": _l("How many links deep from the start page a check reads."),
            "max_pages": _l("A check reads at most this many pages of one site."),
            "timeout_seconds": _l("A page that takes longer counts as not answering."),
            "per_host_concurrency": _l("Requests sent to one site at the same time."),
            "delay_seconds": _l("The pause between two requests to one site."),
        },
        units={"max_depth": "links", "max_pages": "pages", "*_seconds": "seconds",
               "per_host_concurrency": "requests"},
        choices={
            "schedule": {"off": _l("never (switched off)"), "weekly": _l("every week"),
                         "monthly": _l("every month")},
            "checklist.*.required": {True: _l("required"), False: _l("optional")},
        },
        expert=("checklist",),  # regular expressions: edited as JSON
    )
