"""Sign-in, sign-out, the account page (context switch, language, password, second factor)."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from core.accounts import second_factor, service, throttle
from core.accounts.models import User
from core.errors import Refused
from core.extensions import db
from core.tenancy import unscoped

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
            return _after_password(user, login_value, _safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("accounts/login.html", error=error), status


def _after_password(user, login_value, next_url):
    """The password was right. An account with a second factor, or an admin who must have
    one and has none yet, is held at the second step (security item 9): no session opens
    and the throttle is not cleared until that step is passed too."""
    if second_factor.is_enrolled(user):
        stage = "accounts.second_step"
    elif second_factor.is_required(user):
        stage = "accounts.enrol_on_sign_in"
    else:
        throttle.succeeded(login_value)
        service.note_login(user)
        start_web_session(user)
        return redirect(next_url or url_for("home"))
    _clear_session()
    session[_PENDING] = {"u": user.id, "v": user.session_version, "t": second_factor.clock(), "next": next_url}
    return redirect(url_for(stage))


#: The signed session's note of an account between its password and its second step.
_PENDING = "second_factor_pending"


def _pending_user():
    """The account held at the second step, while the note is fresh
    (``SECOND_FACTOR_PENDING_SECONDS``) and the password unchanged since."""
    note = session.get(_PENDING)
    if not isinstance(note, dict):
        return None
    age = second_factor.clock() - float(note.get("t") or 0)
    if not 0 <= age <= current_app.config["SECOND_FACTOR_PENDING_SECONDS"]:
        session.pop(_PENDING, None)
        return None
    with unscoped("sign-in: the account at its second step", routine=True):
        user = db.session.execute(select(User).where(User.id == note.get("u"))).scalar_one_or_none()
    if user is None or not user.is_active or user.session_version != note.get("v"):
        return None
    return user


def _finish_sign_in(user):
    next_url = (session.get(_PENDING) or {}).get("next")
    throttle.succeeded(user.login)
    service.note_login(user)
    start_web_session(user)  # clears the note
    return _safe_next(next_url) or url_for("home")


def _sign_in_again():
    session.pop(_PENDING, None)
    flash(_("The sign-in has expired. Enter your login and password again."), "error")
    return redirect(url_for("accounts.login"))


def _private(response, status=200):
    """Secrets and recovery codes are not to be kept by a cache or the browser's history."""
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_step():
    """The code from the authenticator app, or a recovery code. A wrong one counts as a
    wrong password does (the same progressive lock)."""
    user = _pending_user()
    if user is None or not second_factor.is_enrolled(user):
        return _sign_in_again()
    error = None
    if request.method == "POST":
        try:
            throttle.check(user.login)
        except throttle.Throttled as refused:
            return _throttled_page(refused, "accounts/second_step.html")
        if second_factor.check_code(user, request.form.get("code", "")):
            return redirect(_finish_sign_in(user))
        db.session.rollback()
        throttle.failed(user.login)
        error = second_factor.wrong_code_message()
    return render_template("accounts/second_step.html", error=error), 422 if error else 200


@bp.route("/login/second-factor/setup", methods=["GET", "POST"])
def enrol_on_sign_in():
    """An admin whose organisation requires a second factor and who has none: set it up
    now, before anything else; the session opens only once it is confirmed."""
    user = _pending_user()
    if user is None or second_factor.is_enrolled(user):
        return _sign_in_again()
    error = None
    if request.method == "POST":
        try:
            codes = second_factor.confirm(user, request.form.get("code", ""))
        except Refused as problem:
            db.session.rollback()
            error = str(problem)
        else:
            target = _finish_sign_in(user)  # commits the factor with the new session
            return _private(render_template("accounts/recovery_codes.html", codes=codes, next_url=target))
    return _setup_page(user, url_for("accounts.enrol_on_sign_in"), error, on_sign_in=True)


def _setup_page(user, action, error=None, on_sign_in=False):
    factor = second_factor.begin_enrolment(user)
    details = second_factor.enrolment_details(user, factor)
    return _private(render_template("accounts/second_factor_setup.html", details=details, action=action,
                                    error=error, on_sign_in=on_sign_in), 422 if error else 200)


def _clear_session():
    """A new session at every sign-in and sign-out (no fixation), keeping only the language
    the person chose on the page."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_web_session(user):
    """Sign the browser in: a new server-side session (the cookie carries only its key),
    committed with whatever the sign-in wrote."""
    _clear_session()
    row = service.open_session(user, "web")
    db.session.flush()  # the row's id goes into the cookie; the request's end commits it
    session["sid"] = row.id
    login_user(user)
    service.establish(user, None)
    g.account_session = row
    if g.membership is not None:
        session["membership_id"] = g.membership.id


def _throttled_page(refused, template="accounts/login.html"):
    minutes = max(1, -(-refused.retry_after // 60))
    error = _("Too many failed sign-in attempts. Try again in %(minutes)d min.", minutes=minutes)
    return (render_template(template, error=error), 429,
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
            return _throttled_page(refused, "accounts/code.html")
        try:
            user = service.redeem_code(login_value, request.form.get("code", ""),
                                       request.form.get("password", ""))
        except Refused as problem:
            db.session.rollback()
            if "code" in problem.errors:
                throttle.failed(login_value)
            error = str(problem)
        else:
            # The new password is the first factor only: an admin's second one still applies.
            response = _after_password(user, login_value, None)
            flash(_("Your password is set. Welcome!"))
            return response
    return render_template("accounts/code.html", error=error), 422 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the session on the server too: the old cookie signs nobody in afterwards."""
    if current_user.is_authenticated:
        service.end_session(g.get("account_session"))
    logout_user()
    _clear_session()
    flash(_("You have signed out."))
    response = redirect(url_for("accounts.login"))
    # The diary's offline copies (its service worker's cache) leave with the session: the
    # next person on a shared phone finds none of them.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


