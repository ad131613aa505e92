"""Accounts: sign-in, tokens, roles and context, administration below one's tenant."""
import os

import pytest

from tests.conftest import app_config


def test_sign_in_lands_on_the_home_tenant(client, login, region_tree):
    a = region_tree["a"]
    login(client, a["school_admin"])
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert a["school"]["name"] in page.get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, region_tree):
    known = client.post("/login", data={"login": "school-a", "password": "wrong-password"})
    unknown = client.post("/login", data={"login": "nobody", "password": "wrong-password"})
    assert known.status_code == unknown.status_code == 401
    assert "Неверный логин или пароль" in known.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_wrong_passwords_lock_the_account_progressively_not_the_school(database_url, app, region_tree):
    """AC-2: after the free failures an account is locked, longer with each failure, on the
    page and the API alike; another account at the same address still signs in."""
    from core import create_app

    limited = create_app(app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_FREE_FAILURES=3,
                                    LOGIN_LOCK_SECONDS=60))
    http = limited.test_client()
    codes = [http.post("/login", data={"login": "school-a", "password": "bad"}).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    refused = http.post("/login", data={"login": "school-a", "password": region_tree["a"]["school_admin"]["password"]})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Слишком много неудачных попыток" in refused.get_data(as_text=True)
    api = http.post("/api/v1/auth/token", json={"login": "school-a", "password": "bad"})
    assert api.status_code == 429 and api.mimetype == "application/problem+json"
    # A colleague behind the same address is not locked out.
    assert http.post("/login", data={"login": "teacher-a", "password": region_tree["a"]["teacher"]["password"]}).status_code == 302


def test_each_failure_after_a_lock_doubles_it(database_url, app, app_clock):
    from core import clock, create_app
    from core.accounts import throttle

    limited = create_app(app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_FREE_FAILURES=2,
                                    LOGIN_LOCK_SECONDS=60))
    waits = []
    with limited.test_request_context("/login", method="POST"), clock.fixed(app_clock()) as still:
        for _ in range(4):
            try:
                throttle.check("ivanova")
            except throttle.Throttled as locked:
                waits.append(locked.retry_after)
                still.advance(locked.retry_after + 1)
                throttle.check("ivanova")  # the lock is over
            throttle.failed("ivanova")
        with pytest.raises(throttle.Throttled) as last:
            throttle.check("ivanova")
    assert waits == [60, 120] and last.value.retry_after == 240


def test_the_lock_is_shared_by_every_worker_and_a_success_clears_it(database_url, app, region_tree):
    """Two application instances (two workers) count into one store: the database here."""
    from core import create_app

    config = app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_FREE_FAILURES=2)
    first, second = create_app(config).test_client(), create_app(config).test_client()
    assert first.post("/login", data={"login": "teacher-a", "password": "bad"}).status_code == 401
    assert second.post("/login", data={"login": "teacher-a", "password": "bad"}).status_code == 401
    assert second.post("/login", data={"login": "teacher-a", "password": "bad"}).status_code == 429
    assert first.post("/login", data={"login": "teacher-a", "password": "bad"}).status_code == 429


def test_the_lock_lives_in_redis_when_configured(database_url, app, region_tree):
    import uuid

    import redis
    from core import create_app

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError as error:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"Redis unreachable: {error}")
    login_name = f"nobody-{uuid.uuid4().hex[:8]}"
    config = app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_FREE_FAILURES=2,
                        LOGIN_THROTTLE_URL=url)
    first, second = create_app(config).test_client(), create_app(config).test_client()
    assert first.post("/login", data={"login": login_name, "password": "bad"}).status_code == 401
    assert second.post("/login", data={"login": login_name, "password": "bad"}).status_code == 401
    assert first.post("/login", data={"login": login_name, "password": "bad"}).status_code == 429
    assert redis.Redis.from_url(url).exists(f"tabel:sign-in:account:{login_name}")


