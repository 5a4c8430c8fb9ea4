"""Parsing and rendering untrusted PDFs in a sandboxed child process with hard limits.

A hostile file (compression bomb, reference loop, deep nesting, or an exploit of the PDF
library) may make a parser spin, allocate without bound or run code of its choosing. The work
runs in a fresh child of :mod:`pactra_platform.sandbox`: empty environment, no descriptors but
its pipes, CPU-time, memory and output limits, a wall-clock timeout, and where the machine
allows no network and a seccomp filter; the PDF goes in and the result comes out over pipes.
The worst a file can do is fail its own process; the request thread just sees a refusal.

The parent side is :func:`inspect` and :func:`render_page`; the child side is
:func:`sandboxed_inspect` and :func:`sandboxed_render`. ``python -m
pactra_documents.adapters.pdf_probe inspect FILE.pdf TEXT.txt`` runs the child side by hand (no sandbox).
"""

import io
import json
import sys
from pathlib import Path

from pactra_platform import sandbox

from ..domain.errors import RenderFailed
from ..domain.model import VERDICTS, Inspection

CPU_SECONDS = 20
WALL_SECONDS = 40
MEMORY_BYTES = 1024 * 1024 * 1024
# The extracted text is the only file the child writes; a bomb of text stops here.
OUTPUT_BYTES = 64 * 1024 * 1024
RENDER_WIDTH = 1200
RENDER_MAX_HEIGHT = 4000
RENDER_MAX_SCALE = 4.0
PAGE_SEPARATOR = "\f"
EXIT_OUT_OF_RANGE = 3
LIMITS = sandbox.Limits(cpu_seconds=CPU_SECONDS, wall_seconds=WALL_SECONDS,
                        memory_bytes=MEMORY_BYTES, output_bytes=OUTPUT_BYTES)
# A page image is at most RENDER_WIDTH x RENDER_MAX_HEIGHT; Pillow refuses to decode anything
# much larger (its default allows ~179 Mpx before even warning), so an image inside a PDF that
# reaches Pillow cannot be a decompression bomb.
MAX_IMAGE_PIXELS = 2 * RENDER_WIDTH * RENDER_MAX_HEIGHT


