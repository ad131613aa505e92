"""Security headers on every response.

The pages load scripts and styles from the app's own origin only (no inline script, no
``style`` attributes), so the Content-Security-Policy can be strict; a page that needs
more (the API docs' Swagger UI) says so with :func:`relaxed_policy`. Responses other than
static files (``core.assets`` says how long those are kept) carry ``Cache-Control: no-store`` unless the view marked its answer
``private`` itself: nearly every page and API answer holds personal data (marks, names),
and a shared or back-button cache must not keep it.
"""
from __future__ import annotations

from functools import wraps

from flask import g, request

from core.assets import is_static_endpoint

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"


def policy(overrides: dict | None = None) -> str:
    merged = {**POLICY, **(overrides or {})}
    return "; ".join(f"{name} {value}" for name, value in merged.items())


def relaxed_policy(**overrides):
    """A view whose page needs more than the default policy, e.g.
    ``@relaxed_policy(style_src="'self' 'unsafe-inline'")``."""
    directives = {name.replace("_", "-"): value for name, value in overrides.items()}

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.csp_overrides = directives
            return view(*args, **kwargs)
        return wrapper
    return decorate


def init_app(app):
    app.config.setdefault("HSTS_SECONDS", 31536000)
    default_policy = policy()

    @app.after_request
    def _secure(response):
        headers = response.headers
        overrides = g.pop("csp_overrides", None)
        headers.setdefault("Content-Security-Policy", policy(overrides) if overrides else default_policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # Behind TLS only (gunicorn takes the scheme from the trusted proxy's
        # X-Forwarded-Proto): over plain HTTP the header is meaningless and a demo on
        # loopback must not pin itself to HTTPS.
        if request.is_secure and app.config["HSTS_SECONDS"]:
            headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains")
        # A view that revalidates its own private answer (ETag) marks it ``private``.
        if not is_static_endpoint(request.endpoint) and not response.cache_control.private:
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response

