"""The webhook figures of ``make bench``: completed -> webhook latency during the life-cycle
run, deliveries per second to a fast local receiver, and whether an endpoint that answers
after 10 s delays another one's deliveries. Receivers listen on 127.0.0.1 only."""

import json
import statistics
import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_platform.db import engine_for

from .stack import Stack
from .webhook_receiver import Receiver, Reply


def subscribe(client, url: str, events: list[str]) -> dict:
    return client.call("POST", "/v1/webhooks", 201, json={"url": url, "events": events}).json()


def completion_latencies_ms(receiver: Receiver) -> list[float]:
    """For each ``agreement.completed`` received: arrival minus the agreement's completed_at."""
    found = []
    for request in receiver.requests():
        body = json.loads(request.body)
        if body["type"] == "agreement.completed" and body["data"].get("completed_at"):
            completed = datetime.fromisoformat(body["data"]["completed_at"].replace("Z", "+00:00"))
            found.append((request.at - completed.timestamp()) * 1000)
    return found


def _queue(stack: Stack, endpoint_ids: list[str], count: int) -> None:
    """``count`` due deliveries per endpoint, written as the event handler writes them."""
    from pactra_notify.adapters.orm import WebhookEndpoint
    from pactra_notify.adapters.repository import SqlDeliveryRepository, endpoint_of
    from pactra_notify.domain.webhooks import body_json

    sessions = sessionmaker(bind=engine_for(stack.settings.database_url_of("notify")))
    with sessions() as session:
        endpoints = [endpoint_of(row) for row in session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.id.in_(endpoint_ids)))]
        deliveries = SqlDeliveryRepository(session)
        for _ in range(count):
            deliveries.add(endpoints, new_id("evt"), "ping",
                           body_json("ping", utcnow(), {"status": "ok"}), utcnow())
        session.commit()


def _wait(probe, patience: float) -> None:
    deadline = time.monotonic() + patience
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError("webhook deliveries did not arrive in time")
        time.sleep(0.02)


def deliveries_per_second(stack: Stack, client, receiver: Receiver, count: int = 300) -> float:
    endpoint = subscribe(client, receiver.url + "/fast", ["ping"])
    already = len(receiver.requests())
    started = time.perf_counter()
    _queue(stack, [endpoint["id"]], count)
    _wait(lambda: len(receiver.requests()) - already >= count, 120)
    return count / (time.perf_counter() - started)


def slow_neighbour_ms(stack: Stack, client, slow: Receiver, fast: Receiver) -> float:
    """A fast endpoint's delivery time while another endpoint answers after 10 s."""
    slow.default = Reply(200, delay=10.0)
    slow_endpoint = subscribe(client, slow.url + "/slow", ["ping"])
    fast_endpoint = subscribe(client, fast.url + "/neighbour", ["ping"])
    _queue(stack, [slow_endpoint["id"]], 8)
    _wait(lambda: len(slow.requests()) >= 1, 30)  # the slow one is holding its requests
    before = len([r for r in fast.requests() if r.path == "/neighbour"])
    started = time.time()
    _queue(stack, [fast_endpoint["id"]], 1)
    _wait(lambda: len([r for r in fast.requests() if r.path == "/neighbour"]) > before, 30)
    arrived = max(r.at for r in fast.requests() if r.path == "/neighbour")
    return (arrived - started) * 1000


def report(latencies: list[float], rate: float, neighbour_ms: float) -> None:
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"webhooks: agreement.completed -> webhook p50 {statistics.median(ordered):6.0f} ms, "
              f"p95 {p95:6.0f} ms ({len(ordered)} agreements)")
    print(f"webhooks: deliveries/s to a fast local receiver {rate:8.0f}")
    print(f"webhooks: a fast endpoint's delivery while another takes 10 s per answer "
          f"{neighbour_ms:6.0f} ms   (target: not delayed)")