@bp.route("/account")
@login_required
def account():
    user = current_user._get_current_object()
    enrolled = second_factor.is_enrolled(user)
    return render_template("accounts/account.html", memberships=g.memberships,
                           languages=current_app.config["LANGUAGES"],
                           sessions=service.open_sessions(current_user), handle=service.session_handle,
                           this_session=g.get("account_session"),
                           second_factor_enrolled=enrolled,
                           may_enrol=enrolled or second_factor.may_enrol(user, g.memberships))


@bp.route("/account/sessions/<handle>/end", methods=["POST"])
@login_required
def end_session(handle):
    try:
        ended = service.end_session_by_handle(current_user, handle)
    except Refused:
        abort(404)  # not one of the caller's open sessions: nothing to say about it
    if ended.id == session.get("sid"):
        logout_user()
        _clear_session()
        flash(_("You have signed out."))
        return redirect(url_for("accounts.login"))
    flash(_("The session has been ended."))
    return redirect(url_for("accounts.account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    count = service.end_sessions(current_user, keep=g.get("account_session"))
    flash(_("Other sessions ended: %(count)d.", count=count))
    return redirect(url_for("accounts.account"))


@bp.route("/account/context", methods=["POST"])
@login_required
def switch_context():
    try:
        membership = service.switch_context(current_user, request.form.get("membership_id", type=int))
    except Refused as error:
        flash(str(error), "error")
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
    except Refused as error:
        flash(str(error), "error")
        return redirect(url_for("accounts.account"))
    # The session id carries the new session version. Flask-Login must be given the user
    # itself: given the proxy, it stores the proxy, which then resolves to itself forever.
    login_user(current_user._get_current_object())
    flash(_("Your password has been changed."))
    return redirect(url_for("accounts.account"))


# The second factor (security item 9) --------------------------------------------------------

@bp.route("/account/second-factor")
@login_required
def second_factor_page():
    user = current_user._get_current_object()
    if second_factor.is_enrolled(user):
        factor = second_factor.factor_of(user)
        return render_template("accounts/second_factor.html", factor=factor,
                               codes_left=second_factor.recovery_codes_left(user),
                               required=second_factor.is_required(user, g.memberships))
    if not second_factor.may_enrol(user, g.memberships):
        abort(404)  # only administrators have one
    return _setup_page(user, url_for("accounts.confirm_second_factor"))


@bp.route("/account/second-factor", methods=["POST"])
@login_required
def confirm_second_factor():
    user = current_user._get_current_object()
    if not second_factor.may_enrol(user, g.memberships):
        abort(404)
    try:
        codes = second_factor.confirm(user, request.form.get("code", ""))
    except Refused as problem:
        db.session.rollback()
        if problem.status == 409:
            flash(str(problem), "error")
            return redirect(url_for("accounts.second_factor_page"))
        return _setup_page(user, url_for("accounts.confirm_second_factor"), str(problem))
    return _private(render_template("accounts/recovery_codes.html", codes=codes,
                                    next_url=url_for("accounts.second_factor_page")))


@bp.route("/account/second-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate_recovery_codes():
    user = current_user._get_current_object()
    refused = _code_refused(user, lambda code: second_factor.regenerate_recovery_codes(user, code))
    if refused is not None:
        return refused
    return _private(render_template("accounts/recovery_codes.html", codes=g.second_factor_result,
                                    next_url=url_for("accounts.second_factor_page")))


@bp.route("/account/second-factor/disable", methods=["POST"])
@login_required
def disable_second_factor():
    user = current_user._get_current_object()
    refused = _code_refused(user, lambda code: second_factor.disable(user, code))
    if refused is not None:
        return refused
    flash(_("The second factor is switched off."))
    return redirect(url_for("accounts.account"))


def _code_refused(user, action):
    """Run ``action`` with the code of the form; a wrong code counts into the sign-in
    throttle (a stolen session must not guess its way to switching the factor off).
    Returns the refusal's response, or None when done."""
    try:
        throttle.check(user.login)
    except throttle.Throttled as refused:
        minutes = max(1, -(-refused.retry_after // 60))
        flash(_("Too many failed sign-in attempts. Try again in %(minutes)d min.", minutes=minutes), "error")
        return redirect(url_for("accounts.second_factor_page"))
    try:
        g.second_factor_result = action(request.form.get("code", ""))
    except Refused as problem:
        db.session.rollback()
        if problem.status == 422:
            throttle.failed(user.login)
        flash(str(problem), "error")
        return redirect(url_for("accounts.second_factor_page"))
    return None
