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
    # Webhooks (api.md, "Webhooks"). Plain http and loopback receivers are for development and
    # tests only (`make run` and the test stack allow them); nothing else ever allows private,
    # link-local, multicast, reserved or metadata addresses.
    webhooks_allow_http: bool = False
    webhooks_allow_loopback: bool = False
    # Seconds before each retry (after the 1st, 2nd ... failed attempt): 5 s, 5 min, 30 min,
    # 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. Tests shorten it; the number of retries is its length.
    webhooks_retry_schedule: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    webhooks_timeout_seconds: float = 15.0
    webhooks_concurrency_per_endpoint: int = Field(default=4, ge=1)
    webhooks_threads: int = Field(default=16, ge=1)
    # An endpoint that has failed without a success for this long is disabled (owner emailed).
    webhooks_disable_after_seconds: float = 5 * 24 * 3600.0
    webhooks_rotation_overlap_seconds: float = 24 * 3600.0
    webhooks_max_endpoints: int = 20
    # How often the delivery scheduler looks for due attempts (a new delivery wakes it at once).
    webhooks_poll_seconds: float = 1.0

    def webhook_retry_delays(self) -> list[float]:
        return [float(part) for part in self.webhooks_retry_schedule.split(",") if part.strip()]


@lru_cache
def get_notify_settings() -> NotifySettings:
    return NotifySettings()
