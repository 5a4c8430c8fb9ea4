"""``pactra-receipts``: operator commands of the receipts service.

``rotate`` makes a new receipt-signing key and a new sealing certificate; ``rotate-key`` and
``rotate-seal`` do one of them. Retired keys and certificates stay published, so evidence made
before still verifies.

``retry-evidence <agreement_id>...`` (or ``--all-failed``) makes failed evidence due again,
with a fresh count of attempts: after ``PACTRA_EVIDENCE_MAX_ATTEMPTS`` the issuer stops
retrying by itself, so that one agreement whose evidence cannot be made (or that takes the
issuer down) does not hold up the others forever. ``failed-evidence`` lists those agreements.
"""

import argparse

from ..adapters.keys import rotate_key
from ..adapters.seal_store import rotate_seal
from ..bootstrap import Receipts, bootstrap
from ..service_layer.issuer import retry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-receipts")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rotate", help="rotate the receipt-signing key and the sealing certificate")
    commands.add_parser("rotate-key", help="make a new active receipt-signing key; retire the old")
    commands.add_parser("rotate-seal", help="make a new development sealing certificate; retire the old")
    retrying = commands.add_parser("retry-evidence",
                                   help="retry failed evidence now, attempts counted afresh")
    retrying.add_argument("agreement_ids", nargs="*", metavar="agreement_id")
    retrying.add_argument("--all-failed", action="store_true",
                          help="every agreement whose evidence is no longer retried by itself")
    commands.add_parser("failed-evidence", help="list agreements whose evidence failed")
    args = parser.parse_args(argv)
    if args.command == "retry-evidence" and bool(args.agreement_ids) == args.all_failed:
        parser.error("retry-evidence: give agreement ids, or --all-failed")
    receipts = bootstrap()
    settings = receipts.settings
    settings.require_secrets()
    if args.command in ("rotate", "rotate-seal"):
        if settings.seal_p12:
            print("note: PACTRA_SEAL_P12 is set: seals use that certificate; replace the file to "
                  "rotate it (the generated one is rotated anyway)")
        print(f"active sealing certificate: {rotate_seal(receipts.sessions, settings.master_key)}")
    if args.command == "retry-evidence":
        return _retry(receipts, None if args.all_failed else args.agreement_ids)
    if args.command == "failed-evidence":
        with receipts.uow() as uow:
            for job in uow.jobs.failed():
                state = "stopped" if job.next_attempt_at is None else "retrying"
                print(f"{job.agreement_id}\t{state}\tattempts={job.attempts}\t{job.reason}")
        return 0
    if args.command in ("rotate", "rotate-key"):
        print(f"active receipt-signing key: {rotate_key(receipts.sessions, settings.master_key)}")
    return 0


def _retry(receipts: Receipts, agreement_ids: list[str] | None) -> int:
    retried = retry(receipts.uow, agreement_ids)
    for agreement_id in retried:
        print(f"retrying {agreement_id}")
    missed = sorted(set(agreement_ids or ()) - set(retried))
    for agreement_id in missed:
        print(f"not retried: {agreement_id} has no failed evidence")
    if agreement_ids is None and not retried:
        print("no failed evidence to retry")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
