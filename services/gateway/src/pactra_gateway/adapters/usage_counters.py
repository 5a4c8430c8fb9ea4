"""Usage counters per workspace and period, and the quota decisions made on them.

Deciding: before the gateway forwards a request that will do blocking work (a send, an upload,
an analysis: entrypoints/quota_gate.py, by the rules of domain/quotas.py), or when a service's
worker is about to start such work on its own (an automatic analysis, through the internal
API), :meth:`Usage.reserve` counts the quantities it is about to use, under a source id for
that work. One transaction inserts the reservation and raises each counter with a conditional update
(``used + n <= limit``, the row locked by the update), so two sends racing for the last unit
cannot both pass: the second waits on the row lock, then sees the first's count.

Counting: every service publishes ``usage.recorded`` with the same id as ``source_event_id``;
:meth:`Usage.record` confirms the reservation (the counter already holds it), or counts what
was never reserved (emails, webhook deliveries, a deletion's negative storage). A duplicate
event finds its record and changes nothing. A reservation whose event never came (the work
failed after it) is given back after ``RESERVATION_SECONDS`` (the worker's housekeeping).

API requests are counted by the gateway itself, in memory, and added to the counters in one
statement every ``FLUSH_SECONDS`` per process (:class:`RequestCounter`): an event, or a write,
per request would cost more than the request. A process that dies loses at most those seconds.
"""

import atexit
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from pactra_gateway.adapters.api_key_lookup import KEY_COLUMNS, KeyRow
from pactra_gateway.adapters.clock import Clock
from pactra_gateway.adapters.one_statement import one_row
from pactra_gateway.domain import periods
from pactra_gateway.domain.api_keys import PREFIX as LIVE_KEY_PREFIX
from pactra_gateway.domain.errors import QuotaExceeded, UnknownWorkspace
from pactra_gateway.domain.plans import METRICS, Catalogue, Plan
from pactra_gateway.domain.quotas import Ask, exhausted, limit_of

log = logging.getLogger(__name__)
RESERVATION_SECONDS = 15 * 60
FLUSH_SECONDS = 5.0
LIVE = "live"  # the period key of storage's current level
HISTORY = 12


ENSURE = text("INSERT INTO usage_counters (workspace_id, period, metric, used) "
              "VALUES (:w, :p, :m, 0) ON CONFLICT DO NOTHING")
# The decision: the row is locked by the update, so a concurrent reservation waits and then
# sees this one's count. A zero quantity asks "is anything left?" (tokens when an analysis
# starts: how many it will use is not known yet).
RAISE_WITHIN = text(
    "UPDATE usage_counters SET used = used + :q WHERE workspace_id = :w AND period = :p "
    "AND metric = :m AND (CAST(:limit AS bigint) IS NULL OR (used + :q <= :limit AND used < :limit)) "
    "RETURNING used")
USED = text("SELECT used FROM usage_counters WHERE workspace_id = :w AND period = :p AND metric = :m")
ADD = text(
    "INSERT INTO usage_counters (workspace_id, period, metric, used) VALUES (:w, :p, :m, :q) "
    "ON CONFLICT (workspace_id, period, metric) DO UPDATE SET used = usage_counters.used + :q "
    "RETURNING used")
# API requests counted in memory and added seconds later: a workspace deleted meanwhile (its
# last requests asked for the deletion) must not have a counter row brought back after its purge.
ADD_REQUESTS = text(
    "INSERT INTO usage_counters (workspace_id, period, metric, used) "
    "SELECT :w, :p, 'api_requests', :q WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = :w) "
    "ON CONFLICT (workspace_id, period, metric) DO UPDATE SET used = usage_counters.used + :q")
PEAK = text(
    "INSERT INTO usage_counters (workspace_id, period, metric, used) VALUES (:w, :p, :m, :level) "
    "ON CONFLICT (workspace_id, period, metric) DO UPDATE "
    "SET used = GREATEST(usage_counters.used, :level)")


# A source already reserved counts nothing more (a retried send); one whose reservation was given
# back (its request failed) is reserved again, as if new: a send refused by signing, then retried,
# is decided again.
RESERVED_AGAIN = (
    " ON CONFLICT (source_id, metric) DO UPDATE SET state = 'reserved', quantity = excluded.quantity,"
    " period = excluded.period, created_at = excluded.created_at"
    " WHERE usage_records.state = 'released' AND usage_records.workspace_id = excluded.workspace_id")


