"""The gateway's rules, with no database: quota decisions on a plan, what each forwarded
request reserves, billing periods, API key rules, a deletion's states, the security log's chain,
Idempotency-Key outcomes and an export's parts."""

from datetime import UTC, datetime, timedelta

import pytest

from pactra_gateway.domain import api_keys, deletions, exports, idempotency, periods, plans, quotas
from pactra_gateway.domain import security_log as chain
from pactra_gateway.domain.errors import (
    Conflict,
    Expired,
    InProgress,
    KeyReused,
    NameMismatch,
    QuotaExceeded,
    Unverified,
)

CATALOGUE = plans.load(None)
FREE, TEAM = CATALOGUE.plans["free"], CATALOGUE.plans["team"]
NOW = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)


# --- plans and quota decisions ----------------------------------------------------------------

def test_a_blocking_plan_holds_blockable_metrics_to_their_limit():
    assert quotas.limit_of(FREE, "agreements_sent", quotas=True) == FREE.limits["agreements_sent"]
    # Counted and billed, never refused: emails; every metric of a billed plan; quotas off.
    assert quotas.limit_of(FREE, "emails_sent", quotas=True) is None
    assert quotas.limit_of(TEAM, "agreements_sent", quotas=True) is None
    assert quotas.limit_of(FREE, "agreements_sent", quotas=False) is None


def test_a_metric_is_exhausted_at_its_limit_not_before():
    limit = FREE.limits["ai_analyses"]
    assert not quotas.exhausted(FREE, "ai_analyses", limit - 1, quotas=True)
    assert quotas.exhausted(FREE, "ai_analyses", limit, quotas=True)
    assert not quotas.exhausted(TEAM, "ai_analyses", 10 * limit, quotas=True)


def test_a_zero_limit_is_a_limit():
    starter = FREE.model_copy(update={"limits": {**FREE.limits, "llm_tokens": 0}})
    assert quotas.limit_of(starter, "llm_tokens", quotas=True) == 0
    assert quotas.exhausted(starter, "llm_tokens", 0, quotas=True)


def test_each_forwarded_request_reserves_what_its_work_uses():
    assert quotas.sent_agreement("POST", "/v1/agreements/agr_1/send") == "agr_1"
    assert quotas.sent_agreement("GET", "/v1/agreements/agr_1/send") is None
    assert quotas.sent_agreement("POST", "/v1/agreements/agr_1") is None
    send = quotas.send("agr_1", 3)
    assert send == quotas.Ask("agr_1:send", {"agreements_sent": 1, "signers_invited": 3})
    # Without a count: the one the gateway recorded for the agreement, read where it decides.
    assert quotas.send("agr_1") == quotas.Ask(
        "agr_1:send", {"agreements_sent": 1, "signers_invited": None}, signers_of="agr_1")
    assert quotas.upload("req_1", 2048) == quotas.Ask("upload:req_1", {"storage_bytes": 2048})
    assert quotas.analysis("req_2", llm=False).checks == ()
    assert quotas.analysis("req_2", llm=True) == quotas.Ask("analysis:req_2", {"ai_analyses": 1},
                                                             ("llm_tokens",))
    assert quotas.is_upload("POST", "/v1/documents") and not quotas.is_upload("GET", "/v1/documents")
    assert quotas.is_analysis("POST", "/v1/documents/doc_1/analysis")
    assert not quotas.is_analysis("POST", "/v1/documents/doc_1/analysis/x")
    assert quotas.wants_answer("POST", "/v1/agreements")


def test_a_reservation_is_given_back_only_when_the_work_was_not_done():
    reservation = quotas.Reservation("ws_1", "agr_1:send", ("agreements_sent",))
    assert not reservation.released_by(200) and not reservation.released_by(202)
    assert reservation.released_by(404) and reservation.released_by(500)
    # A retried send reserved nothing new: nothing to give back.
    assert not quotas.Reservation("ws_1", "agr_1:send", ()).released_by(500)


def test_a_refusal_says_the_limit_the_use_and_when_it_resets():
    refused = QuotaExceeded("agreements_sent", 10, 10, periods.bounds("2026-12")[1])
    assert refused.problem_fields() == {"metric": "agreements_sent", "limit": 10, "used": 10,
                                        "resets_at": "2027-01-01T00:00:00.000Z"}
    assert "allows 10 agreements sent a month and 10 are used" in refused.explain()


def test_the_default_plan_must_be_one_of_the_plans():
    assert CATALOGUE.require("team", "PACTRA_DEFAULT_PLAN") is TEAM
    with pytest.raises(plans.PlansFileError, match="PACTRA_DEFAULT_PLAN 'gold' is not a plan"):
        CATALOGUE.require("gold", "PACTRA_DEFAULT_PLAN")


# --- periods ------------------------------------------------------------------------------------

def test_periods_roll_over_the_year():
    assert periods.period_of(NOW) == "2026-12"
    assert periods.bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert periods.previous("2027-01", 2) == ["2026-12", "2026-11"]
    with pytest.raises(ValueError, match="YYYY-MM"):
        periods.bounds("2026-13")


# --- API keys -----------------------------------------------------------------------------------

def test_a_keys_mode_is_read_from_its_prefix():
    live, test = api_keys.generate("live"), api_keys.generate("test")
    assert api_keys.mode_of_prefix(api_keys.display_prefix(live)) == "live"
    assert api_keys.mode_of_prefix(api_keys.display_prefix(test)) == "test"
    # A key with its prefix swapped is malformed: a test key cannot pass for a live one.
    assert not api_keys.well_formed(api_keys.PREFIX + test[len(api_keys.TEST_PREFIX):])


# --- a workspace's deletion ---------------------------------------------------------------------

