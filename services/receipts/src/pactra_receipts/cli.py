"""``pactra-receipts``: operator commands of the receipts service."""

import argparse

from pactra_platform.settings import get_settings

from .bootstrap import sessions
from .keys import rotate_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-receipts")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rotate-key", help="make a new active receipt-signing key; retire the old")
    args = parser.parse_args(argv)
    if args.command == "rotate-key":
        settings = get_settings()
        settings.require_secrets()
        print(f"active receipt-signing key: {rotate_key(sessions(settings), settings.master_key)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
