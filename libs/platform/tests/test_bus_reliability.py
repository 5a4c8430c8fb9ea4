"""The delivery guarantees of events.md, proven against real PostgreSQL and RabbitMQ.

1. outbox: a producer that dies between commit and publish publishes on restart, once per id;
2. inbox: one event delivered twice (to two replicas) has one effect;
3. poison and malformed messages end in the dead-letter queue, the worker keeps serving, and
   replay works;
4. a broker restart mid-stream loses nothing and duplicates nothing.

Run them under ``flock /tmp/pactra-test.lock``: the broker-restart test stops RabbitMQ.
"""

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
import requests
from sqlalchemy import text

from pactra_contracts.events import Event, Person, WorkspaceCreated, make_event
from pactra_devtools.processes import stop_group
from pactra_devtools.stack import Stack, worker_command
from pactra_devtools.testing import async_wait_until, wait_until
from pactra_platform.bus import Subscription, Topology, Wakeups, build_worker, run_handler
from pactra_platform.deadletters import list_dead_letters, replay_dead_letters
from pactra_platform.messaging import OUTBOX_CHANNEL, claim_inbox
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

CONSUMER = "on_workspace_created"


# --- helpers ------------------------------------------------------------------------------


def rabbitmqctl(*args: str, timeout: float = 120) -> str:
    return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True,
                          text=True, timeout=timeout).stdout


def signup(stack: Stack, n: int, label: str) -> list[str]:
    """``n`` signups through the gateway's HTTP API; returns the new workspace ids."""
    ids = []
    for i in range(n):
        response = requests.post(
            stack.gateway_url + "/v1/signup",
            json={"name": f"Owner {label} {i}", "email": f"owner-{label}-{i}@example.com",
                  "workspace_name": f"Workspace {label} {i}"},
            timeout=15,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["workspace"]["id"])
    return ids


def workspace_created(workspace_id: str) -> Event:
    return make_event(
        "workspace.created",
        WorkspaceCreated(workspace_id=workspace_id, name=f"Workspace {workspace_id}", plan="free",
                         owner=Person(name="Owner", email=f"{workspace_id}@example.com")),
        producer="gateway", workspace_id=workspace_id,
    )


async def publish_raw(amqp_url: str, exchange: str, routing_key: str, body: bytes,
                      message_id: str, times: int = 1) -> None:
    """Publish straight to the events exchange, as the relay would (persistent, confirmed)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange)
        for _ in range(times):
            await target.publish(
                aio_pika.Message(body, message_id=message_id, content_type="application/json",
                                 type=routing_key, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=routing_key,
            )
    finally:
        await connection.close()


def log_records(*logs: str) -> list[dict]:
    records = []
    for log in logs:
        for line in log.splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    records.append(json.loads(line))
    return records


def delivery_state(db_of: Callable) -> dict[str, int]:
    gateway, signing = db_of("gateway"), db_of("signing")
    return {
        "outbox": gateway.scalar("SELECT count(*) FROM outbox WHERE type = 'workspace.created'"),
        "unpublished": gateway.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"),
        "senders": signing.scalar("SELECT count(*) FROM senders"),
        "inbox": signing.scalar("SELECT count(*) FROM inbox WHERE consumer = :c", c=CONSUMER),
    }


def assert_delivered_once(db_of: Callable, expected_workspaces: list[str]) -> None:
    """Every workspace's event was published under its outbox id and handled exactly once."""
    gateway, signing = db_of("gateway"), db_of("signing")
    outbox = gateway.rows("SELECT id, body->>'workspace_id', published_at FROM outbox"
                          " WHERE type = 'workspace.created'")
    assert len(outbox) == len(expected_workspaces)
    assert all(published_at is not None for _, _, published_at in outbox)
    assert {workspace for _, workspace, _ in outbox} == set(expected_workspaces)
    inbox = signing.rows("SELECT event_id FROM inbox WHERE consumer = :c", c=CONSUMER)
    assert len(inbox) == len(expected_workspaces)
    assert {event_id for (event_id,) in inbox} == {event_id for event_id, _, _ in outbox}
    senders = signing.rows("SELECT workspace_id FROM senders")
    assert sorted(w for (w,) in senders) == sorted(expected_workspaces)


