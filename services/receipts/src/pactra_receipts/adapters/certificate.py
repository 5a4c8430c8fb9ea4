"""The certificate of completion: what the receipt states, for people to read (and for pypdf
to extract as text)."""

import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from .stamping import TEST_STAMP, draw_signature, draw_test_stamp


@dataclass(frozen=True)
class CertificateSigner:
    signer_id: str
    name: str
    email: str
    status: str
    consent_at: str | None
    viewed_at: str | None
    signed_at: str | None
    ip: str | None
    user_agent: str | None
    signature: Mapping[str, Any] | None


@dataclass(frozen=True)
class CertificateFacts:
    title: str
    agreement_id: str
    workspace_id: str
    receipt_id: str
    outcome: str
    document_sha256: str
    document_pages: int
    signers: Sequence[CertificateSigner]
    audit_head: str
    audit_entries: int
    key_id: str
    verify_url: str
    timestamp_note: str = "none"
    # False for a test-mode agreement: every page says TEST_STAMP (api.md, "Test mode").
    livemode: bool = True


class _SignatureBox(Flowable):
    def __init__(self, signature: Mapping[str, Any], width: float = 60 * mm,
                 height: float = 18 * mm) -> None:
        super().__init__()
        self.signature = signature
        self.width, self.height = width, height

    def draw(self) -> None:
        self.canv.setStrokeGray(0.7)
        self.canv.rect(0, 0, self.width, self.height)
        draw_signature(self.canv, self.signature, 2, 2, self.width - 4, self.height - 4)


class _QrCode(Flowable):
    def __init__(self, url: str, size: float = 30 * mm) -> None:
        super().__init__()
        self.url = url
        self.width = self.height = size

    def draw(self) -> None:
        # One filled path of the dark modules: reportlab's QR widget makes a shape object per
        # module and took a fifth of issuing a receipt.
        code = segno.make_qr(self.url, error="m")
        rows = list(code.matrix_iter(border=4))
        module = self.width / len(rows)
        path = self.canv.beginPath()
        for y, row in enumerate(rows):
            # One rectangle per run of dark modules in a row, a third as many as per module.
            x = 0
            for dark, run in itertools.groupby(row):
                length = len(list(run))
                if dark:
                    path.rect(x * module, self.height - (y + 1) * module, length * module, module)
                x += length
        self.canv.setFillGray(0)
        self.canv.drawPath(path, stroke=0, fill=1)


def _line(label: str, value: object, style: Any) -> Paragraph:
    shown = "-" if value is None else str(value)
    return Paragraph(f"<b>{escape(label)}:</b> {escape(shown)}", style)


def render_certificate(facts: CertificateFacts) -> bytes:
    styles = getSampleStyleSheet()
    body, heading = styles["BodyText"], styles["Heading2"]
    story: list[Flowable] = [
        Paragraph("Certificate of Completion", styles["Title"]),
        *([] if facts.livemode else [Paragraph(escape(
            f"{TEST_STAMP}: made in test mode, this records only that a test took place."),
            styles["Heading3"])]),
        _line("Title", facts.title, body),
        _line("Agreement ID", facts.agreement_id, body),
        _line("Workspace ID", facts.workspace_id, body),
        _line("Receipt ID", facts.receipt_id, body),
        _line("Outcome", facts.outcome, body),
        _line("Mode", "live" if facts.livemode else "test", body),
        _line("Document SHA-256", facts.document_sha256, body),
        _line("Pages", facts.document_pages, body),
        Spacer(1, 4 * mm),
        Paragraph("Signers", heading),
    ]
    for signer in facts.signers:
        story += [
            Paragraph(escape(f"{signer.name} <{signer.email}>"), styles["Heading4"]),
            _line("Signer ID", signer.signer_id, body),
            _line("Status", signer.status, body),
            _line("Consent", signer.consent_at, body),
            _line("Viewed", signer.viewed_at, body),
            _line("Signed", signer.signed_at, body),
            _line("IP address", signer.ip, body),
            _line("User agent", signer.user_agent, body),
        ]
        if signer.signature:
            story.append(_SignatureBox(signer.signature))
        story.append(Spacer(1, 3 * mm))
    story += [
        Paragraph("Audit trail", heading),
        _line("Audit head", facts.audit_head, body),
        _line("Audit entries", facts.audit_entries, body),
        _line("Receipt key ID", facts.key_id, body),
        _line("Trusted timestamp", facts.timestamp_note, body),
        Paragraph("Verification", heading),
        _line("Verify at", facts.verify_url, body),
        _QrCode(facts.verify_url),
        Paragraph(escape(
            "Offline, with no trust in Pactra: download the receipt (JSON), the audit trail "
            "(JSON), the published keys (/v1/receipts/keys) and sealing certificates "
            "(/v1/receipts/certificates), then run: pactra-verify --receipt receipt.json "
            "--jwks keys.json --audit audit.json --document original.pdf --signed-pdf signed.pdf "
            "--chain chain.pem. It checks the receipt's Ed25519 signature, recomputes the audit "
            "trail's hash chain, the SHA-256 of both PDFs, the PDF seal (also shown by pdfsig or "
            "Adobe Reader) and that these pages state what the receipt states."), body),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Certificate of Completion - {facts.title}",
                                 leftMargin=18 * mm, rightMargin=18 * mm)
    if facts.livemode:
        document.build(story)
    else:
        def stamped(canvas: Any, doc: Any) -> None:
            width, height = doc.pagesize
            draw_test_stamp(canvas, 0, 0, width, height)
        document.build(story, onFirstPage=stamped, onLaterPages=stamped)
    return buffer.getvalue()
