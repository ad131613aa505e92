"""The application shell: health, errors, API conventions, configuration."""
import re

import pytest


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "up"


def test_readiness_fails_when_the_database_is_gone(tmp_path):
    from core import create_app
    from tests.conftest import app_config

    broken = create_app(app_config("postgresql://nobody@127.0.0.1:1/none"))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["database"] == "down"


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"


def test_api_errors_are_problem_json_and_pages_are_html(client, login, region_tree):
    login(client, region_tree["a"]["school_admin"])
    api = client.get("/api/v1/tenants/999999")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert set(api.json) >= {"type", "title", "status", "detail"}
    page = client.get("/tenants/999999")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "404" in page.get_data(as_text=True)
    assert client.get("/no/such/page").mimetype == "text/html"


def test_every_api_route_is_in_the_openapi_document(app, client):
    spec = client.get("/api/v1/openapi.json").json
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs.") or rule.endpoint == "api_docs":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert not missing, missing


def test_the_api_docs_page_needs_no_cdn(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert re.search(r'src="/static/vendor/swagger-ui/swagger-ui-bundle\.[0-9a-f]+\.js"', page), page
    assert not re.search(r'(src|href)="https?://', page)


def test_pages_load_nothing_from_other_hosts(client, login, region_tree):
    login(client, region_tree["a"]["region_admin"])
    page = client.get(f"/tenants/{region_tree['a']['region']['id']}").get_data(as_text=True)
    assert not re.search(r'(src|href)="https?://(?!school)', page)


def test_config_layers_environment_over_instance_over_defaults(monkeypatch, tmp_path):
    from core import create_app

    (tmp_path / "config.py").write_text('API_TOKEN_MAX_AGE = 60\nLOGIN_RATE_LIMIT = "1 per hour"\n')
    monkeypatch.setenv("TABEL_API_TOKEN_MAX_AGE", "120")
    monkeypatch.setenv("TABEL_MODULES", '["tenants"]')
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, instance_path=str(tmp_path))
    assert app.config["API_TOKEN_MAX_AGE"] == 120  # environment beats the instance file
    assert app.config["LOGIN_RATE_LIMIT"] == "1 per hour"  # instance file beats the defaults
    assert app.config["MODULES"] == ["tenants"]


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    from core import create_app

    monkeypatch.delenv("TABEL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": None})


def test_a_deployment_can_leave_a_module_out(tmp_path):
    from core import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "MODULES": []})
    assert not any(rule.rule.startswith("/api/v1/tenants") for rule in app.url_map.iter_rules())
    assert app.test_client().get("/healthz").status_code == 200


def test_a_regulation_section_comes_with_its_module(app, tmp_path):
    """A feature registers its section of the regulation in its init_app: an app built
    without the disclosure module has no disclosure keys, and refuses them as unknown."""
    from core import create_app
    from tenants import regulations

    bare = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                       "MODULES": ["tenants"]})
    with bare.app_context():
        assert "disclosure" not in regulations.defaults()
        assert not any(path.startswith("disclosure.") for path in regulations.known_paths())
        assert "disclosure" in regulations.validate_document({"disclosure": {"schedule": "weekly"}}, partial=True)
    with app.app_context():
        assert [s.key for s in regulations.sections()] == [
            "calendar", "grading", "deadlines", "printing", "retention", "informing", "disclosure",
            "services", "security"]
        assert regulations.bound_of("disclosure.max_pages") == "down"
        assert regulations.merged_by_key() == {"disclosure.checklist": "key"}
