"""The regulation document (../shared/REGULATIONS.md, "The regulation document").

The document is made of sections, one top-level key each, declared by the package that
reads them and registered per app (:func:`register_section`): the platform's own in
``tenants/sections.py``, a feature's from its ``init_app``. This module holds the
machinery over them: validation of a document or a partial override, the key paths with
their human names, the bounds a tenant below may only tighten, and the resolution of the
effective document with provenance per key path.
"""
from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import marshmallow as ma
from flask import current_app
from flask_babel import lazy_gettext as _l

EXTENSION = "tabel.regulations"


class StrictSchema(ma.Schema):
    """The base of every section's schemas: an unknown key is an error, not ignored."""

    class Meta:
        unknown = ma.RAISE


@dataclass(frozen=True)
class Section:
    """One section of the document. Paths in ``bounds``, ``labels``, ``merged_by_key`` and
    ``optional`` are relative to ``key`` (``grade.*.days`` in ``deadlines``).

    - ``defaults``: the platform's values. Every key is part of the contract: add keys,
      never rename them.
    - ``bounds``: values a tenant below may only tighten, by fnmatch pattern: ``"down"``
      may only decrease, ``"up"`` only increase (a flag bounded up, once on, stays on).
    - ``merged_by_key``: lists whose items carry a key; an override adds items instead of
      replacing the list whole, and only a region redefines an item it inherits.
    - ``optional``: paths with no default, shown on the admin page after the named path.
    - ``check``: the whole section's consistency (``section -> {path: [message]}``), run on
      the merged document once each value is valid.
    - ``order``: where the section stands in the document and on the admin page; the
      platform's take tens (see ``tenants/sections.py``), ties keep registration order.

    What the admin page's form shows (paths may be fnmatch patterns; the fields of a list's
    items are named ``list.*.field``):

    - ``title``: the section's heading; ``labels`` and ``help``: each key's name and a
      sentence on what it does; ``units``: the unit of a number (``days``, ``hours``, ... :
      ``tenants.regulation_words.UNITS``); ``choices``: the words for a key's values
      (``{"quarter": _l("quarter")}``), so no code reaches the reader.
    - ``expert``: keys edited as JSON only (lists of regular expressions, free mappings);
      the page shows their value in words and the JSON in a field for experts.
    """

    key: str
    schema: type[ma.Schema]
    defaults: dict
    bounds: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    merged_by_key: dict = field(default_factory=dict)
    optional: dict = field(default_factory=dict)
    check: Callable[[dict], dict] | None = None
    order: int = 100
    title: object = None
    help: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    expert: tuple = ()


class Registry:
    """The sections of one app (``app.extensions["tabel.regulations"]``) and what follows
    from them, worked out once after the last registration."""

    def __init__(self):
        self.sections: dict[str, Section] = {}
        self._derived = None

    def add(self, section: Section):
        if section.key in self.sections:
            raise ValueError(f"regulation section {section.key!r} is already registered")
        if not section.key.isidentifier():
            raise ValueError(f"a regulation section's key is one word, got {section.key!r}")
        self.sections[section.key] = section
        self._derived = None

    @property
    def derived(self) -> dict:
        if self._derived is None:
            self._derived = self._derive()
        return self._derived

    def _derive(self) -> dict:
        ordered = sorted(self.sections.values(), key=lambda s: s.order)  # stable: ties as registered
        defaults = {s.key: copy.deepcopy(s.defaults) for s in ordered}

        def full(section, mapping):
            return {f"{section.key}.{path}": value for path, value in mapping.items()}

        default_leaves = leaves(defaults)
        paths = []
        for section in ordered:
            follows = {}
            for path, after in full(section, section.optional).items():
                follows.setdefault(f"{section.key}.{after}", []).append(path)
            for path in leaves({section.key: defaults[section.key]}):
                paths.append(path)
                paths.extend(p for p in follows.get(path, ()) if p not in default_leaves)
        schema = StrictSchema.from_dict({s.key: ma.fields.Nested(s.schema) for s in ordered},
                                        name="RegulationSchema")
        return {
            "sections": ordered,
            "defaults": defaults,
            "default_leaves": default_leaves,
            "paths": list(dict.fromkeys(paths)),
            "bounds": {p: d for s in ordered for p, d in full(s, s.bounds).items()},
            "labels": {p: label for s in ordered for p, label in full(s, s.labels).items()},
            "merged_by_key": {p: k for s in ordered for p, k in full(s, s.merged_by_key).items()},
            "help": {p: text for s in ordered for p, text in full(s, s.help).items()},
            "units": {p: unit for s in ordered for p, unit in full(s, s.units).items()},
            "choices": {p: words for s in ordered for p, words in full(s, s.choices).items()},
            "expert": {f"{s.key}.{p}" for s in ordered for p in s.expert},
            "schema": schema,
        }


