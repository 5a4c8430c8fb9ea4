"""``make bench``: seal a 10-page agreement with 2 signers (stamps + certificate + PAdES
seal) N times; prints p50/p95 in ms and the peak RSS. No database, broker or TSA involved:
this is the CPU cost the worker pays per completed agreement."""

import argparse
import base64
import hashlib
import io
import resource
import statistics
import time

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from pactra_receipts.adapters.certificate import CertificateFacts, CertificateSigner, render_certificate
from pactra_receipts.adapters.sealing import generate_development_chain, seal
from pactra_receipts.adapters.stamping import SignerMarks, stamp

PAGES = 10


def agreement_pdf(pages: int = PAGES) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for page in range(1, pages + 1):
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(72, 780, f"Master Services Agreement - page {page} of {pages}")
        canvas.setFont("Helvetica", 10)
        for line in range(60):
            canvas.drawString(72, 750 - line * 11, f"{page}.{line} The parties agree that clause "
                                                    f"{line} applies as written, without exception.")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _png() -> str:
    from PIL import Image

    image = Image.new("RGBA", (200, 60), (255, 255, 255, 0))
    for x in range(10, 190):
        image.putpixel((x, 30 + (x // 6) % 11 - 5), (10, 10, 120, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def one_agreement(original: bytes, identity, drawn: str) -> bytes:
    signers = [("sgr_1", "Grace Hopper", "grace@example.com", {"type": "typed", "text": "Grace Hopper"}),
               ("sgr_2", "Alan Turing", "alan@example.com", {"type": "drawn", "png_base64": drawn})]
    fields = []
    for index, (sid, *_rest) in enumerate(signers):
        fields += [{"id": f"fld_s{index}", "signer_id": sid, "type": "signature", "page": PAGES,
                    "x": 72 + index * 250, "y": 700, "width": 180, "height": 40},
                   {"id": f"fld_d{index}", "signer_id": sid, "type": "date", "page": PAGES,
                    "x": 72 + index * 250, "y": 750, "width": 100, "height": 20},
                   {"id": f"fld_i{index}", "signer_id": sid, "type": "initials", "page": 1,
                    "x": 72 + index * 100, "y": 800, "width": 60, "height": 20}]
    at = "2026-11-28T12:00:00.000Z"
    certificate = render_certificate(CertificateFacts(
        title="Master Services Agreement", agreement_id="agr_bench", workspace_id="ws_bench",
        receipt_id="rcpt_bench", outcome="completed",
        document_sha256=hashlib.sha256(original).hexdigest(), document_pages=PAGES,
        signers=[CertificateSigner(sid, name, email, "signed", at, at, at, "203.0.113.7",
                                   "Mozilla/5.0 (X11; Linux x86_64)", signature)
                 for sid, name, email, signature in signers],
        audit_head="ab" * 32, audit_entries=9, key_id="bench-key", verify_url="https://pactra.test/verify"))
    marks = {sid: SignerMarks(signature, {}, "2026-11-28") for sid, _n, _e, signature in signers}
    return seal(stamp(original, fields, marks, certificate), identity)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-receipts-bench", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="agreements to seal (default 40)")
    args = parser.parse_args(argv)
    original, identity, drawn = agreement_pdf(), generate_development_chain(), _png()
    one_agreement(original, identity, drawn)  # warm-up: imports, fonts, caches
    timings = []
    for _ in range(args.n):
        started = time.perf_counter()
        sealed = one_agreement(original, identity, drawn)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sealing a {PAGES}-page agreement with 2 signers (stamps + certificate + PAdES seal), "
          f"n={args.n}: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
          f"max {timings[-1]:.1f} ms; sealed PDF {len(sealed) // 1024} KiB; peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
