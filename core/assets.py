"""Static files: a content hash in every URL, a year of caching, and gzip.

``url_for('static', filename='tabel.css')`` (and a blueprint's ``'journal.static'``) builds
``/static/tabel.<hash>.css``, the hash being the first 12 hex digits of the file's SHA-256.
The content behind such a URL never changes (a changed file gets a new URL), so the answer
says ``Cache-Control: public, max-age=31536000, immutable`` and a browser asks again only
after a deploy that changed the file. The plain name (``/static/tabel.css``) and a hash
that is no longer the file's (a page rendered before a deploy) are still served, as the
file is now, with ``no-cache``: revalidated by ETag, never kept under a wrong name.

Text files (CSS, JS, SVG, JSON) go out gzipped to a client that accepts gzip: each is
compressed once, on first request, and kept in memory with its hash. Nothing is written
to disk and no compressed file is committed. Behind nginx the static files never reach the
app (``infra/nginx.conf`` serves them and compresses them itself); ``make run`` and any
deployment without a proxy are served from here.

Pages and API answers (HTML, JSON) go out gzipped too when the client accepts it and the
body is over a kilobyte (:func:`compress_answers`, ``COMPRESS_ANSWERS``): a parent on a
rural link fetching the diary without nginx in front (``make run``, a small deployment)
gets 3-4 KB instead of 20. A strong ETag becomes weak on the compressed answer, as nginx
does, and the diary compares tags weakly (If-None-Match is a weak comparison).

Hashes and compressed bodies are keyed by the file's path, size and modification time, so a
file edited while the app runs (development) gets a new URL on the next page.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
from functools import partial, wraps

from flask import abort, current_app, request, send_file
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join

#: Long enough for a browser to keep a file until the file changes (its URL changes then).
IMMUTABLE_MAX_AGE = 365 * 24 * 3600
HASH_LENGTH = 12
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")

_FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{%d})(?P<ext>\.[^./]+)?$" % HASH_LENGTH)
_digests: dict[str, tuple[tuple[int, int], str]] = {}
_gzipped: dict[str, tuple[tuple[int, int], bytes]] = {}


def init_app(app):
    """After every blueprint is registered: each static endpoint serves through
    :func:`serve`, and ``url_for`` of a static file names its hash.

    A static file is the same for everyone, so its request opens no session (its answer
    then carries no ``Vary: Cookie``, and a browser keeps one copy across sign-in and
    sign-out) and skips its blueprint's own hooks (the journal's pages want a signed-in
    user; its script does not: nginx serves it to anyone)."""
    blueprints = {name: bp for name, bp in app.blueprints.items() if bp.has_static_folder}
    folders = {"static": app.static_folder, **{f"{name}.static": bp.static_folder for name, bp in blueprints.items()}}
    for endpoint, folder in folders.items():
        app.view_functions[endpoint] = partial(serve, folder)
    for name in blueprints:
        app.before_request_funcs[name] = [_not_for_static(hook) for hook in app.before_request_funcs.get(name, [])]
    app.extensions["tabel.static_folders"] = folders
    prefixes = tuple(rule.rule.split("<", 1)[0] for rule in app.url_map.iter_rules() if rule.endpoint in folders)
    app.session_interface = _NoSessionFor(prefixes + ("/favicon.ico",))

    @app.url_defaults
    def _fingerprint(endpoint, values):
        folder = folders.get(endpoint)
        if folder and "filename" in values:
            values["filename"] = fingerprinted(folder, values["filename"])

    # Browsers and bookmarks ask for /favicon.ico whatever the page links to.
    app.add_url_rule("/favicon.ico", "favicon", lambda: serve(app.static_folder, "favicon.svg"))
    app.config.setdefault("COMPRESS_ANSWERS", True)
    if app.config["COMPRESS_ANSWERS"]:
        app.after_request(compress_answers)


#: Answers compressed by :func:`compress_answers`; static files are compressed by :func:`serve`.
ANSWER_TYPES = ("text/html", "application/json", "application/problem+json", "text/csv")
MIN_COMPRESSED = 1024


def compress_answers(response):
    """Gzip a page or API answer for a client that accepts gzip (level 6, nginx's)."""
    if (response.status_code != 200 or response.direct_passthrough or response.is_streamed
            or "Content-Encoding" in response.headers or response.mimetype not in ANSWER_TYPES
            or request.accept_encodings["gzip"] <= 0):
        return response
    body = response.get_data()
    if len(body) < MIN_COMPRESSED:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    tag, weak = response.get_etag()
    if tag and not weak:
        response.set_etag(tag, weak=True)
    return response


class _NoSessionFor(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except on the given paths (a session is opened before
    the URL is matched, hence by path): there an empty one that is never saved, whatever
    reads or writes it (a 404 page renders a CSRF token)."""

    def __init__(self, prefixes):
        self.prefixes = prefixes

    def open_session(self, app, request):
        if request.path.startswith(self.prefixes):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if request.path.startswith(self.prefixes):
            return None
        return super().save_session(app, session, response)


def _not_for_static(hook):
    @wraps(hook)
    def hook_for_pages():
        return None if is_static_endpoint(request.endpoint) else hook()
    return hook_for_pages


def is_static_endpoint(endpoint: str | None) -> bool:
    return bool(endpoint) and (endpoint in ("static", "favicon") or endpoint.endswith(".static"))


def fingerprinted(folder: str, filename: str) -> str:
    """``vendor/pico/pico.min.css`` -> ``vendor/pico/pico.min.<hash>.css``; a name that
    is not a file is left as it is (it will answer 404)."""
    path = safe_join(folder, filename)
    if path is None or not os.path.isfile(path):
        return filename
    head, dot, ext = filename.rpartition(".")
    if not dot or "/" in ext:
        return f"{filename}.{_digest(path)[:HASH_LENGTH]}"
    return f"{head}.{_digest(path)[:HASH_LENGTH]}.{ext}"


def serve(folder: str, filename: str):
    path, immutable = _resolve(folder, filename)
    digest = _digest(path)
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    compressible = mimetype.startswith(COMPRESSIBLE)
    body = _gzip(path) if compressible and request.accept_encodings["gzip"] > 0 else None
    if body is None:
        response = send_file(path, mimetype=mimetype, etag=digest, conditional=True,
                             max_age=IMMUTABLE_MAX_AGE if immutable else None)
    else:
        response = current_app.response_class(body, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(f"{digest}.gz")
        response.last_modified = int(os.stat(path).st_mtime)
        if immutable:
            response.cache_control.public = True
            response.cache_control.max_age = IMMUTABLE_MAX_AGE
        else:
            response.cache_control.no_cache = True
        response.make_conditional(request)
    if immutable:
        response.cache_control.immutable = True
    if compressible:
        response.vary.add("Accept-Encoding")
    return response


def _resolve(folder, filename):
    """The file a static URL names and whether the URL carries its current hash."""
    path = safe_join(folder, filename)
    if path is not None and os.path.isfile(path):
        return path, False
    match = _FINGERPRINTED.match(filename)
    if match:
        path = safe_join(folder, match["stem"] + (match["ext"] or ""))
        if path is not None and os.path.isfile(path):
            return path, _digest(path)[:HASH_LENGTH] == match["hash"]
    abort(404)


def _version(path):
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _digest(path: str) -> str:
    version = _version(path)
    known = _digests.get(path)
    if known is None or known[0] != version:
        with open(path, "rb") as handle:
            known = _digests[path] = (version, hashlib.sha256(handle.read()).hexdigest())
    return known[1]


def _gzip(path: str) -> bytes | None:
    """The file gzipped (``mtime=0``: the same bytes on every worker), or None when that
    saves nothing (a file of a few bytes)."""
    version = _version(path)
    known = _gzipped.get(path)
    if known is None or known[0] != version:
        with open(path, "rb") as handle:
            raw = handle.read()
        known = _gzipped[path] = (version, gzip.compress(raw, compresslevel=9, mtime=0))
        if len(known[1]) >= len(raw):
            known = _gzipped[path] = (version, b"")
    return known[1] or None
