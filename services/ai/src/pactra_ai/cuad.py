"""Reading the CUAD sample in ``shared/data/cuad`` (only evaluation, training and tests do)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .clause_types import CLAUSE_TYPES


def _default_root() -> Path:
    """``../shared/data/cuad`` beside the project (``PACTRA_SHARED_DIR`` overrides; a clone
    elsewhere falls back to ``/work/shared``, where this workplace keeps it)."""
    for shared in (os.environ.get("PACTRA_SHARED_DIR", ""),
                   str(Path(__file__).resolve().parents[4] / ".." / "shared"), "/work/shared"):
        if shared and (Path(shared) / "data" / "cuad").is_dir():
            return Path(shared) / "data" / "cuad"
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
