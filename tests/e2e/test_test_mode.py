"""Test mode (api.md, "Test mode"; issue 16): a pct_test_ key's objects are kept apart from
live ones, its agreement's evidence says it is a test (the receipt's signed ``livemode`` and a
stamp on every sealed page), its email goes only to the workspace's verified address, and the
key can do nothing to the workspace itself."""

import contextlib
import io
import json
import sys
from pathlib import Path

import requests
from pypdf import PdfReader
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pactra_devtools.testing import auth, signup, unique_email, wait_until
from pactra_verify.cli import main as pactra_verify

from . import flows

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from verifier import livemode, verdict, verify  # the independent verifier, beside the e2e tests

STAMP = "TEST \u2014 NOT LEGALLY BINDING"


def _test_key(gateway: str, account: dict) -> dict:
    made = requests.post(gateway + "/v1/api-keys", json={"name": "tests", "mode": "test"},
                         headers=auth(account), timeout=10)
    assert made.status_code == 201, made.text
    key = made.json()
    assert key["key"].startswith("pct_test_") and key["mode"] == "test"
    return {"api_key": key, "user": account["user"], "workspace": account["workspace"]}


def _stamped_pages(pdf: bytes) -> list[bool]:
    return [STAMP in " ".join((page.extract_text() or "").split())
            for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_test_key_cannot_act_on_the_workspace_or_make_live_keys(gateway):
    account = signup(gateway, "Tess Mode")
    test = _test_key(gateway, account)
    live_key = requests.post(gateway + "/v1/api-keys", json={"name": "live"}, headers=auth(test),
                             timeout=10)
    assert live_key.status_code == 403, live_key.text
    assert live_key.headers["Content-Type"].startswith("application/problem+json")
    # Routes on the whole workspace: refused before they reach whatever serves them.
    for method, path in (("DELETE", "/v1/workspace"), ("POST", "/v1/exports"),
                         ("PATCH", "/v1/workspace"), ("PATCH", "/v1/account")):
        refused = requests.request(method, gateway + path, json={}, headers=auth(test), timeout=10)
        assert refused.status_code == 403, (method, path, refused.text)
    # A test key may make test keys, and sees only test keys.
    another = requests.post(gateway + "/v1/api-keys", json={"name": "more", "mode": "test"},
                            headers=auth(test), timeout=10)
    assert another.status_code == 201 and another.json()["key"].startswith("pct_test_")
    seen = requests.get(gateway + "/v1/api-keys", headers=auth(test), timeout=10).json()["data"]
    assert seen and {key["mode"] for key in seen} == {"test"}
    live_id = account["api_key"]["id"]
    assert requests.delete(gateway + f"/v1/api-keys/{live_id}", headers=auth(test),
                           timeout=10).status_code == 404
    # The live key still works, sees both kinds, and its objects stay live.
    everything = requests.get(gateway + "/v1/api-keys", headers=auth(account), timeout=10).json()["data"]
    assert {key["mode"] for key in everything} == {"live", "test"}


def test_test_and_live_objects_never_mix(gateway):
    account = signup(gateway, "Lena Live")
    test = _test_key(gateway, account)
    live_doc = flows.upload(gateway, account)
    test_doc = flows.upload(gateway, test)
    assert live_doc.get("livemode", True) is True and test_doc["livemode"] is False
    signers = flows.people(1)
    # A test agreement cannot use a live document (it is not found in test mode).
    crossed = requests.post(gateway + "/v1/agreements", headers=auth(test), timeout=30, json={
        "title": "x", "document_id": live_doc["id"], "signers": signers})
    assert crossed.status_code == 422, crossed.text
    live = flows.create(gateway, account, live_doc["id"], signers)
    tested = flows.create(gateway, test, test_doc["id"], signers)
    assert live["livemode"] is True and tested["livemode"] is False

    def ids(who: dict, what: str) -> set[str]:
        answer = requests.get(gateway + f"/v1/{what}?limit=100", headers=auth(who), timeout=30)
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["data"]}

    assert live["id"] in ids(account, "agreements") and tested["id"] not in ids(account, "agreements")
    assert tested["id"] in ids(test, "agreements") and live["id"] not in ids(test, "agreements")
    assert live_doc["id"] in ids(account, "documents") and test_doc["id"] not in ids(account, "documents")
    assert test_doc["id"] in ids(test, "documents") and live_doc["id"] not in ids(test, "documents")
    # Reads and changes by id: the other mode's object does not exist for the key.
    for who, other in ((account, tested["id"]), (test, live["id"])):
        for method, path in (("GET", f"/v1/agreements/{other}"), ("POST", f"/v1/agreements/{other}/send"),
                             ("GET", f"/v1/agreements/{other}/audit"),
                             ("DELETE", f"/v1/agreements/{other}")):
            answer = requests.request(method, gateway + path, headers=auth(who), timeout=30)
            assert answer.status_code == 404, (method, path, answer.text)
    assert requests.get(gateway + f"/v1/documents/{test_doc['id']}", headers=auth(account),
                        timeout=30).status_code == 404
    assert requests.get(gateway + f"/v1/documents/{live_doc['id']}/content", headers=auth(test),
                        timeout=30).status_code == 404