def register_section(app, section: Section):
    """Add ``section`` to ``app``'s document; a package calls this from its ``init_app``,
    so an app built without the package has no such section."""
    app.extensions.setdefault(EXTENSION, Registry()).add(section)


def _derived() -> dict:
    registry = current_app.extensions.get(EXTENSION)
    if registry is None:
        raise RuntimeError("No regulation section is registered: is tenants in MODULES?")
    return registry.derived


def sections() -> list[Section]:
    return list(_derived()["sections"])


def defaults() -> dict:
    """The platform's default document (a copy)."""
    return copy.deepcopy(_derived()["defaults"])


def default_of(path: str):
    return _derived()["default_leaves"].get(path)


def labels() -> dict:
    return dict(_derived()["labels"])


def label_of(path: str):
    return _derived()["labels"].get(path, path)


def section_of(path: str) -> Section | None:
    return next((s for s in _derived()["sections"] if s.key == path.split(".", 1)[0]), None)


def _matching(mapping: dict, path: str):
    """The entry for ``path``: its own, else the first pattern that matches it."""
    if path in mapping:
        return mapping[path]
    return next((value for pattern, value in mapping.items() if fnmatch.fnmatchcase(path, pattern)), None)


def help_of(path: str):
    return _matching(_derived()["help"], path)


def unit_of(path: str) -> str | None:
    return _matching(_derived()["units"], path)


def choices_of(path: str) -> dict:
    """``{value: words}`` for a key whose values are codes (``quarter``, ``oral``)."""
    return _matching(_derived()["choices"], path) or {}


def subfield_label(path: str):
    """The name of a field of a list's items (``calendar.periods.*.kind``)."""
    return _matching(_derived()["labels"], path)


def is_expert(path: str) -> bool:
    return path in _derived()["expert"]


def field_of(path: str) -> ma.fields.Field | None:
    """The schema's field for a key path (``deadlines.grade.oral.days``), or ``None``."""
    schema = _derived()["schema"]
    found = None
    for part in path.split("."):
        if isinstance(found, ma.fields.Nested):
            schema = found.nested
        elif found is not None:
            return None
        found = schema._declared_fields.get(part)  # the class's fields, without building a schema
        if found is None:
            return None
    return found


def merged_by_key() -> dict:
    """``{list path: item key}`` for the lists merged item by item down the tree."""
    return dict(_derived()["merged_by_key"])


# Validation -------------------------------------------------------------------------------

def validate_document(document: dict, *, partial: bool) -> dict:
    """Errors keyed by dotted path (``deadlines.grade.oral.days``); empty when valid.

    Numbers must be JSON numbers (``"5"`` is refused, so bounds compare numbers), and an
    override may not hold an empty section (it would silently erase what is inherited)."""
    from core.apispec import flatten_errors

    derived = _derived()
    errors = {path: [str(_l("An empty section changes nothing; leave it out."))]
              for path in _empty_sections(document)}
    try:
        derived["schema"]().load(document, partial=partial)
    except ma.ValidationError as error:
        errors.update(flatten_errors(error.messages))
    if errors or partial:
        return errors
    for section in derived["sections"]:
        if section.check is not None and section.key in document:
            errors.update({f"{section.key}.{path}": messages
                           for path, messages in section.check(document[section.key]).items()})
    return errors


def _empty_sections(document, prefix=""):
    for key, value in (document or {}).items() if isinstance(document, dict) else ():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            if not value:
                yield path
            else:
                yield from _empty_sections(value, path)


# Key paths ------------------------------------------------------------------------------

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
    return list(_derived()["paths"])


def is_known_prefix(path: str) -> bool:
    return any(p == path or p.startswith(path + ".") for p in known_paths())


def covers(lock: str, path: str) -> bool:
    return path == lock or path.startswith(lock + ".")


def bound_of(path: str) -> str | None:
    for pattern, direction in _derived()["bounds"].items():
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
    gives way to the parent's). A list named in a section's ``merged_by_key`` is merged
    item by item.
    """
    derived = _derived()
    by_key = derived["merged_by_key"]
    document = copy.deepcopy(derived["defaults"])
    provenance = {path: Source(value) for path, value in derived["default_leaves"].items()}
    locks: dict[str, int] = {}  # key path locked -> the tenant that locked it
    for tenant in chain:
        version = versions_by_tenant.get(tenant.id)
        if version is None:
            continue
        for path, value in leaves(version.values).items():
            if locked_by(locks, path) is not None:
                continue
            source = provenance.get(path)
            if path in by_key and source is not None:
                # The region sets the standard: below it, items are added, never redefined
                # (a school must not relax the item it is judged by).
                value = merge_by_key(source.value, value, by_key[path],
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
