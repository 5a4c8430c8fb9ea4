"""Request ids, problem documents for bad input, body limits, docs."""

import requests

from pactra_devtools.testing import auth, signup

PROBLEM = "application/problem+json"


def test_request_id_is_generated_or_echoed(gateway):
    generated = requests.get(gateway + "/v1/workspace", timeout=10)
    assert generated.headers["X-Request-Id"].startswith("req_")
    echoed = requests.get(gateway + "/v1/workspace", headers={"X-Request-Id": "trace-123"}, timeout=10)
    assert echoed.headers["X-Request-Id"] == "trace-123"


def test_bad_input_gets_a_clear_4xx_problem(gateway):
    account = signup(gateway)
    headers = {**auth(account), "Content-Type": "application/json"}
    cases = [
        ("POST", "/v1/signup", b"{not json", {}, 400, "invalid_json"),
        ("POST", "/v1/signup", b"[1, 2]", {}, 422, "validation_error"),
        ("POST", "/v1/signup", b'{"name": 5, "email": "a@example.com", "workspace_name": "w"}', {}, 422,
         "validation_error"),
        ("POST", "/v1/signup", b'{"name": "a", "email": "not-an-email", "workspace_name": "w"}', {}, 422,
         "validation_error"),
        ("PATCH", "/v1/workspace", b'{"colour": "blue"}', headers, 422, "validation_error"),
        ("PATCH", "/v1/workspace", b'{"ai_enabled": "yes"}', headers, 422, "validation_error"),
        ("PATCH", "/v1/workspace", b'{"ai_engine": "gpt"}', headers, 422, "validation_error"),
        ("POST", "/v1/api-keys", b"\xff\xfe", headers, 400, "invalid_json"),
        ("POST", "/v1/api-keys", b'{"name": ""}', headers, 422, "validation_error"),
        ("GET", "/v1/api-keys?limit=0", b"", headers, 422, "validation_error"),
        ("GET", "/v1/nothing-here", b"", headers, 404, "not_found"),
        ("PUT", "/v1/workspace", b"{}", headers, 405, "method_not_allowed"),
    ]
    for method, path, body, extra, status, code in cases:
        response = requests.request(method, gateway + path, data=body, timeout=10,
                                    headers={"Content-Type": "application/json", **extra})
        assert (response.status_code, response.headers["Content-Type"]) == (status, PROBLEM), (
            method, path, body, response.text)
        problem = response.json()
        assert problem["code"] == code and problem["status"] == status
        assert problem["type"] == f"https://pactra.dev/problems/{code}"
        assert problem["title"] and problem["detail"]
    unknown = requests.patch(gateway + "/v1/workspace", json={"colour": "blue"}, headers=auth(account),
                             timeout=10).json()
    assert unknown["errors"][0]["field"] == "colour"


def test_oversized_bodies_are_refused(gateway):
    account = signup(gateway)
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = requests.post(gateway + "/v1/api-keys", data=big, timeout=20,
                             headers={**auth(account), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"

    def chunks():
        yield b'{"name": "'
        for _ in range(17):
            yield b"y" * 65536
        yield b'"}'

    chunked = requests.post(gateway + "/v1/api-keys", data=chunks(), timeout=20,
                            headers={**auth(account), "Content-Type": "application/json"})
    assert chunked.status_code == 413


def test_openapi_and_docs_are_served_locally(gateway):
    document = requests.get(gateway + "/v1/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/signup" in document["paths"] and "/v1/api-keys" in document["paths"]
    page = requests.get(gateway + "/docs", timeout=10)
    assert page.status_code == 200 and "swagger-ui" in page.text
    asset = requests.get(gateway + "/docs/static/swagger-ui-bundle.js", timeout=10)
    assert asset.status_code == 200 and len(asset.content) > 100_000


def test_forwarded_calls_reach_the_owning_service_signed(stack, gateway):
    account = signup(gateway)
    # The documents service answers only signed calls (401 otherwise): a list coming back is
    # proof that the gateway signed the call, named the workspace and carried the request id.
    response = requests.get(gateway + "/v1/documents", headers={**auth(account), "X-Request-Id": "fw-1"},
                            timeout=10)
    assert response.status_code == 200 and response.json()["data"] == []
    assert response.headers["X-Request-Id"] == "fw-1"
    assert requests.get(gateway + "/v1/documents", timeout=10).status_code == 401


def test_chunked_uploads_over_the_limit_are_refused_at_the_edge(gateway):
    account = signup(gateway)

    def endless():
        yield b"%PDF-1.4\n"
        for _ in range(27 * 16):
            yield b"0" * 65536

    response = requests.post(gateway + "/v1/documents?filename=big.pdf", data=endless(), timeout=60,
                             headers={**auth(account), "Content-Type": "application/pdf"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_what_schemathesis_found_stays_fixed(gateway):
    """Each of these once answered wrongly (issue 12's Schemathesis run)."""
    account = signup(gateway)
    # A NUL in a cursor: once a database error (500).
    cursor = requests.get(gateway + "/v1/exports?starting_after=exp_%00", headers=auth(account), timeout=10)
    assert cursor.status_code == 422 and cursor.json()["code"] == "validation_error"
    # An encoded "?" in a signing token: once forwarded decoded, so signing saw another route
    # than the one the signature named (401). Now it is only a link that does not exist.
    token = requests.get(gateway + "/s/%3F%C2%8F/info", timeout=10)
    assert token.status_code == 404, token.text
    # An Idempotency-Key outside the documented visible ASCII.
    spaced = requests.post(gateway + "/v1/api-keys", json={"name": "k"}, timeout=10,
                           headers={**auth(account), "Idempotency-Key": "has a space"})
    assert spaced.status_code == 422 and spaced.json()["code"] == "validation_error"
