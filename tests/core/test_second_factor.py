"""Administrators' second factor (security item 9): enrolment with a QR code, sign-in with
a code or a recovery code, replays and guesses refused, the regulation that requires it,
and the API token.

Every code is computed for a fixed instant (pyotp's ``TOTP.at``) that the app's clock
(``core.clock``) stands at: nothing here depends on the real time."""
import datetime as dt
import hashlib
import re

import pyotp
import pytest
from sqlalchemy import select

from core import clock as core_clock
from core.accounts import second_factor
from core.accounts import service as accounts
from core.tenancy import unscoped
from core.extensions import db
from tests.conftest import app_config

T0 = 1_800_000_000  # 2027-01-15 08:00 UTC, at the start of a 30-second step


class Clock:
    """The app's clock standing at a UNIX time, moved on by hand."""

    def __init__(self, fixed):
        self.fixed = fixed

    @property
    def now(self):
        return self.fixed().timestamp()

    def advance(self, seconds):
        self.fixed.advance(seconds)


@pytest.fixture
def clock(app_clock):
    with core_clock.fixed(dt.datetime.fromtimestamp(T0, dt.timezone.utc)) as fixed:
        yield Clock(fixed)


def totp(secret, at):
    return pyotp.TOTP(secret).at(at)


def secret_on(page):
    match = re.search(r'data-testid="second-factor-secret">([A-Z2-7 ]+)<', page)
    assert match, page
    return match.group(1).replace(" ", "")


def codes_on(page):
    return re.findall(r"<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>", page)


@pytest.fixture
def enrol(app, login, clock):
    """Sign in with the password, set the factor up on the account page; returns the
    secret and the recovery codes, as the person would have them."""

    def do(user):
        http = app.test_client()
        login(http, user)
        page = http.get("/account/second-factor").get_data(as_text=True)
        secret = secret_on(page)
        done = http.post("/account/second-factor", data={"code": totp(secret, clock.now)})
        assert done.status_code == 200, done.data
        clock.advance(30)  # the next sign-in is at a later step: the confirming code is used
        return secret, codes_on(done.get_data(as_text=True))

    return do


def require_second_factor(app, tenant, value=True):
    """The tenant's regulation (an order of its own) says its admins need a second factor."""
    from tenants import service

    with app.test_request_context(), unscoped("test: a regulation", platform=True):
        service.add_version(service.load(tenant["id"]), effective_from=dt.date(2020, 1, 1),
                            act="Приказ № 9 от 01.01.2020", values={"security": {"admin_second_factor": value}})
        db.session.commit()
        db.session.remove()


def password_step(http, user):
    return http.post("/login", data={"login": user["login"], "password": user["password"]})


def test_enrolment_shows_a_qr_code_then_takes_a_current_code(app, login, clock, region_tree):
    """Security item 9: the set-up page shows a QR code (an SVG data: URI, no inline script
    or style) and the key as text; a wrong code is refused, a current one switches the
    factor on and shows ten recovery codes once, kept only as hashes."""
    from core.accounts.models import RecoveryCode, SecondFactor

    admin = region_tree["a"]["school_admin"]
    http = login(app.test_client(), admin)
    assert "/account/second-factor" in http.get("/account").get_data(as_text=True)
    setup = http.get("/account/second-factor")
    page = setup.get_data(as_text=True)
    assert setup.status_code == 200 and setup.headers["Cache-Control"] == "no-store"
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="[^"]+"', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page
    secret = secret_on(page)
    assert http.get("/account/second-factor").get_data(as_text=True).count(" ".join(
        secret[i:i + 4] for i in range(0, 32, 4))) == 1  # a reload shows the same key

    wrong = http.post("/account/second-factor", data={"code": totp(secret, T0 - 300)})
    assert wrong.status_code == 422 and "Код неверный" in wrong.get_data(as_text=True)
    done = http.post("/account/second-factor", data={"code": totp(secret, T0)})
    codes = codes_on(done.get_data(as_text=True))
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert len(codes) == len(set(codes)) == 10

    with app.app_context():
        factor = db.session.execute(select(SecondFactor).where(SecondFactor.user_id == admin["id"])).scalar_one()
        assert factor.confirmed_at is not None and secret not in factor.secret
        hashes = set(db.session.execute(select(RecoveryCode.code_hash).where(
            RecoveryCode.user_id == admin["id"])).scalars())
    assert hashes == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    # Afterwards the page shows neither the key nor the codes again.
    after = http.get("/account/second-factor").get_data(as_text=True)
    assert secret[:8] not in after and codes[0] not in after and "data:image/svg" not in after
    assert "резервных кодов: 10" in after


