"""The admin page's form of the regulation: one block per section, one row per key with its
value in force in words, where it comes from, its bound and lock, and the input it takes;
the posted form read back into a version; and what a new version changes, for the step
that confirms it before it is saved.

A key the form leaves as it showed it stays inherited; a key is set here when its value
was changed or "set here" was ticked. Inputs are named ``v:<path>`` (with ``:part``
suffixes for the parts of a range, a date or a list's items), ``f:<path>`` marks a list
present on the form (so an emptied list is told from one not posted), ``set:<path>`` and
``lock:<path>`` are the two ticks of a row.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from tenants import regulation_words as words
from tenants import regulations

MISSING = object()


@dataclass
class Sub:
    """A field of a list's items (a column of the work types)."""

    name: str
    label: str
    kind: str
    choices: list = field(default_factory=list)
    required: bool = False


@dataclass
class Row:
    path: str
    label: str
    help: str | None
    kind: str
    unit_name: str | None
    value: object
    value_words: object
    source: regulations.Source | None
    source_words: str
    source_detail: str | None
    is_own: bool
    own_note: str | None
    locked_by_name: str | None  # an ancestor locked it: it cannot be changed here
    lock_checked: bool
    set_checked: bool
    bound_here: str | None  # the limit set above that this tenant must keep within
    bound_below: str | None  # what the levels below may do with the value in force here
    range_words: str | None
    inputs: dict
    choices: list = field(default_factory=list)
    subs: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    merged: bool = False

    @property
    def id(self):
        return "f-" + self.path

    @property
    def is_list(self):
        return self.kind in ("levels", "strings", "records", "ranges")


@dataclass
class Block:
    key: str
    title: str
    rows: list


# The page --------------------------------------------------------------------------------

def blocks(tenant, chain, effective, above, own_version, *, form=None, errors=None) -> list[Block]:
    """The form's sections and rows. ``effective`` is the regulation in force on the page's
    date, ``above`` the one the parent passes down, ``own_version`` this tenant's version in
    force then; ``form`` the posted fields when the form is shown again."""
    errors = errors or {}
    own = regulations.leaves(own_version.values) if own_version else {}
    own_locks = list(own_version.locked) if own_version else []
    names = {t.id: t for t in chain}
    merged = regulations.merged_by_key()
    out = []
    for section in regulations.sections():
        rows = []
        for path in regulations.known_paths():
            if not path.startswith(section.key + "."):
                continue
            source = effective.provenance.get(path)
            value = source.value if source else None
            kind = words.kind_of(path)
            locker = regulations.locked_by(above.locks, path)
            is_own = path in own
            if path in merged:
                shown = own.get(path) if is_own else None  # only what this tenant adds
            else:
                shown = own[path] if is_own else value
            row = Row(
                path=path, label=str(regulations.label_of(path)),
                help=_text(regulations.help_of(path)), kind=kind,
                unit_name=_text(words.UNIT_NAMES.get(regulations.unit_of(path))),
                value=value, value_words=words.words(path, value, kind), source=source,
                source_words=_source_words(source, tenant, names),
                source_detail=_source_detail(source),
                is_own=is_own, own_note=_own_note(path, kind, own, source, tenant),
                locked_by_name=names[locker].name if locker in names and locker != tenant.id else None,
                lock_checked=(bool(form.get(f"lock:{path}")) if form is not None
                              else any(regulations.covers(lock, path) for lock in own_locks)),
                set_checked=bool(form.get(f"set:{path}")) if form is not None else is_own,
                bound_here=_bound_here(path, above.provenance.get(path)),
                bound_below=_bound_below(path, kind, value, path in merged),
                range_words=_range_words(path, kind),
                inputs=_inputs_from_form(path, kind, form) if form is not None else _inputs_of(path, kind, shown),
                choices=words.choices(path) if kind in ("choice", "flag") else [],
                subs=_subs(path) if kind == "records" else [],
                errors=_errors_under(path, errors),
                merged=path in merged,
            )
            rows.append(row)
        if rows:
            out.append(Block(section.key, _text(section.title) or section.key, rows))
    return out


def _text(value):
    return str(value) if value is not None else None


def _subs(path):
    subs = []
    for name, sub_field in words.subfields(path):
        sub = f"{path}.*.{name}"
        kind = words.field_kind(sub_field)
        subs.append(Sub(name, _text(regulations.subfield_label(sub)) or name, kind,
                        words.choices(sub, sub_field) if kind in ("choice", "flag") else [],
                        sub_field.required))
    return subs


