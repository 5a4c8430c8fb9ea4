"""The signing service's answers as the public models of them (``pactra_contracts.resources``):
the agreement object of api.md, and what the signing page reads of it."""

from typing import Any

from pactra_contracts import resources

from ..domain.agreement import Agreement, Signer
from . import signer_fields


def _sender(agreement: Agreement) -> resources.Sender:
    return resources.Sender(name=agreement.sender_name, email=agreement.sender_email)


def agreement_resource(agreement: Agreement) -> resources.Agreement:
    return resources.Agreement(
        id=agreement.id,
        title=agreement.title,
        status=agreement.status,
        document_id=agreement.document_id,
        message=agreement.message,
        signing_order=agreement.signing_order,
        sender=_sender(agreement),
        expires_at=agreement.expires_at,
        created_at=agreement.created_at,
        sent_at=agreement.sent_at,
        completed_at=agreement.completed_at,
        ended_at=agreement.ended_at,
        evidence_status=agreement.evidence_status,
        evidence_reason=agreement.evidence_reason,
        receipt_id=agreement.receipt_id,
        livemode=agreement.livemode,
        metadata=agreement.metadata_ or {},
        # The domain's signers and fields carry every member of theirs under the same names.
        signers=[resources.Signer.model_validate(s, from_attributes=True) for s in agreement.signers],
        fields=[resources.AgreementField.model_validate(f, from_attributes=True)
                for f in agreement.fields],
    )


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    return agreement_resource(agreement).model_dump(mode="json")


def signing_info(agreement: Agreement, signer: Signer) -> dict[str, Any]:
    """``GET /s/{token}/info``, and what the signing page is rendered from."""
    return resources.SigningInfo(
        title=agreement.title,
        message=agreement.message,
        status=signer.status,
        agreement_status=agreement.status,
        expires_at=agreement.expires_at,
        pages=agreement.document_pages,
        sender=_sender(agreement),
        signer=resources.SignerIdentity(id=signer.id, name=signer.name, email=signer.email),
        page_images=signer_fields.page_images(agreement),
        # Numbered in reading order, named as the signer sees them, boxes in % of the page.
        fields=signer_fields.shown_fields(agreement, signer),
        evidence_status=agreement.evidence_status,
    ).model_dump(mode="json")
