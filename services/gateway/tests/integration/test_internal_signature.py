"""Services answer only fresh calls the gateway (or a peer) signed with its own key, over the
body they carry."""

import hashlib
import io
import os
import secrets
import time

import pytest
import requests
from pypdf import PdfWriter

from pactra_devtools.testing import shared_data
from pactra_platform import internal_auth
from pactra_platform.settings import SERVICES

INTERNAL = [s for s in SERVICES if s != "gateway"]
SMALL_PDF = shared_data("pdfs", "pysample__001-trivial__minimal-document.pdf")


def big_pdf() -> bytes:
    """A valid PDF larger than what a service reads before its handler runs
    (signed_requests.EAGER_BODY_BYTES): its digest is checked as it streams, at the last byte."""
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_attachment("padding.bin", os.urandom(2 * 1024 * 1024))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signer(stack, key_of: str, caller: str | None = None) -> internal_auth.Signer:
    """Signs as ``caller`` (default: ``key_of``) with ``key_of``'s private key."""
    key = internal_auth.load_private_key(stack.settings.internal_key_of(key_of))
    return internal_auth.Signer(caller or key_of, key)


@pytest.mark.parametrize("service", INTERNAL)
def test_unsigned_stale_forged_misdirected_and_replayed_calls_are_401(stack, service):
    base = stack.settings.url_of(service)
    unsigned = requests.get(base + "/v1/anything", timeout=10)
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == "unauthorized"

    identity = {internal_auth.WORKSPACE: "ws_x"}
    gateway = signer(stack, "gateway")

    def status(headers: dict[str, str], path: str = "/v1/anything") -> int:
        return requests.get(base + path, headers=headers, timeout=10).status_code

    assert status(gateway.sign(service, "GET", "/v1/anything", identity, now=time.time() - 120)) == 401
    forged = internal_auth.Signer(
        "gateway", internal_auth.load_private_key(internal_auth.generate_key()))
    assert status(forged.sign(service, "GET", "/v1/anything", identity)) == 401
    # Another service's own key, claiming to be the gateway.
    other = "signing" if service == "documents" else "documents"
    impostor = signer(stack, other, caller="gateway")
    assert status(impostor.sign(service, "GET", "/v1/anything", identity)) == 401
    # Signed for one path, sent to another; signed for one service, sent to another.
    assert status(gateway.sign(service, "GET", "/v1/other", identity)) == 401
    assert status(gateway.sign(other, "GET", "/v1/anything", identity)) == 401
    # A bodiless call that claims a body's digest.
    claimed = gateway.sign(service, "GET", "/v1/anything", identity, hashlib.sha256(b"x").hexdigest())
    assert status(claimed) == 401

    valid = gateway.sign(service, "GET", "/v1/anything", identity)
    assert status(valid) == 404
    replayed = requests.get(base + "/v1/anything", headers=valid, timeout=10)
    assert replayed.status_code == 401
    assert "nonce" in replayed.json()["detail"]
    # The other service's key signs as that service, and is accepted as it.
    assert status(signer(stack, other).sign(service, "GET", "/v1/anything", identity)) == 404


def _documents_of(stack, workspace_id: str) -> list[str]:
    headers = signer(stack, "signing").sign("documents", "GET", "/v1/documents", {
        internal_auth.WORKSPACE: workspace_id})
    response = requests.get(stack.settings.url_of("documents") + "/v1/documents", headers=headers,
                            timeout=10)
    assert response.status_code == 200, response.text
    return [document["id"] for document in response.json()["data"]]


@pytest.mark.parametrize("pdf", [SMALL_PDF.read_bytes, big_pdf], ids=["read-first", "streamed"])
def test_a_body_other_than_the_signed_one_is_401_and_stores_nothing(stack, pdf):
    base = stack.settings.url_of("documents")
    workspace_id = f"ws_{secrets.token_hex(8)}"
    identity = {internal_auth.WORKSPACE: workspace_id}
    gateway = signer(stack, "gateway")
    signed_body = pdf()
    # The same PDF, one byte changed after its %%EOF: still a PDF the service would store.
    other_body = signed_body[:-1] + (b" " if signed_body[-1:] != b" " else b"\n")
    path = "/v1/documents?filename=a.pdf"

    def upload(body: bytes, signed_for: bytes) -> requests.Response:
        headers = gateway.sign("documents", "POST", path, identity,
                               hashlib.sha256(signed_for).hexdigest())
        return requests.post(base + path, data=body, timeout=60,
                             headers={**headers, "Content-Type": "application/pdf"})

    changed = upload(other_body, signed_for=signed_body)
    assert changed.status_code == 401, changed.text
    assert changed.json()["code"] == "unauthorized"
    assert _documents_of(stack, workspace_id) == []

    accepted = upload(other_body, signed_for=other_body)
    assert accepted.status_code == 201, accepted.text
    assert _documents_of(stack, workspace_id) == [accepted.json()["id"]]


@pytest.mark.parametrize("service", SERVICES)
def test_operations_endpoints_need_no_signature(stack, service):
    base = stack.settings.url_of(service)
    assert requests.get(base + "/healthz", timeout=10).json()["status"] == "ok"
    ready = requests.get(base + "/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert "database" in ready.json()["checks"] and "broker" in ready.json()["checks"]
    metrics = requests.get(base + "/metrics", timeout=10)
    assert "pactra_http_requests_total" in metrics.text
