"""The event envelope and the catalogue of events.md.

Every message on the bus is the JSON of an :class:`Event`. ``data`` is validated against the
model registered for the event's ``(type, version)``; a message that fails either check is
malformed and goes to the dead-letter queue at once.
"""

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .ids import new_id
from .times import UtcTime, utcnow


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(_Strict):
    kind: Literal["signer", "api_key", "system", "user"]
    id: str
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(kind="system", id="system")


class Person(_Strict):
    name: str
    email: str


# --- data of each event type -------------------------------------------------------------


class WorkspaceCreated(_Strict):
    workspace_id: str
    name: str
    plan: str
    owner: Person


class WorkspaceUpdated(_Strict):
    workspace_id: str
    changes: dict[str, str | bool | int | None]


class DocumentUploaded(_Strict):
    document_id: str
    sha256: str
    size: int
    pages: int
    filename: str
    # False for a test key's document (api.md, "Test mode"). Optional: earlier ones were live.
    livemode: bool = True


class DocumentDeleted(_Strict):
    document_id: str
    # False for a test key's document (api.md, "Test mode"). Optional: earlier ones were live.
    livemode: bool = True


class SignerSummary(_Strict):
    id: str
    name: str
    email: str
    order: int


class FieldPlacement(_Strict):
    id: str
    signer_id: str
    type: Literal["signature", "initials", "date", "text", "checkbox"]
    page: int
    x: float
    y: float
    width: float
    height: float
    required: bool = True


class AgreementCreated(_Strict):
    agreement_id: str
    title: str
    document_id: str
    document_sha256: str
    document_pages: int
    message: str | None
    signing_order: Literal["parallel", "sequential"]
    expires_at: UtcTime
    sender: Person
    signers: list[SignerSummary]
    fields: list[FieldPlacement]
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class AgreementSent(_Strict):
    agreement_id: str
    signing_order: Literal["parallel", "sequential"]
    signer_ids: list[str]
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class SealedLink(_Strict):
    """A signing link sealed with AES-256-GCM under the signing-link key (derived from the
    master key; see ``pactra_signing.adapters.links.seal_link``), bound to its signer id. Only notify
    opens it; outbox rows, messages, dead letters and audit entries never hold it in clear."""

    sealed: str


class SignerInvited(_Strict):
    agreement_id: str
    signer_id: str
    name: str
    email: str
    link: SealedLink
    message: str | None
    sender: Person
    title: str
    expires_at: UtcTime | None
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class SignerViewed(_Strict):
    agreement_id: str
    signer_id: str
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class Signature(_Strict):
    type: Literal["typed", "drawn"]
    text: str | None = None
    png_base64: str | None = None


FieldValue = str | bool


class SignerSigned(_Strict):
    agreement_id: str
    signer_id: str
    consent_at: UtcTime
    document_sha256: str
    signature: Signature
    field_values: dict[str, FieldValue]
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class SignerDeclined(_Strict):
    agreement_id: str
    signer_id: str
    reason: str
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class SignedBy(_Strict):
    signer_id: str
    signature: Signature
    field_values: dict[str, FieldValue]


class AgreementCompleted(_Strict):
    agreement_id: str
    signatures: list[SignedBy]
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class AgreementEnded(_Strict):
    agreement_id: str
    reason: str | None
    notify_signer_ids: list[str]
    # The agreement's version after this change (events.md; webhooks show it as ``sequence``).
    # Optional so that events published before signing carried it still parse.
    agreement_version: int | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class Recipient(_Strict):
    """Who is told that an agreement ended: each signer (``signer_id`` set) and the sender."""

    name: str
    email: str
    signer_id: str | None


class ReceiptIssued(_Strict):
    agreement_id: str
    receipt_id: str
    title: str
    outcome: Literal["completed", "declined", "voided", "expired"]
    sealed_sha256: str | None
    receipt_sha256: str
    recipients: list[Recipient]
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class ReceiptFailed(_Strict):
    """Evidence could not be made (yet). ``reason`` is shown to users: a stable code and a
    sentence (evidence_reasons.py), never an exception's text. ``will_retry`` is false once the
    issuer stopped retrying by itself (after ``attempts``): only an operator retries it then.
    The last two are optional so that events published before them still parse."""

    agreement_id: str
    reason: str
    code: str | None = None
    attempts: int | None = None
    will_retry: bool | None = None
    # False for an agreement made with a test key (api.md, "Test mode"). Optional so that
    # events published before it still parse (they were all live).
    livemode: bool = True


class AnalysisCompleted(_Strict):
    document_id: str
    status: Literal["ready", "failed"]
    engine: str


class NotificationSent(_Strict):
    kind: str
    recipient: str
    agreement_id: str | None


class SignerEmailUndelivered(_Strict):
    """An email to a signer came back: the provider reported a bounce (``signer.bounced``,
    the address cannot receive mail) or a complaint (``signer.complained``, the recipient
    marked it as spam). Signing shows it as the signer's ``delivery_status``."""

    agreement_id: str
    signer_id: str
    delivery_status: Literal["bounced", "complained"]
    # Which email came back (invitation, reminder, completed ...).
    email_kind: str
    # The provider's classification (for a bounce, "Permanent/Suppressed" and the like); never
    # its free-text message, which may quote the address or the remote server's reply.
    reason: str | None = None