def test_sign_in_opens_the_session_only_after_the_code(app, enrol, clock, region_tree):
    """Security item 9: after the right password an enrolled admin is asked for the code;
    until it is given there is no session."""
    admin = region_tree["a"]["school_admin"]
    secret, _codes = enrol(admin)
    http = app.test_client()
    first = password_step(http, admin)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/second-factor")
    assert http.get("/account").status_code == 302
    assert http.get("/api/v1/me").status_code == 401
    assert http.get("/login/second-factor").status_code == 200
    done = http.post("/login/second-factor", data={"code": totp(secret, clock.now)})
    assert done.status_code == 302 and "/login" not in done.headers["Location"]
    assert http.get("/account").status_code == 200
    assert http.get("/api/v1/me").json["login"] == admin["login"]


def test_a_code_cannot_be_used_twice(app, enrol, clock, region_tree):
    """Security item 9: the step of the last accepted code is kept; the same code again (an
    overheard one, within its 30 seconds) is refused; the next step's code works."""
    admin = region_tree["a"]["school_admin"]
    secret, _codes = enrol(admin)
    code = totp(secret, clock.now)
    first = app.test_client()
    password_step(first, admin)
    assert first.post("/login/second-factor", data={"code": code}).status_code == 302
    replay = app.test_client()
    password_step(replay, admin)
    refused = replay.post("/login/second-factor", data={"code": code})
    assert refused.status_code == 422 and "уже использован" in refused.get_data(as_text=True)
    # The previous step's code is older than the one used: refused too, though within the drift.
    assert replay.post("/login/second-factor", data={"code": totp(secret, clock.now - 30)}).status_code == 422
    clock.advance(30)
    assert replay.post("/login/second-factor", data={"code": totp(secret, clock.now)}).status_code == 302


def test_a_recovery_code_signs_in_once(app, enrol, clock, region_tree, as_platform):
    """Security item 9: a recovery code stands in for the app, once."""
    admin = region_tree["a"]["municipality_admin"]
    _secret, codes = enrol(admin)
    http = app.test_client()
    password_step(http, admin)
    assert http.post("/login/second-factor", data={"code": codes[3].lower()}).status_code == 302
    again = app.test_client()
    password_step(again, admin)
    assert again.post("/login/second-factor", data={"code": codes[3]}).status_code == 422
    assert again.post("/login/second-factor", data={"code": codes[4]}).status_code == 302
    with as_platform():
        from core.accounts.models import User

        user = db.session.get(User, admin["id"])
        assert second_factor.recovery_codes_left(user) == 8


