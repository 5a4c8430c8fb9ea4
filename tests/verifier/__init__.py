"""An independent verifier of Pactra receipts for end-to-end tests (receipts.md only)."""

from .verify import FAIL, PASS, SKIPPED, livemode, verdict, verify

__all__ = ["FAIL", "PASS", "SKIPPED", "livemode", "verdict", "verify"]
