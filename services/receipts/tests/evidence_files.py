"""Getting an agreement's evidence as files, and checking them with every verifier the issue
names: the ``pactra-verify`` command, the verify endpoint, ``pdfsig`` and pyHanko."""

import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests
from agreement_events import SAMPLE, AgreementStory, publish
from documents_stand_in import DocumentsStandIn

from pactra_devtools.stack import BIN, Stack
from pactra_devtools.testing import auth, wait_until

CHECKS = ("signature", "audit_chain", "document_hash", "sealed_hash", "pdf_seal", "certificate_text")
ALL_PASS = dict.fromkeys(CHECKS, "pass")


def new_story(account: dict, documents: DocumentsStandIn) -> AgreementStory:
    story = AgreementStory(workspace_id=account["workspace"]["id"], document_id="doc_" + "0" * 24,
                           document_sha256="", pages=4)
    story.document_id = f"doc_{story.agreement_id[4:]}"
    story.document_sha256 = documents.add(story.workspace_id, story.document_id, SAMPLE.read_bytes())
    return story


def completed(stack: Stack, story: AgreementStory) -> AgreementStory:
    """``story`` created, sent, signed by both signers and completed, its events on the bus."""
    story.create_and_send()
    story.sign(0)
    story.sign(1)
    story.complete()
    publish(stack.settings, story.events)
    return story


def get(stack: Stack, account: dict, agreement_id: str, what: str) -> requests.Response:
    return requests.get(f"{stack.gateway_url}/v1/agreements/{agreement_id}/{what}",
                        headers=auth(account), timeout=30)


def wait_receipt(stack: Stack, account: dict, agreement_id: str, timeout: float = 60) -> dict:
    response = wait_until(
        lambda: (r := get(stack, account, agreement_id, "receipt")).status_code == 200 and r,
        timeout=timeout)
    return response.json()


@dataclass
class Evidence:
    receipt: dict
    audit: dict
    jwks: dict
    chain: bytes
    original: bytes
    signed_pdf: bytes | None

    def write(self, folder: Path) -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / name for name in (
            "receipt.json", "audit.json", "jwks.json", "chain.pem", "original.pdf", "signed.pdf")}
        paths["receipt.json"].write_text(json.dumps(self.receipt))
        paths["audit.json"].write_text(json.dumps(self.audit))
        paths["jwks.json"].write_text(json.dumps(self.jwks))
        paths["chain.pem"].write_bytes(self.chain)
        paths["original.pdf"].write_bytes(self.original)
        if self.signed_pdf is not None:
            paths["signed.pdf"].write_bytes(self.signed_pdf)
        else:
            paths.pop("signed.pdf")
        return paths


def fetch(stack: Stack, account: dict, agreement_id: str, original: bytes = b"") -> Evidence:
    receipt = wait_receipt(stack, account, agreement_id)
    audit = get(stack, account, agreement_id, "audit").json()
    signed = get(stack, account, agreement_id, "signed.pdf")
    jwks = requests.get(stack.gateway_url + "/v1/receipts/keys", timeout=10).json()
    chain = requests.get(stack.gateway_url + "/v1/receipts/certificates", timeout=10)
    assert chain.status_code == 200 and b"BEGIN CERTIFICATE" in chain.content, chain.text
    return Evidence(receipt, audit, jwks, chain.content, original or SAMPLE.read_bytes(),
                    signed.content if signed.status_code == 200 else None)


def run_cli(evidence: Evidence, folder: Path) -> tuple[int, dict[str, str], str]:
    """``pactra-verify`` on the files; its exit code and each check's printed result."""
    paths = evidence.write(folder)
    command = [str(BIN / "pactra-verify"), "--receipt", str(paths["receipt.json"]),
               "--jwks", str(paths["jwks.json"]), "--audit", str(paths["audit.json"]),
               "--document", str(paths["original.pdf"]), "--chain", str(paths["chain.pem"])]
    if "signed.pdf" in paths:
        command += ["--signed-pdf", str(paths["signed.pdf"])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    checks = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] in CHECKS:
            checks[parts[1]] = parts[0].lower()
    return result.returncode, checks, result.stdout + result.stderr


def post_verify(stack: Stack, evidence: Evidence) -> requests.Response:
    files = {"receipt": ("receipt.json", json.dumps(evidence.receipt), "application/json"),
             "audit": ("audit.json", json.dumps(evidence.audit), "application/json"),
             "document": ("original.pdf", evidence.original, "application/pdf")}
    if evidence.signed_pdf is not None:
        files["signed_pdf"] = ("signed.pdf", evidence.signed_pdf, "application/pdf")
    return requests.post(stack.gateway_url + "/v1/receipts/verify", files=files, timeout=120)


def pdfsig(pdf: bytes, folder: Path) -> str:
    path = folder / "pdfsig.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["/usr/bin/pdfsig", str(path)], capture_output=True, text=True,
                            timeout=60, check=False)
    return result.stdout + result.stderr


def pyhanko_status(pdf: bytes, chain: bytes):
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = [x509.Certificate.load(der) for _, _, der in pem.unarmor(chain, multiple=True)]
    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert len(signatures) == 1
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    return validate_pdf_signature(signatures[0], context)
