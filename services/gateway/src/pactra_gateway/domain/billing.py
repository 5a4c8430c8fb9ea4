"""A statement's arithmetic: each metric's quantity above what the plan includes, billed per
started unit at the plan's price, in integer cents (no price is ever a fraction of a cent)."""

from pactra_contracts.api import LineItem

from .plans import METRICS, Plan


def number(workspace_id: str, period: str) -> str:
    """The statement's number: stable, unique per workspace and period."""
    return f"ST-{period.replace('-', '')}-{workspace_id.removeprefix('ws_').upper()}"


def line_items(plan: Plan, used: dict[str, int]) -> list[LineItem]:
    items = []
    for metric in METRICS:
        quantity = max(used.get(metric, 0), 0)
        included = plan.limits[metric]
        price = plan.price(metric)
        over = max(quantity - included, 0)
        units = -(-over // price.unit)  # every started unit is billed: ceil, in integers
        items.append(LineItem(metric=metric, quantity=quantity, included=included, unit=price.unit,
                              unit_price_cents=price.cents, amount_cents=units * price.cents))
    return items
