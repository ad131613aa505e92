"""Input the database cannot hold is refused before it gets there, with a 422 naming the
field: NUL characters and lone surrogates in text (PostgreSQL refuses the first, the driver
cannot encode the second), integers beyond their column's range, text longer than its
column. Request bodies are bounded, and JSON nested too deep is a 400.

Four places check, so that no route has to remember to:

- a before-request guard reads the query string, form fields and JSON body of every
  request (pages and API alike);
- the API's argument parser range-checks every ``Integer`` field of a schema and bounds
  every ``String`` field that declares no length of its own;
- integer URL parameters match 32-bit values only, so an id no row can have is a 404;
- a flush hook checks every string and integer about to be written against its column
  (``String(n)``, or ``info={"max_length": n}`` on a ``Text`` column), for the writes that
  come from pages and services rather than from a schema.
"""
from __future__ import annotations

import json

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from webargs.flaskparser import FlaskParser

INT32_MAX = 2 ** 31 - 1
INT64_MAX = 2 ** 63 - 1


def invalid(field, message):
    """The refusal of a value that cannot be stored: ``field`` names it as the client sent it."""
    from core.errors import Refused

    return Refused({field: message}, message=_("The field «%(field)s» is invalid: %(message)s",
                                               field=field, message=message))


def bad_text(value: str) -> bool:
    """NUL, or a surrogate code point that pairs with nothing (``"\\ud800"`` from JSON)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def bad_text_message():
    return _("The text contains a character that is not allowed (a NUL or a broken character).")


def int_range_message(low, high):
    return _("Must be a whole number from %(min)s to %(max)s.", min=low, max=high)


def too_long_message(limit):
    return _("At most %(max)s characters.", max=limit)


# --- the guard before every request ------------------------------------------------------

def _is_file_upload():
    return request.mimetype == "multipart/form-data"


def _guard_request():
    if request.endpoint == "static":
        return None
    config = current_app.config
    if not _is_file_upload():
        # Flask 3.1 lets one request have its own limit: bodies without a file stay small.
        limit = min(config["MAX_BODY_BYTES"], config.get("MAX_CONTENT_LENGTH") or config["MAX_BODY_BYTES"])
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
    for field, message in _bad_fields():
        return _refuse(field, message)
    return None


def _bad_fields():
    for name, value in request.args.items(multi=True):
        if bad_text(name) or bad_text(value):
            yield name, bad_text_message()
        elif _looks_like_id(name) and value.strip().lstrip("+-").isdigit() and abs(int(value)) > INT32_MAX:
            yield name, int_range_message(-INT32_MAX - 1, INT32_MAX)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if bad_text(name) or bad_text(value):
                yield name, bad_text_message()
        for name, upload in request.files.items(multi=True):
            if upload.filename and bad_text(upload.filename):
                yield name, bad_text_message()
    elif request.is_json and request.content_length != 0:
        yield from _bad_json()


def _looks_like_id(name):
    return name in ("id", "page", "page_size", "version") or name.endswith("_id")


def _bad_json():
    raw = request.get_data(cache=True)
    if not raw:
        return
    try:
        document = loads(raw)
    except ValueError:
        return  # the parser answers 400 "Invalid JSON body."
    stack = [(document, "", 1)]
    depth_limit = current_app.config["JSON_MAX_DEPTH"]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if bad_text(value):
                yield path or "_schema", bad_text_message()
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > depth_limit:
            raise _too_deep()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            key = str(key)
            if bad_text(key):
                yield path or "_schema", bad_text_message()
                continue
            stack.append((item, f"{path}.{key}" if path else key, depth + 1))


def _too_deep():
    error = BadRequest()
    error.data = {"message": _("The JSON body is nested too deeply.")}
    return error


def loads(raw):
    """``json.loads`` that answers a body nested beyond Python's recursion limit as invalid
    JSON (a ``ValueError``) rather than a ``RecursionError``."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise _too_deep() from None


