"""``pactra-verify``: every step of receipts.md from files on disk.

    pactra-verify --receipt R.json --jwks J.json --audit A.json --document original.pdf \\
                  --signed-pdf signed.pdf --chain chain.pem [--trusted-keys pinned.json]
    pactra-verify --export <unzipped export folder>

Exit codes: 0 VALID (nothing failed and the signature was checked against a key), 1 INVALID
(a check failed), 2 NOT VERIFIED (nothing failed, but the signature was not checked: no
``--jwks`` or ``--trusted-keys``; also when the files cannot be read).
"""

import argparse
import json
import sys
from pathlib import Path

from .checks import INVALID, VALID, NotAReceipt, verify

EXIT = {VALID: 0, INVALID: 1}
NOT_VERIFIED_EXIT = 2

EXPLAINED = {
    "signature": "receipt signed by a published Pactra key",
    "audit_chain": "audit trail intact and committed to by the receipt",
    "document_hash": "original document is the one signed",
    "sealed_hash": "sealed PDF is the one the receipt names",
    "pdf_seal": "PDF seal intact, covering the whole file",
    "certificate_text": "certificate pages state what the receipt states",
}


def _json(path: Path | None):
    return json.loads(path.read_text()) if path else None


def _bytes(path: Path | None) -> bytes | None:
    return path.read_bytes() if path else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-verify", description=__doc__.splitlines()[0],
                                     epilog="Exit codes: 0 VALID, 1 INVALID, 2 NOT VERIFIED.")
    parser.add_argument("--receipt", type=Path, help="the receipt (JSON)")
    parser.add_argument("--export", type=Path, metavar="FOLDER",
                        help="an unzipped Pactra export: its manifest, and every receipt, trail, "
                             "document and sealed PDF in it, with the keys it holds")
    parser.add_argument("--jwks", type=Path, help="the published keys (GET /v1/receipts/keys)")
    parser.add_argument("--audit", type=Path, help="the audit trail (JSON)")
    parser.add_argument("--document", type=Path, help="the original document")
    parser.add_argument("--signed-pdf", type=Path, help="the sealed PDF")
    parser.add_argument("--chain", type=Path, help="the sealing certificate chain (PEM)")
    parser.add_argument("--trusted-keys", type=Path,
                        help="receipt keys you pinned earlier (a JWKS): the signature must be one of "
                             "these, and a --jwks key of the same id must be the same key")
    args = parser.parse_args(argv)
    if args.export is not None:
        return _export(args.export)
    if args.receipt is None:
        parser.error("give --receipt (with the files to check it against) or --export FOLDER")
    try:
        report = verify(_json(args.receipt), _json(args.jwks), _json(args.audit), _bytes(args.document),
                        _bytes(args.signed_pdf), _bytes(args.chain), _json(args.trusted_keys))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, NotAReceipt) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        print("NOT VERIFIED")
        return NOT_VERIFIED_EXIT
    if not report.livemode:
        print("TEST RECEIPT: livemode is false (made with a test key; not legally binding)")
    for check, result in report.checks.items():
        reason = f" (skipped: {report.skipped[check]})" if check in report.skipped else ""
        print(f"{result.upper():8} {check:17} {EXPLAINED[check]}{reason}")
    for error in report.errors:
        print(f"  - {error}")
    for note in report.notes:
        print(f"  note: {note}")
    if report.verdict in EXIT:
        print(report.verdict.upper() + ("" if report.livemode else " (TEST RECEIPT, livemode false)"))
        return EXIT[report.verdict]
    print("NOT VERIFIED: nothing failed, but the receipt's signature was not checked, so nothing "
          "shows Pactra issued it. Give --jwks (GET /v1/receipts/keys) or --trusted-keys.")
    return NOT_VERIFIED_EXIT


def _export(folder: Path) -> int:
    from .export import verify_export

    report = verify_export(folder)
    counts = ", ".join(f"{count} {what}" for what, count in report.counts.items())
    for failure in report.failures:
        print(f"FAIL     {failure}")
    if report.valid:
        print(f"checked: {counts}")
        print("VALID")
        return EXIT[VALID]
    print(f"checked: {counts}; {len(report.failures)} failure(s)")
    print("INVALID")
    return EXIT[INVALID]
