from flask import g
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from core.accounts import second_factor, service, throttle
from core.accounts.schemas import MeSchema, SessionSchema, TokenRequestSchema, TokenSchema
from core.apispec import Blueprint

blp = Blueprint("auth_api", __name__, public=True, description="Sign-in and the caller's account")


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def issue_token(data):
    """Exchange a login and password for a Bearer token. Wrong passwords lock the account
    progressively (429 with Retry-After), as on the sign-in page.

    An account with a second factor also sends ``otp``: missing or wrong, 422 under
    ``errors.otp`` (a wrong one counts as a wrong password). An administrator who must have
    a second factor and has not set it up gets 403: it is set up on the website."""
    try:
        throttle.check(data["login"])
    except throttle.Throttled as refused:
        abort(429, message=_("Too many failed sign-in attempts. Try again in %(minutes)d min.",
                             minutes=max(1, -(-refused.retry_after // 60))),
              headers={"Retry-After": str(refused.retry_after)})
    user = service.authenticate(data["login"], data["password"])
    if user is None:
        throttle.failed(data["login"])
        abort(401, message=_("Wrong login or password."))
    if second_factor.is_enrolled(user):
        if not data.get("otp"):
            abort(422, errors={"otp": [_("Enter the code from your authenticator app.")]})
        if not second_factor.check_code(user, data["otp"]):
            throttle.failed(data["login"])
            abort(422, errors={"otp": [second_factor.wrong_code_message()]})
    elif second_factor.is_required(user):
        abort(403, message=_("Your organisation requires administrators to sign in with a second factor. "
                             "Sign in on the website to set it up, then send its code as otp."))
    throttle.succeeded(data["login"])
    service.note_login(user)
    service.establish(user, data.get("membership_id"))
    token = service.issue_token(user, g.membership)
    return token


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the Bearer token this request carries: it signs nobody in afterwards."""
    if not current_user.is_authenticated or service.bearer_token() is None:
        abort(401)
    service.end_session(g.get("account_session"))


@blp.route("/me/sessions")
@blp.response(200, SessionSchema(many=True))
def my_sessions():
    """The caller's open browser sessions and API tokens."""
    if not current_user.is_authenticated:
        abort(401)
    current = g.get("account_session")
    return [{"id": service.session_handle(row), "kind": row.kind, "created_at": row.created_at,
             "last_seen_at": row.last_seen_at, "address": row.address, "user_agent": row.user_agent,
             "is_current": current is not None and row.id == current.id}
            for row in service.open_sessions(current_user)]


@blp.route("/me/sessions/<handle>", methods=["DELETE"])
@blp.response(204)
def end_my_session(handle):
    """End one of the caller's sessions or tokens (404 when none is open by that id)."""
    if not current_user.is_authenticated:
        abort(401)
    service.end_session_by_handle(current_user, handle)


@blp.route("/me")
@blp.response(200, MeSchema)
def me():
    """The caller, their roles, and the role they act in."""
    if not current_user.is_authenticated:
        abort(401)
    return {
        "id": current_user.id, "login": current_user.login, "full_name": current_user.full_name,
        "email": current_user.email, "locale": current_user.locale, "memberships": g.memberships,
        "active_membership_id": g.membership.id if g.membership else None,
    }
