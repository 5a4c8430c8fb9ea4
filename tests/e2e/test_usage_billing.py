"""Plans, quotas, usage and statements (issue 16), against the real platform.

Each test's workspace is put on ``free`` (blocking) with ``pactra-admin set-plan``; the stack's
default is a billed plan. The counters are brought near a limit by writing the gateway's own
counter row (what 10 sends would leave), so a test does not send dozens of agreements to get
there; everything after that goes through the API, the services and the bus. The billing clock
is stepped into next month through the stack's clock file (``PACTRA_CLOCK_FILE``), never by
sleeping.
"""

import asyncio
import io
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import aio_pika
import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from pactra_contracts.events import UsageRecorded, make_event
from pactra_devtools.stack import BIN
from pactra_devtools.testing import auth, signup, wait_until

from . import flows


@pytest.fixture(scope="module")
def gateway_db(stack):
    engine = create_engine(stack.settings.database_url_of("gateway"))
    yield engine
    engine.dispose()


@pytest.fixture
def clock(stack):
    """Step the billing clock: ``clock(seconds)``; back to the real time after the test."""
    path = stack.workdir / "clock"

    def step(seconds: float) -> None:
        path.write_text(str(seconds))

    yield step
    path.unlink(missing_ok=True)


def set_plan(stack, workspace_id: str, plan: str) -> None:
    done = subprocess.run([str(BIN / "pactra-admin"), "set-plan", workspace_id, plan], env=stack.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"-> {plan}" in done.stdout


def period_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def seconds_into_next_month() -> float:
    now = datetime.now(UTC)
    nxt = datetime(now.year + now.month // 12, now.month % 12 + 1, 15, tzinfo=UTC)
    return (nxt - now).total_seconds()


def set_used(engine, workspace_id: str, metric: str, used: int, period: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO usage_counters (workspace_id, period, metric, used) VALUES (:w, :p, :m, :u) "
            "ON CONFLICT (workspace_id, period, metric) DO UPDATE SET used = :u"),
            {"w": workspace_id, "p": period or period_now(), "m": metric, "u": used})


def usage(gateway: str, account: dict) -> dict:
    answer = requests.get(gateway + "/v1/usage", headers=auth(account), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def own_drafts(gateway: str, account: dict, count: int) -> list[str]:
    """Drafts to the owner's own address (sendable before the owner's email is verified)."""
    document = flows.upload(gateway, account)
    owner = [{"name": account["user"]["name"], "email": account["user"]["email"]}]

    def create() -> str | None:
        # Fifty in a row can outrun the plan's per-key rate limit (free: 20/second) when the
        # platform answers fast: a 429 is waited out, anything else still fails.
        try:
            return flows.create(gateway, account, document["id"], owner)["id"]
        except AssertionError as refused:
            if "rate_limited" not in str(refused):
                raise
            return None

    return [wait_until(create, timeout=30, interval=0.25, message="a draft within the rate limit")
            for _ in range(count)]


def racer_key(gateway: str, account: dict, number: int) -> dict:
    """A new API key of the account's workspace, a 429 waited out as in ``own_drafts``."""
    def create() -> dict | None:
        answer = requests.post(gateway + "/v1/api-keys", json={"name": f"racer {number}"},
                               headers=auth(account), timeout=30)
        if answer.status_code == 429:
            return None
        assert answer.status_code == 201, answer.text
        return answer.json()

    return wait_until(create, timeout=30, interval=0.25, message="a key within the rate limit")


def send(gateway: str, account: dict, agreement_id: str) -> requests.Response:
    return requests.post(f"{gateway}/v1/agreements/{agreement_id}/send", headers=auth(account),
                         timeout=60)


def records_settled(engine, workspace_id: str) -> bool:
    """Every reservation of the workspace confirmed by its usage.recorded event."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM usage_records WHERE workspace_id = :w "
                                 "AND state = 'reserved'"), {"w": workspace_id}).scalar() == 0


def test_a_quota_is_hit_refused_with_402_and_reset_by_the_next_period(stack, gateway, gateway_db,
                                                                       clock):
    account = signup(gateway, "Quota Tester")
    workspace_id = account["workspace"]["id"]
    set_plan(stack, workspace_id, "free")
    drafts = own_drafts(gateway, account, 3)
    limit = usage(gateway, account)["metrics"]["agreements_sent"]["limit"]
    set_used(gateway_db, workspace_id, "agreements_sent", limit - 1)

    assert send(gateway, account, drafts[0]).status_code == 200
    refused = send(gateway, account, drafts[1])
    assert refused.status_code == 402, refused.text
    problem = refused.json()
    assert problem["code"] == "quota_exceeded"
    assert (problem["metric"], problem["limit"], problem["used"]) == ("agreements_sent", limit, limit)
    resets_at = datetime.fromisoformat(problem["resets_at"].replace("Z", "+00:00"))
    assert resets_at.day == 1 and resets_at > datetime.now(UTC)
    # Refused before any work: the draft is still a draft, and nothing more was counted.
    assert flows.get(gateway, account, drafts[1])["status"] == "draft"
    wait_until(lambda: records_settled(gateway_db, workspace_id))
    assert usage(gateway, account)["metrics"]["agreements_sent"]["used"] == limit
    # Reading, key management and deletion are never refused by a quota.
    assert requests.get(gateway + "/v1/agreements", headers=auth(account), timeout=30).ok
    assert requests.post(gateway + "/v1/api-keys", json={"name": "more"}, headers=auth(account),
                         timeout=30).status_code == 201
    assert requests.delete(f"{gateway}/v1/agreements/{drafts[2]}", headers=auth(account),
                           timeout=30).status_code == 204
    # The refusal is in the workspace's security log.
    events = requests.get(gateway + "/v1/security-events", headers=auth(account), timeout=30)
    if events.status_code == 200:
        assert any(e["type"] == "quota.refused" for e in events.json()["data"])

    clock(seconds_into_next_month())
    assert send(gateway, account, drafts[1]).status_code == 200
    fresh = usage(gateway, account)
    assert fresh["period"]["name"] != period_now()
    assert fresh["metrics"]["agreements_sent"]["used"] == 1
    assert fresh["history"][0]["period"]["name"] == period_now()
    assert fresh["history"][0]["metrics"]["agreements_sent"] == limit


def test_fifty_parallel_sends_for_the_last_five_units_let_exactly_five_through(stack, gateway,
                                                                               gateway_db):
    account = signup(gateway, "Race Tester")
    workspace_id = account["workspace"]["id"]
    set_plan(stack, workspace_id, "free")
    drafts = own_drafts(gateway, account, 50)
    limit = usage(gateway, account)["metrics"]["agreements_sent"]["limit"]
    set_used(gateway_db, workspace_id, "agreements_sent", limit - 5)

    # Ten sends per key, so free's per-key rate limit (20/second) never answers instead: five
    # fresh keys, as the account's own key has just spent its window on the drafts.
    keys = [{"api_key": racer_key(gateway, account, i)} for i in range(5)]
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda i: send(gateway, keys[i % 5], drafts[i]), range(50)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 5 + [402] * 45, [a.text for a in answers if a.status_code not in
                                                  (200, 402)]
    wait_until(lambda: records_settled(gateway_db, workspace_id))
    metrics = usage(gateway, account)["metrics"]
    assert metrics["agreements_sent"]["used"] == limit
    assert metrics["signers_invited"]["used"] == 5
    listed = requests.get(gateway + "/v1/agreements?limit=100", headers=auth(account), timeout=30)
    assert sorted(a["status"] for a in listed.json()["data"]) == ["draft"] * 45 + ["sent"] * 5


def test_a_send_counts_its_signers_whether_or_not_the_gateway_recorded_them(stack, gateway,
                                                                          gateway_db):
    """The usual send reads the signer count the gateway recorded when the agreement was
    created, in the statement that reserves; an agreement without that record (made before it
    existed) has its count from signing. Both count, and refuse, alike."""
    account = signup(gateway, "Signer Counter")
    workspace_id = account["workspace"]["id"]
    set_plan(stack, workspace_id, "free")
    document = flows.upload(gateway, account)
    recorded = flows.create(gateway, account, document["id"], flows.people(2))["id"]
    unrecorded = flows.create(gateway, account, document["id"], flows.people(2))["id"]
    with gateway_db.begin() as conn:
        assert conn.execute(text("DELETE FROM agreement_signers WHERE agreement_id = :a"),
                            {"a": unrecorded}).rowcount == 1
    limit = usage(gateway, account)["metrics"]["signers_invited"]["limit"]

    set_used(gateway_db, workspace_id, "signers_invited", limit - 1)  # room for one signer
    for agreement_id in (recorded, unrecorded):
        refused = send(gateway, account, agreement_id)
        assert refused.status_code == 402, refused.text
        assert (refused.json()["metric"], refused.json()["used"]) == ("signers_invited", limit - 1)
        assert flows.get(gateway, account, agreement_id)["status"] == "draft"

    set_used(gateway_db, workspace_id, "signers_invited", limit - 4)  # room for both
    for agreement_id in (recorded, unrecorded):
        assert send(gateway, account, agreement_id).status_code == 200
    wait_until(lambda: records_settled(gateway_db, workspace_id))
    metrics = usage(gateway, account)["metrics"]
    assert metrics["signers_invited"]["used"] == limit
    assert metrics["agreements_sent"]["used"] == 2


def send_record(engine, agreement_id: str) -> dict[str, str]:
    """The states of a send's reservation records, by metric."""
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT metric, state FROM usage_records WHERE source_id = :s"),
                                 {"s": f"{agreement_id}:send"}).all())


