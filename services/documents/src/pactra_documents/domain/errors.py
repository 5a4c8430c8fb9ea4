"""The documents service's domain errors; ``entrypoints/errors.py`` turns each into its problem
document (api.md), the one place that knows their codes and statuses."""


class DocumentError(Exception):
    """Anything the documents service refuses to do."""


class NotFound(DocumentError):
    """No such document in the workspace (or not in the caller's mode)."""

    def __init__(self, document_id: str) -> None:
        super().__init__(document_id)
        self.document_id = document_id


class PageNotFound(NotFound):
    """The document has no such page (or its original is gone from the bucket)."""

    def __init__(self, document_id: str, page: int) -> None:
        super().__init__(document_id)
        self.page = page


class UnknownCursor(DocumentError):
    """A list's ``starting_after`` names no document of the workspace."""


class InvalidListLimit(DocumentError):
    """A list's ``limit`` is not a whole number from 1 to ``MAX_LIST_LIMIT``."""


class InUse(DocumentError):
    """An agreement holds the document until its evidence is settled."""


class Refused(DocumentError):
    """An upload the API refuses; ``code`` is the problem code (api.md)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class MalformedUpload(DocumentError):
    """A body that does not hold a file the way its content type says it should."""


class UploadTooLarge(DocumentError):
    """An upload larger than the service takes, declared or found while streaming."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class RenderBusy(DocumentError):
    """Every render slot of this process is taken; the client should retry shortly."""


class RenderFailed(DocumentError):
    """A page cannot be rendered; ``retry`` when trying again later may succeed (timeout)."""

    def __init__(self, detail: str, *, retry: bool, page: int = 0) -> None:
        super().__init__(detail)
        self.retry = retry
        self.page = page
