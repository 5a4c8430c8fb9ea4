"""Offline verification of Pactra's evidence, step by step as receipts.md gives it.

Nothing here talks to Pactra: a receipt, the published keys (JWKS), the audit trail, the
original document, the sealed PDF and the sealing chain are enough.
"""

from .checks import INVALID, NOT_VERIFIED, VALID, Report, verify

__all__ = ["INVALID", "NOT_VERIFIED", "VALID", "Report", "verify"]
