"""The word-overlap rule by which a predicted clause matches a labelled span (issue 5)."""

import re

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def matches(predicted: frozenset[str], labelled: frozenset[str]) -> bool:
    if not predicted or not labelled:
        return False
    common = len(predicted & labelled)
    return common >= 0.5 * len(labelled) and common >= 0.3 * len(predicted)
