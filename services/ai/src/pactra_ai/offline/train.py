"""Training the clause model on CUAD's dev split (never test): ``python -m pactra_ai.offline.train``.

One logistic regression per clause type over unit features; a unit is a positive example when
it matches a labelled span of that type by the evaluation's word rule. Each type's decision
threshold is chosen by cross-validation over dev contracts. The result ships in this package
(``clause_model.npz``), so analysis never needs the data, scikit-learn or the network.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from .. import cuad
from ..clause_types import SENTENCE_TYPES
from .features import unit_features
from .matching import matches, words
from .segment import units

MODEL_PATH = Path(__file__).with_name("clause_model.npz")
FOLDS = 5
MIN_COUNT = 2
C = 4.0


def _dataset(contracts: list[cuad.Contract]):
    rows, labels, groups = [], [], []
    for number, contract in enumerate(contracts):
        pieces = units(contract.text())
        spans = {name: [words(span) for span in contract.spans.get(name, [])]
                 for name in SENTENCE_TYPES}
        for index, unit in enumerate(pieces):
            unit_words = words(unit.text)
            rows.append(unit_features(pieces, index))
            labels.append([any(matches(unit_words, span) for span in spans[name])
                           for name in SENTENCE_TYPES])
            groups.append(number)
    return rows, np.array(labels, dtype=bool), np.array(groups)


def _matrix(rows: list[dict[str, float]], vocabulary: dict[str, int]) -> csr_matrix:
    data, indices, pointers = [], [], [0]
    for row in rows:
        for name, value in row.items():
            column = vocabulary.get(name)
            if column is not None:
                indices.append(column)
                data.append(value)
        pointers.append(len(indices))
    return csr_matrix((data, indices, pointers), shape=(len(rows), len(vocabulary)))


def _vocabulary(rows: list[dict[str, float]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        for name in row:
            counts[name] = counts.get(name, 0) + 1
    return {name: i for i, name in enumerate(sorted(n for n, c in counts.items() if c >= MIN_COUNT))}


def _fit(matrix: csr_matrix, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weights = np.zeros((matrix.shape[1], labels.shape[1]), dtype=np.float32)
    bias = np.full(labels.shape[1], -10.0, dtype=np.float32)
    for column in range(labels.shape[1]):
        if labels[:, column].sum() < 2:
            continue
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
        model.fit(matrix, labels[:, column])
        weights[:, column] = model.coef_[0]
        bias[column] = model.intercept_[0]
    return weights, bias


def _thresholds(rows, labels, groups) -> np.ndarray:
    """Per type, the probability threshold that maximises unit-level F1 out of fold."""
    scores = np.zeros(labels.shape, dtype=np.float32)
    for fold in range(FOLDS):
        train = groups % FOLDS != fold
        vocabulary = _vocabulary([row for row, keep in zip(rows, train, strict=True) if keep])
        weights, bias = _fit(_matrix([r for r, k in zip(rows, train, strict=True) if k],
                                     vocabulary), labels[train])
        held = ~train
        held_matrix = _matrix([r for r, k in zip(rows, held, strict=True) if k], vocabulary)
        scores[held] = 1 / (1 + np.exp(-(held_matrix @ weights + bias)))
    thresholds = np.zeros(labels.shape[1], dtype=np.float32)
    for column, name in enumerate(SENTENCE_TYPES):
        best = (0.0, 0.5)
        for threshold in np.arange(0.3, 0.99, 0.02):
            predicted = scores[:, column] >= threshold
            hits = (predicted & labels[:, column]).sum()
            f1 = 2 * hits / max(1, predicted.sum() + labels[:, column].sum())
            best = max(best, (f1, float(threshold)))
        thresholds[column] = best[1]
        print(f"{name:38s} out-of-fold unit F1 {best[0]:.3f} at {best[1]:.2f}")
    return thresholds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    rows, labels, groups = _dataset(cuad.load("dev"))
    thresholds = _thresholds(rows, labels, groups)
    vocabulary = _vocabulary(rows)
    weights, bias = _fit(_matrix(rows, vocabulary), labels)
    names = sorted(vocabulary, key=vocabulary.__getitem__)
    np.savez_compressed(args.out, weights=weights.astype(np.float16), bias=bias,
                        thresholds=thresholds, types=np.array(json.dumps(SENTENCE_TYPES)),
                        vocabulary=np.array(json.dumps(names)))
    print(f"wrote {args.out} ({len(names)} features)")


if __name__ == "__main__":
    main()
