"""Security item 12: the OpenAPI document describes what the API answers.

A bounded schemathesis run sends generated requests to every operation, as a school admin
and as a teacher, and checks each answer against the document: no server error, every status,
content type, header and body as declared. Half the cases carry real ids of the caller's
school, so that the generated bodies reach the code behind the 404. A third run sends
requests that break the document (negative generation) and wants a documented 4xx for each.
Generation is derandomized: a run is the same run every time.
"""
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Requests that break the document (wrong types, out-of-range numbers, missing fields) get a
# documented problem, never a server error. (Unknown query parameters are ignored, as links
# with tracking parameters expect, so schemathesis' stricter negative_data_rejection is not used.)
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
# A few hundred cases a run; TABEL_CONTRACT_EXAMPLES=50 makes a long run of the same test.
EXAMPLES_PER_OPERATION = int(os.environ.get("TABEL_CONTRACT_EXAMPLES", 4))
# They end the caller's own session, which the next case still needs; tests/core covers them.
SKIPPED = {("DELETE", "/api/v1/auth/token"), ("DELETE", "/api/v1/me/sessions/{handle}")}


@pytest.fixture
def contract(app, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True)
    real = {"tenant_id": a["school"]["id"], "school_id": a["school"]["id"], "user_id": a["teacher"]["id"],
            "year_id": roster["year_id"], "term_id": roster["term_id"], "class_id": roster["class_id"],
            "pupil_id": roster["pupil_ids"][0], "subject_id": roster["subject_id"],
            "lesson_id": roster["lesson_id"]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return schema, real, a


def _run(schema, real, user, client, mode=GenerationMode.POSITIVE, checks=CHECKS):
    tokens = []

    def bearer():
        if not tokens:
            response = client.post("/api/v1/auth/token", json={"login": user["login"], "password": user["password"]})
            assert response.status_code == 200, response.json
            tokens.append({"Authorization": f"Bearer {response.json['access_token']}"})
        return tokens[0]

    failures, calls = [], [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=["explicit", "generate"])
        def probe(case):
            calls[0] += 1
            if mode == GenerationMode.POSITIVE and calls[0] % 2 and case.path_parameters:
                case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}
            try:
                # Werkzeug's test client does not decompress; an HTTP client would.
                response = case.call_and_validate(headers={**bearer(), "Accept-Encoding": "identity"}, checks=checks)
                if response.status_code == 401:
                    tokens.clear()  # the case ended the session (a password reset): sign in anew
            except Exception as error:  # noqa: BLE001 - every failure is collected and shown
                failures.append(f"{case.method} {case.formatted_path} {case.path_parameters} "
                                f"{json.dumps(case.query, default=str)[:200]}: {str(error)[:800]}")
                raise

        try:
            probe()
        except Exception:  # noqa: BLE001 - hypothesis re-raises the first failure
            pass
    return calls[0], failures


@pytest.mark.parametrize("role", ["school_admin", "teacher"])
def test_generated_requests_get_only_documented_answers_and_no_server_error(contract, client, role):
    schema, real, a = contract
    calls, failures = _run(schema, real, a[role], client)
    print(f"{calls} generated cases as {role}, {len(failures)} failed")
    assert calls > 200
    assert failures == [], f"{len(failures)} of {calls} cases:\n" + "\n".join(failures[:20])


def test_requests_that_break_the_document_are_refused_without_a_server_error(contract, client):
    schema, real, a = contract
    calls, failures = _run(schema, real, a["school_admin"], client, GenerationMode.NEGATIVE, NEGATIVE_CHECKS)
    print(f"{calls} schema-violating cases, {len(failures)} failed")
    assert calls > 150
    assert failures == [], f"{len(failures)} of {calls} cases:\n" + "\n".join(failures[:20])


def _spec(client):
    return client.get("/api/v1/openapi.json").json


def test_every_operation_documents_its_errors_as_problem_json(client):
    spec = _spec(client)
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    assert len(operations) > 60
    for path, method, operation in operations:
        for code in ("400", "401", "403", "404", "500", "503", "default"):
            assert code in operation["responses"], (method, path, code)
        if method != "get":
            assert {"409", "413", "422"} <= set(operation["responses"]), (method, path)
    for name in ("NOT_FOUND", "UNPROCESSABLE_ENTITY", "CONFLICT", "DEFAULT_ERROR"):
        content = spec["components"]["responses"][name]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert set(spec["components"]["schemas"]["Problem"]["properties"]) >= {
        "type", "title", "status", "detail", "errors", "current", "request_id"}


def test_x_pagination_is_declared_as_the_string_it_is(client, login, region_tree):
    spec = _spec(client)
    assert spec["components"]["headers"]["PAGINATION"]["schema"]["type"] == "string"
    login(client, region_tree["a"]["region_admin"])
    response = client.get(f"/api/v1/tenants?page=1&page_size=1")
    assert response.status_code == 200
    assert json.loads(response.headers["X-Pagination"])["page"] == 1


@pytest.mark.parametrize("path", ["/api/v1/schools/{school_id}/imports/{kind}", "/api/v1/tenants/{tenant_id}/onboarding"])
def test_uploads_document_their_multipart_file_field(client, path):
    body = _spec(client)["paths"][path]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = _spec(client)["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary", "description": "CSV or XLSX"}
    assert schema["required"] == ["file"]


def test_an_import_without_its_file_is_refused_naming_the_field(client, login, region_tree):
    login(client, region_tree["a"]["school_admin"])
    school = region_tree["a"]["school"]
    response = client.post(f"/api/v1/schools/{school['id']}/imports/pupils", data={},
                           headers={"Accept-Language": "ru"})
    assert response.status_code == 422
    assert response.json["errors"] == {"file": ["Обязательное поле."]}
