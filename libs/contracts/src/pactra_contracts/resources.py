"""The public API's resources as they are on the wire (api.md, receipts.md): documents,
agreements with their signers and fields, receipts, audit trails, analyses, and the other
answers of the documents, signing, receipts and AI services.

The services build these to answer, the OpenAPI document describes them, and the verifier
reads receipts with them. ``model.model_dump(mode="json")`` gives today's JSON exactly: the
members in their wire order, nulls where the wire has nulls, and a member the wire leaves out
(an old receipt's ``livemode``, a non-failed analysis's ``error``: ``MISSING``) left out. Every model
refuses members it does not name (``extra="forbid"``), so an undocumented member is an error.
"""

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import MISSING, BaseModel, ConfigDict, Field

from .times import UtcTime

T = TypeVar("T")

AgreementStatus = Literal["draft", "sent", "completed", "declined", "voided", "expired"]
SignerStatus = Literal["pending", "invited", "viewed", "signed", "declined"]
EvidenceStatus = Literal["none", "issuing", "issued", "failed"]
Outcome = Literal["completed", "declined", "voided", "expired"]
CheckResult = Literal["pass", "fail", "skipped"]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# Evidence is signed and hashed as it was issued, so its times stay the strings they were
# (receipts.md: ``YYYY-MM-DDTHH:MM:SS.mmmZ``); re-formatting a parsed time could change a byte.
EvidenceTime = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
# PDF points: the wire has ``72`` where PostgreSQL wrote the number and ``72.0`` where Python
# did, and a model keeps whichever it was given (a float alone would turn 72 into 72.0).
Points = int | float


class _Resource(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(_Resource, Generic[T]):
    """A list (api.md, "Conventions"): newest first; ``next_cursor`` is the last item's id
    when there are more, for ``?starting_after=``."""

    data: list[T]
    has_more: bool
    next_cursor: str | None


# --- documents ------------------------------------------------------------------------------


class PageSize(_Resource):
    """A page's box in PDF points, as displayed (after /Rotate): field geometry lies within it."""

    width: Points
    height: Points


class Document(_Resource):
    id: str
    filename: str
    size: int
    sha256: Sha256
    pages: int
    page_sizes: list[PageSize] | None
    created_at: UtcTime
    # False when uploaded with a test key (api.md, "Test mode").
    livemode: bool = True


class DocumentList(Page[Document]):
    pass


# --- agreements (signing) -------------------------------------------------------------------


class Sender(_Resource):
    name: str
    email: str


class Signer(_Resource):
    id: str
    name: str
    email: str
    order: int
    status: SignerStatus
    invited_at: UtcTime | None
    viewed_at: UtcTime | None
    signed_at: UtcTime | None
    declined_at: UtcTime | None
    # What the mail provider reported of the invitation: null, or ``bounced``/``complained``.
    delivery_status: Literal["bounced", "complained"] | None


class AgreementField(_Resource):
    """A field to fill (api.md): geometry in PDF points from the page's top-left corner."""

    id: str
    signer_id: str
    type: Literal["signature", "initials", "date", "text", "checkbox"]
    page: int
    x: Points
    y: Points
    width: Points
    height: Points
    required: bool
    value: str | bool | None


class Agreement(_Resource):
    id: str
    title: str
    status: AgreementStatus
    document_id: str
    message: str | None
    signing_order: Literal["parallel", "sequential"]
    sender: Sender
    expires_at: UtcTime
    created_at: UtcTime
    sent_at: UtcTime | None
    completed_at: UtcTime | None
    ended_at: UtcTime | None
    evidence_status: EvidenceStatus
    evidence_reason: str | None
    receipt_id: str | None
    livemode: bool
    metadata: dict[str, str]
    signers: list[Signer]
    fields: list[AgreementField]


class AgreementList(Page[Agreement]):
    pass


class SignerLink(_Resource):
    """``POST /v1/agreements/{id}/signers/{signer_id}/link``: the signer's link (embedded signing)."""

    url: str
    expires_at: UtcTime


# --- the signer's side (/s/{token}) ---------------------------------------------------------


class SignerIdentity(_Resource):
    id: str
    name: str
    email: str


class PageImage(_Resource):
    """A page image's number and size in pixels, for the browser to reserve the space."""

    number: int
    width: int
    height: int


class FieldBox(_Resource):
    """Where a field sits on its page image, in % of the image."""

    left: float
    top: float
    width: float
    height: float
    # The number tag goes below the box's top edge / ends at its right edge.
    below: bool
    end: bool


class ShownField(_Resource):
    """A signer's field as the signing page shows it: numbered in reading order and named."""

    id: str
    type: Literal["signature", "initials", "date", "text", "checkbox"]
    page: int
    required: bool
    value: str | bool | None
    number: int
    name: str
    kind: str
    box: FieldBox | None


class SigningInfo(_Resource):
    """``GET /s/{token}/info``."""

    title: str
    message: str | None
    status: SignerStatus
    agreement_status: AgreementStatus
    expires_at: UtcTime
    pages: int
    sender: Sender
    signer: SignerIdentity
    page_images: list[PageImage]
    fields: list[ShownField]
    evidence_status: EvidenceStatus


class SignerOutcome(_Resource):
    """``POST /s/{token}/sign`` and ``/decline``."""

    status: Literal["signed", "declined"]
    agreement_status: AgreementStatus


# --- evidence (receipts.md) -----------------------------------------------------------------
# Receipts and audit entries are kept in PostgreSQL ``jsonb`` and served from it, so their
# members come in the order jsonb keeps them: shorter names first, then bytewise. What is signed
# and hashed is their JCS form (sorted), which no order changes.


class AuditActor(_Resource):
    # A signer's copy (``GET /s/{token}/audit``) shows others' ``ip``/``user_agent`` as "masked".
    id: str
    ip: str | None
    kind: Literal["signer", "api_key", "system", "user"]
    user_agent: str | None


class AuditEntry(_Resource):
    """Entry ``seq`` of an agreement's trail; ``hash = sha256(JCS(entry without hash))``."""

    at: EvidenceTime
    seq: int
    # The event's facts that matter as evidence: ids, names, emails, reasons, hashes, times.
    data: dict[str, Any]
    hash: Sha256
    # The previous entry's hash; 64 zeros for entry 0.
    prev: Sha256
    type: str
    actor: AuditActor


class AuditTrail(_Resource):
    """``GET /v1/agreements/{id}/audit``: the entries in ``seq`` order."""

    agreement_id: str
    entries: list[AuditEntry]


class ReceiptDocument(_Resource):
    pages: int
    # The original upload's SHA-256.
    sha256: Sha256
    # The SHA-256 of signed.pdf: completed agreements only.
    sealed_sha256: Sha256 | None


class ReceiptSigner(_Resource):
    ip: str | None
    name: str
    email: str
    status: SignerStatus
    signed_at: EvidenceTime | None
    signer_id: str
    consent_at: EvidenceTime | None
    user_agent: str | None


class ReceiptAudit(_Resource):
    """The trail's first ``entries`` entries are covered; ``head`` is the last one's hash."""

    head: Sha256
    entries: int


class ReceiptTimestamp(_Resource):
    """The RFC 3161 time of the PAdES seal."""

    tsa: str
    time: EvidenceTime


class ReceiptSignature(_Resource):
    """Ed25519 over JCS(receipt without ``signature``); ``kid`` names a key of the JWKS."""

    alg: Literal["EdDSA"]
    crv: Literal["Ed25519"]
    kid: str
    value: str


class Receipt(_Resource):
    audit: ReceiptAudit
    title: str
    outcome: Outcome
    signers: list[ReceiptSigner]
    document: ReceiptDocument
    # Receipts issued before test mode lack the member, which then means true (receipts.md):
    # such a receipt is dumped without it, as it was signed.
    livemode: bool | MISSING = MISSING
    issued_at: EvidenceTime
    signature: ReceiptSignature
    # Null when no trusted timestamp was obtained: stated, never hidden.
    timestamp: ReceiptTimestamp | None
    receipt_id: str
    agreement_id: str
    workspace_id: str
    receipt_version: Literal[1]


class PresentedReceipt(BaseModel):
    """A receipt as anyone may present it to a verifier: the members the checks read, with the
    types they read them as. Everything else, and the values inside, is the checks' to judge,
    not a reason to refuse: a changed or added member fails the signature, a wrong hash fails
    its check. Its members are :class:`Receipt`'s (a unit test holds them to it)."""

    model_config = ConfigDict(extra="allow", strict=True)

    receipt_version: Any
    receipt_id: str
    agreement_id: str
    # Absent in receipts issued before test mode, which are live (receipts.md).
    livemode: bool = True
    outcome: Any
    document: dict[str, Any]
    signers: list[dict[str, Any]]
    audit: dict[str, Any]
    signature: dict[str, Any]


class ReceiptTombstone(_Resource):
    """What Pactra keeps of a receipt once its agreement or workspace was purged (receipts.md):
    no names, emails, IPs or documents."""

    receipt_id: str
    agreement_id: str
    issued_at: UtcTime
    # SHA-256 of the receipt's JCS form, signature included.
    receipt_sha256: Sha256
    audit_head: Sha256


class ReceiptKey(_Resource):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]
    status: Literal["active", "retired"]