# A reservation in one statement (the usual send's whole decision is then one round trip),
# written once for two heads that say who reserves (``who``: a workspace ``w`` and the row ``at``
# of the 2-D :limits that holds its plan's limits, each metric's at its place in :metrics):
# - RESERVE_IN_ONE: a workspace named by :w (:limits has one row, its plan's);
# - KEY_AND_SEND_RESERVED: the workspace of the live API key whose digest is :digest, found in
#   the same statement that reserves (the request's key look-up and its quota decision are one
#   round trip; :limits has a row per plan, named in :plans, the first being the plan a
#   workspace on an unknown plan is held to). A revoked or unknown key reserves nothing, and the
#   key's row says which (accounts.authenticate decides, as for any request).
# A NULL quantity is the signer count the gateway recorded for agreement :a when it was created
# (a send's), read in the same statement; when there is none (an agreement made before that
# record existed), nothing is reserved and ``known`` is false: the caller asks signing, then
# reserves the count it answered.
_LIMIT = ("(CAST(:limits AS bigint[]))[(SELECT at FROM who)]"
          "[array_position(CAST(:metrics AS text[]), CAST({metric} AS text))]")
# Only these constant fragments are joined into the statements; every value is a bound parameter.
_RESERVE = (
    " ask AS ("  # noqa: S608 - constant fragments only (above)
    " SELECT m, COALESCE(q, (SELECT signers FROM agreement_signers"
    "  WHERE agreement_id = CAST(:a AS text) AND workspace_id = (SELECT w FROM who))) AS q"
    " FROM unnest(CAST(:metrics AS text[]), CAST(:quantities AS bigint[])) AS i(m, q)"
    " WHERE EXISTS (SELECT 1 FROM who)),"
    " known AS (SELECT bool_and(q IS NOT NULL) AS yes FROM ask),"
    " rec AS ("
    " INSERT INTO usage_records (source_id, metric, workspace_id, period, quantity, state, created_at)"
    " SELECT :s, m, (SELECT w FROM who), :p, q, 'reserved', now() FROM ask WHERE (SELECT yes FROM known)"
    + RESERVED_AGAIN + " RETURNING metric, quantity),"
    " up AS ("
    " INSERT INTO usage_counters AS c (workspace_id, period, metric, used)"
    " SELECT (SELECT w FROM who), :p, metric, quantity FROM rec"
    " WHERE quantity <= " + _LIMIT.format(metric="metric") + " ORDER BY metric"
    " ON CONFLICT (workspace_id, period, metric) DO UPDATE SET used = c.used + excluded.used"
    " WHERE c.used + excluded.used <= " + _LIMIT.format(metric="excluded.metric") +
    " RETURNING metric)"
    # All or nothing in this one statement: when a counter refused (fewer rose than were
    # reserved), dividing by zero aborts the statement, and with it every insert and update
    # it made (the key look-up's answer too: the caller then looks the key up on its own).
    # So it runs on its own, without BEGIN and COMMIT round trips, and commits without
    # waiting for the WAL flush (as the nonce store does): a database crash in the next instant
    # could forget a reservation, and the work's usage.recorded event then counts it anyway.
    " SELECT {columns} (SELECT yes FROM known) AS known, (SELECT array_agg(metric) FROM rec) AS reserved,"
    " 1 / CASE WHEN (SELECT count(*) FROM up) = (SELECT count(*) FROM rec) THEN 1 ELSE 0 END"
    " AS all_raised, set_config('synchronous_commit', 'off', true) AS async {source}")
RESERVE_IN_ONE = text(
    "WITH who AS (SELECT CAST(:w AS text) AS w, 1 AS at)," + _RESERVE.format(columns="", source=""))
# The key's columns are every look-up's (adapters/api_key_lookup.py); only a live key reserves.
KEY_AND_SEND_RESERVED = text(
    "WITH caller AS ("  # noqa: S608 - constant fragments only (above)
    " SELECT k.id, k.key_hash, k.workspace_id, k.prefix, k.revoked_at, k.last_used_at, ws.plan"
    " FROM api_keys k JOIN workspaces ws ON ws.id = k.workspace_id WHERE k.key_hash = :digest),"
    " who AS (SELECT workspace_id AS w, COALESCE(array_position(CAST(:plans AS text[]), plan), 1) AS at"
    "  FROM caller WHERE revoked_at IS NULL AND starts_with(prefix, :live)),"
    + _RESERVE.format(columns="".join(f"caller.{c}, " for c in KEY_COLUMNS),
                      source="FROM (SELECT 1) AS one LEFT JOIN caller ON true"))


