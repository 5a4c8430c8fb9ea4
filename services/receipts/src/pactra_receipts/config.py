"""The receipts service's settings: the platform's, and what only this service reads (sealing,
time-stamping, evidence attempts, tombstones), from the same ``PACTRA_*`` variables."""

from pydantic import Field

from pactra_platform.settings import Settings


class ReceiptsSettings(Settings):
    # Path to a PKCS#12 file holding the production sealing key and certificate chain.
    seal_p12: str | None = None
    seal_p12_password: str | None = None
    # RFC 3161 time-stamping authority; unset: seals carry no trusted timestamp.
    tsa_url: str | None = None
    tsa_timeout_seconds: float = 10.0
    # How long a failing TSA may hold evidence back before the seal is made without it.
    tsa_grace_seconds: float = 3600.0
    # Back-off of evidence retries: first delay, doubling up to the ceiling.
    evidence_retry_seconds: float = 1.0
    evidence_retry_max_seconds: float = 300.0
    # Attempts (a crash of the issuer's process counts as one) before the evidence stays
    # "failed" and only `pactra-receipts retry-evidence` tries again. A TSA outage within
    # its grace period does not count: the grace period bounds it.
    evidence_max_attempts: int = Field(default=10, ge=1)
    # How often the worker looks for evidence whose retry is due (new evidence wakes it at once).
    evidence_poll_seconds: float = 0.5
    # Agreements one issuer process seals at once (threads; they share work with SKIP LOCKED).
    evidence_issuers: int = Field(default=2, ge=1)
    # Requests one API process lets wait for a receipt at once (``Prefer: wait``); it runs
    # 16 threads, and the rest of them must stay free for everything else.
    receipt_waiters: int = Field(default=8, ge=0)
    # Receipts' tombstones are kept this many days after issue (about 7 years).
    evidence_retention_days: int = Field(default=2557, ge=1)
