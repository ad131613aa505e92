from flask import current_app, g
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from core.accounts import service
from core.accounts.schemas import MeSchema, TokenRequestSchema, TokenSchema
from core.apispec import Blueprint
from core.extensions import db, limiter

blp = Blueprint("auth_api", __name__, public=True, description="Sign-in and the caller's account")


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/token", methods=["POST"])
@limiter.limit(_login_limit)
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def issue_token(data):
    """Exchange a login and password for a Bearer token."""
    user = service.authenticate(data["login"], data["password"])
    if user is None:
        abort(401, message=_("Wrong login or password."))
    service.note_login(user)
    db.session.commit()
    service.establish(user, data.get("membership_id"))
    membership = g.membership
    return service.issue_token(user, membership)


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
