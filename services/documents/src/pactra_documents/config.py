"""The documents service's settings: the platform's base settings plus what only it reads."""

from pydantic import Field

from pactra_platform.settings import Settings


class DocumentsSettings(Settings):
    # Page images one API process renders at once (PACTRA_PAGE_RENDERS_AT_ONCE). A request
    # beyond that waits up to PACTRA_PAGE_RENDER_SLOT_WAIT_SECONDS for a slot (the signer page
    # asks for every page at once, and a page renders in a fraction of a second), then is told
    # to come back (503 + Retry-After) rather than queued without bound.
    page_renders_at_once: int = Field(default=2, ge=1)
    page_render_slot_wait_seconds: float = Field(default=10.0, ge=0)
