"""An agreement's whole life through the gateway, with every service running as a process
against the real broker, database, S3 store and an SMTP server."""

import sys
from pathlib import Path

import requests

from pactra_devtools.testing import auth, signup, wait_until

from . import flows

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from verifier import verify  # the independent verifier lives beside the e2e tests


def _evidence(gateway, account, agreement_id):
    headers = auth(account)
    receipt = requests.get(gateway + f"/v1/agreements/{agreement_id}/receipt", headers=headers, timeout=30)
    audit = requests.get(gateway + f"/v1/agreements/{agreement_id}/audit", headers=headers, timeout=30)
    jwks = requests.get(gateway + "/v1/receipts/keys", timeout=30)
    assert receipt.status_code == audit.status_code == jwks.status_code == 200, (receipt.text, audit.text)
    return receipt.json(), audit.json(), jwks.json()


def test_two_signers_in_parallel_sign_to_completion(stack, gateway):
    account = signup(gateway, "Ada Sender")
    document = flows.upload(gateway, account)
    signers = flows.people(2)
    agreement = flows.create(gateway, account, document["id"], signers)
    assert agreement["status"] == "draft" and agreement["sender"]["email"] == account["user"]["email"]
    sent = flows.act(gateway, account, agreement["id"], "send")
    assert sent["status"] == "sent"
    assert {s["status"] for s in sent["signers"]} == {"invited"}

    links = [flows.invitation_link(stack, s["email"]) for s in signers]
    page = requests.get(links[0], timeout=30)
    assert page.status_code == 200 and "Master services agreement" in page.text
    assert flows.get(gateway, account, agreement["id"])["signers"][0]["status"] == "viewed"
    first = flows.sign(links[0], signers[0]["name"])
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "signed", "agreement_status": "sent"}
    second = flows.sign(links[1], signers[1]["name"])
    assert second.json() == {"status": "signed", "agreement_status": "completed"}

    done = flows.wait_for_evidence(gateway, account, agreement["id"])
    assert done["status"] == "completed" and done["receipt_id"].startswith("rcpt_")
    assert all(f["value"] for f in done["fields"])

    receipt, audit, jwks = _evidence(gateway, account, agreement["id"])
    original = requests.get(gateway + f"/v1/documents/{document['id']}/content", headers=auth(account),
                            timeout=30).content
    signed_pdf = requests.get(gateway + f"/v1/agreements/{agreement['id']}/signed.pdf",
                              headers=auth(account), timeout=30)
    assert signed_pdf.status_code == 200 and signed_pdf.content.startswith(b"%PDF")
    checks = verify(receipt, jwks, audit, original, signed_pdf.content)
    assert set(checks.values()) == {"pass"}, checks
    assert receipt["outcome"] == "completed"
    assert [s["status"] for s in receipt["signers"]] == ["signed", "signed"]

    # Every party gets exactly one completion email; signers' links now give their copy.
    for email in [s["email"] for s in signers] + [account["user"]["email"]]:
        wait_until(lambda email=email: len(flows.mails(stack, email, "complete")) >= 1, 60)
    for signer in signers:
        assert len(flows.mails(stack, signer["email"], "complete")) == 1
        assert len(flows.mails(stack, signer["email"], "to sign")) >= 1
    for link in links:
        assert requests.get(link + "/receipt", timeout=30).json()["receipt_id"] == receipt["receipt_id"]
        assert requests.get(link + "/signed.pdf", timeout=30).content == signed_pdf.content
        assert "You have signed" in requests.get(link, timeout=30).text
        assert flows.sign(link, "again").status_code == 410


def test_three_signers_in_sequence(stack, gateway):
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signers = flows.people(3)
    agreement = flows.create(gateway, account, document["id"], signers, signing_order="sequential")
    sent = flows.act(gateway, account, agreement["id"], "send")
    assert [s["status"] for s in sent["signers"]] == ["invited", "pending", "pending"]
    second_id = sent["signers"][1]["id"]
    early = requests.post(gateway + f"/v1/agreements/{agreement['id']}/signers/{second_id}/link",
                          headers=auth(account), timeout=30)
    assert early.status_code == 409

    for index, signer in enumerate(signers):
        link = flows.invitation_link(stack, signer["email"])
        for later in signers[index + 1:]:
            assert flows.mails(stack, later["email"], "to sign") == []
        assert flows.sign(link, signer["name"]).status_code == 200
    done = flows.wait_for_evidence(gateway, account, agreement["id"])
    assert done["status"] == "completed"
    assert [s["status"] for s in done["signers"]] == ["signed"] * 3
    receipt, audit, jwks = _evidence(gateway, account, agreement["id"])
    assert verify(receipt, jwks, audit, None, None)["signature"] == "pass"
    for signer in signers:
        wait_until(lambda e=signer["email"]: len(flows.mails(stack, e, "complete")) == 1, 60)
        assert len(flows.mails(stack, signer["email"], "to sign")) == 1