# The same statements as the driver takes them: a send's decision runs them on the pooled
# connection itself (see Usage._run_reserve).
RESERVE_IN_ONE_SQL = str(RESERVE_IN_ONE.compile(dialect=PGDialect_psycopg()))
KEY_AND_SEND_RESERVED_SQL = str(KEY_AND_SEND_RESERVED.compile(dialect=PGDialect_psycopg()))
UNLIMITED = 2 ** 63 - 1


@dataclass(frozen=True)
class KeyedReservation:
    """KEY_AND_SEND_RESERVED's answer: the key's row (None: no such key), and what was
    reserved (None: nothing decided: a revoked key, or no signer count recorded)."""

    key: Any
    counted: dict[str, int] | None


class Usage:
    def __init__(self, engine: Engine, catalogue: Catalogue, clock: Clock, *,
                 quotas: bool = True) -> None:
        self.engine = engine
        self.catalogue = catalogue
        self.clock = clock
        self.quotas = quotas
        self._limits_by_metrics: dict[tuple[str, ...], tuple[list[str], list[list[int]]]] = {}

    def plan_of(self, conn: Connection, workspace_id: str) -> Plan:
        name = conn.execute(text("SELECT plan FROM workspaces WHERE id = :w"),
                            {"w": workspace_id}).scalar()
        if name is None:
            raise UnknownWorkspace(workspace_id)
        return self.catalogue.get(name)

    # --- deciding ---------------------------------------------------------------------------

    def reserve(self, workspace_id: str, source_id: str, items: dict[str, int],
                plan: Plan | None = None) -> dict[str, int]:
        """Count ``items`` for ``source_id`` now, or raise :class:`QuotaExceeded` and count
        nothing. Asking again with the same ``source_id`` (a retried call) counts nothing more.
        Returns the metrics counted now. ``plan``: the workspace's, when the caller knows it."""
        now = self.clock.now()
        period = periods.period_of(now)
        if plan is not None and "storage_bytes" not in items:
            counted = self._reserve_in_one_statement(workspace_id, source_id, dict(items), plan,
                                                     period)
            assert counted is not None  # every quantity given: nothing left to look up
            return counted
        with self.engine.begin() as conn:
            plan = self.plan_of(conn, workspace_id)
            inserted = conn.execute(text(
                "INSERT INTO usage_records (source_id, metric, workspace_id, period, quantity, state,"
                " created_at) SELECT :s, m, :w, :p, q, 'reserved', now() "
                "FROM unnest(CAST(:metrics AS text[]), CAST(:quantities AS bigint[])) AS i(m, q)"
                + RESERVED_AGAIN + " RETURNING metric"),
                {"s": source_id, "w": workspace_id, "p": period, "metrics": list(items),
                 "quantities": list(items.values())}).scalars().all()
            counts = {}
            # A fixed order of locking: two reservations never wait on each other's rows.
            for metric in sorted(set(inserted)):
                quantity = items[metric]
                limit = limit_of(plan, metric, self.quotas)
                counts[metric] = self._raise(conn, workspace_id, period, metric, quantity, limit,
                                             now)
            return counts

    def reserve_send(self, workspace_id: str, ask: Ask, plan: Plan) -> dict[str, int] | None:
        """A send's reservation (:meth:`reserve`), its signer count the one recorded when the
        agreement was created (:meth:`remember_signers`), read in the same statement: the whole
        decision is one round trip. None, with nothing counted, when no count is recorded."""
        return self._reserve_in_one_statement(workspace_id, ask.source_id, ask.items, plan,
                                              periods.period_of(self.clock.now()), ask.signers_of)

    def key_with_send_reserved(self, digest: str, ask: Ask) -> KeyedReservation | None:
        """A send's request: the live API key whose digest is ``digest`` looked up, and its
        workspace's send reserved (:meth:`reserve_send`), in one statement (KEY_AND_SEND_RESERVED).
        None when a limit refused it: nothing is kept, not even the look-up's answer (the caller
        looks the key up on its own, and the quota gate then says what refused it, 402)."""
        metrics = sorted(ask.items)
        names, limits = self._plans_limits(tuple(metrics))
        values = {"digest": digest, "plans": names, "live": LIVE_KEY_PREFIX, "s": ask.source_id,
                  "p": periods.period_of(self.clock.now()), "metrics": metrics,
                  "quantities": [ask.items[m] for m in metrics], "limits": limits,
                  "a": ask.signers_of}
        try:
            row = self._run_reserve(KEY_AND_SEND_RESERVED_SQL, values)
        except psycopg.errors.DivisionByZero:
            return None
        key = row[:len(KEY_COLUMNS)]
        known, reserved = row[len(KEY_COLUMNS)], row[len(KEY_COLUMNS) + 1]
        return KeyedReservation(key=KeyRow(*key) if key[0] is not None else None,
                                counted=dict.fromkeys(reserved or [], 0) if known else None)

    def _plans_limits(self, metrics: tuple[str, ...]) -> tuple[list[str], list[list[int]]]:
        """Every plan's limits on ``metrics``, a row per plan (the fallback plan's first):
        KEY_AND_SEND_RESERVED picks the row of the key's workspace's plan. Plans are read
        once, at start: computed once per set of metrics."""
        found = self._limits_by_metrics.get(metrics)
        if found is None:
            fallback = self.catalogue.get("")
            plans = [fallback, *(p for p in self.catalogue.plans.values() if p is not fallback)]
            found = ([p.name for p in plans], [self._limits_of(p, list(metrics)) for p in plans])
            self._limits_by_metrics[metrics] = found
        return found

    def _limits_of(self, plan: Plan, metrics: list[str]) -> list[int]:
        return [UNLIMITED if (limit := limit_of(plan, m, self.quotas)) is None else limit
                for m in metrics]

    def _reserve_in_one_statement(self, workspace_id: str, source_id: str,
                                  items: dict[str, int | None], plan: Plan, period: str,
                                  signers_of: str | None = None) -> dict[str, int] | None:
        """:meth:`reserve` for flows (not storage) in one statement: the records and every
        counter's conditional upsert (``used + n <= limit``, on the locked row); a send's
        decision is then one round trip rather than one per step (see RESERVE_IN_ONE). A None
        quantity is ``signers_of``'s recorded signer count; None when it has none."""
        metrics = sorted(items)  # one order of locking for every reservation
        limits = self._limits_of(plan, metrics)
        values = {"s": source_id, "w": workspace_id, "p": period, "metrics": metrics,
                  "quantities": [items[m] for m in metrics], "limits": [limits], "a": signers_of}
        try:
            known, reserved, *_ = self._run_reserve(RESERVE_IN_ONE_SQL, values)
            return dict.fromkeys(reserved or [], 0) if known else None
        except psycopg.errors.DivisionByZero:
            pass  # refused (see RESERVE_IN_ONE)
        self.explain_refusal(workspace_id, dict(zip(metrics, limits, strict=True)), items, period,
                             signers_of)

    def explain_refusal(self, workspace_id: str, limits: dict[str, int], items: dict[str, int | None],
                        period: str, signers_of: str | None) -> NoReturn:
        """Refused, and nothing of it kept: say which metric, with what it stands at."""
        with self.engine.connect() as conn:
            for metric, limit in limits.items():
                used = conn.execute(USED, {"w": workspace_id, "p": period, "m": metric}).scalar() or 0
                quantity = items[metric]
                if quantity is None and signers_of is not None:
                    quantity = self.signers_of(workspace_id, signers_of)
                if used + (quantity or 0) > limit:
                    raise QuotaExceeded(metric, limit, used, periods.bounds(period)[1])
        # Between the refusal and this look another reservation was given back: still refused
        # (the decision was made), reported at its limit.
        first = next(m for m in limits if limits[m] < UNLIMITED)
        raise QuotaExceeded(first, limits[first], limits[first], periods.bounds(period)[1])

    def _run_reserve(self, sql: str, values: dict[str, Any]) -> tuple:
        """A reservation's one statement, on the driver (adapters/one_statement.py)."""
        row = one_row(self.engine, sql, values)
        assert row is not None  # the statement always answers one row
        return row

    def _raise(self, conn: Connection, workspace_id: str, period: str, metric: str, quantity: int,
               limit: int | None, now: datetime) -> int:
        row_period = LIVE if metric == "storage_bytes" else period
        values = {"w": workspace_id, "p": row_period, "m": metric, "q": quantity, "limit": limit}
        conn.execute(ENSURE, values)
        used = conn.execute(RAISE_WITHIN, values).scalar()
        if used is None:
            current = conn.execute(USED, values).scalar() or 0
            # Raised out of the transaction: it rolls back, the reservation with it.
            raise QuotaExceeded(metric, limit or 0, current, periods.bounds(period)[1])
        if metric == "storage_bytes":
            conn.execute(PEAK, {"w": workspace_id, "p": period, "m": metric, "level": used})
        return used

    def check(self, workspace_id: str, metric: str) -> None:
        """Raise :class:`QuotaExceeded` if ``metric`` has nothing left this period (counts
        nothing)."""
        now = self.clock.now()
        period = periods.period_of(now)
        with self.engine.connect() as conn:
            plan = self.plan_of(conn, workspace_id)
            if limit_of(plan, metric, self.quotas) is None:
                return
            used = conn.execute(USED, {"w": workspace_id, "m": metric, "p": LIVE
                                       if metric == "storage_bytes" else period}).scalar() or 0
        if exhausted(plan, metric, used, self.quotas):
            raise QuotaExceeded(metric, plan.limits[metric], used, periods.bounds(period)[1])

    # --- what a decision needs to know ---------------------------------------------------------

    def signers_of(self, workspace_id: str, agreement_id: str) -> int | None:
        """The signers recorded for an agreement when it was created (what its send counts)."""
        with self.engine.connect() as conn:
            return conn.execute(text(
                "SELECT signers FROM agreement_signers WHERE agreement_id = :a AND workspace_id = :w"),
                {"a": agreement_id, "w": workspace_id}).scalar()

    def remember_signers(self, workspace_id: str, agreement_id: str, signers: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO agreement_signers (agreement_id, workspace_id, signers) "
                "VALUES (:a, :w, :n) ON CONFLICT DO NOTHING"),
                {"a": agreement_id, "w": workspace_id, "n": signers})

    def ai_engine_of(self, workspace_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT ai_engine FROM workspaces WHERE id = :w"),
                                {"w": workspace_id}).scalar()

    # --- counting ---------------------------------------------------------------------------

    def record(self, conn: Connection, workspace_id: str, metric: str, quantity: int,
               source_id: str, occurred_at: datetime) -> bool:
        """Count one ``usage.recorded``; False when it changed nothing (a duplicate, or the
        confirmation of a reservation that already counted it)."""
        period = periods.period_of(self.clock.shift(occurred_at))
        inserted = conn.execute(text(
            "INSERT INTO usage_records (source_id, metric, workspace_id, period, quantity, state,"
            " created_at) VALUES (:s, :m, :w, :p, :q, 'recorded', now()) "
            "ON CONFLICT DO NOTHING RETURNING period"),
            {"s": source_id, "m": metric, "w": workspace_id, "p": period, "q": quantity}).scalar()
        if inserted is not None:
            self._add(conn, workspace_id, period, metric, quantity)
            return True
        row = conn.execute(text(
            "SELECT state, period, quantity, workspace_id FROM usage_records "
            "WHERE source_id = :s AND metric = :m FOR UPDATE"), {"s": source_id, "m": metric}).one()
        if row.state == "recorded" or row.workspace_id != workspace_id:
            return False
        conn.execute(text("UPDATE usage_records SET state = 'recorded', quantity = :q "
                          "WHERE source_id = :s AND metric = :m"),
                     {"s": source_id, "m": metric, "q": quantity})
        # A reservation already counted its quantity (the work may have used another: an
        # upload's exact size); a released one counted nothing any more.
        change = quantity - row.quantity if row.state == "reserved" else quantity
        if change:
            self._add(conn, workspace_id, row.period, metric, change)
        return bool(change)

    def _add(self, conn: Connection, workspace_id: str, period: str, metric: str, quantity: int) -> None:
        if metric != "storage_bytes":
            conn.execute(ADD, {"w": workspace_id, "p": period, "m": metric, "q": quantity})
            return
        level = conn.execute(ADD, {"w": workspace_id, "p": LIVE, "m": metric, "q": quantity}).scalar()
        conn.execute(PEAK, {"w": workspace_id, "p": periods.period_of(self.clock.now()),
                            "m": metric, "level": max(level, 0)})

    def release(self, source_id: str, metrics: tuple[str, ...]) -> None:
        """Give back a reservation whose work was not done (its request failed); a record
        its event already confirmed is left alone."""
        with self.engine.begin() as conn:
            rows = conn.execute(text(
                "UPDATE usage_records SET state = 'released' WHERE source_id = :s "
                "AND metric = ANY(:metrics) AND state = 'reserved' "
                "RETURNING workspace_id, period, metric, quantity"),
                {"s": source_id, "metrics": list(metrics)}).all()
            for row in rows:
                period = LIVE if row.metric == "storage_bytes" else row.period
                conn.execute(ADD, {"w": row.workspace_id, "p": period, "m": row.metric,
                                   "q": -row.quantity})

    def release_stale(self, older_than: float = RESERVATION_SECONDS) -> int:
        """Give back reservations whose work never reported (skipping rows another replica
        holds); returns how many."""
        with self.engine.begin() as conn:
            rows = conn.execute(text(
                "UPDATE usage_records r SET state = 'released' FROM ("
                "  SELECT source_id, metric FROM usage_records WHERE state = 'reserved'"
                "  AND created_at < now() - make_interval(secs => :age)"
                "  ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED) stale "
                "WHERE r.source_id = stale.source_id AND r.metric = stale.metric "
                "RETURNING r.workspace_id, r.period, r.metric, r.quantity"), {"age": older_than}).all()
            for row in rows:
                period = LIVE if row.metric == "storage_bytes" else row.period
                conn.execute(ADD, {"w": row.workspace_id, "p": period, "m": row.metric,
                                   "q": -row.quantity})
            return len(rows)

    def add_requests(self, counts: dict[tuple[str, str], int]) -> None:
        if not counts:
            return
        with self.engine.begin() as conn:
            conn.execute(ADD_REQUESTS, [{"w": workspace_id, "p": period, "q": n}
                                        for (workspace_id, period), n in sorted(counts.items())])

    # --- reading ----------------------------------------------------------------------------

    def counters(self, conn: Connection, workspace_id: str, wanted: list[str]) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {period: {} for period in wanted}
        for row in conn.execute(text(
                "SELECT period, metric, used FROM usage_counters WHERE workspace_id = :w "
                "AND period = ANY(:periods)"), {"w": workspace_id, "periods": wanted}):
            found.setdefault(row.period, {})[row.metric] = row.used
        return found

    def report(self, workspace_id: str) -> dict:
        """``GET /v1/usage``: this period against the plan's limits, and the last 12 periods."""
        now = self.clock.now()
        current = periods.period_of(now)
        history = periods.previous(current, HISTORY)
        with self.engine.connect() as conn:
            plan = self.plan_of(conn, workspace_id)
            counts = self.counters(conn, workspace_id, [current, LIVE, *history])
        start, end = periods.bounds(current)

        def metrics(used: dict[str, int], level: int | None) -> dict:
            out = {}
            for metric in METRICS:
                value = used.get(metric, 0)
                if metric == "storage_bytes" and level is not None:
                    value = level
                limit = plan.limits[metric]
                out[metric] = {"used": value, "limit": limit, "overage": max(0, value - limit),
                               "blocking": limit_of(plan, metric, self.quotas) is not None}
            return out

        return {
            "period": {"start": start, "end": end, "name": current},
            "plan": plan.name,
            "overage": plan.overage,
            "metrics": metrics(counts[current], counts[LIVE].get("storage_bytes", 0)),
            "history": [{"period": {"start": periods.bounds(p)[0], "end": periods.bounds(p)[1],
                                    "name": p},
                         "metrics": {m: counts[p].get(m, 0) for m in METRICS}} for p in history],
        }


class RequestCounter:
    """API requests per workspace, counted in memory and added to the counters every
    ``FLUSH_SECONDS`` by a thread of this process (and at its exit)."""

    def __init__(self, usage: Usage, every: float = FLUSH_SECONDS) -> None:
        self.usage = usage
        self.every = every
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def count(self, workspace_id: str) -> None:
        period = periods.period_of(self.usage.clock.now())
        with self._lock:
            self._counts[(workspace_id, period)] += 1
            if self._thread is None:
                # Started on first use, in the serving process (gunicorn forks after import).
                self._thread = threading.Thread(target=self._run, name="api-request-counter",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        try:
            self.usage.add_requests(counts)
        except Exception:
            log.exception("could not add API request counts; they are kept for the next flush")
            with self._lock:
                self._counts.update(counts)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.flush()

