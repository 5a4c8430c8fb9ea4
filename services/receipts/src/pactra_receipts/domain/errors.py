"""What goes wrong in the receipts service, in its own words; entrypoints/errors.py says how
each becomes a problem document."""


class EvidenceError(Exception):
    """Evidence cannot be made right now; it is retried. ``code`` is the reason users see
    (pactra_contracts.evidence_reasons); the message and the chained cause are for the log."""

    code = "internal"

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            self.code = code


class TsaUnavailable(EvidenceError):
    """The time-stamping authority failed: retried quietly until the grace period ends."""

    code = "seal_failed"


class AgreementNotFound(Exception):
    """No such agreement in the caller's workspace and mode (test and live never mix)."""

    def __init__(self, agreement_id: str, detail: str | None = None) -> None:
        super().__init__(detail or f"No agreement {agreement_id}.")
        self.agreement_id = agreement_id


class NoReceiptYet(AgreementNotFound):
    """The agreement exists but has not ended: there is nothing to issue yet."""

    def __init__(self, agreement_id: str) -> None:
        super().__init__(agreement_id, f"Agreement {agreement_id} has not ended: no receipt yet.")


class NoSignedDocuments(AgreementNotFound):
    """The agreement ended without a completion: no signed.pdf, no certificate."""

    def __init__(self, agreement_id: str) -> None:
        super().__init__(agreement_id, f"Agreement {agreement_id} has no signed documents.")


class EvidenceStillIssuing(Exception):
    """The agreement ended; its evidence is being made."""

    def __init__(self) -> None:
        super().__init__("The agreement's evidence is still being issued.")


class EvidenceFailed(Exception):
    """Making the evidence failed, for the ``reason`` recorded (a stable reason, never an
    exception's text)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__("Making the agreement's evidence failed.")
        self.reason = reason


class NotVerifiable(Exception):
    """What was presented to the verifier is not a receipt it can check."""


class PdfCheckUnavailable(Exception):
    """The sealed PDF is the one the receipt names, but checking it failed on our side: the
    caller tries again shortly."""
