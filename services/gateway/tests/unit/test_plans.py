"""Plans (domain/plans.py): the built-in ones, an operator's YAML file, its errors; the per-key rate a
plan sets and the operator's cap over it; a statement's arithmetic in integer cents."""

import textwrap

import pytest

from pactra_gateway.adapters.rate_limits import RateLimits
from pactra_gateway.config import GatewaySettings
from pactra_gateway.domain import billing, plans
from pactra_gateway.domain.periods import bounds, period_of, previous

PLANS_YAML = textwrap.dedent("""
    currency: eur
    plans:
      starter:
        monthly_fee_cents: 1000
        overage: blocked
        rate_limit_per_key: 5/second
        limits: {agreements_sent: 3, signers_invited: 9, ai_analyses: 1, llm_tokens: 0,
                 storage_bytes: 1000, emails_sent: 10, webhook_deliveries: 10, api_requests: 100}
      pro:
        monthly_fee_cents: 5000
        overage: billed
        rate_limit_per_key: 50/second
        limits: {agreements_sent: 100, signers_invited: 300, ai_analyses: 10, llm_tokens: 1000,
                 storage_bytes: 1000000, emails_sent: 1000, webhook_deliveries: 1000,
                 api_requests: 10000}
        prices:
          agreements_sent: {cents: 150}
          storage_bytes: {cents: 7, unit: 1000}
""")


def test_the_built_in_plans_are_free_team_and_business():
    catalogue = plans.load(None)
    assert list(catalogue.plans) == ["free", "team", "business"]
    assert catalogue.plans["free"].overage == "blocked"
    assert {catalogue.plans[p].overage for p in ("team", "business")} == {"billed"}
    for plan in catalogue.plans.values():
        assert set(plan.limits) == set(plans.METRICS)
        assert isinstance(plan.monthly_fee_cents, int)
    free = catalogue.plans["free"]
    # Only what a request can be refused for is ever blocked.
    assert {m for m in plans.METRICS if free.blocks(m)} == plans.BLOCKABLE
    assert not free.blocks("emails_sent") and not catalogue.plans["team"].blocks("agreements_sent")


def test_an_operators_file_replaces_the_built_in_plans(tmp_path):
    path = tmp_path / "plans.yaml"
    path.write_text(PLANS_YAML)
    catalogue = plans.load(str(path))
    assert catalogue.currency == "EUR" and list(catalogue.plans) == ["starter", "pro"]
    assert catalogue.plans["pro"].price("storage_bytes") == plans.Price(cents=7, unit=1000)
    assert catalogue.plans["pro"].price("emails_sent") == plans.Price(cents=0)
    # A workspace left on a plan the file no longer names gets the first plan's terms.
    assert catalogue.get("business").name == "starter"


@pytest.mark.parametrize(("change", "message"), [
    (("overage: billed", "overage: sometimes"), "overage"),
    (("monthly_fee_cents: 5000", "monthly_fee_cents: 49.99"), "monthly_fee_cents"),
    (("agreements_sent: {cents: 150}", "agreements_sent: {cents: 1.5}"), "cents"),
    (("rate_limit_per_key: 50/second", "rate_limit_per_key: lots"), "rate_limit_per_key"),
    (("api_requests: 100}", "api_requests: 100, faxes: 3}"), "unknown metrics"),
    (("storage_bytes: 1000,", ""), "limits missing"),
])
def test_a_broken_file_is_refused_saying_where(tmp_path, change, message):
    path = tmp_path / "plans.yaml"
    path.write_text(PLANS_YAML.replace(*change, 1))
    with pytest.raises(plans.PlansFileError, match=message):
        plans.load(str(path))


def test_a_missing_or_unparsable_file_is_refused(tmp_path):
    with pytest.raises(plans.PlansFileError, match="PACTRA_PLANS_FILE"):
        plans.load(str(tmp_path / "absent.yaml"))
    (tmp_path / "bad.yaml").write_text("plans: [\n")
    with pytest.raises(plans.PlansFileError, match="not YAML"):
        plans.load(str(tmp_path / "bad.yaml"))


def test_line_items_bill_every_started_unit_in_integer_cents(tmp_path):
    path = tmp_path / "plans.yaml"
    path.write_text(PLANS_YAML)
    pro = plans.load(str(path)).plans["pro"]
    items = {i.metric: i for i in billing.line_items(pro, {"agreements_sent": 103,
                                                           "storage_bytes": 1_000_001,
                                                           "emails_sent": 5000})}
    assert items["agreements_sent"].amount_cents == 3 * 150
    assert items["storage_bytes"].amount_cents == 7  # one byte over: one started thousand
    assert items["emails_sent"].amount_cents == 0  # no price: counted, not charged
    assert items["ai_analyses"].quantity == 0 and items["ai_analyses"].amount_cents == 0
    assert all(isinstance(i.amount_cents, int) for i in items.values())


def test_the_plan_sets_the_key_rate_unless_the_operator_caps_it():
    by_plan = RateLimits(GatewaySettings(rate_limit_per_key=None))
    assert [by_plan.check_key("key_a", "2/minute").allowed for _ in range(3)] == [True, True, False]
    assert by_plan.check_key("key_b", "5/minute").limit == 5
    capped = RateLimits(GatewaySettings(rate_limit_per_key="1/minute"))
    assert [capped.check_key("key_c", "100/second").allowed for _ in range(2)] == [True, False]


def test_periods_are_calendar_months():
    start, end = bounds("2026-12")
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+00:00",
                                                    "2027-01-01T00:00:00+00:00")
    assert previous("2026-02", 3) == ["2026-01", "2025-12", "2025-11"]
    assert period_of(end) == "2027-01"
    with pytest.raises(ValueError, match="YYYY-MM"):
        bounds("2026-13")
