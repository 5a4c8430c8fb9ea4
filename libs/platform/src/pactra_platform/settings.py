"""Configuration from the environment, one prefix (architecture.md, "Configuration")."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("gateway", "documents", "signing", "receipts", "notify", "ai")
DEFAULT_PORTS = {
    "gateway": 8080, "documents": 8081, "signing": 8082,
    "receipts": 8083, "notify": 8084, "ai": 8085,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PACTRA_", extra="ignore")

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/"
    db_prefix: str = "pactra_"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    bus_prefix: str = "pactra"
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
    internal_secret: str = Field(default="", repr=False)
    rate_limit_per_key: str = "100/second"
    rate_limit_per_ip: str = "300/minute"
    # How long a gateway process trusts an API key it has checked, without asking the database
    # again: the longest a key revoked through another gateway process keeps working. 0: never.
    auth_cache_seconds: float = 5.0
    # Set when the platform has an LLM provider; without it only the offline engine exists.
    ai_base_url: str | None = None
    max_upload_bytes: int = 25 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    documents_port: int = 8081
    signing_port: int = 8082
    receipts_port: int = 8083
    notify_port: int = 8084
    ai_port: int = 8085
    services_host: str = "127.0.0.1"
    # The relay is woken by LISTEN/NOTIFY when an outbox row commits; this poll only catches a
    # notification lost while its connection was down.
    outbox_poll_seconds: float = 2.0
    log_level: str = "INFO"

    def port_of(self, service: str) -> int:
        return int(getattr(self, f"{service}_port"))

    def url_of(self, service: str) -> str:
        return f"http://{self.services_host}:{self.port_of(service)}"

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def database_url_of(self, service: str) -> str:
        return self.database_url.rstrip("/") + "/" + self.database_name(service)

    def require_secrets(self) -> None:
        if len(self.master_key) < 32 or len(self.internal_secret) < 32:
            raise RuntimeError(
                "PACTRA_MASTER_KEY and PACTRA_INTERNAL_SECRET must be set (32+ characters); "
                "`make run` generates them into .pactra/secrets.env"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
