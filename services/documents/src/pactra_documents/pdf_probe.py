"""Parsing and rendering untrusted PDFs in a child process with hard limits.

A hostile file (compression bomb, reference loop, deep nesting) may make a PDF library spin or
allocate without bound. Doing that work in a short-lived child with CPU-time, memory and
file-size rlimits and a wall-clock timeout means the worst it can do is fail its own process;
the request thread just sees a refusal.

The parent side is :func:`inspect` and :func:`render_page`; the child side is :func:`main`.
Each file gets a fresh child, forked from a multiprocessing fork server that has already
imported the PDF libraries: a new process per file for isolation, without paying an
interpreter start and the imports (about 0.4 s of CPU) on every upload. ``python -m
pactra_documents.pdf_probe`` runs the child side by hand.
"""

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Inspection:
    verdict: str  # "ok", "invalid_pdf" or "encrypted_pdf"
    pages: int = 0
    detail: str = ""


class RenderFailed(Exception):
    pass


_FORKS = multiprocessing.get_context("forkserver")
# A child re-runs the parent's main script unless that is a module's __main__: run the API as
# `python -m gunicorn` (the Procfile does), or each child imports gunicorn before its work,
# which costs more than the work on small files.
_FORKS.set_forkserver_preload(["pactra_documents.pdf_probe", "pypdf", "pypdfium2", "PIL.Image"])


def _child_entry(args: list[str], result_path: str) -> None:
    """In the forked child: what :func:`main` prints goes to ``result_path``."""
    with open(result_path, "wb") as result:
        os.dup2(result.fileno(), 1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - fd 1 lives as long as the child
    code = main(args)
    sys.stdout.flush()
    os._exit(code)


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    with tempfile.NamedTemporaryFile(prefix="pdf-probe-", suffix=".json") as result:
        child = _FORKS.Process(target=_child_entry, args=(args, result.name), daemon=True)
        child.start()
        child.join(WALL_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(args, WALL_SECONDS)
        return subprocess.CompletedProcess(args, child.exitcode or 0, Path(result.name).read_bytes(), b"")


def inspect(pdf_path: Path, text_path: Path) -> Inspection:
    """Validate the PDF, count its pages and write its text (pages joined by ``\\f``)."""
    try:
        done = _run(["inspect", str(pdf_path), str(text_path)])
    except subprocess.TimeoutExpired:
        return Inspection("invalid_pdf", detail="The PDF took too long to read.")
    try:
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
        return Inspection(result["verdict"], int(result.get("pages", 0)),
                          str(result.get("detail", "")))
    except (IndexError, ValueError, KeyError, UnicodeDecodeError):
        return Inspection("invalid_pdf",
                          detail="The PDF could not be read within the resources allowed.")


def render_page(pdf_path: Path, page: int, png_path: Path) -> bool:
    """Render page ``page`` (1-based) as PNG; False when the document has no such page."""
    try:
        done = _run(["render", str(pdf_path), str(page), str(png_path)])
    except subprocess.TimeoutExpired as error:
        raise RenderFailed("rendering timed out") from error
    if done.returncode == EXIT_OUT_OF_RANGE:
        return False
    if done.returncode != 0 or not png_path.exists():
        raise RenderFailed(f"renderer exited with {done.returncode}")
    return True


# --- the child ------------------------------------------------------------------------------


def _limit_self() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_BYTES, OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _page_text(page: object) -> str:
    try:
        text = page.extract_text()  # type: ignore[attr-defined]
    except Exception:  # a page whose text cannot be read reads as empty
        return ""
    # The separator must mean "next page" only; lone surrogates cannot be UTF-8.
    text = text.replace(PAGE_SEPARATOR, " ")
    return text.encode("utf-8", "replace").decode("utf-8")


def _child_inspect(pdf_path: str, text_path: str) -> dict:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    try:
        reader = PdfReader(pdf_path, strict=False)
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
        rendered_pages = len(pdfium.PdfDocument(pdf_path))
    except pdfium.PdfiumError as error:
        return {"verdict": "invalid_pdf", "detail": f"The PDF is broken ({error})."}
    if rendered_pages != pages:
        return {"verdict": "invalid_pdf",
                "detail": "The PDF's page tree is inconsistent."}
    with open(text_path, "w", encoding="utf-8", newline="") as out:
        for index, page in enumerate(reader.pages):
            if index:
                out.write(PAGE_SEPARATOR)
            out.write(_page_text(page))
    return {"verdict": "ok", "pages": pages}


def _child_render(pdf_path: str, page_number: int, png_path: str) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf_path)
    if not 1 <= page_number <= len(document):
        return EXIT_OUT_OF_RANGE
    page = document[page_number - 1]
    width, height = page.get_size()
    scale = min(RENDER_WIDTH / max(width, 1.0), RENDER_MAX_HEIGHT / max(height, 1.0),
                RENDER_MAX_SCALE)
    image = page.render(scale=scale, may_draw_forms=True).to_pil()
    image.save(png_path, format="PNG", optimize=False)
    return 0


def main(argv: list[str]) -> int:
    import logging
    import warnings

    _limit_self()
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(5000)
    command = argv[0]
    if command == "inspect":
        try:
            result = _child_inspect(argv[1], argv[2])
        except RecursionError:
            result = {"verdict": "invalid_pdf", "detail": "The PDF is nested too deeply."}
        except MemoryError:
            result = {"verdict": "invalid_pdf", "detail": "The PDF needs too much memory."}
        print(json.dumps(result), flush=True)
        return 0
    if command == "render":
        return _child_render(argv[1], int(argv[2]), argv[3])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
