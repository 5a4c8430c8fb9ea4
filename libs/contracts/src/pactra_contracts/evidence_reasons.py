"""Why an agreement's evidence failed: the one list of ``evidence_reason`` codes (api.md,
"Evidence status").

A reason is what users and integrations see (``evidence_reason`` of the agreement, the
``evidence_failed`` problem, ``receipt.failed``): a stable code and a sentence,
``"seal_failed: The sealed PDF could not be made."``. Never an exception's text: that can hold
internal names, paths or data, and it changes from one release to the next. The details go to
the receipts issuer's log, under the agreement id.
"""

REASONS: dict[str, str] = {
    "document_unavailable": "The original document could not be fetched from the documents service.",
    "document_mismatch": "The original document no longer matches the agreement's document hash.",
    "certificate_failed": "The certificate of completion could not be made.",
    "signature_unusable": "A drawn signature image is too large or cannot be read.",
    "stamp_failed": "The signatures could not be stamped onto the document.",
    "seal_failed": "The sealed PDF could not be made.",
    "storage_failed": "The evidence files could not be stored.",
    "signing_key_unavailable": "The receipt-signing key could not be used.",
    "crashed": "Making the evidence stopped its process before it finished.",
    "internal": "The evidence could not be made because of an internal error.",
}


def evidence_reason(code: str) -> str:
    """``"code: sentence"`` for a code of REASONS (an unknown code is a bug: KeyError)."""
    return f"{code}: {REASONS[code]}"


def code_of(reason: str | None) -> str | None:
    """The code a reason starts with, or None when it is not one of ours."""
    if not reason:
        return None
    code = reason.split(":", 1)[0]
    return code if code in REASONS else None