def test_forwarded_for_is_believed_only_from_trusted_proxies(database_url, app, region_tree):
    from core import create_app

    config = app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_ADDRESS_FAILURES=2,
                        LOGIN_FREE_FAILURES=50, TRUSTED_PROXIES=["127.0.0.1/32"])
    http = create_app(config).test_client()
    for n in range(2):
        assert http.post("/login", data={"login": f"x{n}", "password": "bad"},
                         headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 401
    assert http.post("/login", data={"login": "x9", "password": "bad"},
                     headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # Another client behind the same proxy is another address.
    assert http.post("/login", data={"login": "x9", "password": "bad"},
                     headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 401
    # Without a trusted proxy the header is ignored: forging it does not escape the limit.
    direct = create_app(app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_ADDRESS_FAILURES=2,
                                   LOGIN_FREE_FAILURES=50)).test_client()
    for n in range(2):
        direct.post("/login", data={"login": f"y{n}", "password": "bad"}, headers={"X-Forwarded-For": f"198.51.100.{n}"})
    assert direct.post("/login", data={"login": "y9", "password": "bad"},
                       headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429


def test_sign_out_ends_the_session(client, login, region_tree):
    login(client, region_tree["a"]["school_admin"])
    assert client.get("/account").status_code == 200
    client.post("/logout")
    assert client.get("/account").status_code == 302


def test_token_authenticates_api_calls(client, region_tree):
    response = client.post("/api/v1/auth/token", json={"login": "region-a", "password": region_tree["a"]["region_admin"]["password"]})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json["login"] == "region-a"
    assert [m["role"] for m in me.json["memberships"]] == ["region_admin"]


def test_bad_or_missing_token_gets_401_problem(client, region_tree):
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_request_validation_names_the_field(client):
    response = client.post("/api/v1/auth/token", json={"login": "x"})
    assert response.status_code == 422
    assert "password" in response.json["errors"]


def test_password_reset_ends_old_tokens_and_sessions(client, token, login, app, region_tree):
    a = region_tree["a"]
    teacher_headers = token(a["teacher"])
    teacher_browser = login(app.test_client(), a["teacher"])
    admin = token(a["school_admin"])
    response = client.post(f"/api/v1/users/{a['teacher']['id']}/password", headers=admin,
                           json={"password": "new-password-2", "reason": "forgotten"})
    assert response.status_code == 200, response.json
    assert client.get("/api/v1/me", headers=teacher_headers).status_code == 401
    assert teacher_browser.get("/account").status_code == 302
    fresh = client.post("/api/v1/auth/token", json={"login": "teacher-a", "password": "new-password-2"})
    assert fresh.status_code == 200


def test_admins_manage_only_accounts_below_them(client, token, region_tree):
    a = region_tree["a"]
    school_admin = token(a["school_admin"])
    body = {"password": "new-password-2"}
    # Accounts above the admin's tenant are not even visible to them.
    assert client.post(f"/api/v1/users/{a['region_admin']['id']}/password", headers=school_admin, json=body).status_code == 404
    assert client.post(f"/api/v1/users/{a['municipality_admin']['id']}/password", headers=school_admin, json=body).status_code == 404
    # A colleague at the same level is visible but not theirs to manage.
    peer = client.post(f"/api/v1/tenants/{a['school']['id']}/users", headers=token(a["municipality_admin"]),
                       json={"login": "deputy", "full_name": "Завуч", "password": "deputy-pass-1", "role": "school_admin"})
    assert client.post(f"/api/v1/users/{peer.json['user_id']}/password", headers=school_admin, json=body).status_code == 403
    assert client.post(f"/api/v1/users/{a['teacher']['id']}/password", headers=token(a["teacher"]), json=body).status_code == 403
    assert client.post(f"/api/v1/users/{a['school_admin']['id']}/password", headers=token(a["region_admin"]), json=body).status_code == 200


def test_an_admin_creates_accounts_in_their_subtree(client, token, region_tree):
    a = region_tree["a"]
    headers = token(a["municipality_admin"])
    url = f"/api/v1/tenants/{a['school']['id']}/users"
    created = client.post(url, headers=headers, json={"login": "Novikova", "full_name": "Новикова Мария",
                                                      "password": "pupil-pass-1", "role": "pupil"})
    assert created.status_code == 201, created.json
    assert created.json["login"] == "novikova"
    listed = client.get(url, headers=headers)
    assert "novikova" in {m["login"] for m in listed.json}
    assert client.post("/api/v1/auth/token", json={"login": "novikova", "password": "pupil-pass-1"}).status_code == 200
    duplicate = client.post(url, headers=headers, json={"login": "novikova", "full_name": "X", "password": "pupil-pass-1", "role": "pupil"})
    assert duplicate.status_code == 409 and "login" in duplicate.json["errors"]
    wrong_role = client.post(url, headers=headers, json={"login": "x1", "full_name": "X", "password": "pupil-pass-1", "role": "region_admin"})
    assert wrong_role.status_code == 422 and "role" in wrong_role.json["errors"]
    short = client.post(url, headers=headers, json={"login": "x2", "full_name": "X", "password": "short", "role": "pupil"})
    assert short.status_code == 422 and "password" in short.json["errors"]
    assert client.post(url, headers=token(a["teacher"]), json={"login": "x3", "full_name": "X", "password": "pupil-pass-1", "role": "pupil"}).status_code == 403


def test_one_person_holds_several_roles_and_switches_context(client, login, add_role, region_tree):
    """A teacher who is also a parent at another school acts in one role at a time."""
    a = region_tree["a"]
    teacher = a["teacher"]
    guardian_membership = add_role(teacher, "guardian", region_tree["a"]["school"])
    login(client, teacher)
    me = client.get("/api/v1/me").json
    assert {m["role"] for m in me["memberships"]} == {"teacher", "guardian"}
    assert me["active_membership_id"] == teacher["membership_id"]
    response = client.post("/account/context", data={"membership_id": guardian_membership})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json["active_membership_id"] == guardian_membership
    assert client.post("/account/context", data={"membership_id": 999999}).status_code == 302
    assert client.get("/api/v1/me").json["active_membership_id"] == guardian_membership


def test_forms_need_the_csrf_token(database_url, app, region_tree):
    from core import create_app

    strict = create_app(app_config(database_url, WTF_CSRF_ENABLED=True))
    http = strict.test_client()
    assert http.post("/login", data={"login": "school-a", "password": region_tree["a"]["school_admin"]["password"]}).status_code == 400
    page = http.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert http.post("/login", data={"login": "school-a", "password": region_tree["a"]["school_admin"]["password"],
                                     "csrf_token": csrf}).status_code == 302
    # API writes with a Bearer token need no CSRF token; with the session cookie they do.
    token = strict.test_client().post("/api/v1/auth/token", json={
        "login": "region-a", "password": region_tree["a"]["region_admin"]["password"]}).json["access_token"]
    body = {"effective_from": "2020-09-01", "act": "Приказ", "values": {}}
    url = f"/api/v1/tenants/{region_tree['a']['school']['id']}/regulation-versions"
    assert http.post(url, json=body).status_code == 400
    assert http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 201


def test_create_admin_command_makes_a_platform_admin(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "operator", "--password", "operator-pass-1"])
    assert result.exit_code == 0, result.output
    token = client.post("/api/v1/auth/token", json={"login": "operator", "password": "operator-pass-1"}).json["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert [m["role"] for m in me["memberships"]] == ["platform_admin"]
    again = runner.invoke(args=["users", "create-admin", "operator", "--password", "operator-pass-1"])
    assert again.exit_code != 0 and "login" in again.output


@pytest.mark.parametrize("password", ["short", ""])
def test_create_admin_refuses_weak_passwords(app, password):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "weak", "--password", password])
    assert result.exit_code != 0


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, login, region_tree):
    """The change answers normally (it used to recurse without end and kill the worker), the
    browser that changed it stays signed in, and every other session of the account ends."""
    teacher = region_tree["a"]["teacher"]
    other = login(app.test_client(), teacher)
    browser = login(app.test_client(), teacher)
    response = browser.post("/account/password", data={"current_password": teacher["password"],
                                                      "new_password": "another-secret-9"})
    assert response.status_code == 302
    assert "Пароль изменён" in browser.get(response.headers["Location"]).get_data(as_text=True)
    assert browser.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    again = app.test_client().post("/login", data={"login": teacher["login"], "password": "another-secret-9"})
    assert again.status_code == 302


