"""``pactra-verify``: every step of receipts.md from files on disk; non-zero on any failure.

    pactra-verify --receipt R.json --jwks J.json --audit A.json --document original.pdf \\
                  --signed-pdf signed.pdf --chain chain.pem
"""

import argparse
import json
import sys
from pathlib import Path

from .checks import NotAReceipt, verify

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
    parser = argparse.ArgumentParser(prog="pactra-verify", description=__doc__.splitlines()[0])
    parser.add_argument("--receipt", type=Path, required=True, help="the receipt (JSON)")
    parser.add_argument("--jwks", type=Path, help="the published keys (GET /v1/receipts/keys)")
    parser.add_argument("--audit", type=Path, help="the audit trail (JSON)")
    parser.add_argument("--document", type=Path, help="the original document")
    parser.add_argument("--signed-pdf", type=Path, help="the sealed PDF")
    parser.add_argument("--chain", type=Path, help="the sealing certificate chain (PEM)")
    args = parser.parse_args(argv)
    try:
        report = verify(_json(args.receipt), _json(args.jwks), _json(args.audit), _bytes(args.document),
                        _bytes(args.signed_pdf), _bytes(args.chain))
    except (OSError, json.JSONDecodeError, NotAReceipt) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    for check, result in report.checks.items():
        print(f"{result.upper():8} {check:17} {EXPLAINED[check]}")
    for error in report.errors:
        print(f"  - {error}")
    print("VALID" if report.valid else "INVALID")
    return 0 if report.valid else 1