def test_a_test_agreement_is_stamped_its_receipt_says_so_and_mails_only_the_verified_owner(stack, gateway):
    account = signup(gateway, "Theo Tester")  # the owner confirms their address (testing.signup)
    owner_email = account["user"]["email"]
    test = _test_key(gateway, account)
    document = flows.upload(gateway, test)
    stranger = {"name": "Sam Stranger", "email": unique_email("stranger")}
    agreement = flows.create(gateway, test, document["id"],
                             [{"name": "Theo Tester", "email": owner_email}, stranger])
    sent = flows.act(gateway, test, agreement["id"], "send")
    assert sent["livemode"] is False and sent["status"] == "sent"

    # The verified owner is mailed; the stranger's invitation is recorded as suppressed, and
    # nothing reaches the mailbox for them.
    owner_link = flows.invitation_link(stack, owner_email)
    engine = create_engine(stack.settings.database_url_of("notify"), poolclass=NullPool)
    try:
        def suppressed() -> bool:
            with engine.connect() as conn:
                return conn.execute(text(
                    "SELECT status FROM deliveries WHERE agreement_id = :a AND recipient = :r"),
                    {"a": agreement["id"], "r": stranger["email"]}).scalar() == "suppressed"
        wait_until(suppressed, 30, message="the stranger's test-mode invitation suppressed")
    finally:
        engine.dispose()
    assert flows.mails(stack, stranger["email"]) == []

    # The stranger signs through an embedded link (test keys can ask for it).
    stranger_id = next(s["id"] for s in sent["signers"] if s["email"] == stranger["email"])
    embedded = requests.post(gateway + f"/v1/agreements/{agreement['id']}/signers/{stranger_id}/link",
                             headers=auth(test), timeout=30)
    assert embedded.status_code == 200, embedded.text
    assert flows.sign(owner_link, "Theo Tester").status_code == 200
    assert flows.sign(embedded.json()["url"], stranger["name"]).status_code == 200
    done = flows.wait_for_evidence(gateway, test, agreement["id"])
    assert done["status"] == "completed" and done["livemode"] is False

    headers = auth(test)
    base = gateway + f"/v1/agreements/{agreement['id']}"
    receipt = requests.get(base + "/receipt", headers=headers, timeout=30)
    audit = requests.get(base + "/audit", headers=headers, timeout=30)
    signed = requests.get(base + "/signed.pdf", headers=headers, timeout=60)
    certificate = requests.get(base + "/certificate.pdf", headers=headers, timeout=60)
    jwks = requests.get(gateway + "/v1/receipts/keys", timeout=30).json()
    chain = requests.get(gateway + "/v1/receipts/certificates", timeout=30).content
    original = requests.get(gateway + f"/v1/documents/{document['id']}/content", headers=headers,
                            timeout=30).content
    assert {r.status_code for r in (receipt, audit, signed, certificate)} == {200}
    # A live key does not see the test agreement's evidence.
    assert requests.get(gateway + f"/v1/agreements/{agreement['id']}/receipt", headers=auth(account),
                        timeout=30).status_code == 404

    # The receipt says livemode false, inside the signature: both verifiers accept it.
    body = receipt.json()
    assert body["livemode"] is False and livemode(body) is False
    checks = verify(body, jwks, audit.json(), original, signed.content)
    assert set(checks.values()) == {"pass"} and verdict(checks) == "valid", checks
    assert verdict(verify({**body, "livemode": True}, jwks)) == "invalid"

    # Every page of the sealed PDF (the document's and the certificate's) carries the stamp.
    pages = _stamped_pages(signed.content)
    assert len(pages) > document["pages"] and all(pages), pages
    assert all(_stamped_pages(certificate.content))

    # pactra-verify says it is a test receipt, and VALID.
    folder = stack.workdir / f"test-mode-{agreement['id']}"
    folder.mkdir(exist_ok=True)
    for name, content in (("receipt.json", receipt.content), ("audit.json", audit.content),
                          ("signed.pdf", signed.content), ("original.pdf", original),
                          ("jwks.json", json.dumps(jwks).encode()), ("chain.pem", chain)):
        (folder / name).write_bytes(content)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = pactra_verify([
            "--receipt", str(folder / "receipt.json"), "--jwks", str(folder / "jwks.json"),
            "--audit", str(folder / "audit.json"), "--document", str(folder / "original.pdf"),
            "--signed-pdf", str(folder / "signed.pdf"), "--chain", str(folder / "chain.pem")])
    shown = out.getvalue()
    assert "TEST RECEIPT" in shown and "PASS     certificate_text" in shown, shown
    assert code == 0 and shown.strip().splitlines()[-1].startswith("VALID"), shown

    # The verify endpoint too.
    answer = requests.post(gateway + "/v1/receipts/verify", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is True and answer.json()["livemode"] is False
