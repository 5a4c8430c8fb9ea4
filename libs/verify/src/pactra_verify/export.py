"""``pactra-verify --export <folder>``: an unzipped Pactra export, checked offline.

1. ``manifest.json`` is in the exact form Pactra writes it, names this workspace, and lists
   every other file, each with the SHA-256 and size it has on disk (a file changed, missing
   or added is named).
2. Every receipt is checked in full (receipts.md) with the archive's own keys
   (``keys/jwks.json``) and certificates (``keys/certificates.pem``): its signature, its audit
   trail, the original document it names and, when there is one, the sealed PDF.
3. Every audit trail without a receipt yet has an intact hash chain; every document is the
   file its metadata describes.

No network is used. Each failure names the file it is about.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import PASS, VALID, ZERO_HASH, NotAReceipt, _jcs_hash, verify

READ = 1024 * 1024
SAFE_PATH = re.compile(r"^(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*$")
# Which file each receipt check is about, for saying where a failure is.
CHECK_FILES = {"signature": "receipt.json", "audit_chain": "audit.json", "document_hash": None,
               "sealed_hash": "signed.pdf", "pdf_seal": "signed.pdf", "certificate_text": "signed.pdf"}


@dataclass
class ExportReport:
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("files", "receipts", "trails", "documents", "sealed PDFs"), 0))

    @property
    def valid(self) -> bool:
        return not self.failures

    def fail(self, path: str, message: str) -> None:
        self.failures.append(f"{path}: {message}")


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(READ):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _canonical_manifest(manifest: dict) -> bytes:
    """The bytes Pactra writes for this manifest (the gateway's export_archive): any other
    rendering of the same content means the file was edited."""
    head = {"version": manifest.get("version"), "workspace_id": manifest.get("workspace_id"),
            "created_at": manifest.get("created_at")}
    lines = [json.dumps({"path": f.get("path"), "sha256": f.get("sha256"), "size": f.get("size")})
             for f in manifest.get("files", []) if isinstance(f, dict)]
    return (json.dumps(head)[:-1] + ', "files": [' + "".join(
        ("\n" if index == 0 else ",\n") + line for index, line in enumerate(lines)) + "\n]}\n").encode()


def _json(report: ExportReport, root: Path, relative: str) -> Any:
    try:
        return json.loads((root / relative).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        report.fail(relative, f"cannot be read as JSON ({type(exc).__name__})")
        return None


def _check_manifest(report: ExportReport, root: Path) -> dict | None:
    raw_path = root / "manifest.json"
    try:
        raw = raw_path.read_bytes()
        manifest = json.loads(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.fail("manifest.json", f"missing or not JSON ({type(exc).__name__})")
        return None
    if not isinstance(manifest, dict) or manifest.get("version") != 1 \
            or not isinstance(manifest.get("files"), list):
        report.fail("manifest.json", "not a version 1 Pactra manifest")
        return None
    if raw != _canonical_manifest(manifest) or set(manifest) != {"version", "workspace_id",
                                                                 "created_at", "files"}:
        report.fail("manifest.json", "was changed: it is not in the form Pactra wrote it")
    listed: set[str] = set()
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not SAFE_PATH.match(path) or path == "manifest.json":
            report.fail("manifest.json", f"lists an invalid path {path!r}")
            continue
        listed.add(path)
        target = root / path
        if not target.is_file():
            report.fail("manifest.json", f"lists {path}, which is not in the folder")
            continue
        sha256, size = _digest(target)
        if sha256 != entry.get("sha256") or size != entry.get("size"):
            report.fail(path, "its SHA-256 or size is not what manifest.json lists (the file "
                              "or the manifest was changed)")
        report.counts["files"] += 1
    for found in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = found.relative_to(root).as_posix()
        if relative != "manifest.json" and relative not in listed:
            report.fail(relative, "not listed in manifest.json")
    # What the manifest says of itself is stated in files it lists, which are hash-checked.
    account = _json(report, root, "account.json") if "account.json" in listed else None
    workspace = account.get("workspace") if isinstance(account, dict) else None
    if isinstance(workspace, dict) and workspace.get("id") != manifest.get("workspace_id"):
        report.fail("manifest.json", "names another workspace than account.json")
    readme = root / "README.txt"
    if readme.is_file() and (str(manifest.get("workspace_id")) not in readme.read_text(errors="replace")
                             or str(manifest.get("created_at")) not in readme.read_text(errors="replace")):
        report.fail("manifest.json", "its workspace or date is not the one README.txt states")
    return manifest


def _check_trail(report: ExportReport, relative: str, audit: Any, agreement_id: str) -> None:
    entries = audit.get("entries") if isinstance(audit, dict) else None
    if not isinstance(entries, list) or audit.get("agreement_id") != agreement_id:
        report.fail(relative, "not this agreement's audit trail")
        return
    previous = ZERO_HASH
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("seq") != index or entry.get("prev") != previous:
            report.fail(relative, f"entry {index} is out of sequence or does not link to the one before")
            return
        try:
            computed = _jcs_hash({name: value for name, value in entry.items() if name != "hash"})
        except ValueError:
            computed = None
        if computed != entry.get("hash"):
            report.fail(relative, f"entry {index} was changed (its hash does not match)")
            return
        previous = computed
    report.counts["trails"] += 1


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _check_agreement(report: ExportReport, root: Path, folder: Path, jwks: Any,
                     chain: bytes | None) -> None:
    agreement_id = folder.name
    base = f"agreements/{agreement_id}"
    has_agreement = (folder / "agreement.json").is_file()
    agreement = _json(report, root, f"{base}/agreement.json") if has_agreement else None
    if isinstance(agreement, dict) and agreement.get("id") != agreement_id:
        report.fail(f"{base}/agreement.json", "is another agreement's")
    audit = _json(report, root, f"{base}/audit.json") if (folder / "audit.json").is_file() else None
    if audit is not None:
        _check_trail(report, f"{base}/audit.json", audit, agreement_id)
    if not (folder / "receipt.json").is_file():
        return
    receipt = _json(report, root, f"{base}/receipt.json")
    if receipt is None:
        return
    document_path = None
    document_id = agreement.get("document_id") if isinstance(agreement, dict) else None
    if isinstance(document_id, str) and SAFE_PATH.match(document_id):
        candidate = f"documents/{document_id}/document.pdf"
        document_path = candidate if (root / candidate).is_file() else None
    try:
        checked = verify(receipt, jwks, audit, _read(root / document_path) if document_path else None,
                         _read(folder / "signed.pdf"), chain)
    except NotAReceipt as exc:
        report.fail(f"{base}/receipt.json", str(exc))
        return
    if receipt.get("agreement_id") != agreement_id:
        report.fail(f"{base}/receipt.json", "is another agreement's receipt")
    for error in checked.errors:
        check = error.split(":", 1)[0]
        file = CHECK_FILES.get(check)
        where = f"{base}/{file}" if file else (document_path or f"{base}/receipt.json")
        report.fail(where, error)
    if checked.verdict != VALID and not checked.errors:
        report.fail(f"{base}/receipt.json", "its signature could not be checked (keys/jwks.json)")
    if checked.verdict == VALID:
        report.counts["receipts"] += 1
        if checked.checks["pdf_seal"] == PASS:
            report.counts["sealed PDFs"] += 1


def _check_document(report: ExportReport, root: Path, folder: Path) -> None:
    base = f"documents/{folder.name}"
    metadata = _json(report, root, f"{base}/metadata.json") if (folder / "metadata.json").is_file() else None
    pdf = folder / "document.pdf"
    if not isinstance(metadata, dict) or not pdf.is_file():
        report.fail(base, "a document needs metadata.json and document.pdf")
        return
    if metadata.get("id") != folder.name:
        report.fail(f"{base}/metadata.json", "is another document's")
    sha256, size = _digest(pdf)
    if sha256 != metadata.get("sha256") or size != metadata.get("size"):
        report.fail(f"{base}/document.pdf", "is not the document its metadata.json describes")
        return
    report.counts["documents"] += 1


def verify_export(root: Path) -> ExportReport:
    report = ExportReport()
    if not root.is_dir():
        report.fail(str(root), "not a folder (unzip the export first)")
        return report
    _check_manifest(report, root)
    jwks = _json(report, root, "keys/jwks.json") if (root / "keys/jwks.json").is_file() else None
    chain = _read(root / "keys" / "certificates.pem")
    if jwks is None or chain is None:
        report.fail("keys", "keys/jwks.json and keys/certificates.pem are needed to check the evidence")
    for folder in sorted((root / "agreements").glob("*")) if (root / "agreements").is_dir() else []:
        if folder.is_dir():
            _check_agreement(report, root, folder, jwks, chain)
    for folder in sorted((root / "documents").glob("*")) if (root / "documents").is_dir() else []:
        if folder.is_dir():
            _check_document(report, root, folder)
    return report
