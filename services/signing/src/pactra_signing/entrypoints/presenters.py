"""The agreement object of api.md, as the public model of it (``pactra_contracts.resources``)."""

from typing import Any

from pactra_contracts import resources

from ..domain.agreement import Agreement


def agreement_resource(agreement: Agreement) -> resources.Agreement:
    return resources.Agreement(
        id=agreement.id,
        title=agreement.title,
        status=agreement.status,
        document_id=agreement.document_id,
        message=agreement.message,
        signing_order=agreement.signing_order,
        sender=resources.Sender(name=agreement.sender_name, email=agreement.sender_email),
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
        signers=[resources.Signer(
            id=s.id, name=s.name, email=s.email, order=s.order, status=s.status,
            invited_at=s.invited_at, viewed_at=s.viewed_at, signed_at=s.signed_at,
            declined_at=s.declined_at, delivery_status=s.delivery_status,
        ) for s in agreement.signers],
        fields=[resources.AgreementField(
            id=f.id, signer_id=f.signer_id, type=f.type, page=f.page, x=f.x, y=f.y,
            width=f.width, height=f.height, required=f.required, value=f.value,
        ) for f in agreement.fields],
    )


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    return agreement_resource(agreement).model_dump(mode="json")
