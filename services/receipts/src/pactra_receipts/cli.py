"""``pactra-receipts``: operator commands of the receipts service.

``rotate`` makes a new receipt-signing key and a new sealing certificate; ``rotate-key`` and
``rotate-seal`` do one of them. Retired keys and certificates stay published, so evidence made
before still verifies.
"""

import argparse

from pactra_platform.settings import get_settings

from .bootstrap import sessions
from .config import seal_settings
from .keys import rotate_key
from .seal_store import rotate_seal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-receipts")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rotate", help="rotate the receipt-signing key and the sealing certificate")
    commands.add_parser("rotate-key", help="make a new active receipt-signing key; retire the old")
    commands.add_parser("rotate-seal", help="make a new development sealing certificate; retire the old")
    args = parser.parse_args(argv)
    settings = get_settings()
    settings.require_secrets()
    if args.command in ("rotate", "rotate-seal"):
        if seal_settings().seal_p12:
            print("note: PACTRA_SEAL_P12 is set: seals use that certificate; replace the file to "
                  "rotate it (the generated one is rotated anyway)")
        print(f"active sealing certificate: {rotate_seal(sessions(settings), settings.master_key)}")
    if args.command in ("rotate", "rotate-key"):
        print(f"active receipt-signing key: {rotate_key(sessions(settings), settings.master_key)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
