"""The ai service's domain errors. entrypoints/errors.py turns those a request can meet into
problem documents; the runner records the others on the analysis as its ``error``."""


class AiError(Exception):
    """The root of the service's domain errors."""


class AiDisabled(AiError):
    """The workspace turned AI analysis off."""


class SettingsUnavailable(AiError):
    """The gateway did not say what the workspace allows: nothing starts until it does."""


class AnalysisNotFound(AiError):
    """The document has no analysis (yet)."""


class DocumentNotFound(AiError):
    """The documents service knows no such document in this workspace."""


class DocumentGone(AiError):
    """The document's text is no longer there (deleted, or purged) when the runner asks."""


class TokensSpent(AiError):
    """The workspace used its LLM tokens for the month."""


class QuotaRefused(AiError):
    """The plan's quota refused the analysis (the gateway's ``quota_exceeded``)."""


class AnalysisExists(AiError):
    """A concurrent request recorded the document's analysis first."""


class IllegalTransition(AiError):
    """An analysis was asked to move from a status that does not allow it."""


class Withdrawn(AiError):
    """The workspace no longer allows the analysis to go on (``reason``: ``ai_disabled``,
    ``engine_changed``, or ``settings_unavailable`` when the gateway could not say);
    ``tokens`` were spent before it was stopped."""

    def __init__(self, reason: str, tokens: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tokens = tokens
