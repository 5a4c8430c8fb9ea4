"""What the use cases need from outside besides the unit of work: the bucket that holds the
documents' bytes, and the PDF probe. ``bootstrap.py`` gives them the real ones
(``pactra_platform.objects.EncryptedObjectStore``, ``adapters/pdf_probe.py``), unit tests
fakes."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from ..domain.model import Inspection


class ObjectStore(Protocol):
    """Objects encrypted at rest; ``get`` raises ``pactra_platform.objects.ObjectMissing`` for
    a name it does not hold (before it returns)."""

    def put(self, name: str, chunks: Iterable[bytes], *, workspace_id: str | None = None) -> int: ...

    def get(self, name: str) -> Iterator[bytes]: ...

    def delete(self, name: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...


class PdfProbe(Protocol):
    """Reads untrusted PDFs where they can do no harm (``adapters/pdf_probe.py`` is one)."""

    def inspect(self, pdf_path: Path, text_path: Path) -> Inspection:
        """Validate the PDF, count its pages and write its text (pages joined by ``\\f``)."""

    def render_page(self, pdf_path: Path, page: int, png_path: Path) -> bool:
        """Render page ``page`` (1-based) as PNG; False when the document has no such page;
        ``RenderFailed`` when it cannot be rendered."""
