"""Sign-in, sign-out, the account page (context switch, language, password)."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core.accounts import service, throttle
from core.extensions import db

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        login_value = request.form.get("login", "")
        try:
            throttle.check(login_value)
        except throttle.Throttled as refused:
            return _throttled_page(refused)
        user = service.authenticate(login_value, request.form.get("password", ""))
        if user is None:
            throttle.failed(login_value)
            error = _("Wrong login or password.")
        else:
            throttle.succeeded(login_value)
            service.note_login(user)
            start_web_session(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home"))
    status = 401 if error else 200
    return render_template("accounts/login.html", error=error), status


def start_web_session(user):
    """Sign the browser in: a new server-side session (the cookie carries only its key),
    committed with whatever the sign-in wrote."""
    session.clear()
    row = service.open_session(user, "web")
    db.session.commit()
    session["sid"] = row.id
    login_user(user)
    service.establish(user, None)
    g.account_session = row
    if g.membership is not None:
        session["membership_id"] = g.membership.id


def _throttled_page(refused):
    minutes = max(1, -(-refused.retry_after // 60))
    error = _("Too many failed sign-in attempts. Try again in %(minutes)d min.", minutes=minutes)
    return (render_template("accounts/login.html", error=error), 429,
            {"Retry-After": str(refused.retry_after)})


def _safe_next(target):
    # Only same-site relative paths: never an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login/code", methods=["GET", "POST"])
def login_with_code():
    """First sign-in with a one-time code from an administrator: choose a password."""
    error = None
    if request.method == "POST":
        login_value = request.form.get("login", "")
        try:
            throttle.check(login_value)
        except throttle.Throttled as refused:
            return _throttled_page(refused)
        try:
            user = service.redeem_code(login_value, request.form.get("code", ""),
                                       request.form.get("password", ""))
        except service.AccountError as problem:
            db.session.rollback()
            if problem.field == "code":
                throttle.failed(login_value)
            error = problem.message
        else:
            throttle.succeeded(login_value)
            start_web_session(user)
            flash(_("Your password is set. Welcome!"))
            return redirect(url_for("home"))
    return render_template("accounts/code.html", error=error), 422 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the session on the server too: the old cookie signs nobody in afterwards."""
    if current_user.is_authenticated:
        service.end_session(g.get("account_session"))
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("accounts.login"))


@bp.route("/account")
@login_required
def account():
    return render_template("accounts/account.html", memberships=g.memberships,
                           languages=current_app.config["LANGUAGES"],
                           sessions=service.open_sessions(current_user), handle=service.session_handle,
                           this_session=g.get("account_session"), local_time=_local_time)


def _local_time(moment):
    """A stored UTC instant in the reader's time zone, as people write it."""
    from flask_babel import format_datetime

    from core.orm import as_aware

    return format_datetime(as_aware(moment), "dd.MM.yyyy HH:mm")


@bp.route("/account/sessions/<handle>/end", methods=["POST"])
@login_required
def end_session(handle):
    try:
        ended = service.end_session_by_handle(current_user, handle)
    except service.AccountError:
        abort(404)  # not one of the caller's open sessions: nothing to say about it
    db.session.commit()
    if ended.id == session.get("sid"):
        logout_user()
        session.clear()
        flash(_("You have signed out."))
        return redirect(url_for("accounts.login"))
    flash(_("The session has been ended."))
    return redirect(url_for("accounts.account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    count = service.end_sessions(current_user, keep=g.get("account_session"))
    db.session.commit()
    flash(_("Other sessions ended: %(count)d.", count=count))
    return redirect(url_for("accounts.account"))


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
                               reason="changed by the user", keep=g.get("account_session"))
    except service.AccountError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account"))
    db.session.commit()
    # The session id carries the new session version. Flask-Login must be given the user
    # itself: given the proxy, it stores the proxy, which then resolves to itself forever.
    login_user(current_user._get_current_object())
    flash(_("Your password has been changed."))
    return redirect(url_for("accounts.account"))
