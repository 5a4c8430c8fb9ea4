"""Configuration from the environment, one prefix (architecture.md, "Configuration").

The base settings name no service. What each service has its own of (its port, its broker
password, its internal signing key) is a mapping filled from ``PACTRA_<SERVICE>_PORT``,
``PACTRA_<SERVICE>_AMQP_PASSWORD`` and ``PACTRA_<SERVICE>_INTERNAL_KEY`` and read through
``port_of``, ``amqp_password_of`` and ``internal_key_of``; which services exist, and their
default ports, come from ``pactra_contracts.services``. A service's own settings are a subclass
of :class:`Settings` in its ``config.py``.
"""

import os
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pactra_contracts.services import DEFAULT_PORTS, SERVICES

# Re-exported for the modules and tests that still import it from here (transitional).
__all__ = ["SERVICES", "Settings", "get_settings"]

ENV_PREFIX = "PACTRA_"
# Per-service settings: the suffix of the variable (PACTRA_<SERVICE>_<SUFFIX>) -> the mapping
# field that holds them, keyed by the service's name in lower case.
PER_SERVICE = {"port": "ports", "amqp_password": "amqp_passwords", "internal_key": "internal_keys"}
_PER_SERVICE_NAME = re.compile(r"^(?P<service>[a-z][a-z0-9]*)_(?P<suffix>port|amqp_password|internal_key)$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PACTRA_", extra="ignore")

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/"
    db_prefix: str = "pactra_"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    bus_prefix: str = "pactra"
    # Each service connects to the broker as its own user, `<bus_prefix>-<service>`, with the
    # password PACTRA_<SERVICE>_AMQP_PASSWORD (`make run` and the test stack create the users).
    # Unset: PACTRA_AMQP_URL's user, the bootstrap/admin account, which can publish anything
    # (see amqp_url_of).
    amqp_passwords: dict[str, str] = Field(default_factory=dict, repr=False)
    # How many deliveries a failing message gets before it is dead-lettered.
    delivery_limit: int = 5
    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: str = "pactra"
    s3_secret_key: str = "pactra-dev-secret"  # noqa: S105 - the local dev store's default
    s3_secure: bool = False
    s3_bucket_prefix: str = "pactra-"
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    master_key: str = Field(default="", repr=False)
    # Each service's Ed25519 private key for signing internal calls (internal_auth.py), base64url
    # of the raw 32 bytes, from PACTRA_<SERVICE>_INTERNAL_KEY; a deployment gives each service
    # only its own.
    internal_keys: dict[str, str] = Field(default_factory=dict, repr=False)
    # "gateway=<b64>,documents=<b64>,...": public keys of services whose private key this
    # process does not have (those it has are derived from it).
    internal_public_keys: str = ""
    # Whether quotas are decided at all (`off`: usage is still counted, nothing is refused;
    # the bench's comparison run): the gateway's decisions and the ai service's reservations.
    quotas: bool = True
    # Set when the platform has an LLM provider; without it only the offline engine exists.
    ai_base_url: str | None = None
    max_upload_bytes: int = 25 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    gateway_host: str = "127.0.0.1"
    # The gateway sits behind nginx (make run, tests) or an ingress: nginx listens on the public
    # port (how many proxies stand in front is the gateway's PACTRA_PROXY_HOPS).
    public_port: int = 8080
    edge_max_connections_per_ip: int = 64
    # Each service's HTTP port, from PACTRA_<SERVICE>_PORT; a service not named there listens
    # on its default (pactra_contracts.services).
    ports: dict[str, int] = Field(default_factory=dict)
    services_host: str = "127.0.0.1"
    # The relay is woken by LISTEN/NOTIFY when an outbox row commits; this poll only catches a
    # notification lost while its connection was down.
    outbox_poll_seconds: float = 2.0
    # Published outbox rows are deleted this long after they were written: they hold whole
    # events (signature images, field values, names), needed only until the broker has them.
    outbox_retention_days: float = Field(default=7.0, gt=0)
    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _gather_per_service(cls, data: Any) -> Any:
        """Fill the per-service mappings from PACTRA_<SERVICE>_<SUFFIX> variables, and from
        keyword arguments of the same shape (``Settings(documents_internal_key=...)``, as the
        test stack builds its settings from its environment), which win over the environment."""
        if not isinstance(data, dict):
            return data
        declared = set(cls.model_fields)

        def per_service(pairs: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {field: {} for field in PER_SERVICE.values()}
            for key, value in pairs:
                match = _PER_SERVICE_NAME.match(key.lower())
                if match and key.lower() not in declared:
                    found[PER_SERVICE[match["suffix"]]][match["service"]] = value
            return found

        # Weakest first: the environment, then mappings passed whole, then single keywords.
        from_env = per_service([(name[len(ENV_PREFIX):], value) for name, value in os.environ.items()
                                if name.upper().startswith(ENV_PREFIX)])
        from_data = per_service([(str(key), value) for key, value in data.items()])
        rest = {key: value for key, value in data.items()
                if not (_PER_SERVICE_NAME.match(str(key).lower()) and str(key).lower() not in declared)}
        for field in PER_SERVICE.values():
            rest[field] = {**from_env[field], **(data.get(field) or {}), **from_data[field]}
        return rest

    def port_of(self, service: str) -> int:
        port = self.ports.get(service)
        if port is None:
            port = DEFAULT_PORTS.get(service)
        if port is None:
            raise KeyError(f"no port for {service!r}: set PACTRA_{service.upper()}_PORT")
        return int(port)

    def url_of(self, service: str) -> str:
        # One host for all (make run, tests), or a template naming each service's own host
        # where each runs apart (Compose, Kubernetes): PACTRA_SERVICES_HOST=pactra-{service}.
        host = self.services_host.replace("{service}", service)
        return f"http://{host}:{self.port_of(service)}"

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def database_url_of(self, service: str) -> str:
        return self.database_url.rstrip("/") + "/" + self.database_name(service)

    def internal_key_of(self, service: str) -> str:
        return str(self.internal_keys.get(service, "") or "")

    def amqp_user_of(self, service: str) -> str:
        return f"{self.bus_prefix}-{service}"

    def amqp_password_of(self, service: str) -> str:
        return str(self.amqp_passwords.get(service, "") or "")

    def amqp_url_of(self, service: str) -> str:
        """The broker URL ``service`` connects with: PACTRA_AMQP_URL's host, port and vhost as
        the service's own user. Without its password, PACTRA_AMQP_URL as it is."""
        password = self.amqp_password_of(service)
        if not password:
            return self.amqp_url
        parts = urlsplit(self.amqp_url)
        host = parts.hostname or "127.0.0.1"
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        netloc = (f"{quote(self.amqp_user_of(service), safe='')}:{quote(password, safe='')}@"
                  f"{host}{f':{parts.port}' if parts.port else ''}")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def require_secrets(self, service: str | None = None) -> None:
        """The master key, and ``service``'s internal signing key when it signs calls."""
        if len(self.master_key) < 32:
            raise RuntimeError(
                "PACTRA_MASTER_KEY must be set (32+ characters); "
                "`make run` generates it into .pactra/secrets.env"
            )
        if service is not None and not self.internal_key_of(service):
            raise RuntimeError(
                f"PACTRA_{service.upper()}_INTERNAL_KEY must be set; "
                "`make run` generates it into .pactra/secrets.env"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