def _refuse(field, message):
    from core.errors import answer_refusal

    return answer_refusal(invalid(field, message))


# --- the API's argument parser -------------------------------------------------------------

class Parser(FlaskParser):
    """webargs' parser, then the checks every schema would otherwise have to repeat."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise _too_deep() from None

    def _process_location_data(self, location_data, schema, req, location, unknown, validators):
        data = super()._process_location_data(location_data, schema, req, location, unknown, validators)
        errors = {}
        check_loaded(schema, data, "", errors)
        if errors:
            raise ma.ValidationError(errors)
        return data


def check_loaded(schema, data, path, errors):
    """Walk what ``schema`` loaded and collect, under each field's path as the client named
    it, the values the database could not store."""
    if not isinstance(data, dict):
        return
    by_attribute = {(f.attribute or name): f for name, f in schema.load_fields.items()}
    for key, value in data.items():
        field = by_attribute.get(key)
        name = (field.data_key or key) if field is not None else key
        _check_value(field, value, f"{path}.{name}" if path else str(name), errors)


def _check_value(field, value, path, errors):
    if value is None:
        return
    if isinstance(field, ma.fields.Nested):
        nested = field.schema
        for index, item in (enumerate(value) if field.many and isinstance(value, list) else [(None, value)]):
            check_loaded(nested, item, path if index is None else f"{path}.{index}", errors)
        return
    if isinstance(field, ma.fields.List) and isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(field.inner, item, f"{path}.{index}", errors)
        return
    if isinstance(field, ma.fields.Integer) and isinstance(value, int) and not isinstance(value, bool):
        high = INT64_MAX if field.metadata.get("int64") else INT32_MAX
        if not -high - 1 <= value <= high:
            errors[path] = [int_range_message(-high - 1, high)]
        return
    if isinstance(value, str):
        if bad_text(value):
            errors[path] = [bad_text_message()]
        elif isinstance(field, ma.fields.String) and not _declares_max(field):
            limit = current_app.config["INPUT_STRING_MAX"]
            if len(value) > limit:
                errors[path] = [too_long_message(limit)]


def _declares_max(field):
    return any(isinstance(v, (ma.validate.Length, ma.validate.OneOf)) and getattr(v, "max", 1) is not None
               for v in field.validators)


# --- URL parameters ------------------------------------------------------------------------

class Int32Converter(IntegerConverter):
    """``<int:...>`` matches what an integer column can hold: a larger id is no row's, 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT32_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# --- the last check before a flush ---------------------------------------------------------

def _check_flush(session, _context, _instances):
    from sqlalchemy import BigInteger, Integer, String, inspect

    for obj in list(session.new) + list(session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            column = attr.columns[0]
            added = state.attrs[attr.key].history.added
            if not added:
                continue
            kind = column.type
            for value in added:
                if isinstance(value, str) and isinstance(kind, String):
                    limit = kind.length or column.info.get("max_length")
                    if bad_text(value):
                        raise invalid(attr.key, bad_text_message())
                    if limit and len(value) > limit:
                        raise invalid(attr.key, too_long_message(limit))
                elif (isinstance(value, int) and not isinstance(value, bool) and isinstance(kind, Integer)
                      and not isinstance(kind, BigInteger) and not -INT32_MAX - 1 <= value <= INT32_MAX):
                    raise invalid(attr.key, int_range_message(-INT32_MAX - 1, INT32_MAX))



def init_app(app):
    """Before any route is added (the converter) and before the request hooks that read a
    body (CSRF reads the form)."""
    from core.apispec import Blueprint

    Blueprint.ARGUMENTS_PARSER = parser
    app.url_map.converters["int"] = Int32Converter
    app.before_request(_guard_request)
    _install_flush_check()


def _install_flush_check():
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _check_flush):
        event.listen(Session, "before_flush", _check_flush)


parser = Parser()