def test_wrong_codes_lock_the_account_like_wrong_passwords(database_url, app, enrol, clock, region_tree):
    """Security item 9 with AC-2: wrong codes count into the sign-in throttle; after the
    free failures even the right code is refused until the lock is over."""
    from core import create_app

    admin = region_tree["a"]["school_admin"]
    secret, _codes = enrol(admin)
    limited = create_app(app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_FREE_FAILURES=3,
                                    LOGIN_LOCK_SECONDS=60))
    http = limited.test_client()
    assert password_step(http, admin).status_code == 302
    wrong = totp(secret, clock.now + 3600)
    statuses = [http.post("/login/second-factor", data={"code": wrong}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    refused = http.post("/login/second-factor", data={"code": totp(secret, clock.now)})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    # The lock is the account's: the password step is refused too.
    assert password_step(limited.test_client(), admin).status_code == 429


def test_the_second_step_expires_after_five_minutes(app, enrol, clock, region_tree):
    admin = region_tree["a"]["school_admin"]
    secret, _codes = enrol(admin)
    http = app.test_client()
    password_step(http, admin)
    clock.advance(301)
    late = http.post("/login/second-factor", data={"code": totp(secret, clock.now)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert http.get("/account").status_code == 302


def test_a_required_admin_must_enrol_before_anything_else(app, clock, region_tree, as_platform):
    """Security item 9: the region requires a second factor; its school admin, who has none,
    is sent to the set-up after the password and reaches no other page (nor the API) until
    it is confirmed; then the session opens and the recovery codes are shown."""
    a = region_tree["a"]
    require_second_factor(app, a["region"])
    http = app.test_client()
    first = password_step(http, a["school_admin"])
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/second-factor/setup")
    for path in ("/", "/account", f"/tenants/{a['school']['id']}", "/account/second-factor"):
        assert http.get(path).status_code == 302, path
        assert "/login" in http.get(path).headers["Location"]
    assert http.get("/api/v1/me").status_code == 401
    setup = http.get("/login/second-factor/setup")
    page = setup.get_data(as_text=True)
    assert setup.status_code == 200 and "data:image/svg+xml" in page and "Ваша организация требует" in page
    secret = secret_on(page)
    assert http.post("/login/second-factor/setup", data={"code": "000000"}).status_code == 422
    assert http.get("/account").status_code == 302
    done = http.post("/login/second-factor/setup", data={"code": totp(secret, clock.now)})
    assert done.status_code == 200 and len(codes_on(done.get_data(as_text=True))) == 10
    assert http.get("/account").status_code == 200
    assert http.get(f"/tenants/{a['school']['id']}").status_code == 200
    # Required: it cannot be switched off, even with a right code.
    clock.advance(30)
    http.post("/account/second-factor/disable", data={"code": totp(secret, clock.now)})
    assert "не может быть отключён" in http.get("/account/second-factor").get_data(as_text=True)
    with as_platform():
        from core.accounts.models import User

        assert second_factor.is_enrolled(db.session.get(User, a["school_admin"]["id"]))


def test_teachers_of_a_requiring_region_are_never_asked(app, login, clock, region_tree):
    """Security item 9: only administrators; a teacher of the same school signs in with the
    password alone and has no set-up page."""
    a = region_tree["a"]
    require_second_factor(app, a["region"])
    http = app.test_client()
    first = password_step(http, a["teacher"])
    assert first.status_code == 302 and "/login" not in first.headers["Location"]
    assert http.get("/account").status_code == 200
    assert "/account/second-factor" not in http.get("/account").get_data(as_text=True)
    assert http.get("/account/second-factor").status_code == 404
    assert app.test_client().post("/api/v1/auth/token", json={
        "login": a["teacher"]["login"], "password": a["teacher"]["password"]}).status_code == 200


def test_other_regions_and_the_region_above_are_not_bound_by_a_school(app, login, clock, region_tree):
    """A school that requires it binds its own admins, not the region's nor another region's."""
    require_second_factor(app, region_tree["a"]["school"])
    assert "/setup" in password_step(app.test_client(), region_tree["a"]["school_admin"]).headers["Location"]
    for user in (region_tree["a"]["region_admin"], region_tree["b"]["school_admin"], region_tree["platform_admin"]):
        assert "/login" not in password_step(app.test_client(), user).headers["Location"], user


def test_platform_admins_are_governed_by_the_config(database_url, app, clock, region_tree):
    from core import create_app

    strict = create_app(app_config(database_url, PLATFORM_ADMIN_SECOND_FACTOR=True))
    root = region_tree["platform_admin"]
    assert password_step(strict.test_client(), root).headers["Location"].endswith("/login/second-factor/setup")
    assert "/login" not in password_step(app.test_client(), root).headers["Location"]  # off in tests and the demo
    token = strict.test_client().post("/api/v1/auth/token", json={"login": root["login"], "password": root["password"]})
    assert token.status_code == 403


def test_a_one_time_code_does_not_skip_the_second_factor(app, clock, region_tree):
    """Security item 9: setting a password with an administrator's one-time code (AC-3) is
    the first factor only."""
    a = region_tree["a"]
    require_second_factor(app, a["region"])
    with app.test_request_context(), unscoped("test: issue a code", platform=True):
        from core.accounts.models import User

        code = accounts.issue_code(db.session.get(User, a["municipality_admin"]["id"]), tenant_id=a["municipality"]["id"])
        db.session.commit()
    http = app.test_client()
    done = http.post("/login/code", data={"login": a["municipality_admin"]["login"], "code": code,
                                          "password": "a-new-password-1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login/second-factor/setup")
    assert http.get("/account").status_code == 302


def test_api_token_needs_the_code_of_an_enrolled_account(app, enrol, clock, region_tree):
    """Security item 9: ``otp`` missing or wrong gives 422 under errors.otp; the right one a
    token; an admin required to have a factor and without one gets 403 (set it up on the web)."""
    a = region_tree["a"]
    secret, codes = enrol(a["school_admin"])
    http = app.test_client()
    body = {"login": a["school_admin"]["login"], "password": a["school_admin"]["password"]}
    missing = http.post("/api/v1/auth/token", json=body)
    assert missing.status_code == 422 and missing.mimetype == "application/problem+json"
    assert "otp" in missing.json["errors"]
    wrong = http.post("/api/v1/auth/token", json={**body, "otp": totp(secret, clock.now + 600)})
    assert wrong.status_code == 422 and "otp" in wrong.json["errors"]
    issued = http.post("/api/v1/auth/token", json={**body, "otp": totp(secret, clock.now)})
    assert issued.status_code == 200 and issued.json["token_type"] == "Bearer"
    assert http.post("/api/v1/auth/token", json={**body, "otp": totp(secret, clock.now)}).status_code == 422
    assert http.post("/api/v1/auth/token", json={**body, "otp": codes[0]}).status_code == 200
    me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.json['access_token']}"})
    assert me.json["login"] == a["school_admin"]["login"]

    require_second_factor(app, a["region"])
    refused = http.post("/api/v1/auth/token", json={"login": a["region_admin"]["login"],
                                                    "password": a["region_admin"]["password"]})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "сайт" in refused.json["detail"]


def test_switching_off_and_new_recovery_codes_take_a_code(app, login, enrol, clock, region_tree, as_platform):
    admin = region_tree["b"]["school_admin"]
    secret, old_codes = enrol(admin)
    http = app.test_client()
    password_step(http, admin)
    http.post("/login/second-factor", data={"code": totp(secret, clock.now)})
    clock.advance(30)
    assert http.post("/account/second-factor/recovery-codes", data={"code": "123456"}).status_code == 302
    fresh = http.post("/account/second-factor/recovery-codes", data={"code": totp(secret, clock.now)})
    new_codes = codes_on(fresh.get_data(as_text=True))
    assert fresh.status_code == 200 and len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    again = app.test_client()
    password_step(again, admin)
    assert again.post("/login/second-factor", data={"code": old_codes[0]}).status_code == 422
    clock.advance(30)
    assert http.post("/account/second-factor/disable", data={"code": totp(secret, clock.now)}).status_code == 302
    with as_platform():
        from core.accounts.models import User

        assert not second_factor.is_enrolled(db.session.get(User, admin["id"]))
    assert "/login" not in password_step(app.test_client(), admin).headers["Location"]


def test_the_secret_is_sealed_with_the_key(app):
    with app.app_context():
        sealed = second_factor._seal("JBSWY3DPEHPK3PXP")
        assert "JBSWY3DP" not in sealed and second_factor._unseal(sealed) == "JBSWY3DPEHPK3PXP"
        assert second_factor._seal("JBSWY3DPEHPK3PXP") != sealed  # a fresh nonce each time
        tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
        with pytest.raises(ValueError):
            second_factor._unseal(tampered)
        app.config["SECOND_FACTOR_KEY"] = "another key"
        try:
            with pytest.raises(ValueError):
                second_factor._unseal(sealed)
        finally:
            app.config["SECOND_FACTOR_KEY"] = None


def test_an_operator_resets_a_lost_factor(app, enrol, clock, region_tree):
    admin = region_tree["a"]["school_admin"]
    enrol(admin)
    result = app.test_cli_runner().invoke(args=["users", "reset-second-factor", admin["login"]])
    assert result.exit_code == 0, result.output
    assert "/login" not in password_step(app.test_client(), admin).headers["Location"]
