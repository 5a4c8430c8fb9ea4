"""Notify's repositories on SQLAlchemy: the domain's records in and out of its tables."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_platform.messaging import notify_on_commit

from ..domain.email_outcomes import SentEmail
from ..domain.recipients import Party
from ..domain.test_mode import Owner
from ..domain.webhooks import Delivery, Endpoint
from .orm import (
    AgreementParty,
    EmailDelivery,
    ProviderEvent,
    SignerLink,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WorkspaceOwner,
)

# Committing a new due delivery wakes the scheduler of every notify worker at once.
WEBHOOK_CHANNEL = "pactra_webhooks"


class SqlPartyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, parties: Sequence[Party], at: datetime) -> None:
        rows = [{"agreement_id": p.agreement_id, "party": p.party, "email": p.email,
                 "workspace_id": p.workspace_id, "name": p.name, "recorded_at": at} for p in parties]
        self.session.execute(insert(AgreementParty).values(rows).on_conflict_do_nothing())

    def of_agreement(self, agreement_id: str) -> list[Party]:
        rows = self.session.scalars(
            select(AgreementParty).where(AgreementParty.agreement_id == agreement_id))
        return [Party(r.agreement_id, r.party, r.name, r.email, r.workspace_id) for r in rows]


class SqlSignerLinkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def remember(self, agreement_id: str, signer_id: str, workspace_id: str | None, sealed: str,
                 at: datetime) -> None:
        row = self.session.get(SignerLink, (agreement_id, signer_id))
        if row is None:
            row = SignerLink(agreement_id=agreement_id, signer_id=signer_id)
            self.session.add(row)
        row.workspace_id, row.sealed, row.updated_at = workspace_id, sealed, at
        self.session.flush()

    def sealed(self, agreement_id: str, signer_id: str) -> str | None:
        row = self.session.get(SignerLink, (agreement_id, signer_id))
        return row.sealed if row is not None else None


class SqlOwnerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, workspace_id: str) -> Owner | None:
        row = self.session.get(WorkspaceOwner, workspace_id)
        if row is None:
            return None
        return Owner(row.workspace_id, row.name, row.email, row.email_verified, row.updated_at)

    def named(self, owner: Owner) -> None:
        values = {"name": owner.name, "email": owner.email.lower(), "updated_at": owner.updated_at}
        self.session.execute(insert(WorkspaceOwner).values(workspace_id=owner.workspace_id, **values)
                             .on_conflict_do_update(index_elements=["workspace_id"], set_=values))

    def confirmed(self, owner: Owner) -> None:
        values = {"name": owner.name, "email": owner.email.lower(),
                  "email_verified": owner.email_verified, "updated_at": owner.updated_at}
        statement = insert(WorkspaceOwner).values(workspace_id=owner.workspace_id, **values)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=["workspace_id"], set_=values,
            where=WorkspaceOwner.updated_at <= statement.excluded.updated_at))


class AutocommitEmailLedger:
    """Each call is one statement on its own connection, committed by itself (autocommit):
    one round trip, where a transaction would take three."""

    def __init__(self, session: Session) -> None:
        self.bind = session.get_bind().execution_options(isolation_level="AUTOCOMMIT")

    def begin(self, event_id: str, workspace_id: str | None, recipient: str, kind: str,
              agreement_id: str | None, signer_id: str | None) -> str:
        inserted = (
            insert(EmailDelivery).values(
                event_id=event_id, recipient=recipient, kind=kind, agreement_id=agreement_id,
                workspace_id=workspace_id, status="pending", signer_id=signer_id,
                created_at=utcnow(),
            ).on_conflict_do_nothing(constraint="uq_deliveries_event_recipient")
            .returning(EmailDelivery.status).cte("inserted")
        )
        # The new row's status or, when it was there already, the stored one.
        existing = select(EmailDelivery.status).where(
            EmailDelivery.event_id == event_id, EmailDelivery.recipient == recipient)
        with self.bind.connect() as connection:
            status = connection.scalar(select(inserted.c.status).union_all(existing).limit(1))
            if status is None:  # a racing insert committed after this statement's snapshot
                status = connection.scalar(existing)
        return str(status)

    def statuses(self, event_id: str) -> dict[str, str]:
        with self.bind.connect() as connection:
            rows = connection.execute(select(EmailDelivery.recipient, EmailDelivery.status)
                                      .where(EmailDelivery.event_id == event_id))
            return {recipient: status for recipient, status in rows}

    def sent(self, event_id: str, recipient: str, provider_message_id: str, at: datetime) -> None:
        self._finish(event_id, recipient, status="sent",
                     provider_message_id=provider_message_id[:200], sent_at=at)

    def failed(self, event_id: str, recipient: str, error: str) -> None:
        self._finish(event_id, recipient, status="failed", error=error[:2000])

    def suppressed(self, event_id: str, recipient: str, reason: str) -> None:
        self._finish(event_id, recipient, status="suppressed", error=reason)

    def _finish(self, event_id: str, recipient: str, **values: object) -> None:
        with self.bind.connect() as connection:
            connection.execute(update(EmailDelivery).where(
                EmailDelivery.event_id == event_id, EmailDelivery.recipient == recipient)
                .values(**values))


class SqlSentEmailRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_provider_id(self, provider_message_id: str) -> SentEmail | None:
        row = self.session.scalar(select(EmailDelivery).where(
            EmailDelivery.provider_message_id == provider_message_id[:200])
            .with_for_update().limit(1))
        if row is None:
            return None
        return SentEmail(row.id, row.recipient, row.kind, row.agreement_id, row.workspace_id,
                         row.signer_id, row.outcome)

    def record_outcome(self, email: SentEmail, outcome: str, at: datetime) -> None:
        self.session.execute(update(EmailDelivery).where(EmailDelivery.id == email.id)
                             .values(outcome=outcome, outcome_at=at))


class SqlProviderEventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def first_time(self, message_id: str, event_type: str, at: datetime, keep: timedelta) -> bool:
        first = self.session.execute(insert(ProviderEvent).values(
            id=message_id, type=event_type[:60], received_at=at,
        ).on_conflict_do_nothing().returning(ProviderEvent.id)).first()
        self.session.execute(delete(ProviderEvent).where(ProviderEvent.received_at < at - keep))
        return first is not None


_ENDPOINT_FIELDS = ("id", "workspace_id", "url", "description", "events", "secret_sealed",
                    "created_at", "updated_at", "enabled", "disabled_reason",
                    "previous_secret_sealed", "previous_secret_expires_at", "failing_since")


def endpoint_of(row: WebhookEndpoint) -> Endpoint:
    values = {name: getattr(row, name) for name in _ENDPOINT_FIELDS}
    values["events"] = list(row.events)
    values["secret_sealed"] = bytes(row.secret_sealed)
    if row.previous_secret_sealed is not None:
        values["previous_secret_sealed"] = bytes(row.previous_secret_sealed)
    return Endpoint(**values)


class SqlEndpointRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_workspace(self, workspace_id: str) -> None:
        self.session.execute(select(func.pg_advisory_xact_lock(
            func.hashtext(f"webhooks/{workspace_id}"))))

    def count(self, workspace_id: str) -> int:
        return self.session.scalar(select(func.count()).select_from(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == workspace_id)) or 0

    def add(self, endpoint: Endpoint) -> None:
        self.session.add(WebhookEndpoint(**{name: getattr(endpoint, name) for name in _ENDPOINT_FIELDS}))
        self.session.flush()

    def get(self, workspace_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        row = self._row(workspace_id, endpoint_id, lock=lock)
        return endpoint_of(row) if row is not None else None

    def save(self, endpoint: Endpoint) -> None:
        row = self._row(endpoint.workspace_id, endpoint.id)
        assert row is not None, "saved an endpoint that was never added"
        for name in _ENDPOINT_FIELDS:
            setattr(row, name, getattr(endpoint, name))
        self.session.flush()

    def delete(self, endpoint_id: str) -> None:
        delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
        self.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)))
        self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
        self.session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))

    def listening(self, workspace_id: str, event_type: str) -> list[Endpoint]:
        rows = self.session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.enabled.is_(True)))
        return [e for e in map(endpoint_of, rows) if e.subscribes_to(event_type)]

    def _row(self, workspace_id: str, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint | None:
        query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                              WebhookEndpoint.workspace_id == workspace_id)
        return self.session.scalar(query.with_for_update() if lock else query)


class SqlDeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, endpoints: Sequence[Endpoint], event_id: str, event_type: str, body: str,
            at: datetime) -> list[str]:
        if not endpoints:
            return []
        rows = [{"id": new_id("whd"), "endpoint_id": e.id, "workspace_id": e.workspace_id,
                 "event_id": event_id, "type": event_type, "body": body, "status": "pending",
                 "tries": 0, "next_attempt_at": at, "created_at": at} for e in endpoints]
        inserted = self.session.scalars(insert(WebhookDelivery).values(rows).on_conflict_do_nothing(
            constraint="uq_webhook_deliveries_endpoint_event").returning(WebhookDelivery.id)).all()
        notify_on_commit(self.session, WEBHOOK_CHANNEL)
        return list(inserted)

    def get(self, endpoint_id: str, delivery_id: str, *, lock: bool = False) -> Delivery | None:
        query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                              WebhookDelivery.endpoint_id == endpoint_id)
        row = self.session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None
        return Delivery(row.id, row.endpoint_id, row.event_id, row.status, row.tries,
                        row.next_attempt_at, row.lease_until)

    def save(self, delivery: Delivery) -> None:
        self.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(
            status=delivery.status, tries=delivery.tries, next_attempt_at=delivery.next_attempt_at,
            lease_until=delivery.lease_until))
        notify_on_commit(self.session, WEBHOOK_CHANNEL)


def forget_agreement(session: Session, agreement_id: str) -> dict[str, int]:
    """Agreement ids are unique across workspaces, and rows recorded before they kept a
    workspace id have none: the agreement id decides."""
    counts = {}
    for model in (AgreementParty, SignerLink, EmailDelivery):
        counts[model.__tablename__] = session.execute(
            delete(model).where(model.agreement_id == agreement_id)).rowcount
    return counts