def test_a_send_decided_with_its_key_is_given_back_when_the_request_is_refused(stack, gateway,
                                                                             gateway_db):
    """A live send's quota decision is made in its API key's look-up, before the edge's other
    checks: a request those checks refuse gives its reservation back; a revoked key reserves
    nothing; a test key is never counted."""
    account = signup(gateway, "Early Decider")
    workspace_id = account["workspace"]["id"]
    set_plan(stack, workspace_id, "free")
    refused, revoked, sent = own_drafts(gateway, account, 3)
    limit = usage(gateway, account)["metrics"]["agreements_sent"]["limit"]
    set_used(gateway_db, workspace_id, "agreements_sent", limit - 1)  # room for one send

    # Refused by the edge after the key (a NUL in the query): given back, the counter as it was.
    answer = requests.post(f"{gateway}/v1/agreements/{refused}/send?x=%00", headers=auth(account),
                           timeout=30)
    assert answer.status_code == 422, answer.text
    assert send_record(gateway_db, refused) == {"agreements_sent": "released",
                                                "signers_invited": "released"}
    assert usage(gateway, account)["metrics"]["agreements_sent"]["used"] == limit - 1

    # A revoked key's send: 401, nothing reserved.
    spare = racer_key(gateway, account, 0)
    assert requests.delete(f"{gateway}/v1/api-keys/{spare['id']}", headers=auth(account),
                           timeout=30).status_code == 204
    answer = send(gateway, {"api_key": spare}, revoked)
    assert answer.status_code == 401, answer.text
    assert send_record(gateway_db, revoked) == {}

    # The last unit, decided with the key (its Server-Timing says so); then the next is refused
    # with what refused it, as any other 402.
    answer = send(gateway, account, sent)
    assert answer.status_code == 200, answer.text
    assert 'desc="API key and quota decision"' in answer.headers["Server-Timing"]
    answer = send(gateway, account, refused)
    assert answer.status_code == 402, answer.text
    assert (answer.json()["metric"], answer.json()["used"]) == ("agreements_sent", limit)
    wait_until(lambda: records_settled(gateway_db, workspace_id))
    assert send_record(gateway_db, sent) == {"agreements_sent": "recorded",
                                             "signers_invited": "recorded"}
    assert usage(gateway, account)["metrics"]["agreements_sent"]["used"] == limit

    # A test key's send, the live quota spent: sent, and counted nowhere.
    made = requests.post(gateway + "/v1/api-keys", json={"name": "tests", "mode": "test"},
                         headers=auth(account), timeout=30)
    assert made.status_code == 201, made.text
    tester = {**account, "api_key": made.json()}
    (tried,) = own_drafts(gateway, tester, 1)
    answer = send(gateway, tester, tried)
    assert answer.status_code == 200, answer.text
    assert 'desc="API key"' in answer.headers["Server-Timing"]
    assert send_record(gateway_db, tried) == {}
    assert usage(gateway, account)["metrics"]["agreements_sent"]["used"] == limit