def inspect(pdf_path: Path, text_path: Path) -> Inspection:
    """Validate the PDF, count its pages and write its text (pages joined by ``\\f``)."""
    try:
        with open(pdf_path, "rb") as pdf:
            done = sandbox.run("pactra_documents.adapters.pdf_probe:sandboxed_inspect", {}, pdf, LIMITS)
    except sandbox.SandboxTimeout:
        return Inspection("invalid_pdf", detail="The PDF took too long to read.")
    except sandbox.SandboxError:
        done = sandbox.Outcome(-1, {}, b"")
    try:
        result = done.meta
        sizes = tuple((float(w), float(h)) for w, h in result.get("page_sizes", ()))
        inspection = Inspection(result["verdict"], int(result.get("pages", 0)),
                                str(result.get("detail", "")), sizes)
        if inspection.verdict not in VERDICTS:
            raise ValueError(inspection.verdict)
        if inspection.verdict == "ok":
            text_path.write_bytes(done.payload)
        return inspection
    except (IndexError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return Inspection("invalid_pdf",
                          detail="The PDF could not be read within the resources allowed.")


def render_page(pdf_path: Path, page: int, png_path: Path) -> bool:
    """Render page ``page`` (1-based) as PNG; False when the document has no such page;
    ``RenderFailed`` (``retry`` on a timeout) when it cannot be rendered."""
    try:
        with open(pdf_path, "rb") as pdf:
            done = sandbox.run("pactra_documents.adapters.pdf_probe:sandboxed_render",
                               {"page": page}, pdf, LIMITS)
    except sandbox.SandboxTimeout as error:
        raise RenderFailed("rendering timed out", retry=True, page=page) from error
    except sandbox.SandboxError as error:
        raise RenderFailed(f"the renderer failed: {error}", retry=False, page=page) from error
    if done.meta.get("out_of_range") is True:
        return False
    if done.returncode != 0 or done.meta.get("rendered") is not True \
            or not done.payload.startswith(b"\x89PNG"):
        raise RenderFailed(f"renderer exited with {done.returncode}", retry=False, page=page)
    png_path.write_bytes(done.payload)
    return True


# --- the child ------------------------------------------------------------------------------


def _page_text(page: object) -> str:
    try:
        text = page.extract_text()  # type: ignore[attr-defined]
    except Exception:  # a page whose text cannot be read reads as empty
        return ""
    # The separator must mean "next page" only; lone surrogates cannot be UTF-8.
    text = text.replace(PAGE_SEPARATOR, " ")
    return text.encode("utf-8", "replace").decode("utf-8")


def _child_inspect(data: bytes) -> dict | tuple[dict, bytes]:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return {"verdict": "encrypted_pdf", "detail": "The PDF is encrypted."}
        pages = len(reader.pages)
    except NotImplementedError as error:
        # pypdf opens only the standard security handler; others (public-key) are encrypted.
        if "encrypt" in str(error).lower():
            return {"verdict": "encrypted_pdf", "detail": "The PDF is encrypted."}
        return {"verdict": "invalid_pdf", "detail": "The PDF uses unsupported features."}
    except Exception as error:  # any parser failure means unreadable
        return {"verdict": "invalid_pdf", "detail": f"The PDF is broken ({type(error).__name__})."}
    if pages < 1:
        return {"verdict": "invalid_pdf", "detail": "The PDF has no pages."}
    # The signer's page renders with PDFium: a file it cannot open is of no use.
    try:
        rendered = pdfium.PdfDocument(data)
        # PDFium's size is the rotated one, as the page image shows it.
        sizes = [[round(w, 2), round(h, 2)]
                 for w, h in (rendered[i].get_size() for i in range(len(rendered)))]
    except pdfium.PdfiumError as error:
        return {"verdict": "invalid_pdf", "detail": f"The PDF is broken ({error})."}
    if len(sizes) != pages:
        return {"verdict": "invalid_pdf",
                "detail": "The PDF's page tree is inconsistent."}
    # The text goes back over the pipe: bounded here, as the file it was once written to was.
    text = bytearray()
    for index, page in enumerate(reader.pages):
        if index:
            text += PAGE_SEPARATOR.encode()
        text += _page_text(page).encode("utf-8")
        if len(text) > OUTPUT_BYTES:
            return {"verdict": "invalid_pdf", "detail": "The PDF has more text than allowed."}, b""
    return {"verdict": "ok", "pages": pages, "page_sizes": sizes}, bytes(text)


def _child_render(data: bytes, page_number: int) -> tuple[dict, bytes]:
    import pypdfium2 as pdfium
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    document = pdfium.PdfDocument(data)
    if not 1 <= page_number <= len(document):
        return {"out_of_range": True}, b""
    page = document[page_number - 1]
    width, height = page.get_size()
    scale = min(RENDER_WIDTH / max(width, 1.0), RENDER_MAX_HEIGHT / max(height, 1.0),
                RENDER_MAX_SCALE)
    image = page.render(scale=scale, may_draw_forms=True).to_pil()
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=False)
    return {"rendered": True}, png.getvalue()


def sandboxed_inspect(meta: dict, data: bytes) -> tuple[dict, bytes]:
    """In the sandbox: the verdict, page count and sizes; the text (pages joined by ``\\f``)."""
    sys.setrecursionlimit(5000)
    try:
        result = _child_inspect(data)
    except RecursionError:
        return {"verdict": "invalid_pdf", "detail": "The PDF is nested too deeply."}, b""
    except MemoryError:
        return {"verdict": "invalid_pdf", "detail": "The PDF needs too much memory."}, b""
    # A refusal is a verdict alone; only an accepted PDF comes with its text.
    return result if isinstance(result, tuple) else (result, b"")


def sandboxed_render(meta: dict, data: bytes) -> tuple[dict, bytes]:
    """In the sandbox: page ``meta["page"]`` (1-based) as PNG."""
    sys.setrecursionlimit(5000)
    return _child_render(data, int(meta["page"]))


def main(argv: list[str]) -> int:
    """By hand, without the sandbox: ``inspect FILE TEXT`` or ``render FILE PAGE PNG``."""
    data = Path(argv[1]).read_bytes()
    if argv[0] == "inspect":
        result, text = sandboxed_inspect({}, data)
        Path(argv[2]).write_bytes(text)
        print(json.dumps(result))
        return 0
    if argv[0] == "render":
        result, png = sandboxed_render({"page": argv[2]}, data)
        Path(argv[3]).write_bytes(png)
        print(json.dumps(result))
        return 0 if result.get("rendered") else EXIT_OUT_OF_RANGE
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
