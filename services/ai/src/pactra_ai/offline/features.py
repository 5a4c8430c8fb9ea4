"""Features of a unit for the clause model: the same function serves training and analysis."""

import itertools
import math
import re

from .segment import Unit

_TOKEN = re.compile(r"[a-z]+|[0-9]+")
POSITION_BUCKETS = 10


def _tokens(text: str) -> list[str]:
    return ["0" if token[0].isdigit() else token for token in _TOKEN.findall(text.lower())]


def unit_features(units: list[Unit], index: int) -> dict[str, float]:
    """Binary word and word-pair features of the unit, the words of the unit before it (often
    a heading), its place in the document and its length; L2-normalised."""
    unit = units[index]
    tokens = _tokens(unit.text)
    features: dict[str, float] = {}
    for token in tokens:
        features[token] = 1.0
    for first, second in itertools.pairwise(tokens):
        features[f"{first} {second}"] = 1.0
    if index:
        for token in _tokens(units[index - 1].text)[:30]:
            features["p:" + token] = 0.5
    features[f"pos:{index * POSITION_BUCKETS // max(1, len(units))}"] = 1.0
    features[f"len:{min(6, int(math.log2(1 + len(tokens))))}"] = 1.0
    if unit.text[:60].isupper():
        features["upper"] = 1.0
    norm = math.sqrt(sum(value * value for value in features.values())) or 1.0
    return {name: value / norm for name, value in features.items()}