# --- 1. outbox ----------------------------------------------------------------------------


def test_outbox_survives_a_producer_that_dies_before_publishing(stack: Stack, db_of) -> None:
    n = 30
    stack.start("gateway")
    stack.start("signing-worker")
    stack.wait_ready("gateway")
    stack.wait_workers()

    # The gateway committed N workspaces and their events, but its relay is not running:
    # the state a producer is in when it dies after the commit and before the publish.
    workspaces = signup(stack, n, "outbox")
    gateway = db_of("gateway")
    assert gateway.scalar("SELECT count(*) FROM outbox WHERE type = 'workspace.created'") == n
    assert gateway.scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") == 0
    assert db_of("signing").scalar("SELECT count(*) FROM senders") == 0

    # The relay starts and publishes, but cannot mark the rows published: this test holds a
    # SHARE lock on the outbox, which lets the relay's SELECT ... FOR UPDATE through and
    # blocks its UPDATE. Once the consumer has everything, the relay is killed -9: the worst
    # moment, every event out on the bus and none of them marked.
    with gateway.engine.connect() as locker:
        locker.execute(text("LOCK TABLE outbox IN SHARE MODE"))
        stack.start("gateway-worker")
        wait_until(lambda: db_of("signing").scalar("SELECT count(*) FROM inbox") == n, 60,
                   message="the relay to publish every event", describe=lambda: delivery_state(db_of))
        assert gateway.scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") == 0
        stack.stop("gateway-worker", kill=True)
        locker.rollback()
    assert gateway.scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") == 0

    # On restart it publishes them all again, under the same ids: the inbox absorbs them.
    stack.start("gateway-worker")
    wait_until(
        lambda: delivery_state(db_of) == {"outbox": n, "unpublished": 0, "senders": n, "inbox": n},
        90, message="every event published and handled", describe=lambda: delivery_state(db_of),
    )
    assert_delivered_once(db_of, workspaces)
    # No straggling duplicate that would add a second effect later: the queue is drained.
    queue = Topology(stack.settings, "signing").queue_name(CONSUMER)
    wait_until(lambda: _queue_depth(stack.vhost, queue) == 0, 30, message="queue drained")
    assert delivery_state(db_of)["inbox"] == n
    outcomes = [r["message"] for r in log_records(stack.log("signing-worker"))
                if r.get("handler") == CONSUMER]
    assert outcomes.count("event handled") == n
    assert outcomes.count("duplicate event ignored") == n


def _queue_depth(vhost: str, queue: str) -> int | None:
    out = rabbitmqctl("list_queues", "-p", vhost, "name", "messages", "--no-table-headers")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == queue:
            return int(parts[1])
    return None


# --- 2. inbox -----------------------------------------------------------------------------


def test_inbox_one_effect_for_a_duplicate_delivered_to_two_replicas(stack: Stack, db_of) -> None:
    stack.start("signing-worker")
    log_path = stack.workdir / "signing-worker-2.log"
    with open(log_path, "ab") as log:
        replica = subprocess.Popen(worker_command("signing"), env=stack.env, stdout=log,
                                   stderr=log, start_new_session=True)
    try:
        stack.wait_workers()
        wait_until(lambda: "started" in log_path.read_text(errors="replace").lower(), 60,
                   message="the second replica to start")
        assert replica.poll() is None, log_path.read_text(errors="replace")[-3000:]

        event = workspace_created("ws_duplicate1")
        exchange = Topology(stack.settings, "signing").exchange
        asyncio.run(publish_raw(stack.settings.amqp_url, exchange, event.type, event.to_json(),
                                event.id, times=2))

        def outcomes() -> list[list[str]]:
            logs = (stack.log("signing-worker"), log_path.read_text(errors="replace"))
            return [[r["message"] for r in log_records(log) if r.get("event_id") == event.id]
                    for log in logs]

        # Both deliveries were processed, one by each replica (the queue round-robins between
        # its consumers), concurrently: one handled it, the other recognised the duplicate.
        wait_until(lambda: sum(map(len, outcomes())) >= 2, 60, message="both deliveries",
                   describe=outcomes)
        assert sorted(outcomes()) == [["duplicate event ignored"], ["event handled"]]
        # ...and there is exactly one effect.
        signing = db_of("signing")
        assert signing.rows("SELECT event_id, consumer FROM inbox") == [(event.id, CONSUMER)]
        assert signing.rows("SELECT workspace_id, email FROM senders") == [
            ("ws_duplicate1", "ws_duplicate1@example.com")]
        queue = Topology(stack.settings, "signing").queue_name(CONSUMER)
        wait_until(lambda: _queue_depth(stack.vhost, queue) == 0, 30, message="queue drained")
    finally:
        stop_group(replica)


