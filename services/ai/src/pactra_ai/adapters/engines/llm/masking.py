"""Replacing parts of the text before it leaves Pactra, keeping a map back to the original.

Redaction swaps emails, phone numbers and account numbers for placeholders; instruction-like
sentences planted in a document are blanked out whatever the setting, so the model never reads
them. Offsets the model's quotes resolve to in the masked text map back into the original.

Every pattern here runs in time linear in the text, whatever an uploader puts in it: a
pattern may only start where a token starts (a look-behind rejects every position inside a
run in one step), its repetitions are possessive or bounded, and the paragraph around a
planted instruction is found from the instruction outwards (one search for the short trigger,
then a bisection among the paragraph breaks) instead of by a regex that tried a 600-character
window at every position. tests/unit/test_masking.py holds each to the regex it replaced.
"""

import bisect
import re
from dataclasses import dataclass

# Starts only where a run of local-part characters starts; possessive runs never give back
# (no character of a run can be "@" or ".", so nothing a backtrack could find is lost).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_ACCOUNT = re.compile(r"(?<![\w/.-])\d(?:[ -]?\d){7,18}(?![\w/-]|\.\d)")
_PHONE = re.compile(r"(?<![\w])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,4}[ .-]\d{3,4}"
                    r"(?:[ .-]\d{2,4})?(?![\w])")
# A planted instruction: its verb, at most 60 characters of one sentence, its object.
_TRIGGER = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,60}"
    r"\b(?:instructions?|prompts?|rules|directions)\b", re.IGNORECASE)
# A newline that ends a paragraph (a blank line follows it).
_PARAGRAPH_BREAK = re.compile(r"\n(?=[ \t]*+\n)")
# The whole paragraph around a planted instruction goes, up to this many characters either
# side: its neighbours are the attacker's too.
INJECTION_REACH = 600


@dataclass(frozen=True)
class Masked:
    text: str
    starts: list[int]  # original offset where a span beginning at masked offset i begins
    ends: list[int]  # original offset where a span ending at masked offset i ends

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end]


def injection_spans(text: str, reach: int = INJECTION_REACH) -> list[tuple[int, int]]:
    """Each planted instruction with up to ``reach`` characters of its paragraph either side;
    the spans the regex ``(?:[^\\n]|\\n(?![ \\t]*\\n)){0,reach}? TRIGGER (same){0,reach}``
    would find, left to right and not overlapping, in one pass."""
    breaks = [found.start() for found in _PARAGRAPH_BREAK.finditer(text)]
    spans: list[tuple[int, int]] = []
    position = 0
    while (found := _TRIGGER.search(text, position)) is not None:
        start, end = found.span()  # a trigger holds no newline, so no break lies inside it
        before = bisect.bisect_left(breaks, start)  # breaks[before - 1] < start
        paragraph_start = breaks[before - 1] + 1 if before else 0
        after = bisect.bisect_left(breaks, end)  # breaks[after] >= end
        paragraph_end = breaks[after] if after < len(breaks) else len(text)
        span = (max(position, start - reach, paragraph_start), min(end + reach, paragraph_end))
        spans.append(span)
        position = span[1]
    return spans


def _replacements(text: str, redact: bool) -> list[tuple[int, int, str]]:
    found = [(start, end, " ") for start, end in injection_spans(text)]
    if redact:
        for pattern, label in ((_EMAIL, "[EMAIL]"), (_IBAN, "[ACCOUNT]"),
                               (_ACCOUNT, "[ACCOUNT]"), (_PHONE, "[PHONE]")):
            found.extend((m.start(), m.end(), label) for m in pattern.finditer(text))
    found.sort(key=lambda item: (item[0], -item[1]))  # the longest match wins a tie
    chosen: list[tuple[int, int, str]] = []
    for start, end, label in found:
        if chosen and start < chosen[-1][1]:
            continue  # overlaps a replacement already chosen
        chosen.append((start, end, label))
    return chosen


def mask(text: str, *, redact: bool) -> Masked:
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = [0]
    position = 0

    def keep(upto: int) -> None:
        parts.append(text[position:upto])
        for index in range(position, upto):
            starts.append(index)
            ends.append(index + 1)

    for start, end, label in _replacements(text, redact):
        keep(start)
        parts.append(label)
        starts.extend([start] * len(label))
        ends.extend([end] * len(label))
        position = end
    keep(len(text))
    starts.append(len(text))
    return Masked("".join(parts), starts, ends)