class UsageRecorded(_Strict):
    workspace_id: str
    metric: str
    quantity: int
    # What was counted (an event or request id): counting is idempotent by it (events.md).
    # Optional so that events published before it still parse. ``source_event_id`` is its
    # name from now on (issue 16); ``source`` is still read.
    source: str | None = None
    source_event_id: str | None = None
    # When the counted thing happened (the envelope's occurred_at when absent); storage_bytes
    # counts down on deletion (a negative quantity).
    occurred_at: UtcTime | None = None
    # False for a test-mode object's usage (api.md, "Test mode": free and counted apart): the
    # plan's counters and quotas leave it out. Optional: events before it were all live.
    livemode: bool = True


class AccountLinkRequested(_Strict):
    """An email with a link to the account's owner: confirming an address
    (``account.email_verification_requested``) or recovering access
    (``account.recovery_requested``). The link carries a token, so it travels sealed (AES-GCM
    under the account-link key, bound to the user id; ``pactra_gateway.service_layer.owner_account``) and only
    notify opens it, to put it into the email (events.md: no secrets in events)."""

    user_id: str
    name: str
    email: str
    link: SealedLink
    expires_at: UtcTime
    # For verification: "signup" (the first address) or "change" (a new address to confirm).
    reason: Literal["signup", "change", "resend", "recovery"]


class AccountUpdated(_Strict):
    """The owner's confirmed name and email (never a pending address): the sender of the
    workspace's agreements from now on; agreements already sent keep theirs."""

    workspace_id: str
    owner: Person
    email_verified: bool


class WorkspaceDeletionRequested(_Strict):
    """The purge of a workspace starts (api.md, "Deletion and retention"): every service
    deletes what it owns of it, keeps a marker (the SHA-256 of its id), shreds its key and
    reports ``workspace.purged``. The gateway republishes it, under a new event id, to a
    service that has not reported after a while: purging is idempotent."""

    workspace_id: str
    deletion_id: str


class AgreementPurged(_Strict):
    """Signing has purged an agreement (api.md, "Deletion and retention"): ``retention`` (its
    workspace's ``retention_days`` passed since it ended) or ``deleted`` (``DELETE
    /v1/agreements/{id}``). Each service then purges its own part: receipts keeps a tombstone of
    the receipt, notify forgets the parties and their emails, documents deletes the document
    when ``purge_document`` and no other agreement still uses it (a deleted draft leaves its
    document alone), and the analyses go with the document (``document.deleted``)."""

    agreement_id: str
    document_id: str
    reason: Literal["retention", "deleted"]
    purge_document: bool


class WorkspacePurged(_Strict):
    """A service has purged a workspace: ``counts`` says how many of each thing it deleted."""

    workspace_id: str
    deletion_id: str
    service: str
    counts: dict[str, int]


class DeletionLinkRequested(_Strict):
    """An email to the owner with the link that confirms (or cancels) a workspace's deletion.
    Sealed like the account's links (AES-GCM under the account-link key, bound to the user
    id): only notify opens it."""

    user_id: str
    name: str
    email: str
    workspace_name: str
    link: SealedLink
    expires_at: UtcTime
    grace_hours: int


class ExportRequested(_Strict):
    """A workspace asked for an export of everything it holds (api.md, "Exports"): each
    service in ``parts`` stages its files in the exports bucket and answers
    ``export.part_ready``; the gateway assembles the archive once every part is in."""

    export_id: str
    parts: list[str]


class ExportPartReady(_Strict):
    """One service's part of an export is staged: ``object`` (in the exports bucket,
    encrypted like every object) holds its ``files`` files, framed one after the other
    (``pactra_platform.exports``). The list of files travels inside the object, not here: a
    workspace of 10,000 agreements has tens of thousands of files, too many for a message."""

    export_id: str
    service: str
    object: str
    files: int
    bytes: int


