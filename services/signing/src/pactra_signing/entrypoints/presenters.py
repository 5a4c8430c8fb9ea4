"""The agreement object of api.md."""

from pactra_contracts.times import format_time

from ..domain.agreement import Agreement


def _time(value):
    return format_time(value) if value else None


def agreement_json(agreement: Agreement) -> dict:
    return {
        "id": agreement.id,
        "title": agreement.title,
        "status": agreement.status,
        "document_id": agreement.document_id,
        "message": agreement.message,
        "signing_order": agreement.signing_order,
        "sender": {"name": agreement.sender_name, "email": agreement.sender_email},
        "expires_at": _time(agreement.expires_at),
        "created_at": _time(agreement.created_at),
        "sent_at": _time(agreement.sent_at),
        "completed_at": _time(agreement.completed_at),
        "ended_at": _time(agreement.ended_at),
        "evidence_status": agreement.evidence_status,
        "evidence_reason": agreement.evidence_reason,
        "receipt_id": agreement.receipt_id,
        "livemode": agreement.livemode,
        "metadata": agreement.metadata_ or {},
        "signers": [{
            "id": s.id, "name": s.name, "email": s.email, "order": s.order, "status": s.status,
            "invited_at": _time(s.invited_at), "viewed_at": _time(s.viewed_at),
            "signed_at": _time(s.signed_at), "declined_at": _time(s.declined_at),
            "delivery_status": s.delivery_status,
        } for s in agreement.signers],
        "fields": [{
            "id": f.id, "signer_id": f.signer_id, "type": f.type, "page": f.page, "x": f.x,
            "y": f.y, "width": f.width, "height": f.height, "required": f.required,
            "value": f.value,
        } for f in agreement.fields],
    }
