"""Notify's own settings: the platform's, plus where and how email leaves and webhooks go
(PACTRA_* too). Read only by ``bootstrap``."""

import base64
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from pactra_platform.settings import Settings


class NotifySettings(Settings):
    # A refused value (a mistyped secret) is never quoted in the error, which reaches the log.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    # The development mailbox (`pactra-dev mailbox`); its messages are at http://127.0.0.1:8025/.
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_timeout: float = 10.0
    email_backend: Literal["smtp", "resend"] = "smtp"
    resend_api_key: str = Field(default="", repr=False)
    resend_base_url: str = "https://api.resend.com"
    # The signing secret of the Resend webhook that reports bounces and complaints to
    # POST /v1/email-events/resend (Svix, ``whsec_<base64>``). Unset: that route answers 404.
    resend_webhook_secret: str = Field(default="", repr=False)
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

    @field_validator("resend_webhook_secret")
    @classmethod
    def _a_svix_secret(cls, value: str) -> str:
        # Checked at start: a mistyped secret would otherwise refuse every bounce report as
        # forged. The message never quotes the value.
        if value:
            body = value.removeprefix("whsec_")
            try:
                key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
            except ValueError:
                key = b""
            if not value.startswith("whsec_") or len(key) < 16:
                raise ValueError("PACTRA_RESEND_WEBHOOK_SECRET must be the webhook's signing "
                                 "secret as Resend shows it: whsec_ and base64")
        return value

    def webhook_retry_delays(self) -> list[float]:
        return [float(part) for part in self.webhooks_retry_schedule.split(",") if part.strip()]