def _record(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    uow.session.execute(text("INSERT INTO handled (event_id, workspace_id) VALUES (:e, :w)"),
                        {"e": event.id, "w": event.workspace_id})


def test_claim_inbox_lets_exactly_one_concurrent_handler_run(scratch) -> None:
    event = workspace_created("ws_race")

    # Two transactions claim one event: the second waits for the first and then loses.
    first, second = scratch.sessions(), scratch.sessions()
    claimed = threading.Event()
    result: dict[str, Any] = {}

    def late_claim() -> None:
        claimed.wait(10)
        result["second"] = claim_inbox(second, event, "race")
        result["returned_at"] = time.monotonic()
        second.commit()

    thread = threading.Thread(target=late_claim)
    thread.start()
    try:
        assert claim_inbox(first, event, "race") is True
        claimed.set()
        # The second claim blocks on our uncommitted row: PostgreSQL shows it waiting on a lock.
        blocked = wait_until(lambda: scratch.db.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"), 10, message="the second claim waiting on a lock")
        assert blocked and thread.is_alive(), "the second claim did not wait for the first transaction"
        committed_at = time.monotonic()
        first.commit()
        thread.join(10)
    finally:
        first.close()
        second.close()
    assert result["second"] is False
    # It answered only once the first transaction had committed: it waited for it.
    assert result["returned_at"] >= committed_at

    # Many replicas racing through run_handler: one effect.
    sub = Subscription("race_handler", ("workspace.created",), _record)
    event = workspace_created("ws_race2")
    barrier = threading.Barrier(8)
    outcomes: list[bool] = []

    def replica() -> None:
        barrier.wait(10)
        outcomes.append(run_handler(sub, event, lambda: SqlAlchemyUnitOfWork(scratch.sessions)))

    threads = [threading.Thread(target=replica) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == [False] * 7 + [True]
    assert scratch.db.scalar("SELECT count(*) FROM handled WHERE event_id = :e", e=event.id) == 1
    assert scratch.db.scalar("SELECT count(*) FROM inbox WHERE consumer = 'race_handler'") == 1


def test_a_committed_outbox_write_wakes_the_relay_and_a_rolled_back_one_does_not(scratch) -> None:
    def write(commit: bool, workspace_id: str) -> None:
        with SqlAlchemyUnitOfWork(scratch.sessions) as uow:
            uow.publish(workspace_created(workspace_id))
            uow.publish(workspace_created(workspace_id + "_b"))
            if commit:
                uow.commit()

    async def scenario() -> list[bool]:
        wakeups = Wakeups(scratch.settings.database_url_of(scratch.service), OUTBOX_CHANNEL)
        stopping = asyncio.Event()
        seen = []
        try:
            await wakeups.wait(0.01, stopping)  # connects and LISTENs
            await asyncio.to_thread(write, False, "ws_rolled_back")
            seen.append(await wakeups.wait(1.0, stopping))
            await asyncio.to_thread(write, True, "ws_committed")
            seen.append(await wakeups.wait(30.0, stopping))
            # Two events in one transaction: one notification, drained with the first.
            seen.append(await wakeups.wait(1.0, stopping))
            stopping.set()
            seen.append(await wakeups.wait(30.0, stopping))
        finally:
            await wakeups.close()
        return seen

    assert asyncio.run(scenario()) == [False, True, False, False]
    assert scratch.db.scalar("SELECT count(*) FROM outbox") == 2


def test_wakeups_survive_their_connection_being_killed(scratch) -> None:
    listeners = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                 " AND query = 'LISTEN pactra_outbox'")

    def commit_an_event() -> None:
        with SqlAlchemyUnitOfWork(scratch.sessions) as uow:
            uow.publish(workspace_created("ws_after_kill"))
            uow.commit()

    async def scenario() -> tuple[bool, bool]:
        wakeups = Wakeups(scratch.settings.database_url_of(scratch.service), OUTBOX_CHANNEL)
        stopping = asyncio.Event()
        try:
            await wakeups.wait(0.01, stopping)
            (pid,) = scratch.db.rows(listeners)[0]
            assert scratch.db.scalar("SELECT pg_terminate_backend(:pid)", pid=pid) is True
            # The dead connection is noticed: no wake-up, the caller polls.
            noticed = await wakeups.wait(1.0, stopping)
            # The next wait listens on a new connection and is woken by the next commit.
            waiting = asyncio.ensure_future(wakeups.wait(30.0, stopping))
            await async_wait_until(lambda: asyncio.to_thread(
                lambda: [r for r in scratch.db.rows(listeners) if r[0] != pid]), 10,
                message="a new LISTEN connection")
            await asyncio.to_thread(commit_an_event)
            return noticed, await waiting
        finally:
            await wakeups.close()

    assert asyncio.run(scenario()) == (False, True)


# --- 3. poison and malformed messages ------------------------------------------------------

POISON = "ws_poison"


def test_poison_and_malformed_messages_are_dead_lettered_and_replayable(scratch) -> None:
    settings = scratch.settings
    state = {"fail": True, "poison_attempts": 0}
    lock = threading.Lock()

    def handle(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
        if event.workspace_id == POISON:
            with lock:
                state["poison_attempts"] += 1
            if state["fail"]:
                raise RuntimeError("this handler cannot handle the poison workspace")
        _record(event, uow)

    sub = Subscription("on_workspace_created", ("workspace.created",), handle)
    topology = Topology(settings, scratch.service)
    queue = topology.queue_name(sub.name)

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        app = build_worker(settings, scratch.service, [sub],
                           lambda: SqlAlchemyUnitOfWork(scratch.sessions), scratch.sessions,
                           relay=False, graceful_timeout=5.0)
    finally:
        # build_worker sets up JSON logging for a process of its own; give pytest its root back.
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    def handled(workspace_id: str | None = None) -> int:
        if workspace_id is None:
            return scratch.db.scalar("SELECT count(*) FROM handled")
        return scratch.db.scalar("SELECT count(*) FROM handled WHERE workspace_id = :w",
                                 w=workspace_id)

    poison = workspace_created(POISON)
    good = [workspace_created(f"ws_good{i}") for i in range(4)]

    async def scenario() -> None:
        await app.start()
        try:
            await publish_raw(settings.amqp_url, topology.exchange, poison.type, poison.to_json(),
                              poison.id)
            for event in good[:2]:
                await publish_raw(settings.amqp_url, topology.exchange, event.type,
                                  event.to_json(), event.id)
            await publish_raw(settings.amqp_url, topology.exchange, "workspace.created",
                              b'{"this is": "not an event"}', "bad-message-1")
            for event in good[2:]:
                await publish_raw(settings.amqp_url, topology.exchange, event.type,
                                  event.to_json(), event.id)

            # The worker keeps serving the others while the poison message is retried.
            await async_wait_until(lambda: asyncio.to_thread(handled), 30,
                                   message="the good events handled")

            async def both_dead() -> list:
                letters = await list_dead_letters(settings, scratch.service)
                return letters if len(letters) == 2 else []

            letters = await async_wait_until(both_dead, 60, interval=0.5,
                                             message="two dead letters")
            by_id = {letter.message_id: letter for letter in letters}
            assert set(by_id) == {poison.id, "bad-message-1"}
            # Malformed: dead-lettered at the first delivery, never retried.
            assert by_id["bad-message-1"].reason == "rejected"
            assert by_id["bad-message-1"].count == 1
            assert by_id["bad-message-1"].queue == queue
            # Poison: dead-lettered after the bounded number of deliveries.
            assert by_id[poison.id].reason == "delivery_limit"
            assert by_id[poison.id].queue == queue
            assert by_id[poison.id].routing_key == "workspace.created"
            limit = settings.delivery_limit
            assert limit <= state["poison_attempts"] <= limit + 1
            assert await asyncio.to_thread(handled) == len(good)
            assert await asyncio.to_thread(handled, POISON) == 0

            # Listing leaves them in place; the CLI sees them too.
            command = [str(Path(sys.executable).parent / "pactra-deadletters"), scratch.service,
                       "list", "--json"]
            cli = await asyncio.to_thread(
                subprocess.run, command,
                env=scratch.env, capture_output=True, text=True, timeout=60, check=True,
            )
            listed = {json.loads(line)["event_id"] for line in cli.stdout.splitlines()}
            assert listed == {poison.id, "bad-message-1"}

            # The bug is fixed; the operator replays the poison event only.
            state["fail"] = False
            attempts_before = state["poison_attempts"]
            assert await replay_dead_letters(settings, scratch.service, poison.id) == 1
            await async_wait_until(lambda: asyncio.to_thread(handled, POISON), 30,
                                   message="the replayed event handled")

            async def drained() -> bool:
                depths = await asyncio.to_thread(_queue_depth, scratch.vhost, queue)
                return depths == 0

            await async_wait_until(drained, 30, message="the queue drained")
            assert state["poison_attempts"] == attempts_before + 1
            assert await asyncio.to_thread(handled, POISON) == 1
            assert await asyncio.to_thread(handled) == len(good) + 1
            remaining = await list_dead_letters(settings, scratch.service)
            assert [letter.message_id for letter in remaining] == ["bad-message-1"]
        finally:
            await app.stop()

    asyncio.run(scenario())
    inbox = scratch.db.rows("SELECT event_id FROM inbox ORDER BY event_id")
    assert sorted(e for (e,) in inbox) == sorted([poison.id, *(e.id for e in good)])


# --- 4. broker restart ----------------------------------------------------------------------


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(stack: Stack, db_of) -> None:
    per_phase = 8
    for name in ("gateway", "gateway-worker", "signing-worker"):
        stack.start(name)
    stack.wait_ready("gateway")
    stack.wait_workers()

    workspaces = signup(stack, per_phase, "before")
    wait_until(lambda: delivery_state(db_of)["inbox"] == per_phase, 60,
               message="the events before the outage handled")
    workspaces += signup(stack, per_phase // 2, "racing")  # in flight as the broker stops

    try:
        rabbitmqctl("stop_app")
        # The API does not need the broker: these commit into the outbox.
        workspaces += signup(stack, per_phase, "during")
        # Let the relay hit the outage (a failed publish is recorded on its row).
        wait_until(lambda: db_of("gateway").scalar(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND attempts > 0"), 60,
            message="the relay to notice the outage")
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")

    workspaces += signup(stack, per_phase, "after")
    n = len(workspaces)
    wait_until(
        lambda: delivery_state(db_of) == {"outbox": n, "unpublished": 0, "senders": n,
                                          "inbox": n},
        120, interval=0.5, message=f"all {n} events published and handled",
        describe=lambda: delivery_state(db_of),
    )
    assert_delivered_once(db_of, workspaces)
    queue = Topology(stack.settings, "signing").queue_name(CONSUMER)
    wait_until(lambda: _queue_depth(stack.vhost, queue) == 0, 30, message="queue drained")
    assert delivery_state(db_of)["inbox"] == n
    for name in ("gateway-worker", "signing-worker"):
        assert stack.processes[name].poll() is None, stack.log(name)[-3000:]
