"""The gateway's settings: the platform's, and what only the gateway reads (plans, rate limits,
the edge's proxies, deletion timings, the tests' billing clock), from the same ``PACTRA_*``
variables."""

from pydantic import Field

from pactra_platform.settings import Settings


class GatewaySettings(Settings):
    # Unset: each workspace's plan sets its keys' rate (domain/plans.py). Set: an operator's cap
    # that overrides every plan.
    rate_limit_per_key: str | None = None
    rate_limit_per_ip: str = "300/minute"
    # Plans (domain/plans.py): the YAML file of plans (unset: the built-in free, team and
    # business) and the plan of new workspaces.
    plans_file: str | None = None
    default_plan: str = "free"
    # Tests only: a file holding a number of seconds added to the clock that decides billing
    # periods, so a test can step into the next month without waiting for it.
    clock_file: str | None = None
    # Failed authentications (401) one client IP may make; past it, 429 before any database
    # look-up of the key it presents.
    auth_failure_limit_per_ip: str = "20/minute"
    # Unknown signing tokens (/s/{token} answered 404) one client IP may try; past it, every
    # /s/* from that IP answers 429 until the window ends.
    token_lockout: str = "30/hour"  # noqa: S105 - a rate, not a secret (the name says token)
    # Signups (POST /v1/signup) per client IP and per email domain (`limits` rate strings):
    # a cheap bound on mass-made workspaces; an acceptance run raises them.
    signup_limit_per_ip: str = "10/hour"
    signup_limit_per_domain: str = "100/hour"
    # Account recovery requests (POST /v1/account/recover) per client IP and per address.
    recover_limit_per_ip: str = "10/hour"
    recover_limit_per_email: str = "3/hour"
    # The gateway takes the client's address from exactly this many proxies in front of it
    # (nginx under make run and the tests, or an ingress).
    proxy_hops: int = 1
    # Deletion (api.md, "Deletion and retention"): the purge of a confirmed deletion starts
    # this long after the confirmation (0: at once); a workspace's retention_days may not go
    # below the platform minimum; a service that has not reported its purge this long is asked
    # again.
    deletion_grace_hours: float = Field(default=24.0, ge=0)
    min_retention_days: int = Field(default=1, ge=1)
    deletion_retry_seconds: float = Field(default=300.0, gt=0)
