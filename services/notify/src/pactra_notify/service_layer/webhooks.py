"""Webhooks' use cases (api.md, "Webhooks"): a catalogue event becomes deliveries for the
endpoints that subscribed to it, and the API's commands on endpoints and deliveries.

An event becomes, in the inbox transaction of its handler, one delivery row per matching
endpoint of its workspace: a redelivered event is a duplicate in the inbox and makes none (and
the unique (endpoint, event) pair would refuse one anyway). The rows are sent by the scheduler
(``adapters/webhook_dispatcher.py``), never here.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pactra_contracts.events import Event
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow

from ..domain.errors import NotFound
from ..domain.webhooks import (
    Delivery,
    Endpoint,
    body_json,
    check_room,
    new_secret,
    normalized_events,
    public_data,
)
from .ports import Peers, SecretSealer
from .unit_of_work import UnitOfWork


def on_webhook_event(event: Event[Any], uow: UnitOfWork, peers: Peers) -> None:
    """A catalogue event becomes a delivery for each enabled endpoint of its workspace that
    subscribed to its type."""
    workspace_id = event.workspace_id
    if not workspace_id:
        return
    endpoints = uow.endpoints.listening(workspace_id, event.type)
    if not endpoints:
        return  # nobody listens: not even the agreement is fetched
    data = public_data(event.type, event.data, event.occurred_at,
                       lambda agreement_id: peers.agreement(workspace_id, agreement_id))
    # Events before test mode carry no livemode: they were live.
    body = body_json(event.type, event.occurred_at, data,
                     livemode=event.data.get("livemode", True) is not False)
    uow.deliveries.add(endpoints, event.id, event.type, body, utcnow())


# --- the API's commands ------------------------------------------------------------------------


def create_endpoint(uow: UnitOfWork, sealer: SecretSealer, *, workspace_id: str, url: str,
                    description: str | None, events: Sequence[str],
                    max_endpoints: int) -> tuple[Endpoint, str]:
    """The new endpoint and its secret in clear (shown this once; it is stored sealed)."""
    uow.endpoints.lock_workspace(workspace_id)
    check_room(uow.endpoints.count(workspace_id), max_endpoints)
    endpoint_id = new_id("whk")
    secret = new_secret()
    now = utcnow()
    endpoint = Endpoint(id=endpoint_id, workspace_id=workspace_id, url=url, description=description,
                        events=normalized_events(events),
                        secret_sealed=sealer.seal(workspace_id, endpoint_id, secret),
                        created_at=now, updated_at=now)
    uow.endpoints.add(endpoint)
    uow.commit()
    return endpoint, secret


def endpoint_of(uow: UnitOfWork, workspace_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint:
    endpoint = uow.endpoints.get(workspace_id, endpoint_id, lock=lock)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


UNCHANGED = object()  # a PATCH that leaves the description as it is


def update_endpoint(uow: UnitOfWork, *, workspace_id: str, endpoint_id: str, url: str | None = None,
                    events: Sequence[str] | None = None, description: object = UNCHANGED,
                    enabled: bool | None = None) -> Endpoint:
    endpoint = endpoint_of(uow, workspace_id, endpoint_id, lock=True)
    if url is not None:
        endpoint.url = url
    if events is not None:
        endpoint.events = normalized_events(events)
    if description is not UNCHANGED:
        endpoint.description = description if isinstance(description, str) else None
    if enabled is not None:
        endpoint.set_enabled(enabled)
    endpoint.updated_at = utcnow()
    uow.endpoints.save(endpoint)
    uow.commit()
    return endpoint


def delete_endpoint(uow: UnitOfWork, *, workspace_id: str, endpoint_id: str) -> None:
    endpoint = endpoint_of(uow, workspace_id, endpoint_id, lock=True)
    uow.endpoints.delete(endpoint.id)
    uow.commit()


def rotate_secret(uow: UnitOfWork, sealer: SecretSealer, *, workspace_id: str, endpoint_id: str,
                  overlap: timedelta) -> tuple[str, datetime]:
    """The new secret in clear and when the previous one stops signing."""
    endpoint = endpoint_of(uow, workspace_id, endpoint_id, lock=True)
    secret = new_secret()
    endpoint.rotate(sealer.seal(endpoint.workspace_id, endpoint.id, secret), utcnow(), overlap)
    uow.endpoints.save(endpoint)
    uow.commit()
    assert endpoint.previous_secret_expires_at is not None  # rotate() sets it
    return secret, endpoint.previous_secret_expires_at


def replay_delivery(uow: UnitOfWork, *, workspace_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
    endpoint = endpoint_of(uow, workspace_id, endpoint_id)
    delivery = uow.deliveries.get(endpoint.id, delivery_id, lock=True)
    if delivery is None:
        raise NotFound("No such delivery of this webhook endpoint.")
    delivery.replay(utcnow())
    uow.deliveries.save(delivery)
    uow.commit()
    return delivery


def send_test(uow: UnitOfWork, *, workspace_id: str, endpoint_id: str) -> tuple[str, str]:
    """A ``ping`` event to this endpoint (whatever it subscribed to), through the same
    delivery log and schedule as any other: its delivery id and event id."""
    endpoint = endpoint_of(uow, workspace_id, endpoint_id)
    event_id = new_id("evt")
    now = utcnow()
    body = body_json("ping", now, {"webhook_id": endpoint.id, "status": "ok"})
    [delivery_id] = uow.deliveries.add([endpoint], event_id, "ping", body, now)
    uow.commit()
    return delivery_id, event_id
