"""The ai service's own settings (``PACTRA_AI_*``), beside the platform's."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# No configuration sends more than this much contract text in one request to the provider
# (about 50,000 tokens): a bound on what one call can leak and cost.
MAX_CHUNK_CHARS = 200_000


class AiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PACTRA_AI_", extra="ignore")

    # Without a base URL the platform has no provider: every workspace gets the offline engine.
    base_url: str | None = None
    api_key: str = Field(default="", repr=False)
    model: str = "openai/gpt-4o-mini"
    monthly_tokens: int = 2_000_000
    redact: bool = False
    timeout_seconds: float = 60.0
    max_retries: int = 4
    chunk_chars: int = Field(default=24_000, ge=1_000, le=MAX_CHUNK_CHARS)
    # A claimed analysis whose worker vanished is picked up again after this long.
    stale_seconds: float = 600.0

    @property
    def llm_configured(self) -> bool:
        return bool(self.base_url)


@lru_cache
def get_ai_settings() -> AiSettings:
    return AiSettings()
