"""signed.pdf before sealing: the original pages with every signature and field value stamped
where its field was placed, then the certificate of completion. Pure functions over bytes."""

import base64
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

# On every page of a test-mode agreement's signed.pdf and certificate (api.md, "Test mode").
TEST_STAMP = "TEST \u2014 NOT LEGALLY BINDING"
TEST_STAMP_FONT = "Helvetica-Bold"
SIGNATURE_FONT = "Helvetica-Oblique"
VALUE_FONT = "Helvetica"
# A drawn signature is decoded (twice: certificate and stamp) in the issuer's process. The
# signing service refuses PNGs over this size when they are signed; here it is checked again
# (events from before that check, or from elsewhere) and Pillow's own guard, which refuses
# images over twice its limit and only warns below, is lowered for every image this process
# decodes: a 1 MiB PNG can otherwise inflate to gigabytes.
MAX_SIGNATURE_PIXELS = 4_000_000
Image.MAX_IMAGE_PIXELS = MAX_SIGNATURE_PIXELS


class SignatureImageError(ValueError):
    """A drawn signature too large or unreadable to draw."""


@dataclass(frozen=True)
class SignerMarks:
    """What one signer put on the document: their signature and their fields' values."""

    signature: Mapping[str, Any]  # {"type": "typed", "text"} or {"type": "drawn", "png_base64"}
    field_values: Mapping[str, str | bool]
    signed_on: str | None = None  # YYYY-MM-DD, for a date field left without a value


def signature_image(signature: Mapping[str, Any]) -> ImageReader | None:
    if signature.get("type") != "drawn" or not signature.get("png_base64"):
        return None
    raw = base64.b64decode(signature["png_base64"])
    try:
        # Opening reads the header only: the size is known before anything is decompressed.
        with Image.open(io.BytesIO(raw)) as header:
            width, height = header.size
            image_format = header.format
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SignatureImageError("the drawn signature is not a readable image") from exc
    if image_format != "PNG" or width * height > MAX_SIGNATURE_PIXELS:
        raise SignatureImageError(f"the drawn signature is a {width}x{height} {image_format}, "
                                  f"over {MAX_SIGNATURE_PIXELS} pixels or not a PNG")
    return ImageReader(io.BytesIO(raw))


def _fit_text(canvas: Canvas, text: str, font: str, x: float, y: float, width: float,
              height: float) -> None:
    """Write ``text`` inside the box, as large as fits (at most 14 pt), vertically centred."""
    size = max(min(14.0, height * 0.7), 4.0)
    measured = stringWidth(text, font, size)
    if measured > width > 0:
        size = max(size * width / measured, 4.0)
    canvas.setFont(font, size)
    canvas.drawString(x + 1, y + (height - size) / 2 + size * 0.2, text)


def draw_signature(canvas: Canvas, signature: Mapping[str, Any], x: float, y: float,
                   width: float, height: float) -> None:
    image = signature_image(signature)
    if image is not None:
        canvas.drawImage(image, x, y, width, height, preserveAspectRatio=True, anchor="sw",
                         mask="auto")
    else:
        _fit_text(canvas, signature.get("text") or "", SIGNATURE_FONT, x, y, width, height)


def _draw_field(canvas: Canvas, field: Mapping[str, Any], marks: SignerMarks, x: float, y: float) -> None:
    width, height = float(field["width"]), float(field["height"])
    kind = field["type"]
    value = marks.field_values.get(field["id"])
    if kind in ("signature", "initials"):
        draw_signature(canvas, marks.signature, x, y, width, height)
    elif kind == "checkbox":
        if value is True:
            size = max(min(width, height) * 0.9, 4.0)
            canvas.setFont("ZapfDingbats", size)
            canvas.drawString(x + (width - size * 0.8) / 2, y + (height - size) / 2 + size * 0.15, "4")
    elif kind == "date":
        text = value if isinstance(value, str) and value else marks.signed_on
        if text:
            _fit_text(canvas, text, VALUE_FONT, x, y, width, height)
    elif isinstance(value, str) and value:
        _fit_text(canvas, value, VALUE_FONT, x, y, width, height)


def _overlay(page: Any, fields: Sequence[Mapping[str, Any]],
             marks: Mapping[str, SignerMarks]) -> Any | None:
    box = page.mediabox
    left, top = float(box.left), float(box.top)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(float(box.right), top))
    drawn = False
    for field in fields:
        signer = marks.get(field["signer_id"])
        if signer is None:
            continue
        # Field geometry is from the page's top-left corner; PDF space is from bottom-left.
        x = left + float(field["x"])
        y = top - float(field["y"]) - float(field["height"])
        _draw_field(canvas, field, signer, x, y)
        drawn = True
    if not drawn:
        return None
    canvas.showPage()
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue())).pages[0]


def draw_test_stamp(canvas: Canvas, left: float, bottom: float, right: float, top: float) -> None:
    """The test-mode stamp, in red, across the top and the bottom of a page (text that pypdf
    and any reader extract, not only a picture of it)."""
    width = right - left
    size = max(min(14.0, width / 30), 6.0)
    canvas.saveState()
    canvas.setFillColorRGB(0.8, 0, 0)
    canvas.setFont(TEST_STAMP_FONT, size)
    canvas.drawCentredString(left + width / 2, top - size * 1.6, TEST_STAMP)
    canvas.drawCentredString(left + width / 2, bottom + size * 0.8, TEST_STAMP)
    canvas.restoreState()


def _test_stamp_overlay(page: Any) -> Any:
    box = page.mediabox
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(float(box.right), float(box.top)))
    draw_test_stamp(canvas, float(box.left), float(box.bottom), float(box.right), float(box.top))
    canvas.showPage()
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue())).pages[0]


def stamp(original: bytes, fields: Sequence[Mapping[str, Any]], marks: Mapping[str, SignerMarks],
          certificate: bytes | None = None, *, test_mode: bool = False) -> bytes:
    """The original with each signer's marks stamped in its fields, ``certificate`` appended;
    ``test_mode``: every original page also carries :data:`TEST_STAMP` (the certificate
    carries its own)."""
    reader = PdfReader(io.BytesIO(original))
    writer = PdfWriter(clone_from=reader)
    by_page: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for field in fields:
        by_page[int(field["page"])].append(field)
    for number, page in enumerate(writer.pages, start=1):
        overlay = _overlay(page, by_page.get(number, ()), marks)
        if overlay is not None:
            page.merge_page(overlay)
        if test_mode:
            page.merge_page(_test_stamp_overlay(page))
    if certificate is not None:
        writer.append(PdfReader(io.BytesIO(certificate)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
