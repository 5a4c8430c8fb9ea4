"""The shipped clause model at analysis time: numpy only, loaded once per process."""

import json
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .features import unit_features
from .segment import Unit

MODEL_PATH = Path(__file__).with_name("clause_model.npz")


class DecisionRule(NamedTuple):
    """Which units of a document are predicted as one type: those scoring at least
    ``threshold``, best first, at most ``most`` of them; when none does, the best unit alone
    if it scores at least ``fallback * threshold`` (0: never)."""

    threshold: float
    most: int
    fallback: float


def chosen_units(scores: np.ndarray, rule: DecisionRule) -> list[int]:
    """The indices of the units the rule picks from one type's scores, in document order."""
    if not len(scores):
        return []
    best = np.argsort(-scores, kind="stable")[:rule.most]
    chosen = [int(i) for i in best if scores[i] >= rule.threshold]
    if not chosen and rule.fallback and scores[best[0]] >= rule.threshold * rule.fallback:
        chosen = [int(best[0])]
    return sorted(chosen)


class ClauseModel:
    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path) as data:
            self.weights = data["weights"].astype(np.float32)
            self.bias = data["bias"]
            self.rules = [DecisionRule(float(t), int(m), float(f)) for t, m, f in data["rules"]]
            self.types: list[str] = json.loads(str(data["types"]))
            names: list[str] = json.loads(str(data["vocabulary"]))
        self.vocabulary = {name: index for index, name in enumerate(names)}

    def scores(self, units: list[Unit]) -> np.ndarray:
        """Probability of each unit (rows) being each type (columns)."""
        result = np.empty((len(units), len(self.types)), dtype=np.float32)
        for index in range(len(units)):
            logits = self.bias.copy()
            for name, value in unit_features(units, index).items():
                column = self.vocabulary.get(name)
                if column is not None:
                    logits += value * self.weights[column]
            result[index] = logits
        return 1 / (1 + np.exp(-result))


@lru_cache(maxsize=1)
def shared_model() -> ClauseModel:
    return ClauseModel()
