"""``pactra-admin``: an operator's commands on workspaces.

    pactra-admin set-plan <workspace_id> <plan>
    pactra-admin plans

The plan takes effect at once (the next quota decision, the next request's rate limit); the
current period's statement is computed at the new plan's prices, earlier final ones stay.
"""

import argparse
import sys

from sqlalchemy import text

from pactra_contracts.events import WorkspaceUpdated, make_event
from pactra_gateway import SERVICE
from pactra_gateway.bootstrap import bootstrap
from pactra_gateway.domain.plans import PlansFileError
from pactra_platform.messaging import add_to_outbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    set_plan = commands.add_parser("set-plan", help="put a workspace on a plan")
    set_plan.add_argument("workspace_id")
    set_plan.add_argument("plan")
    commands.add_parser("plans", help="list the plans (PACTRA_PLANS_FILE or the built-in ones)")
    args = parser.parse_args(argv)
    try:
        gw = bootstrap(require_secrets=False)
    except PlansFileError as exc:
        print(f"pactra-admin: {exc}", file=sys.stderr)
        return 2
    catalogue = gw.usage.catalogue
    if args.command == "plans":
        for name, plan in catalogue.plans.items():
            print(f"{name}: {plan.monthly_fee_cents} cents/month ({catalogue.currency}), "
                  f"overage {plan.overage}, {plan.rate_limit_per_key} per key")
        return 0
    try:
        catalogue.require(args.plan, "the plan")
    except PlansFileError as exc:
        print(f"pactra-admin: {exc}", file=sys.stderr)
        return 2
    with gw.sessions() as session:
        before = session.execute(text("SELECT plan FROM workspaces WHERE id = :w FOR UPDATE"),
                                 {"w": args.workspace_id}).scalar()
        if before is None:
            print(f"pactra-admin: no workspace {args.workspace_id}", file=sys.stderr)
            return 1
        if before != args.plan:
            session.execute(text("UPDATE workspaces SET plan = :p, updated_at = now() WHERE id = :w"),
                            {"p": args.plan, "w": args.workspace_id})
            add_to_outbox(session, make_event(
                "workspace.updated", WorkspaceUpdated(workspace_id=args.workspace_id,
                                                      changes={"plan": args.plan}),
                producer=SERVICE, workspace_id=args.workspace_id))
        session.commit()
    print(f"{args.workspace_id}: plan {before} -> {args.plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