def test_a_deletion_is_asked_with_the_exact_name_by_a_verified_owner_once():
    deletions.check_request("Acme", "Acme", owner_verified=True, confirmed_id=None)
    with pytest.raises(NameMismatch):
        deletions.check_request("Acme", "acme", owner_verified=True, confirmed_id=None)
    with pytest.raises(Unverified):
        deletions.check_request("Acme", "Acme", owner_verified=False, confirmed_id=None)
    with pytest.raises(Conflict):
        deletions.check_request("Acme", "Acme", owner_verified=True, confirmed_id="del_1")


@pytest.mark.parametrize(("status", "expected"), [
    (deletions.AWAITING_CONFIRMATION, True), (deletions.SCHEDULED, False),
    (deletions.RUNNING, False), (deletions.COMPLETED, False), (deletions.CANCELLED, Conflict),
])
def test_confirming_in_each_state(status, expected):
    if expected is Conflict:
        with pytest.raises(Conflict):
            deletions.needs_confirming(status, NOW, NOW)
    else:
        assert deletions.needs_confirming(status, NOW, NOW) is expected


def test_a_confirmation_link_expires():
    with pytest.raises(Expired):
        deletions.needs_confirming(deletions.AWAITING_CONFIRMATION, NOW, NOW + timedelta(seconds=1))


@pytest.mark.parametrize(("status", "expected"), [
    (deletions.AWAITING_CONFIRMATION, True), (deletions.SCHEDULED, True),
    (deletions.CANCELLED, False), (deletions.RUNNING, Conflict), (deletions.COMPLETED, Conflict),
])
def test_cancelling_in_each_state(status, expected):
    if expected is Conflict:
        with pytest.raises(Conflict):
            deletions.needs_cancelling(status)
    else:
        assert deletions.needs_cancelling(status) is expected


def test_the_purge_starts_after_the_grace_period():
    assert deletions.purge_at(NOW, 24) == NOW + timedelta(hours=24)
    assert deletions.purge_at(NOW, 0) == NOW


def test_the_deletion_completes_when_every_service_reported():
    services, done = deletions.report_purge({"gateway": "pending", "signing": "purged"}, "gateway")
    assert services == {"gateway": "purged", "signing": "purged"} and done
    services, done = deletions.report_purge({"gateway": "pending", "signing": "pending"}, "signing")
    assert not done and deletions.stragglers(services) == ["gateway"]


# --- the security log's chain -------------------------------------------------------------------

def test_the_chain_holds_and_a_rewritten_entry_breaks_it():
    first = chain.chained({"id": "sev_1", "type": "api_key.created", "at": "2026-01-01T00:00:00.000Z",
                           "actor": chain.actor_json({"kind": "user", "id": "usr_1"}), "ip": None,
                           "data": {"key_id": "key_1"}}, chain.GENESIS)
    second = chain.chained({"id": "sev_2", "type": "api_key.revoked", "at": "2026-01-02T00:00:00.000Z",
                            "actor": {"kind": "user", "id": "usr_1"}, "ip": "203.0.113.9",
                            "data": {"key_id": "key_1"}}, first["hash"])
    assert chain.verify_chain([first, second]) == []
    forged = {**first, "data": {"key_id": "key_2"}}
    assert chain.verify_chain([forged, second]) == ["entry 0 (sev_1): hash does not match its content"]
    assert chain.verify_chain([second]) == ["entry 0 (sev_2): prev does not match the entry before"]


# --- Idempotency-Key ----------------------------------------------------------------------------

def step(**overrides):
    values = {"state": idempotency.COMPLETED, "same_request": True, "expires_at": NOW + timedelta(hours=1),
              "locked_until": NOW - timedelta(minutes=1), "now": NOW, "key": "k1"}
    return idempotency.next_step(**{**values, **overrides})


def test_a_key_replays_refuses_or_is_taken_over():
    assert step() is idempotency.Next.REPLAY
    assert step(expires_at=NOW) is idempotency.Next.CLAIM_AFRESH
    # An expired key is free again, even for another request.
    assert step(expires_at=NOW, same_request=False) is idempotency.Next.CLAIM_AFRESH
    assert step(state=idempotency.IN_PROGRESS) is idempotency.Next.TAKE_OVER
    with pytest.raises(KeyReused):
        step(same_request=False)
    with pytest.raises(InProgress):
        step(state=idempotency.IN_PROGRESS, locked_until=NOW + timedelta(seconds=1))


def test_a_key_is_1_to_255_printable_characters():
    assert idempotency.well_formed_key("a" * 255)
    assert not idempotency.well_formed_key("") and not idempotency.well_formed_key("a" * 256)
    assert not idempotency.well_formed_key("tab\there")
    assert not idempotency.well_formed_key("a space") and not idempotency.well_formed_key("clé")


# --- exports ------------------------------------------------------------------------------------

def test_a_part_counts_only_while_collecting_for_its_own_workspace():
    services = ("gateway", "documents")
    assert exports.accepts_part(exports.PENDING, "ws_1", "ws_1", "gateway", services)
    assert exports.accepts_part(exports.RUNNING, "ws_1", "ws_1", "documents", services)
    assert not exports.accepts_part(exports.READY, "ws_1", "ws_1", "gateway", services)
    assert not exports.accepts_part(exports.RUNNING, "ws_1", "ws_2", "gateway", services)
    assert not exports.accepts_part(exports.RUNNING, "ws_1", "ws_1", "billing", services)


def test_the_export_is_complete_when_every_part_is_in():
    parts = exports.with_part({}, "gateway", {"object": "a"})
    parts = exports.with_part(parts, "gateway", {"object": "b"})  # a redelivery replaces it
    assert parts == {"gateway": {"object": "b"}}
    assert not exports.complete(len(parts), 2) and exports.complete(2, 2)