def test_storage_is_counted_up_and_down_and_an_upload_beyond_it_is_refused(stack, gateway,
                                                                           gateway_db):
    account = signup(gateway, "Storage Tester")
    workspace_id = account["workspace"]["id"]
    set_plan(stack, workspace_id, "free")
    document = flows.upload(gateway, account)
    stored = wait_until(lambda: usage(gateway, account)["metrics"]["storage_bytes"]["used"]
                        == document["size"] and records_settled(gateway_db, workspace_id))
    assert stored
    limit = usage(gateway, account)["metrics"]["storage_bytes"]["limit"]
    set_used(gateway_db, workspace_id, "storage_bytes", limit - 10, period="live")
    with flows.FOUR_PAGES.open("rb") as pdf:
        refused = requests.post(gateway + "/v1/documents?filename=big.pdf", data=pdf, timeout=60,
                                headers={**auth(account), "Content-Type": "application/pdf"})
    assert refused.status_code == 402, refused.text
    assert (refused.json()["metric"], refused.json()["used"]) == ("storage_bytes", limit - 10)
    listed = requests.get(gateway + "/v1/documents", headers=auth(account), timeout=30).json()
    assert [d["id"] for d in listed["data"]] == [document["id"]]  # nothing was stored
    # Deleting is never refused, and gives the storage back.
    assert requests.delete(f"{gateway}/v1/documents/{document['id']}", headers=auth(account),
                           timeout=30).status_code == 204
    wait_until(lambda: usage(gateway, account)["metrics"]["storage_bytes"]["used"]
               == limit - 10 - document["size"])


