"""Hostile input through the gateway answers a 4xx problem, never a 500: JSON nested 50,000
deep on every JSON route, receipts with members of the wrong type, ids holding a slash, and an
Idempotency-Key on a path longer than the gateway records."""

import json

import requests

from pactra_contracts import api
from pactra_devtools.testing import auth, signup
from pactra_gateway.entrypoints.routing import OPERATIONS

from . import flows

DEEP = b"[" * 50_000 + b"]" * 50_000
PROBLEM = "application/problem+json"


def _problem(answer: requests.Response, status: int, code: str | None = None) -> None:
    assert (answer.status_code, answer.headers.get("Content-Type")) == (status, PROBLEM), (
        answer.request.method, answer.request.url[:200], answer.status_code, answer.text[:300])
    if code:
        assert answer.json()["code"] == code


def test_json_nested_50000_deep_is_invalid_json_on_every_json_route(stack, gateway):
    account = signup(gateway)
    document = flows.upload(gateway, account)
    agreement = flows.create(gateway, account, document["id"], flows.people(1))
    flows.act(gateway, account, agreement["id"], "send")
    signer_id = agreement["signers"][0]["id"]
    link = requests.post(f"{gateway}/v1/agreements/{agreement['id']}/signers/{signer_id}/link",
                         headers=auth(account), timeout=30).json()["url"]
    token = link.rsplit("/", 1)[1]
    values = {"{id}": agreement["id"], "{token}": token}
    # Every route of the table with a JSON request body, and the verify endpoint's JSON form.
    routes = [(method.upper(), path) for method, path, _s, model, *_ in OPERATIONS if model is not None]
    routes.append(("POST", "/v1/receipts/verify"))
    assert len(routes) >= 7
    for method, path in routes:
        for placeholder, value in values.items():
            path = path.replace(placeholder, value)
        assert "{" not in path, path
        answer = requests.request(method, gateway + path, data=DEEP, timeout=60,
                                  headers={**auth(account), "Content-Type": "application/json"})
        _problem(answer, 400, "invalid_json")
    # The verify endpoint's files: a receipt part nested as deep.
    answer = requests.post(gateway + "/v1/receipts/verify", timeout=60,
                           files={"receipt": ("receipt.json", DEEP, "application/json")})
    _problem(answer, 400, "invalid_json")
    # None of it touched the agreement.
    assert flows.get(gateway, account, agreement["id"])["status"] == "sent"


def test_a_receipt_with_members_of_the_wrong_type_is_422(gateway):
    receipt = {"receipt_version": 1, "receipt_id": "rcpt_1", "agreement_id": "agr_1", "outcome": "completed",
               "document": {"sha256": "0" * 64}, "signers": [], "audit": {"entries": 1, "head": "0" * 64},
               "signature": {"alg": "EdDSA", "crv": "Ed25519", "kid": "k", "value": "AAAA"}}
    for change in ({"document": ["a", "list"]}, {"document": "text"}, {"signers": {"name": "x"}},
                   {"signers": ["Mallory"]}, {"agreement_id": 5}):
        answer = requests.post(gateway + "/v1/receipts/verify", json={**receipt, **change}, timeout=60)
        _problem(answer, 422, "validation_error")
        files = {"receipt": ("receipt.json", json.dumps({**receipt, **change}), "application/json"),
                 "document": ("original.pdf", b"%PDF-1.4 x", "application/pdf"),
                 "signed_pdf": ("signed.pdf", b"%PDF-1.4 y", "application/pdf")}
        answer = requests.post(gateway + "/v1/receipts/verify", files=files, timeout=60)
        _problem(answer, 422, "validation_error")
    # Well typed but forged: answered, and not valid.
    answer = requests.post(gateway + "/v1/receipts/verify", json=receipt, timeout=60)
    assert answer.status_code == 200 and answer.json()["verdict"] == "invalid", answer.text


def test_ids_holding_a_slash_or_a_query_are_4xx(gateway):
    account = signup(gateway)
    document = flows.upload(gateway, account)
    body = {"title": "t", "document_id": "a/b", "signers": flows.people(1)}
    for document_id in ("a/b", "../documents", f"{document['id']}?x=1", f"{document['id']}/"):
        answer = requests.post(gateway + "/v1/agreements", json={**body, "document_id": document_id},
                               headers=auth(account), timeout=30)
        _problem(answer, 422, "validation_error")
    assert api.AgreementCreate.model_fields["document_id"].metadata  # constrained in the contract
    nasty = ("a%2Fb", "a%2F..%2F..", "..%2F..%2Fworkspace", "a%3Fx%3D1", "%2E%2E", "a%00b")
    for method, template, _s, _m, _st, _r, public, *_ in OPERATIONS:
        if public or "{" not in template:
            continue
        for value in nasty:
            path = template.replace("{signer_id}", value).replace("{page}", "1").replace("{id}", value)
            answer = requests.request(method.upper(), gateway + path, headers=auth(account), timeout=30,
                                      json={"reason": "x"} if path.endswith("/void") else None)
            assert 400 <= answer.status_code < 500, (method, path, answer.status_code, answer.text[:300])


def test_an_idempotency_key_on_an_over_long_path_is_414(gateway):
    account = signup(gateway)
    path = "/v1/agreements/" + "a" * 2100 + "/send"
    answer = requests.post(gateway + path, timeout=30,
                           headers={**auth(account), "Idempotency-Key": "long-path-1"})
    _problem(answer, 414, "uri_too_long")
    # The key still works for a real request afterwards.
    answer = requests.post(gateway + "/v1/api-keys", json={"name": "after"}, timeout=30,
                           headers={**auth(account), "Idempotency-Key": "long-path-1"})
    assert answer.status_code == 201, answer.text


def test_an_over_long_id_or_request_id_never_reaches_the_quota_counters_as_a_500(gateway):
    """A send's quota reservation is named after its agreement id, an upload's after its
    request id: neither may be longer than the counters hold (a 2,100-character id answered 500)."""
    account = signup(gateway)
    answer = requests.post(gateway + "/v1/agreements/" + "a" * 2100 + "/send", headers=auth(account),
                           timeout=30)
    assert 400 <= answer.status_code < 500 and answer.headers["Content-Type"] == PROBLEM, (
        answer.status_code, answer.text[:300])
    supplied = "r" * 200
    uploaded = requests.post(gateway + "/v1/documents?filename=long.pdf", data=flows.FOUR_PAGES.read_bytes(),
                             headers={**auth(account), "Content-Type": "application/pdf",
                                      "X-Request-Id": supplied}, timeout=60)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.headers["X-Request-Id"] != supplied
    kept = requests.get(gateway + "/v1/workspace", headers={**auth(account), "X-Request-Id": "r" * 128},
                        timeout=30)
    assert kept.headers["X-Request-Id"] == "r" * 128
