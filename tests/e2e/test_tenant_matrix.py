"""Tenant isolation, route by route: with workspace B's key, every route that takes an id of
workspace A's answers 404, exactly as for an id that does not exist.

The routes come from the gateway's own table (``pactra_gateway.entrypoints.routing.OPERATIONS``, which a
unit test holds to every route the services serve): a new route with an id is called here
without anyone adding it, and a placeholder or request body this test does not know fails it
until it is taught."""

import re

import requests

from pactra_contracts import api
from pactra_devtools.testing import auth, signup, wait_until
from pactra_devtools.webhook_receiver import running_receiver
from pactra_gateway.entrypoints.routing import OPERATIONS

from . import flows

# A valid body for each request model an id route takes, so that B's call is refused for the
# id, not for its body.
BODIES = {api.VoidRequest: {"reason": "tenant isolation check"},
          api.WebhookPatch: {"description": "tenant isolation check"}}
# Routes the issue names: the table must keep offering them to this test.
NAMED = {"/v1/documents/{id}", "/v1/documents/{id}/content", "/v1/documents/{id}/text",
         "/v1/documents/{id}/pages/{page}", "/v1/documents/{id}/analysis", "/v1/agreements/{id}",
         "/v1/agreements/{id}/audit", "/v1/agreements/{id}/receipt", "/v1/agreements/{id}/signed.pdf",
         "/v1/agreements/{id}/certificate.pdf", "/v1/agreements/{id}/void", "/v1/agreements/{id}/remind",
         "/v1/agreements/{id}/signers/{signer_id}/link", "/v1/api-keys/{id}"}


# Placeholders that name no object but a slice of the caller's own data (a billing period):
# such a route cannot reach another workspace; it is checked to answer B's own data instead.
OWN_SCOPE = {"period": "2026-01"}


def _routes_with_ids() -> list[tuple[str, str, object]]:
    return [(method.upper(), path, request_model)
            for method, path, _summary, request_model, _status, _response, public, *_ in OPERATIONS
            if not public and "{" in path and not _own_scoped(path)]


def _own_scoped(path: str) -> bool:
    return set(re.findall(r"\{(\w+)\}", path)) <= set(OWN_SCOPE)


def _fill(path: str, ids: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "id":
            collection = path.split("/")[2]  # /v1/<collection>/{id}...
            assert collection in ids, f"teach this test whose id {path} takes"
            return ids[collection]
        assert name in ids, f"teach this test the placeholder {{{name}}} of {path}"
        return ids[name]

    return re.sub(r"\{(\w+)\}", value, path)


def test_every_route_with_an_id_hides_another_workspaces_objects(stack, gateway):
    with running_receiver() as receiver:  # Alice's webhook endpoint: 127.0.0.1 only
        _matrix(stack, gateway, receiver)


def _matrix(stack, gateway, receiver) -> None:
    alice, bob = signup(gateway, "Alice"), signup(gateway, "Bob")
    document = flows.upload(gateway, alice)
    analysis = requests.post(f"{gateway}/v1/documents/{document['id']}/analysis", headers=auth(alice),
                             timeout=60)
    assert analysis.status_code in (200, 202), analysis.text
    signer = flows.people(1)
    agreement = flows.create(gateway, alice, document["id"], signer)
    flows.act(gateway, alice, agreement["id"], "send")
    signer_id = agreement["signers"][0]["id"]
    link = requests.post(f"{gateway}/v1/agreements/{agreement['id']}/signers/{signer_id}/link",
                         headers=auth(alice), timeout=30).json()["url"]
    assert flows.sign(link, signer[0]["name"]).status_code == 200
    flows.wait_for_evidence(gateway, alice, agreement["id"])
    spare = requests.post(gateway + "/v1/api-keys", json={"name": "spare"}, headers=auth(alice),
                          timeout=30).json()
    # A webhook endpoint with one delivery (its test ping, to a local receiver).
    endpoint = requests.post(gateway + "/v1/webhooks", headers=auth(alice), timeout=30,
                             json={"url": receiver.url, "events": ["ping"]}).json()
    ping = requests.post(f"{gateway}/v1/webhooks/{endpoint['id']}/test", headers=auth(alice),
                         timeout=30).json()
    wait_until(lambda: receiver.requests(), 30)
    export = requests.post(gateway + "/v1/exports", headers=auth(alice), timeout=30).json()
    ids = {"documents": document["id"], "agreements": agreement["id"], "api-keys": spare["id"],
           "signer_id": signer_id, "page": "1", "webhooks": endpoint["id"],
           "delivery_id": ping["id"], "exports": export["id"]}

    routes = _routes_with_ids()
    assert {path for _, path, _ in routes} >= NAMED
    refused = {}
    for method, template, request_model in routes:
        assert request_model is None or request_model in BODIES, (
            f"give this test a valid {request_model.__name__} for {method} {template}")
        url = gateway + _fill(template, ids)
        body = BODIES.get(request_model)
        answer = requests.request(method, url, headers=auth(bob), json=body, timeout=60)
        refused[(method, template)] = (answer.status_code, answer.headers.get("Content-Type"))
    assert {route: result for route, result in refused.items()
            if result != (404, "application/problem+json")} == {}

    # Each of those objects is there for its own workspace (so each 404 above was B's), and
    # nothing B tried changed it.
    for method, template, _ in routes:
        if method == "GET":
            answer = requests.get(gateway + _fill(template, ids), headers=auth(alice), timeout=60)
            assert answer.status_code == 200, (template, answer.status_code, answer.text[:300])
    assert flows.get(gateway, alice, agreement["id"])["status"] == "completed"
    for method, template, _summary, _model, _status, _response, public, *_ in OPERATIONS:
        if not public and "{" in template and _own_scoped(template) and method == "get":
            answer = requests.get(gateway + _fill(template, OWN_SCOPE), headers=auth(bob), timeout=60)
            assert answer.status_code in (200, 404), (template, answer.status_code)
            assert alice["workspace"]["id"] not in answer.text, template
            assert alice["workspace"]["name"] not in answer.text or (
                alice["workspace"]["name"] == bob["workspace"]["name"]), template
    shown = requests.get(f"{gateway}/v1/webhooks/{endpoint['id']}", headers=auth(alice), timeout=30).json()
    assert (shown["description"], shown["enabled"]) == (None, True)
    assert len(receiver.requests()) == 1  # B's test and replay sent nothing
    assert requests.get(gateway + "/v1/workspace", timeout=30,
                        headers={"Authorization": f"Bearer {spare['key']}"}).status_code == 200