async def _publish(settings, events) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{settings.bus_prefix}.events", ensure=True)
        for event in events:
            await exchange.publish(
                aio_pika.Message(event.to_json(), message_id=event.id, content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=event.type),
                routing_key=event.type, timeout=10)
    finally:
        await connection.close()


def test_duplicate_usage_events_change_nothing(stack, gateway, gateway_db):
    account = signup(gateway, "Duplicate Tester")
    workspace_id = account["workspace"]["id"]

    # A metric nothing else counts for this workspace (it has no webhook endpoint); emails
    # would also count its owner's verification email.
    def emails(source: str, quantity: int = 3):
        return make_event("usage.recorded", UsageRecorded(
            workspace_id=workspace_id, metric="webhook_deliveries", quantity=quantity,
            source_event_id=source), producer="notify", workspace_id=workspace_id)

    first = emails("dup-test-1")
    # The same event delivered twice, the same source under a new event id (a re-publication),
    # and one more source; then a marker that is counted only after all of them.
    asyncio.run(_publish(stack.settings, [first, first, emails("dup-test-1"), emails("dup-test-1"),
                                          emails("dup-test-2", 4)]))
    asyncio.run(_publish(stack.settings, [emails("dup-test-marker", 100)]))
    wait_until(lambda: usage(gateway, account)["metrics"]["webhook_deliveries"]["used"] >= 100)
    wait_until(lambda: usage(gateway, account)["metrics"]["webhook_deliveries"]["used"] == 107, timeout=10)
    asyncio.run(_publish(stack.settings, [first, emails("dup-test-2", 4)]))
    asyncio.run(_publish(stack.settings, [emails("dup-test-marker-2", 1000)]))
    wait_until(lambda: usage(gateway, account)["metrics"]["webhook_deliveries"]["used"] >= 1000)
    assert usage(gateway, account)["metrics"]["webhook_deliveries"]["used"] == 1107