def _source_words(source, tenant, names) -> str:
    if source is None or source.tenant_id is None:
        return _("Platform default")
    if source.tenant_id == tenant.id:
        return _("Set here")
    node = names.get(source.tenant_id)
    kind = _kind_words(node.kind) if node is not None else ""
    return _("%(kind)s: %(name)s", kind=kind, name=source.tenant_name) if kind else source.tenant_name


def _kind_words(kind):
    return {"region": _("Region"), "municipality": _("Municipality"), "school": _("School")}.get(kind, "")


def _source_detail(source) -> str | None:
    """The act and the date it took effect: «Приказ № 189 от 05.06.2017, from 01.09.2017»."""
    if source is None or source.tenant_id is None:
        return None
    since = source.effective_from.strftime("%d.%m.%Y") if source.effective_from else ""
    return _("%(act)s, in force from %(date)s", act=source.act, date=since) if since else source.act


def _own_note(path, kind, own, source, tenant):
    """When this tenant's own value gives way to a stricter one set above later."""
    if path in own and source is not None and source.tenant_id != tenant.id and own[path] != source.value:
        return _("The value set here (%(value)s) gives way to the stricter one above.",
                 value=_flat(words.words(path, own[path], kind)))
    return None


def _flat(value):
    return "; ".join(value) if isinstance(value, list) else value


def _bound_here(path, above_source) -> str | None:
    """The limit this tenant keeps within: a bounded value set by a tenant above (platform
    defaults bound nothing)."""
    direction = regulations.bound_of(path)
    if not direction or above_source is None or above_source.tenant_id is None:
        return None
    value, who = above_source.value, above_source.tenant_name
    if isinstance(value, bool):
        return _("Required by %(tenant)s: it cannot be switched off here.", tenant=who) if value else None
    shown = words.words(path, value)
    if direction == "down":
        return _("Here at most %(value)s, as set by %(tenant)s.", value=shown, tenant=who)
    return _("Here at least %(value)s, as set by %(tenant)s.", value=shown, tenant=who)


def _bound_below(path, kind, value, merged) -> str | None:
    """What the levels below may do with the value in force here (tenants.regulations,
    ``within_bound``: ``down`` only lowers, ``up`` only raises; a flag once on stays on)."""
    if merged:
        return _("Levels below may add items, not change these.")
    direction = regulations.bound_of(path)
    if not direction or value is None:
        return None
    if kind == "flag":
        return _("Levels below cannot switch it off.") if value else _("Levels below may switch it on.")
    shown = words.words(path, value, kind)
    if direction == "down":
        return _("Levels below may only lower it: at most %(value)s.", value=shown)
    return _("Levels below may only raise it: at least %(value)s.", value=shown)


def _range_words(path, kind):
    if kind not in ("integer", "decimal"):
        return None
    bounds = words.number_range(regulations.field_of(path))
    if not bounds or bounds[0] is None or bounds[1] is None:
        return None
    return _("From %(min)s to %(max)s.", min=words.number(bounds[0]), max=words.number(bounds[1]))


# Inputs: a value as the form's raw strings, and back ---------------------------------------

def _raw(kind, value):
    """One value as the strings its inputs hold."""
    if value is None:
        return ""
    if kind == "flag":
        return "true" if value else "false"
    if kind in ("integer", "decimal"):
        return words.number(value) if kind == "decimal" else str(value)
    if kind == "month_day":
        try:
            month, day = str(value).split("-")
            return {"day": str(int(day)), "month": str(int(month))}
        except ValueError:
            return {"day": "", "month": ""}
    if kind == "range":
        if isinstance(value, list) and len(value) == 2:
            return {"from": str(value[0]), "to": str(value[1])}
        return {"from": "", "to": ""}
    if kind == "expert":
        return words.as_json(value)
    return str(value)


def _inputs_of(path, kind, value) -> dict:
    if kind == "levels":
        return {"checked": {str(v) for v in (value or [])}}
    if kind == "strings":
        return {"items": [str(v) for v in (value or [])]}
    if kind == "ranges":
        return {"items": [_raw("range", item) for item in (value or [])]}
    if kind == "records":
        subs = words.subfields(path)
        return {"items": [{name: _raw(words.field_kind(f), item.get(name)) for name, f in subs}
                          for item in (value or []) if isinstance(item, dict)]}
    if kind == "expert" and value is None:
        return {"value": ""}
    return {"value": _raw(kind, value)}


