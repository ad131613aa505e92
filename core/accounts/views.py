"""Sign-in, sign-out, the account page (context switch, language, password)."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core.accounts import service
from core.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        user = service.authenticate(request.form.get("login", ""), request.form.get("password", ""))
        if user is None:
            error = _("Wrong login or password.")
        else:
            session.clear()
            login_user(user)
            service.note_login(user)
            db.session.commit()
            service.establish(user, None)
            if g.membership is not None:
                session["membership_id"] = g.membership.id
            return redirect(_safe_next(request.args.get("next")) or url_for("home"))
    status = 401 if error else 200
    return render_template("accounts/login.html", error=error), status


def _safe_next(target):
    # Only same-site relative paths: never an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_with_code():
    """First sign-in with a one-time code from an administrator: choose a password."""
    error = None
    if request.method == "POST":
        try:
            user = service.redeem_code(request.form.get("login", ""), request.form.get("code", ""),
                                       request.form.get("password", ""))
        except service.AccountError as problem:
            db.session.rollback()
            error = problem.message
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            service.establish(user, None)
            if g.membership is not None:
                session["membership_id"] = g.membership.id
            flash(_("Your password is set. Welcome!"))
            return redirect(url_for("home"))
    return render_template("accounts/code.html", error=error), 422 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("accounts.login"))


@bp.route("/account")
@login_required
def account():
    return render_template("accounts/account.html", memberships=g.memberships,
                           languages=current_app.config["LANGUAGES"])


@bp.route("/account/context", methods=["POST"])
@login_required
def switch_context():
    try:
        membership = service.switch_context(current_user, request.form.get("membership_id", type=int))
    except service.AccountError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account"))
    flash(_("You now act as: %(role)s.", role=membership.role_label))
    return redirect(url_for("home"))


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("home"))


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    if not service.check_password(current_user, request.form.get("current_password", "")):
        flash(_("The current password is wrong."), "error")
        return redirect(url_for("accounts.account"))
    try:
        service.reset_password(current_user, request.form.get("new_password", ""),
                               reason="changed by the user")
    except service.AccountError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account"))
    db.session.commit()
    # The session id carries the new session version. Flask-Login must be given the user
    # itself: given the proxy, it stores the proxy, which then resolves to itself forever.
    login_user(current_user._get_current_object())
    flash(_("Your password has been changed."))
    return redirect(url_for("accounts.account"))