def test_statement_totals_are_exact_and_the_pdf_says_the_same(stack, gateway, gateway_db, clock):
    account = signup(gateway, "Statement Tester")
    workspace_id = account["workspace"]["id"]
    set_plan(stack, workspace_id, "team")
    # team: 200 agreements included at 100 cents each beyond; 5,000 emails included, 1 cent per
    # started 10 beyond; 5,000,000 LLM tokens, 1 cent per started 1,000 beyond.
    set_used(gateway_db, workspace_id, "agreements_sent", 203)
    set_used(gateway_db, workspace_id, "emails_sent", 5_021)
    set_used(gateway_db, workspace_id, "llm_tokens", 5_000_001)
    period = period_now()

    listed = requests.get(gateway + "/v1/billing/statements", headers=auth(account), timeout=30)
    assert listed.status_code == 200, listed.text
    current = listed.json()["data"][0]
    assert (current["period"], current["status"], current["currency"]) == (period, "open", "USD")

    statement = requests.get(f"{gateway}/v1/billing/statements/{period}", headers=auth(account),
                             timeout=30).json()
    items = {item["metric"]: item for item in statement["line_items"]}
    assert items["agreements_sent"] == {"metric": "agreements_sent", "quantity": 203, "included": 200,
                                        "unit": 1, "unit_price_cents": 100, "amount_cents": 300}
    assert items["emails_sent"]["amount_cents"] == 3  # 21 over: three started tens
    assert items["llm_tokens"]["amount_cents"] == 1  # one token over: one started thousand
    assert statement["plan_fee_cents"] == 4_900
    assert statement["usage_cents"] == sum(i["amount_cents"] for i in statement["line_items"]) == 304
    assert statement["total_cents"] == current["total_cents"] == 5_204

    pdf = requests.get(f"{gateway}/v1/billing/statements/{period}.pdf", headers=auth(account),
                       timeout=30)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    words = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    for expected in (statement["number"], workspace_id, period, "52.04 USD", "49.00 USD",
                     "3.04 USD", "3.00 USD", "203", "Agreements sent"):
        assert expected in words, (expected, words)

    # Next month the period is frozen final with the same figures, and a new one is open.
    clock(seconds_into_next_month())
    listed = requests.get(gateway + "/v1/billing/statements", headers=auth(account), timeout=30).json()
    by_period = {s["period"]: s for s in listed["data"]}
    assert by_period[period]["status"] == "final"
    assert by_period[period]["total_cents"] == 5_204
    assert listed["data"][0]["status"] == "open" and listed["data"][0]["period"] != period
    set_used(gateway_db, workspace_id, "agreements_sent", 999)  # a late change of the old month
    final = requests.get(f"{gateway}/v1/billing/statements/{period}", headers=auth(account),
                         timeout=30).json()
    assert (final["status"], final["total_cents"], final["number"]) == ("final", 5_204,
                                                                         statement["number"])
    assert requests.get(f"{gateway}/v1/billing/statements/1999-01", headers=auth(account),
                        timeout=30).status_code == 404
    assert requests.get(f"{gateway}/v1/billing/statements/latest", headers=auth(account),
                        timeout=30).status_code == 404
