"""Reading the CUAD sample in ``shared/data/cuad`` (only evaluation, training and tests do)."""

import json
from dataclasses import dataclass
from pathlib import Path

from pactra_ai.domain.clause_types import CLAUSE_TYPES

from .testing import shared_data


def _default_root() -> Path:
    """``cuad`` in the shared test data (:func:`pactra_devtools.testing.shared_data`); on a
    machine without it, where it would be, so that importing this module never fails."""
    try:
        return shared_data("cuad")
    except FileNotFoundError:
        return Path("/work/shared/data/cuad")


DEFAULT_ROOT = _default_root()


@dataclass(frozen=True)
class Contract:
    id: str
    split: str
    text_path: Path
    pdf_path: Path | None
    spans: dict[str, list[str]]  # clause type -> labelled span texts
    answers: dict[str, str]

    def text(self) -> str:
        return self.text_path.read_text(encoding="utf-8")


def load(split: str | None = None, root: Path = DEFAULT_ROOT) -> list[Contract]:
    root = root.resolve()
    data = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    contracts = []
    for entry in data["contracts"]:
        if split is not None and entry["split"] != split:
            continue
        labels = entry["labels"]
        spans = {name: [span["text"] for span in labels[name]["spans"]]
                 for name in CLAUSE_TYPES if labels.get(name, {}).get("spans")}
        answers = {name: str(value.get("answer") or "") for name, value in labels.items()}
        pdf = entry.get("pdf")
        contracts.append(Contract(entry["id"], entry["split"], root / entry["txt"],
                                  root / pdf if pdf else None, spans, answers))
    return contracts
