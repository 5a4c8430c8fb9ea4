"""The signing service's own settings, read from ``PACTRA_*`` like the platform's."""

from pydantic import Field

from pactra_platform.settings import Settings


class SigningSettings(Settings):
    # Signers a workspace may invite per day during its first 7 days (0: no cap).
    new_workspace_signers_per_day: int = Field(default=50, ge=0)

    @classmethod
    def of(cls, settings: Settings | None) -> "SigningSettings":
        """These settings from the environment, over the platform settings given (a test
        stack builds those from its own environment, not the process's)."""
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump())