def _indices(form, prefix):
    found = set()
    for name in form:
        if name.startswith(prefix):
            head = name[len(prefix):].split(":", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _inputs_from_form(path, kind, form) -> dict:
    """The strings as posted, so a form shown again keeps what was typed, wrong or not."""
    base = f"v:{path}"
    if kind == "levels":
        return {"checked": set(form.getlist(base))}
    if kind == "strings":
        return {"items": [form.get(f"{base}:{i}", "") for i in _indices(form, base + ":")
                          if form.get(f"{base}:{i}", "").strip()]}
    if kind == "ranges":
        items = [{"from": form.get(f"{base}:{i}:from", ""), "to": form.get(f"{base}:{i}:to", "")}
                 for i in _indices(form, base + ":") if not form.get(f"del:{path}:{i}")]
        return {"items": [item for item in items if any(v.strip() for v in item.values())]}
    if kind == "records":
        items = []
        for i in _indices(form, base + ":"):
            if form.get(f"del:{path}:{i}"):
                continue
            item = {}
            for name, f in words.subfields(path):
                name_base = f"{base}:{i}:{name}"
                if words.field_kind(f) == "range":
                    item[name] = {"from": form.get(name_base + ":from", ""), "to": form.get(name_base + ":to", "")}
                else:
                    item[name] = form.get(name_base, "")
            if any((v if isinstance(v, str) else "".join(v.values())).strip() for v in item.values()):
                items.append(item)
        return {"items": items}
    if kind == "month_day":
        return {"value": {"day": form.get(base + ":day", ""), "month": form.get(base + ":month", "")}}
    if kind == "range":
        return {"value": {"from": form.get(base + ":from", ""), "to": form.get(base + ":to", "")}}
    return {"value": form.get(base, "")}


class _Bad(ValueError):
    """A value that is not one: its message names what to enter."""


_INTEGER = re.compile(r"^[+-]?\d+$")


def _parse_scalar(kind, raw, path=None):
    raw = (raw or "").strip().replace("\u00a0", "").replace(" ", "") if kind in ("integer", "decimal") else (raw or "").strip()
    if raw == "":
        return MISSING
    if kind == "integer":
        if not _INTEGER.match(raw):
            raise _Bad(_("Enter a whole number."))
        return int(raw)
    if kind == "decimal":
        try:
            return float(raw.replace(",", "."))  # 1,5 as written in Russian
        except ValueError:
            raise _Bad(_("Enter a number, e.g. 1,5.")) from None
    if kind == "flag":
        flag = raw.lower()
        if flag in ("true", "1", "yes", "да", "on"):
            return True
        if flag in ("false", "0", "no", "нет", "off"):
            return False
        raise _Bad(_("Choose yes or no."))
    if kind == "choice" and path is not None:
        known = {str(value): value for value, _label in words.choices(path)}
        return known.get(raw, raw)
    return raw


def _parse_range(low, high):
    low, high = (low or "").strip(), (high or "").strip()
    if not low and not high:
        return MISSING
    if not (_INTEGER.match(low) and _INTEGER.match(high)):
        raise _Bad(_("Enter both grade levels as whole numbers, lowest first."))
    return [int(low), int(high)]


def _parse(path, kind, form):
    """The posted value of one key, ``MISSING`` when the form holds none for it."""
    base = f"v:{path}"
    if kind in words.LIST_KINDS and kind != "expert" and f"f:{path}" not in form and base not in form:
        return MISSING
    if kind == "levels":
        checked = form.getlist(base)
        if any(not _INTEGER.match(v.strip()) for v in checked):
            raise _Bad(_("Enter a whole number."))
        return sorted({int(v) for v in checked})
    if kind == "strings":
        return [form.get(f"{base}:{i}").strip() for i in _indices(form, base + ":")
                if (form.get(f"{base}:{i}") or "").strip()]
    if kind == "ranges":
        out = []
        for i in _indices(form, base + ":"):
            if form.get(f"del:{path}:{i}"):
                continue
            value = _parse_range(form.get(f"{base}:{i}:from"), form.get(f"{base}:{i}:to"))
            if value is not MISSING:
                out.append(value)
        return out
    if kind == "records":
        return _parse_records(path, form)
    if kind == "month_day":
        day, month = (form.get(base + ":day") or "").strip(), (form.get(base + ":month") or "").strip()
        if not day and not month:
            return MISSING
        if not (day.isdigit() and month.isdigit() and 1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            raise _Bad(_("Choose the month and enter the day (1 to 31)."))
        return f"{int(month):02d}-{int(day):02d}"
    if kind == "range":
        return _parse_range(form.get(base + ":from"), form.get(base + ":to"))
    if kind == "expert":
        raw = (form.get(base) or "").strip()
        if not raw:
            return MISSING
        try:
            return json.loads(raw)
        except ValueError as error:
            raise _Bad(_("Not valid JSON (line %(line)s, column %(column)s).",
                         line=getattr(error, "lineno", "?"), column=getattr(error, "colno", "?"))) from None
    return _parse_scalar(kind, form.get(base), path)


def _parse_records(path, form):
    base = f"v:{path}"
    items = []
    for i in _indices(form, base + ":"):
        if form.get(f"del:{path}:{i}"):
            continue
        item, blank = {}, True
        for name, sub_field in words.subfields(path):
            kind = words.field_kind(sub_field)
            name_base = f"{base}:{i}:{name}"
            if kind == "range":
                raw = (form.get(name_base + ":from") or "") + (form.get(name_base + ":to") or "")
                value = _parse_range(form.get(name_base + ":from"), form.get(name_base + ":to"))
            else:
                raw = form.get(name_base) or ""
                value = _parse_scalar(kind, raw, f"{path}.*.{name}")
            blank = blank and not raw.strip()
            if value is not MISSING:
                item[name] = value
        if not blank:
            items.append(item)
    return items


def read(form, shown, own_version=None) -> tuple[dict, list, dict]:
    """``(values, locked, errors)`` of a posted form. ``shown`` is the regulation the form
    was made from and ``own_version`` the tenant's version it showed. A key set there stays
    set while "set here" is ticked; an inherited key is set here when ticked or changed (a
    value left as the form showed it stays inherited). A form without the ticks (``ticks``
    absent: a script) sets every value it posts."""
    values, locked, errors = {}, [], {}
    merged = regulations.merged_by_key()
    ticks = bool(form.get("ticks"))
    own = regulations.leaves(own_version.values) if own_version is not None else {}
    for path in regulations.known_paths():
        kind = words.kind_of(path)
        try:
            value = _parse(path, kind, form)
        except _Bad as bad:
            errors[path] = [str(bad)]
            continue
        if form.get(f"lock:{path}"):
            locked.append(path)
        if value is MISSING:
            continue
        ticked = bool(form.get(f"set:{path}"))
        if not ticks or ticked:
            regulations.set_path(values, path, value)
        elif path not in own:
            source = shown.provenance.get(path)
            if path in merged or source is None or value != source.value:
                regulations.set_path(values, path, value)
    return values, _collapsed(locked, form.getlist("lock_prefix")), errors


def _collapsed(locked, prefixes):
    """Locks kept on a whole part of the document (``deadlines.grade``, set through the
    API) stay so while every key under them is still locked on the form."""
    for prefix in prefixes:
        under = [p for p in regulations.known_paths() if regulations.covers(prefix, p)]
        if under and all(p in locked for p in under):
            locked = [p for p in locked if p not in under] + [prefix]
    return locked


def own_prefix_locks(own_version) -> list[str]:
    """Locks of this tenant's version that name a part of the document, not one key."""
    if own_version is None:
        return []
    leaves = set(regulations.known_paths())
    return [lock for lock in own_version.locked if lock not in leaves]


# Errors ----------------------------------------------------------------------------------

def _leaf_of(key):
    """The key path a (possibly deeper) error path belongs to: ``grading.work_types.0.name``
    belongs to ``grading.work_types``."""
    best = None
    for path in regulations.known_paths():
        if key == path or key.startswith(path + "."):
            if best is None or len(path) > len(best):
                best = path
    return best


def _messages(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    return [str(m) for m in value]


def _within(path, key):
    """How a deeper error path reads inside its key: «item 2, Name»."""
    rest = key[len(path) + 1:].split(".") if key != path else []
    if not rest:
        return None
    if rest[0].isdigit():
        where = _("item %(number)s", number=int(rest[0]) + 1)
        if len(rest) > 1:
            sub = regulations.subfield_label(f"{path}.*.{rest[1]}")
            where = f"{where}, {sub or rest[1]}"
        return where
    return ".".join(rest)


def _errors_under(path, errors) -> list[str]:
    out = []
    for key, messages in errors.items():
        if _leaf_of(key) != path:
            continue
        where = _within(path, key)
        out.extend(f"{where}: {m}" if where else m for m in _messages(messages))
    return out


FIELD_LABELS = {"effective_from": lambda: _("In force from"), "act": lambda: _("Normative act"),
                "document": lambda: _("Version as JSON")}


def error_summary(errors) -> list[dict]:
    """Each error with the name of its field, in the reader's words, and where it is on the page."""
    out = []
    for key, messages in errors.items():
        leaf = _leaf_of(key)
        if leaf is not None:
            where = _within(leaf, key)
            label = str(regulations.label_of(leaf)) + (f" ({where})" if where else "")
            anchor = "f-" + leaf
        elif key in FIELD_LABELS:
            label, anchor = FIELD_LABELS[key](), key
        elif key.startswith("locked."):
            label, anchor = _("Locks"), None
        else:
            label, anchor = key, None
        for message in _messages(messages):
            out.append({"label": label, "message": message, "anchor": anchor})
    return out


# The confirm step ------------------------------------------------------------------------

@dataclass
class Change:
    path: str
    section: str
    label: str
    old: object
    new: object
    old_note: str
    new_note: str
    lock_old: bool
    lock_new: bool

    @property
    def removed(self) -> set:
        """Items of a list that the new value drops (shown marked on the old side)."""
        return set(self.old) - set(self.new) if isinstance(self.old, list) and isinstance(self.new, list) else set()

    @property
    def added(self) -> set:
        return set(self.new) - set(self.old) if isinstance(self.old, list) and isinstance(self.new, list) else set()


def changes(tenant, chain, proposal) -> list[Change]:
    """The keys a new version changes against the tenant's version it replaces: set, unset,
    set to another value, or locked or unlocked for the levels below. Each side says its
    value in words and where it comes from."""
    replaced = proposal.replaces
    old_own = regulations.leaves(replaced.values) if replaced else {}
    new_own = regulations.leaves(proposal.values)
    old_locks = list(replaced.locked) if replaced else []
    names = {t.id: t for t in chain}
    titles = {s.key: _text(s.title) or s.key for s in regulations.sections()}
    paths = list(dict.fromkeys([*regulations.known_paths(), *old_own, *new_own]))
    out = []
    for path in paths:
        old, new = old_own.get(path, MISSING), new_own.get(path, MISSING)
        lock_old = any(regulations.covers(lock, path) for lock in old_locks)
        lock_new = any(regulations.covers(lock, path) for lock in proposal.locked)
        if old == new and lock_old == lock_new:
            continue
        kind = words.kind_of(path)
        before = proposal.before.provenance.get(path)
        after = proposal.after.provenance.get(path)
        old_value = old if old is not MISSING else (before.value if before else None)
        new_value = new if new is not MISSING else (after.value if after else None)
        out.append(Change(
            path=path, section=titles.get(path.split(".", 1)[0], ""), label=str(regulations.label_of(path)),
            old=words.words(path, old_value, kind), new=words.words(path, new_value, kind),
            old_note=_("set here") if old is not MISSING else _inherited_note(before, tenant, names),
            new_note=_("set here") if new is not MISSING else _inherited_note(after, tenant, names),
            lock_old=lock_old, lock_new=lock_new))
    return out


def _inherited_note(source, tenant, names):
    if source is None or source.tenant_id is None:
        return _("platform default")
    return _("inherited (%(source)s)", source=_source_words(source, tenant, names))


# The JSON view ---------------------------------------------------------------------------

def read_json(raw) -> tuple[dict, list, dict]:
    """``(values, locked, errors)`` of the expert's field: ``{"values": {...}, "locked": [...]}``."""
    try:
        body = json.loads(raw or "{}")
    except ValueError as error:
        return {}, [], {"document": [_("Not valid JSON (line %(line)s, column %(column)s).",
                                       line=error.lineno, column=error.colno)]}
    if not isinstance(body, dict) or set(body) - {"values", "locked"}:
        return {}, [], {"document": [_("Give an object with «values» and «locked».")]}
    values, locked = body.get("values") or {}, body.get("locked") or []
    if not isinstance(values, dict) or not isinstance(locked, list):
        return {}, [], {"document": [_("«values» is an object and «locked» a list of key paths.")]}
    return values, locked, {}


# The versions set here -------------------------------------------------------------------

def lock_words(lock: str) -> str:
    """A lock in words: its key's name, or the names of every key under a part."""
    if lock in regulations.known_paths():
        return str(regulations.label_of(lock))
    section = regulations.section_of(lock)
    if section is not None and section.key == lock:
        return _text(section.title) or lock
    under = [str(regulations.label_of(p)) for p in regulations.known_paths() if regulations.covers(lock, p)]
    return ", ".join(under) or lock


def version_rows(version) -> list[tuple[str, object]]:
    """``[(key's name, value in words)]`` of a version's values, in the document's order."""
    own = regulations.leaves(version.values)
    order = {path: n for n, path in enumerate(regulations.known_paths())}
    return [(str(regulations.label_of(path)), words.words(path, value))
            for path, value in sorted(own.items(), key=lambda item: order.get(item[0], len(order)))]
