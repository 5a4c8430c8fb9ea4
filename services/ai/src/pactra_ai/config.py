"""The ai service's settings: the platform's, and its own ``PACTRA_AI_*``."""

from pydantic import BaseModel, Field

from pactra_platform.settings import Settings

SERVICE = "ai"
# No configuration sends more than this much contract text in one request to the provider
# (about 50,000 tokens): a bound on what one call can leak and cost.
MAX_CHUNK_CHARS = 200_000


class LlmSettings(BaseModel):
    """What the LLM engine needs of its provider: where, as whom, which model, and how."""

    base_url: str
    api_key: str = Field(default="", repr=False)
    model: str = "openai/gpt-4o-mini"
    redact: bool = False
    timeout_seconds: float = 60.0
    max_retries: int = 4
    chunk_chars: int = Field(default=24_000, ge=1_000, le=MAX_CHUNK_CHARS)


class AiSettings(Settings):
    # Without a base URL the platform has no provider: every workspace gets the offline engine.
    ai_base_url: str | None = None
    ai_api_key: str = Field(default="", repr=False)
    ai_model: str = "openai/gpt-4o-mini"
    ai_monthly_tokens: int = 2_000_000
    ai_redact: bool = False
    ai_timeout_seconds: float = 60.0
    ai_max_retries: int = 4
    ai_chunk_chars: int = Field(default=24_000, ge=1_000, le=MAX_CHUNK_CHARS)
    # A claimed analysis whose worker vanished is picked up again after this long.
    ai_stale_seconds: float = 600.0

    @property
    def llm(self) -> LlmSettings | None:
        """The LLM provider's settings, or None where the platform has none."""
        if not self.ai_base_url:
            return None
        return LlmSettings(base_url=self.ai_base_url, api_key=self.ai_api_key, model=self.ai_model,
                           redact=self.ai_redact, timeout_seconds=self.ai_timeout_seconds,
                           max_retries=self.ai_max_retries, chunk_chars=self.ai_chunk_chars)
