"""The shipped clause model at analysis time: numpy only, loaded once per process."""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import unit_features
from .segment import Unit

MODEL_PATH = Path(__file__).with_name("clause_model.npz")


class ClauseModel:
    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path) as data:
            self.weights = data["weights"].astype(np.float32)
            self.bias = data["bias"]
            self.thresholds = data["thresholds"]
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