def test_decline_ends_the_agreement_for_everyone(stack, gateway):
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signers = flows.people(2)
    agreement = flows.create(gateway, account, document["id"], signers)
    flows.act(gateway, account, agreement["id"], "send")
    links = [flows.invitation_link(stack, s["email"]) for s in signers]
    declined = requests.post(links[0] + "/decline", json={"reason": "Wrong company name"}, timeout=30)
    assert declined.json() == {"status": "declined", "agreement_status": "declined"}
    assert flows.sign(links[1], signers[1]["name"]).status_code == 410
    done = flows.wait_for_evidence(gateway, account, agreement["id"])
    assert done["status"] == "declined"
    receipt, audit, jwks = _evidence(gateway, account, agreement["id"])
    assert receipt["outcome"] == "declined"
    assert verify(receipt, jwks, audit, None, None)["audit_chain"] == "pass"
    for email in [s["email"] for s in signers] + [account["user"]["email"]]:
        wait_until(lambda e=email: len(flows.mails(stack, e, "declined")) == 1, 60)
    signed_pdf = requests.get(gateway + f"/v1/agreements/{agreement['id']}/signed.pdf", headers=auth(account),
                              timeout=30)
    assert signed_pdf.status_code == 404


def test_void_and_remind(stack, gateway):
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signers = flows.people(2)
    agreement = flows.create(gateway, account, document["id"], signers)
    assert requests.post(gateway + f"/v1/agreements/{agreement['id']}/void", json={"reason": "x"},
                         headers=auth(account), timeout=30).status_code == 409
    flows.act(gateway, account, agreement["id"], "send")
    link = flows.invitation_link(stack, signers[0]["email"])
    flows.act(gateway, account, agreement["id"], "remind")
    reminder = wait_until(lambda: next(iter(flows.mails(stack, signers[0]["email"], "remind")), None), 30)
    assert flows.link_in(reminder) == link

    voided = flows.act(gateway, account, agreement["id"], "void", {"reason": "Superseded by v2"})
    assert voided["status"] == "voided" and voided["evidence_status"] in ("issuing", "issued")
    assert flows.sign(link, signers[0]["name"]).status_code == 410
    for signer in signers:
        wait_until(lambda e=signer["email"]: len(flows.mails(stack, e, "voided")) == 1, 60)
    assert flows.wait_for_evidence(gateway, account, agreement["id"])["status"] == "voided"
    again = requests.post(gateway + f"/v1/agreements/{agreement['id']}/void", json={"reason": "x"},
                          headers=auth(account), timeout=30)
    assert again.status_code == 409


def test_expiry_ends_an_unsigned_agreement(stack, gateway):
    from datetime import UTC, datetime, timedelta

    account = signup(gateway)
    document = flows.upload(gateway, account)
    signers = flows.people(1)
    soon = (datetime.now(UTC) + timedelta(seconds=4)).isoformat().replace("+00:00", "Z")
    agreement = flows.create(gateway, account, document["id"], signers, expires_at=soon)
    flows.act(gateway, account, agreement["id"], "send")
    link = flows.invitation_link(stack, signers[0]["email"])
    ended = wait_until(lambda: (a := flows.get(gateway, account, agreement["id"]))["status"] == "expired"
                       and a, 30)
    assert ended["ended_at"]
    assert flows.sign(link, signers[0]["name"]).status_code == 410
    wait_until(lambda: len(flows.mails(stack, signers[0]["email"], "expired")) == 1, 60)
    assert flows.wait_for_evidence(gateway, account, agreement["id"])["status"] == "expired"


