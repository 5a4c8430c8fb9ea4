"""Plans: what each grants a month, what it costs, and whether going over is refused or billed.

One place an operator configures without code: the YAML file named by ``PACTRA_PLANS_FILE``
(the built-in ``free``, ``team`` and ``business`` below otherwise). Money is integer cents
throughout; a metric is priced per ``unit`` of it (a GiB of storage, a thousand tokens), so no
price is ever a fraction of a cent.

Only the metrics tied to a request that can be refused before its work are ever blocked
(``BLOCKABLE``); emails, webhook deliveries and API requests are counted and billed, and the
rate limit bounds them.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from limits import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

METRICS = ("agreements_sent", "signers_invited", "ai_analyses", "llm_tokens", "storage_bytes",
           "emails_sent", "webhook_deliveries", "api_requests")
BLOCKABLE = frozenset({"agreements_sent", "signers_invited", "ai_analyses", "llm_tokens",
                       "storage_bytes"})
GIB = 1024 ** 3


class PlansFileError(ValueError):
    """The plans file is missing, not YAML, or not a valid set of plans (the message says where)."""


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    cents: int = Field(ge=0)
    unit: int = Field(default=1, ge=1)  # how many of the metric one price buys


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = ""
    monthly_fee_cents: int = Field(ge=0)
    overage: Literal["blocked", "billed"]
    rate_limit_per_key: str
    limits: dict[str, int]
    prices: dict[str, Price] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> "Plan":
        unknown = (set(self.limits) | set(self.prices)) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}; the metrics are {list(METRICS)}")
        missing = set(METRICS) - set(self.limits)
        if missing:
            raise ValueError(f"limits missing for {sorted(missing)}")
        if any(value < 0 for value in self.limits.values()):
            raise ValueError("limits are 0 or more")
        try:
            parse(self.rate_limit_per_key)
        except ValueError as exc:
            raise ValueError(f"rate_limit_per_key {self.rate_limit_per_key!r} is not a rate "
                             "like 100/second") from exc
        return self

    def price(self, metric: str) -> Price:
        return self.prices.get(metric) or Price(cents=0)

    def blocks(self, metric: str) -> bool:
        return self.overage == "blocked" and metric in BLOCKABLE


class PlansDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    currency: str = Field(default="USD", min_length=3, max_length=3)
    plans: dict[str, Plan]


_BILLED_PRICES = {
    "agreements_sent": {"cents": 100}, "signers_invited": {"cents": 25},
    "ai_analyses": {"cents": 10}, "llm_tokens": {"cents": 1, "unit": 1000},
    "storage_bytes": {"cents": 10, "unit": GIB}, "emails_sent": {"cents": 1, "unit": 10},
    "webhook_deliveries": {"cents": 1, "unit": 100}, "api_requests": {"cents": 1, "unit": 1000},
}


def _built_in(fee_cents: int, overage: str, rate_limit_per_key: str, limits: tuple[int, ...],
              prices: dict[str, dict[str, int]] = _BILLED_PRICES) -> dict[str, object]:
    """A built-in plan as the plans file states one; ``limits`` in the order of ``METRICS``."""
    return {"monthly_fee_cents": fee_cents, "overage": overage,
            "rate_limit_per_key": rate_limit_per_key,
            "limits": dict(zip(METRICS, limits, strict=True)), "prices": prices}


# Limits in the order of METRICS: agreements sent, signers invited, AI analyses, LLM tokens,
# storage bytes, emails sent, webhook deliveries, API requests. Emails, webhooks and requests
# are never cut off, so billed even on free.
BUILT_IN = {
    "currency": "USD",
    "plans": {
        "free": _built_in(0, "blocked", "20/second",
                          (10, 30, 20, 100_000, 1 * GIB, 500, 2_000, 20_000)),
        "team": _built_in(4_900, "billed", "50/second",
                          (200, 600, 500, 5_000_000, 20 * GIB, 5_000, 50_000, 500_000)),
        "business": _built_in(29_900, "billed", "100/second",
                              (2_000, 6_000, 5_000, 50_000_000, 200 * GIB, 50_000, 500_000, 5_000_000),
                              {**_BILLED_PRICES, "agreements_sent": {"cents": 80},
                               "signers_invited": {"cents": 20}}),
    },
}


@dataclass(frozen=True)
class Catalogue:
    currency: str
    plans: dict[str, Plan] = field(default_factory=dict)

    def get(self, name: str) -> Plan:
        """The plan ``name``; a workspace on a plan the file no longer names gets ``free``'s
        terms, or the first plan's, rather than none."""
        return self.plans.get(name) or self.plans.get("free") or next(iter(self.plans.values()))

    def require(self, name: str, what: str) -> Plan:
        """The plan ``name`` exactly: an operator's typo (``what`` says where it was made)
        must not quietly put workspaces on another plan's terms."""
        if name not in self.plans:
            raise PlansFileError(f"{what} {name!r} is not a plan; the plans are {', '.join(self.plans)}")
        return self.plans[name]


def parse_document(raw: object, where: str = "the built-in plans") -> Catalogue:
    try:
        document = PlansDocument.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PlansFileError(f"{where}: {problems}") from exc
    if not document.plans:
        raise PlansFileError(f"{where}: no plans")
    plans = {name: plan.model_copy(update={"name": name}) for name, plan in document.plans.items()}
    return Catalogue(currency=document.currency.upper(), plans=plans)


def load(path: str | None) -> Catalogue:
    """The operator's plans file (PACTRA_PLANS_FILE), else the built-in plans. Read once, by
    the composition root (bootstrap.py) and by ``pactra-admin``."""
    if not path:
        return parse_document(BUILT_IN)
    where = f"PACTRA_PLANS_FILE {path}"
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not YAML ({exc})"
        raise PlansFileError(f"{where}: {reason}") from exc
    return parse_document(raw, where)