def test_sign_out_ends_the_session_on_the_server(app, login, region_tree):
    """AC-2: a cookie copied before sign-out signs nobody in afterwards."""
    browser = login(app.test_client(), region_tree["a"]["teacher"])
    copied = browser.get_cookie("session").value
    browser.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/account").status_code == 302


def test_a_session_ends_when_idle_and_at_its_absolute_age(app, login, region_tree, app_clock):
    idle, max_age = app.config["SESSION_IDLE_TIMEOUT"], app.config["SESSION_MAX_AGE"]
    browser = login(app.test_client(), region_tree["a"]["teacher"])
    app_clock.advance(idle - 120)
    assert browser.get("/account").status_code == 200  # still active: and this touches it
    app_clock.advance(idle - 120)
    assert browser.get("/account").status_code == 200  # the touch above kept it alive
    app_clock.advance(idle + 1)
    assert browser.get("/account").status_code == 302
    busy = login(app.test_client(), region_tree["a"]["school_admin"])
    step, lived = idle - 120, 0
    while lived + step < max_age:  # in use all along, never idle
        app_clock.advance(step)
        lived += step
        assert busy.get("/account").status_code == 200
    app_clock.advance(max_age - lived + 1)
    assert busy.get("/account").status_code == 302


def test_a_token_can_be_revoked_and_sessions_listed_and_ended(app, client, token, login, region_tree):
    teacher = region_tree["a"]["teacher"]
    headers = token(teacher)
    browser = login(app.test_client(), teacher)
    page = browser.get("/account").get_data(as_text=True)
    assert "Где выполнен вход" in page and "этот сеанс" in page and "API-токен" in page
    assert page.count("Где выполнен вход") == 1
    title = page[page.index("<title>"):page.index("</title>")]
    assert "Мой профиль" in title and "<section>" not in title
    listed = client.get("/api/v1/me/sessions", headers=headers).json
    assert sorted(s["kind"] for s in listed) == ["token", "web"]
    assert [s["is_current"] for s in listed if s["kind"] == "token"] == [True]
    web = next(s for s in listed if s["kind"] == "web")
    assert client.delete(f"/api/v1/me/sessions/{web['id']}", headers=headers).status_code == 204
    assert browser.get("/account").status_code == 302
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_the_session_cookie_is_secure_by_default(database_url, app, region_tree):
    from core import create_app

    config = app_config(database_url)
    del config["SESSION_COOKIE_SECURE"]
    http = create_app(config).test_client()
    response = http.post("/login", data={"login": "teacher-a", "password": region_tree["a"]["teacher"]["password"]},
                         base_url="https://localhost")
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
