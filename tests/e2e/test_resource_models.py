"""Every public answer of documents, signing, receipts and AI along agreements' lives, read with
the contracts' resource models (pactra_contracts.resources): each answer validates (no member
the model does not name) and the model dumps it back to the very same JSON."""

import json
from typing import Any

import requests
from pydantic import BaseModel

from pactra_contracts.resources import (
    Agreement,
    AgreementList,
    Analysis,
    AuditTrail,
    Document,
    DocumentList,
    Receipt,
    ReceiptKeys,
    SignerLink,
    SignerOutcome,
    SigningInfo,
    VerifyResult,
)
from pactra_devtools.testing import auth, signup, wait_until

from . import flows


def shaped(model: type[BaseModel], response: requests.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    # json.dumps tells 72 from 72.0 and keeps the members' order: the wire, byte for byte.
    assert json.dumps(model.model_validate(body).model_dump(mode="json")) == json.dumps(body)
    return body


def test_every_answer_of_an_agreements_life_is_its_model(stack, gateway):
    account = signup(gateway)
    headers = auth(account)

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, gateway + path, headers=headers, timeout=30, **kwargs)

    document = flows.upload(gateway, account)
    shaped(Document, call("GET", f"/v1/documents/{document['id']}"))
    assert json.dumps(Document.model_validate(document).model_dump(mode="json")) == json.dumps(document)
    shaped(DocumentList, call("GET", "/v1/documents?limit=1"))

    requested = call("POST", f"/v1/documents/{document['id']}/analysis")
    assert requested.status_code in (200, 202), requested.text  # 200 when one was ready already
    shaped(Analysis, requested, requested.status_code)
    analysis_path = f"/v1/documents/{document['id']}/analysis"
    analysis = wait_until(lambda: (a := shaped(Analysis, call("GET", analysis_path)))["status"] != "pending"
                          and a, 120)
    assert analysis["status"] == "ready", analysis

    signers = flows.people(2)
    draft = flows.create(gateway, account, document["id"], signers, metadata={"crm": "42"})
    shaped(Agreement, call("GET", f"/v1/agreements/{draft['id']}"))
    assert json.dumps(Agreement.model_validate(draft).model_dump(mode="json")) == json.dumps(draft)
    sent = shaped(Agreement, call("POST", f"/v1/agreements/{draft['id']}/send", json={}))
    links = [shaped(SignerLink, call("POST", f"/v1/agreements/{draft['id']}/signers/{s['id']}/link"))["url"]
             for s in sent["signers"]]
    shaped(Agreement, call("POST", f"/v1/agreements/{draft['id']}/remind", json={}))
    shaped(AgreementList, call("GET", "/v1/agreements?limit=2"))
    shaped(AgreementList, call("GET", "/v1/agreements?status=sent"))

    shaped(SigningInfo, requests.get(links[0] + "/info", timeout=30))
    shaped(SignerOutcome, flows.sign(links[0], signers[0]["name"]))
    completed = shaped(SignerOutcome, flows.sign(links[1], signers[1]["name"]))
    assert completed["agreement_status"] == "completed"
    flows.wait_for_evidence(gateway, account, draft["id"])
    shaped(Agreement, call("GET", f"/v1/agreements/{draft['id']}"))

    # The other endings: a decline, and a void (their receipts seal nothing).
    declined = flows.create(gateway, account, document["id"], flows.people(1))
    flows.act(gateway, account, declined["id"], "send")
    link = shaped(SignerLink, call(
        "POST", f"/v1/agreements/{declined['id']}/signers/{declined['signers'][0]['id']}/link"))["url"]
    shaped(SigningInfo, requests.get(link + "/info", timeout=30))
    shaped(SignerOutcome, requests.post(link + "/decline", json={"reason": "Wrong terms."}, timeout=30))
    voided = flows.create(gateway, account, document["id"], flows.people(1), signing_order="sequential")
    flows.act(gateway, account, voided["id"], "send")
    shaped(Agreement, call("POST", f"/v1/agreements/{voided['id']}/void", json={"reason": "Superseded."}))

    keys = shaped(ReceiptKeys, requests.get(gateway + "/v1/receipts/keys", timeout=30))
    verify = gateway + "/v1/receipts/verify"
    for agreement_id in (draft["id"], declined["id"], voided["id"]):
        flows.wait_for_evidence(gateway, account, agreement_id)
        receipt = shaped(Receipt, call("GET", f"/v1/agreements/{agreement_id}/receipt"))
        audit = shaped(AuditTrail, call("GET", f"/v1/agreements/{agreement_id}/audit"))
        verified = shaped(VerifyResult, requests.post(verify, json=receipt, timeout=30))
        assert verified["valid"] and verified["retained"] == "full", verified
        files = {"receipt": json.dumps(receipt), "audit": json.dumps(audit)}
        shaped(VerifyResult, requests.post(verify, files=files, timeout=30))
        assert receipt["signature"]["kid"] in {key["kid"] for key in keys["keys"]}
    # A signer's copies: the same receipt, and the trail with others' addresses masked.
    shaped(Receipt, requests.get(links[0] + "/receipt", timeout=30))
    shaped(AuditTrail, requests.get(links[0] + "/audit", timeout=30))
    shaped(Receipt, requests.get(link + "/receipt", timeout=30))
