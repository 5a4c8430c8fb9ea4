"""Replacing parts of the text before it leaves Pactra, keeping a map back to the original.

Redaction swaps emails, phone numbers and account numbers for placeholders; instruction-like
sentences planted in a document are blanked out whatever the setting, so the model never reads
them. Offsets the model's quotes resolve to in the masked text map back into the original.
"""

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_ACCOUNT = re.compile(r"(?<![\w/.-])\d(?:[ -]?\d){7,18}(?![\w/-]|\.\d)")
_PHONE = re.compile(r"(?<![\w])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,4}[ .-]\d{3,4}"
                    r"(?:[ .-]\d{2,4})?(?![\w])")
# The whole paragraph around a planted instruction goes: its neighbours are the attacker's too.
_INJECTION = re.compile(
    r"(?:[^\n]|\n(?![ \t]*\n)){0,600}?\b(?:ignore|disregard|forget|override)\b[^.\n]{0,60}"
    r"\b(?:instructions?|prompts?|rules|directions)\b(?:[^\n]|\n(?![ \t]*\n)){0,600}",
    re.IGNORECASE)


@dataclass(frozen=True)
class Masked:
    text: str
    starts: list[int]  # original offset where a span beginning at masked offset i begins
    ends: list[int]  # original offset where a span ending at masked offset i ends

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end]


def _replacements(text: str, redact: bool) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), " ") for m in _INJECTION.finditer(text)]
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
