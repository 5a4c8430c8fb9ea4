"""End to end through the real services (documents, signing, receipts, notify, gateway): an
agreement signed by two people through their emailed links yields evidence that
``pactra-verify``, the verify endpoint, ``pdfsig`` and pyHanko accept."""

import re
from pathlib import Path

import requests
from evidence_files import ALL_PASS, Evidence, pdfsig, post_verify, pyhanko_status, run_cli

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, shared_data, signup, unique_email, wait_until

FOUR_PAGES = shared_data("pdfs", "pysample__004-pdflatex-4-pages__pdflatex-4-pages.pdf")
LINK = re.compile(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9_-]{43}")


def _link(stack: Stack, email: str) -> str:
    message = wait_until(lambda: next((m for m in stack.messages(to=email)
                                       if "to sign" in m["subject"].lower()), None), 60)
    found = LINK.search(message["text"]) or LINK.search(message.get("html") or "")
    assert found, message["text"]
    return found.group(0)


def test_signed_agreement_evidence_verifies_everywhere(stack: Stack, tmp_path: Path) -> None:
    gateway = stack.gateway_url
    account = signup(gateway, "Evidence Sender")
    headers = auth(account)
    with FOUR_PAGES.open("rb") as pdf:
        document = requests.post(gateway + f"/v1/documents?filename={FOUR_PAGES.name}", data=pdf,
                                 headers={**headers, "Content-Type": "application/pdf"}, timeout=60)
    assert document.status_code == 201, document.text
    signers = [{"name": "Grace Hopper", "email": unique_email("grace")},
               {"name": "Alan Turing", "email": unique_email("alan")}]
    fields = [{"signer_email": s["email"], "type": "signature", "page": 1, "x": 72 + 250 * i,
               "y": 600, "width": 180, "height": 40} for i, s in enumerate(signers)]
    created = requests.post(gateway + "/v1/agreements", headers=headers, timeout=30, json={
        "title": "Evidence agreement", "document_id": document.json()["id"], "signers": signers,
        "fields": fields})
    assert created.status_code == 201, created.text
    agreement_id = created.json()["id"]
    sent = requests.post(gateway + f"/v1/agreements/{agreement_id}/send", json={}, headers=headers,
                         timeout=30)
    assert sent.status_code == 200, sent.text
    for signer in signers:
        link = _link(stack, signer["email"])
        signed = requests.post(link + "/sign", timeout=30, json={
            "consent": True, "signature": {"type": "typed", "text": signer["name"]}, "fields": {}})
        assert signed.status_code == 200, signed.text

    def agreement() -> dict:
        return requests.get(gateway + f"/v1/agreements/{agreement_id}", headers=headers, timeout=30).json()

    wait_until(lambda: agreement().get("evidence_status") == "issued", 60)
    base = gateway + f"/v1/agreements/{agreement_id}"
    evidence = Evidence(
        receipt=requests.get(base + "/receipt", headers=headers, timeout=30).json(),
        audit=requests.get(base + "/audit", headers=headers, timeout=30).json(),
        jwks=requests.get(gateway + "/v1/receipts/keys", timeout=30).json(),
        chain=requests.get(gateway + "/v1/receipts/certificates", timeout=30).content,
        original=requests.get(gateway + f"/v1/documents/{document.json()['id']}/content",
                              headers=headers, timeout=30).content,
        signed_pdf=requests.get(base + "/signed.pdf", headers=headers, timeout=30).content,
    )
    assert evidence.original == FOUR_PAGES.read_bytes()
    code, checks, output = run_cli(evidence, tmp_path)
    assert code == 0 and checks == ALL_PASS, output
    assert post_verify(stack, evidence).json()["checks"] == ALL_PASS
    assert evidence.signed_pdf is not None
    assert "Signature is Valid." in pdfsig(evidence.signed_pdf, tmp_path)
    status = pyhanko_status(evidence.signed_pdf, evidence.chain)
    assert status.intact and status.valid and status.trusted
    page = requests.get(gateway + "/verify", timeout=30)
    assert page.status_code == 200 and '<label for="receipt">' in page.text
    assert "nonce-" in page.headers["Content-Security-Policy"]
