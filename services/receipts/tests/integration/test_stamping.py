"""signed.pdf and the certificate as pure functions over bytes, on a real 4-page PDF."""

import base64
import io
import subprocess

import pytest
import zxingcpp
from agreement_events import SAMPLE
from PIL import Image
from pypdf import PdfReader

from pactra_receipts.adapters.certificate import CertificateFacts, CertificateSigner, render_certificate
from pactra_receipts.adapters.stamping import SignerMarks, stamp


def _png() -> str:
    image = Image.new("RGBA", (120, 40), (255, 255, 255, 0))
    for x in range(10, 110):
        image.putpixel((x, 20 + (x % 7) - 3), (0, 0, 128, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


FIELDS = [
    {"id": "fld_sig1", "signer_id": "sgr_a", "type": "signature", "page": 1, "x": 72, "y": 600,
     "width": 180, "height": 40},
    {"id": "fld_date1", "signer_id": "sgr_a", "type": "date", "page": 1, "x": 300, "y": 610,
     "width": 100, "height": 20},
    {"id": "fld_text", "signer_id": "sgr_a", "type": "text", "page": 2, "x": 72, "y": 100,
     "width": 200, "height": 20},
    {"id": "fld_check", "signer_id": "sgr_a", "type": "checkbox", "page": 2, "x": 72, "y": 140,
     "width": 14, "height": 14},
    {"id": "fld_sig2", "signer_id": "sgr_b", "type": "signature", "page": 4, "x": 72, "y": 650,
     "width": 180, "height": 50},
]
MARKS = {
    "sgr_a": SignerMarks({"type": "typed", "text": "Ada Lovelace"},
                         {"fld_date1": "2026-11-28", "fld_text": "Analytical Engine Ltd",
                          "fld_check": True}),
    "sgr_b": SignerMarks({"type": "drawn", "png_base64": _png()}, {}),
}


def facts() -> CertificateFacts:
    signers = [
        CertificateSigner("sgr_a", "Ada Lovelace", "ada@example.com", "signed",
                          "2026-11-28T12:00:00.123Z", "2026-11-28T11:59:00.000Z",
                          "2026-11-28T12:00:01.000Z", "203.0.113.7", "Mozilla/5.0 (X11) Firefox/140",
                          MARKS["sgr_a"].signature),
        CertificateSigner("sgr_b", "Charles Babbage", "charles@example.com", "signed",
                          "2026-11-28T13:00:00.000Z", None, "2026-11-28T13:00:02.000Z",
                          "198.51.100.4", "curl/8.0", MARKS["sgr_b"].signature),
    ]
    return CertificateFacts("Engine <lease> & terms", "agr_1", "ws_1", "rcpt_1", "completed", "ab" * 32, 4,
                            signers, "cd" * 32, 12, "kid-123", "http://pactra.test/verify")


def test_stamped_pages_carry_values_and_the_certificate_follows() -> None:
    original = SAMPLE.read_bytes()
    certificate = render_certificate(facts())
    signed = stamp(original, FIELDS, MARKS, certificate)
    reader = PdfReader(io.BytesIO(signed))
    original_pages = len(PdfReader(io.BytesIO(original)).pages)
    assert len(reader.pages) == original_pages + len(PdfReader(io.BytesIO(certificate)).pages)
    first, second = reader.pages[0].extract_text(), reader.pages[1].extract_text()
    assert "Ada Lovelace" in first and "2026-11-28" in first
    assert "Analytical Engine Ltd" in second
    # The drawn signature is an image on page 4; the original text is still there.
    assert reader.pages[3].images
    assert PdfReader(io.BytesIO(original)).pages[2].extract_text() == reader.pages[2].extract_text()


def test_certificate_states_the_receipt_facts() -> None:
    reader = PdfReader(io.BytesIO(render_certificate(facts())))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in ("Certificate of Completion", "Engine <lease> & terms", "agr_1", "rcpt_1",
                     "ab" * 32, "cd" * 32, "Ada Lovelace", "ada@example.com", "203.0.113.7",
                     "Mozilla/5.0 (X11) Firefox/140", "Charles Babbage", "198.51.100.4",
                     "2026-11-28T12:00:00.123Z", "2026-11-28T11:59:00.000Z", "kid-123",
                     "http://pactra.test/verify", "12"):
        assert expected in text, expected


def test_certificate_qr_code_scans_to_the_verification_page(tmp_path) -> None:
    (tmp_path / "certificate.pdf").write_bytes(render_certificate(facts()))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "certificate.pdf", "page"], cwd=tmp_path, check=True)
    found = [code.text for page in sorted(tmp_path.glob("page*.png"))
             for code in zxingcpp.read_barcodes(Image.open(page))]
    assert found == ["http://pactra.test/verify"]


def test_unchecked_box_and_missing_signer_draw_nothing() -> None:
    original = SAMPLE.read_bytes()
    marks = {"sgr_a": SignerMarks({"type": "typed", "text": "X"}, {"fld_check": False})}
    fields = [f for f in FIELDS if f["id"] in ("fld_check", "fld_sig2")]
    signed = stamp(original, fields, marks)
    assert PdfReader(io.BytesIO(signed)).pages[1].extract_text() == \
        PdfReader(io.BytesIO(original)).pages[1].extract_text()


@pytest.mark.parametrize("bad", [b"", b"not a pdf"])
def test_not_a_pdf_raises(bad: bytes) -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 - pypdf's error types vary by damage
        stamp(bad, FIELDS, MARKS)


def _bomb_png(width: int, height: int) -> str:
    """A one-colour PNG: a few kilobytes that decode to width x height pixels."""
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize(("width", "height"), [(2001, 2000), (3000, 3000)])
def test_a_drawn_signature_over_4_megapixels_is_refused_before_decoding(width: int, height: int) -> None:
    from pactra_receipts.adapters.stamping import SignatureImageError
    from pactra_receipts.service_layer import evidence

    bomb = {"type": "drawn", "png_base64": _bomb_png(width, height)}
    assert len(bomb["png_base64"]) < 1_500_000  # small enough for the sign request
    with pytest.raises(SignatureImageError):
        stamp(SAMPLE.read_bytes(), FIELDS, {"sgr_b": SignerMarks(bomb, {})})
    # The issuer names the failure: a stable reason, whichever step met the image first.
    with pytest.raises(evidence.EvidenceError) as failed, evidence._stage("certificate_failed"):
        stamp(SAMPLE.read_bytes(), FIELDS, {"sgr_b": SignerMarks(bomb, {})})
    assert failed.value.code == "signature_unusable"
    # Not a PNG at all (the signing service only checked the magic bytes once).
    with pytest.raises(SignatureImageError):
        stamp(SAMPLE.read_bytes(), FIELDS, {"sgr_b": SignerMarks(
            {"type": "drawn", "png_base64": base64.b64encode(b"\x89PNG\r\n\x1a\nrest").decode()}, {})})


def test_pillow_refuses_large_images_in_the_receipts_process() -> None:
    import pactra_receipts.adapters.stamping  # noqa: F401 - importing it lowers the limit

    assert Image.MAX_IMAGE_PIXELS == 4_000_000
