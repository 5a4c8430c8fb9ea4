"""Notify's own settings: the platform's, plus where and how email leaves (PACTRA_* too)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field

from pactra_platform.settings import Settings


class NotifySettings(Settings):
    # The development mailbox (`pactra-dev mailbox`); its messages are at http://127.0.0.1:8025/.
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_timeout: float = 10.0
    email_backend: Literal["smtp", "resend"] = "smtp"
    resend_api_key: str = Field(default="", repr=False)
    resend_base_url: str = "https://api.resend.com"
    email_from: str = "Pactra <no-reply@pactra.local>"
    # Larger signed PDFs are linked instead of attached: many mail systems refuse big mail.
    max_attachment_bytes: int = 10 * 1024 * 1024


@lru_cache
def get_notify_settings() -> NotifySettings:
    return NotifySettings()