# (type, version) -> model of ``data``. Never change a published version's meaning: add one.
CATALOGUE: dict[tuple[str, int], type[BaseModel]] = {
    ("workspace.created", 1): WorkspaceCreated,
    ("workspace.updated", 1): WorkspaceUpdated,
    ("document.uploaded", 1): DocumentUploaded,
    ("document.deleted", 1): DocumentDeleted,
    ("agreement.created", 1): AgreementCreated,
    ("agreement.sent", 1): AgreementSent,
    ("signer.invited", 1): SignerInvited,
    ("signer.reminded", 1): SignerInvited,
    ("signer.viewed", 1): SignerViewed,
    ("signer.signed", 1): SignerSigned,
    ("signer.declined", 1): SignerDeclined,
    ("agreement.completed", 1): AgreementCompleted,
    ("agreement.declined", 1): AgreementEnded,
    ("agreement.voided", 1): AgreementEnded,
    ("agreement.expired", 1): AgreementEnded,
    ("agreement.purged", 1): AgreementPurged,
    ("receipt.issued", 1): ReceiptIssued,
    ("receipt.failed", 1): ReceiptFailed,
    ("analysis.completed", 1): AnalysisCompleted,
    ("notification.sent", 1): NotificationSent,
    ("signer.bounced", 1): SignerEmailUndelivered,
    ("signer.complained", 1): SignerEmailUndelivered,
    ("usage.recorded", 1): UsageRecorded,
    ("account.email_verification_requested", 1): AccountLinkRequested,
    ("account.recovery_requested", 1): AccountLinkRequested,
    ("account.updated", 1): AccountUpdated,
    ("export.requested", 1): ExportRequested,
    ("export.part_ready", 1): ExportPartReady,
    ("workspace.deletion_requested", 1): WorkspaceDeletionRequested,
    ("workspace.purged", 1): WorkspacePurged,
    ("account.deletion_confirmation_requested", 1): DeletionLinkRequested,
}
EVENT_TYPES = sorted({event_type for event_type, _ in CATALOGUE})

# Who may publish each type (the "producer" column of events.md). The broker enforces it: each
# service's RabbitMQ user may publish only these routing keys (``pactra_platform.bus``).
PRODUCED_BY: dict[str, tuple[str, ...]] = {
    "gateway": ("workspace.created", "workspace.updated", "account.email_verification_requested",
                "account.recovery_requested", "account.updated", "export.requested",
                "workspace.deletion_requested",
                "account.deletion_confirmation_requested"),
    "documents": ("document.uploaded", "document.deleted"),
    "signing": ("agreement.created", "agreement.sent", "signer.invited", "signer.reminded",
                "signer.viewed", "signer.signed", "signer.declined", "agreement.completed",
                "agreement.declined", "agreement.voided", "agreement.expired", "agreement.purged"),
    "receipts": ("receipt.issued", "receipt.failed"),
    "ai": ("analysis.completed",),
    "notify": ("notification.sent", "signer.bounced", "signer.complained"),
}
# Types any service may publish (events.md: producer "any").
ANY_PRODUCER: tuple[str, ...] = ("usage.recorded", "workspace.purged", "export.part_ready")


def types_produced_by(service: str) -> tuple[str, ...]:
    """The event types ``service`` may publish."""
    return PRODUCED_BY.get(service, ()) + ANY_PRODUCER
DATA_MODELS: dict[type[BaseModel], str] = {}
for (_type, _version), _model in CATALOGUE.items():
    DATA_MODELS.setdefault(_model, _type)


# What an event carries: ``Event[SignerSigned]`` is a ``signer.signed`` whose payload() is typed.
DataT = TypeVar("DataT", bound=BaseModel)


class Event(_Strict, Generic[DataT]):
    """The envelope of every message on the bus (events.md).

    Generic in its data's model only for type checking: a handler declares
    ``event: Event[SignerSigned]`` and ``event.payload()`` is a ``SignerSigned`` with no
    ``isinstance`` check, since the consumer gives a handler only the types it consumes. On the
    wire and at run time ``data`` stays the JSON object events.md defines, whatever the
    parameter (so an envelope is parsed once, before anyone knows which model it carries).
    """

    id: str = Field(default_factory=lambda: new_id("evt"), pattern=r"^evt_[0-9a-z]+$")
    type: str
    version: int = 1
    occurred_at: UtcTime = Field(default_factory=utcnow)
    producer: str
    workspace_id: str | None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: Actor = SYSTEM
    data: dict[str, Any]

    def payload(self) -> DataT:
        """``data`` as its catalogue model (raises ``ValidationError`` when it does not fit)."""
        model = CATALOGUE[(self.type, self.version)]
        return model.model_validate(self.data)  # type: ignore[return-value]  # the catalogue decides (see the class)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class MalformedEvent(ValueError):
    """A message body that is not an event of the catalogue: dead-letter it, never retry."""


def make_event(
    event_type: str,
    data: BaseModel,
    *,
    producer: str,
    workspace_id: str | None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    actor: Actor = SYSTEM,
    occurred_at: datetime | None = None,
    version: int = 1,
) -> Event:
    """Build an event, checking that ``data`` is the model the catalogue names for the type."""
    expected = CATALOGUE.get((event_type, version))
    if expected is None or not isinstance(data, expected):
        raise TypeError(f"{event_type} v{version} does not carry {type(data).__name__}")
    return Event(
        type=event_type,
        version=version,
        producer=producer,
        workspace_id=workspace_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
        occurred_at=occurred_at or utcnow(),
        data=data.model_dump(mode="json"),
    )


def parse_event(body: bytes) -> Event[Any]:
    """Validate a message body as an event of the catalogue, envelope and data both."""
    try:
        event: Event[Any] = Event.model_validate_json(body)
        if (event.type, event.version) not in CATALOGUE:
            raise MalformedEvent(f"unknown event {event.type} v{event.version}")
        event.payload()
    except ValidationError as exc:
        raise MalformedEvent(str(exc)) from exc
    return event
