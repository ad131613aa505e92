"""Answering errors without the database: an outage is a 503 the client may retry, a bug
after a failed flush is still a problem+json 500 carrying the request id."""
import pytest
from sqlalchemy.exc import IntegrityError

from core import create_app
from core.extensions import db
from tests.conftest import app_config

# Nothing listens on port 1 of the loopback: every connection is refused at once.
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"


@pytest.fixture
def outage(app):  # the session app compiles the catalogs
    app = create_app(app_config(UNREACHABLE))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1.1"  # a signed-in browser: loading its user needs the database
        session["sid"] = "k" * 43
    return client


def test_an_outage_while_loading_the_user_is_a_problem_json_503_with_retry_after(outage):
    response = outage.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["title"] == "Service unavailable"
    assert response.json["request_id"] == response.headers["X-Request-ID"]


def test_an_outage_answers_in_the_language_of_the_session_without_a_query(outage):
    with outage.session_transaction() as session:
        session["lang"] = "ru"
    response = outage.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and response.json["title"] == "Сервис недоступен"


def test_an_outage_during_sign_in_is_a_503(outage):
    response = outage.post("/api/v1/auth/token", json={"login": "someone", "password": "whatever-1"})
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "Retry-After" in response.headers


def test_an_outage_on_a_page_is_an_html_503(outage):
    response = outage.get("/tenants/1")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "Retry-After" in response.headers
    assert "503" in response.get_data(as_text=True)


@pytest.fixture
def failing_app(database_url):
    """The real database, and routes that fail after a flush failed, as a bug would."""
    from core.accounts.models import User

    app = create_app(app_config(database_url))

    def fail_after_a_failed_flush():
        db.session.commit()  # the signed-in user is expired now: its locale needs a query
        db.session.add(User(login=None, full_name="no login"))
        try:
            db.session.flush()
        except IntegrityError as error:
            raise RuntimeError("a bug that lets a failed flush through") from error
        return "unreachable"

    app.add_url_rule("/api/v1/test/failed-flush", "api_failed_flush", fail_after_a_failed_flush)
    app.add_url_rule("/test/failed-flush", "page_failed_flush", fail_after_a_failed_flush)
    return app


@pytest.fixture
def english_teacher(failing_app, region_tree, login):
    from core.accounts import service as accounts
    from core.tenancy import unscoped
    from core.accounts.models import User

    with failing_app.test_request_context(), unscoped("test setup", platform=True):
        db.session.execute(db.update(User).where(User.id == region_tree["a"]["teacher"]["id"])
                           .values(locale="en"))
        db.session.commit()
    return login(failing_app.test_client(), region_tree["a"]["teacher"])


def test_a_bug_after_a_failed_flush_is_a_problem_json_500_in_the_users_language(english_teacher):
    response = english_teacher.get("/api/v1/test/failed-flush", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Internal error"
    assert response.json["request_id"] == "req-42" == response.headers["X-Request-ID"]
    # The session was rolled back: the next request of the same user works.
    assert english_teacher.get("/api/v1/me").status_code == 200


def test_a_bug_after_a_failed_flush_on_a_page_is_the_html_500_page(english_teacher):
    response = english_teacher.get("/test/failed-flush")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Internal error" in response.get_data(as_text=True)


def test_a_405_names_the_allowed_methods(client):
    response = client.put("/api/v1/auth/token")
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) >= {"POST", "DELETE"}