def test_agreements_are_private_to_their_workspace(gateway):
    alice, bob = signup(gateway, "Alice"), signup(gateway, "Bob")
    document = flows.upload(gateway, alice)
    agreement = flows.create(gateway, alice, document["id"], flows.people(1))
    for method, path in [("GET", ""), ("POST", "/send"), ("DELETE", "")]:
        response = requests.request(method, gateway + f"/v1/agreements/{agreement['id']}{path}",
                                    headers=auth(bob), timeout=30)
        assert response.status_code == 404
    # Bob cannot build an agreement on Alice's document either.
    response = requests.post(gateway + "/v1/agreements", headers=auth(bob), timeout=30, json={
        "title": "t", "document_id": document["id"], "signers": flows.people(1)})
    assert response.status_code == 422
    listed = requests.get(gateway + "/v1/agreements", headers=auth(bob), timeout=30).json()
    assert listed["data"] == []


def test_fields_must_fit_their_page(gateway):
    """The four-page document is A4 (595.28 x 841.89 points): a field past its page's edge, or
    on a page the document lacks, is refused with the error on that field."""
    account = signup(gateway)
    document = flows.upload(gateway, account)
    assert document["page_sizes"][0] == {"width": 595.28, "height": 841.89}
    signer = flows.people(1)
    good = {"signer_email": signer[0]["email"], "type": "date", "page": 4, "x": 495.28, "y": 821.89,
            "width": 100, "height": 20}  # to the very corner of the last page
    cases = [({"x": 500}, "fields.1"), ({"y": 830}, "fields.1"), ({"page": 5}, "fields.1.page")]
    for change, where in cases:
        body = {"title": "t", "document_id": document["id"], "signers": signer,
                "fields": [good, {**good, **change}]}
        response = requests.post(gateway + "/v1/agreements", json=body, headers=auth(account), timeout=30)
        assert response.status_code == 422, (change, response.text)
        problem = response.json()
        assert response.headers["Content-Type"] == "application/problem+json"
        assert problem["code"] == "validation_error"
        assert [e["field"] for e in problem["errors"]] == [where], problem
    created = requests.post(gateway + "/v1/agreements", headers=auth(account), timeout=30, json={
        "title": "t", "document_id": document["id"], "signers": signer, "fields": [good]})
    assert created.status_code == 201, created.text


def test_bad_agreement_requests_get_clear_problems(gateway):
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signer = flows.people(1)
    base = {"title": "t", "document_id": document["id"], "signers": signer}
    cases = [
        {**base, "expires_in_days": 3, "expires_at": "2030-01-01T00:00:00Z"},
        {**base, "expires_at": "2001-01-01T00:00:00Z"},
        {**base, "signers": []},
        {**base, "signers": signer + signer},
        {**base, "fields": [{"signer_email": "nobody@example.com", "type": "signature", "page": 1,
                             "x": 1, "y": 1, "width": 10, "height": 10}]},
        {**base, "fields": [{"signer_email": signer[0]["email"], "type": "signature", "page": 99,
                             "x": 1, "y": 1, "width": 10, "height": 10}]},
        {**base, "signing_order": "random"},
        {**base, "surprise": 1},
    ]
    for body in cases:
        response = requests.post(gateway + "/v1/agreements", json=body, headers=auth(account), timeout=30)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"

    agreement = flows.create(gateway, account, document["id"], flows.people(1))
    flows.act(gateway, account, agreement["id"], "send")
    signer_id = agreement["signers"][0]["id"]
    link = requests.post(gateway + f"/v1/agreements/{agreement['id']}/signers/{signer_id}/link",
                         headers=auth(account), timeout=30).json()["url"]
    no_consent = requests.post(link + "/sign", timeout=30, json={
        "consent": False, "signature": {"type": "typed", "text": "x"}})
    assert no_consent.status_code == 422
    missing_date = requests.post(link + "/sign", timeout=30, json={
        "consent": True, "signature": {"type": "typed", "text": "x"}})
    assert missing_date.status_code == 422
    assert missing_date.json()["errors"][0]["field"].startswith("fields.")
    bad_png = requests.post(link + "/sign", timeout=30, json={
        "consent": True, "signature": {"type": "drawn", "png_base64": "bm90IGEgcG5n"}})
    assert bad_png.status_code == 422
    assert requests.get(gateway + "/s/" + "A" * 43, timeout=30).status_code == 404
    assert requests.post(gateway + f"/v1/agreements/{agreement['id']}/send", headers=auth(account),
                         timeout=30).status_code == 409
    assert requests.delete(gateway + f"/v1/agreements/{agreement['id']}", headers=auth(account),
                           timeout=30).status_code == 409
