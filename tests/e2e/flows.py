"""Steps of an agreement's life, as a client and a signer take them, through the gateway."""

import re
from pathlib import Path

import requests

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, shared_data, unique_email, wait_until

DATA = shared_data("pdfs")
FOUR_PAGES = DATA / "pysample__004-pdflatex-4-pages__pdflatex-4-pages.pdf"
LINK = re.compile(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9_-]{43}")


def upload(gateway: str, account: dict, path: Path = FOUR_PAGES) -> dict:
    with path.open("rb") as pdf:
        response = requests.post(gateway + f"/v1/documents?filename={path.name}", data=pdf, timeout=60,
                                 headers={**auth(account), "Content-Type": "application/pdf"})
    assert response.status_code == 201, response.text
    return response.json()


def people(count: int) -> list[dict]:
    names = ["Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra"]
    return [{"name": names[i], "email": unique_email(names[i].split()[0].lower())} for i in range(count)]


def create(gateway: str, account: dict, document_id: str, signers: list[dict], **extra) -> dict:
    fields = []
    for signer in signers:
        fields.append({"signer_email": signer["email"], "type": "signature", "page": 1,
                       "x": 72, "y": 600, "width": 180, "height": 40})
        fields.append({"signer_email": signer["email"], "type": "date", "page": 1,
                       "x": 300, "y": 600, "width": 100, "height": 20})
    body = {"title": "Master services agreement", "document_id": document_id,
            "message": "Please sign by Friday.", "signers": signers, "fields": fields, **extra}
    response = requests.post(gateway + "/v1/agreements", json=body, headers=auth(account), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def act(gateway: str, account: dict, agreement_id: str, action: str, body: dict | None = None) -> dict:
    response = requests.post(gateway + f"/v1/agreements/{agreement_id}/{action}", json=body or {},
                             headers=auth(account), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def get(gateway: str, account: dict, agreement_id: str) -> dict:
    response = requests.get(gateway + f"/v1/agreements/{agreement_id}", headers=auth(account), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def mails(stack: Stack, to: str, subject_part: str = "") -> list[dict]:
    return [m for m in stack.messages(to=to) if subject_part.lower() in m["subject"].lower()]


def link_in(message: dict) -> str:
    found = LINK.search(message["text"]) or LINK.search(message.get("html") or "")
    assert found, message["text"]
    return found.group(0)


def invitation_link(stack: Stack, email: str, timeout: float = 30) -> str:
    message = wait_until(lambda: next(iter(mails(stack, email, "to sign")), None), timeout)
    return link_in(message)


def sign(link: str, signer_name: str, fields: dict | None = None) -> requests.Response:
    info = requests.get(link + "/info", timeout=30).json()
    values = dict(fields or {})
    for field in info["fields"]:
        if field["type"] == "date" and field["id"] not in values:
            values[field["id"]] = "2026-11-28"
    return requests.post(link + "/sign", timeout=30, json={
        "consent": True, "signature": {"type": "typed", "text": signer_name}, "fields": values})


def wait_for_evidence(gateway: str, account: dict, agreement_id: str, timeout: float = 60) -> dict:
    return wait_until(lambda: (a := get(gateway, account, agreement_id))["evidence_status"] == "issued" and a,
                      timeout)


def sent_to_one_signer(stack: Stack, gateway: str) -> tuple[dict, dict, dict, str]:
    """A new workspace's agreement sent to one signer: (account, document, agreement, the
    signer's link as mailed)."""
    from pactra_devtools.testing import signup

    account = signup(gateway)
    document = upload(gateway, account)
    signer = people(1)
    agreement = create(gateway, account, document["id"], signer)
    act(gateway, account, agreement["id"], "send")
    return account, document, agreement, invitation_link(stack, signer[0]["email"])