class ReceiptKeys(_Resource):
    """``GET /v1/receipts/keys``: the JWKS, current and retired keys."""

    keys: list[ReceiptKey]


class VerifyChecks(_Resource):
    signature: CheckResult
    audit_chain: CheckResult
    document_hash: CheckResult
    sealed_hash: CheckResult
    pdf_seal: CheckResult
    certificate_text: CheckResult


class VerifyResult(_Resource):
    """``POST /v1/receipts/verify``: ``valid`` when nothing failed and the signature passed."""

    valid: bool
    verdict: Literal["valid", "invalid", "not_verified"]
    receipt_id: str
    agreement_id: str
    livemode: bool
    checks: VerifyChecks
    errors: list[str]
    # For each check still ``skipped``, why; and caveats on checks that passed only in part.
    skipped: dict[str, str]
    notes: list[str]
    # What Pactra still holds of this very receipt: all of it, a tombstone, or nothing known.
    retained: Literal["full", "tombstone"] | None


# --- AI -------------------------------------------------------------------------------------


class Clause(_Resource):
    type: str
    text: str
    page: int
    # Offsets into ``GET /v1/documents/{id}/text``, in Unicode code points.
    start: int
    end: int
    confidence: float


class Analysis(_Resource):
    """``GET /v1/documents/{id}/analysis``; advisory, never legal advice."""

    id: str
    document_id: str
    status: Literal["pending", "ready", "failed"]
    summary: str | None
    clauses: list[Clause]
    engine: str
    model: str
    advisory: Literal[True]
    # Why it failed: a failed analysis only has the member.
    error: str | MISSING | None = MISSING


class AnalysisRequested(_Resource):
    """``POST /v1/documents/{id}/analysis`` when another request started it at the same moment."""

    status: Literal["pending"]
    document_id: str
    advisory: Literal[True]
