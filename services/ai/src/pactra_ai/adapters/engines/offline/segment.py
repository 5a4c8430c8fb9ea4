"""Cutting contract text into sentence-like units, each with its offsets into the text.

Contracts mix prose, numbered sections, headings and tables, and their extracted text keeps
odd whitespace; a unit ends at a sentence end, a blank line, or a line that starts a new
numbered section or heading.
"""

import re
from dataclasses import dataclass

MAX_UNIT = 1500
MIN_UNIT = 3

_ABBREVIATIONS = {
    "inc", "co", "corp", "ltd", "no", "nos", "sec", "art", "e.g", "i.e", "etc", "u.s", "n.a",
    "l.p", "l.l.c", "s.a", "mr", "mrs", "ms", "dr", "st", "vs", "v", "jr", "sr", "cf", "para",
    "approx", "dept", "est", "fig", "p", "pp", "b.v", "n.v", "s.p.a", "plc", "llc", "u.k",
}
# A sentence end: terminal punctuation (maybe closed by a quote or bracket), then space and a
# capital, digit, quote or bracket.
_SENTENCE_END = re.compile(r"[.?!][\"'\u201d\u2019)]?(?=\s+[\"'\u201c(\[A-Z0-9])")
# A hard break: a blank line, a form feed, or a newline before a numbered item or heading.
_HARD_BREAK = re.compile(
    r"\n[ \t]*\n\s*|\f\s*|\n(?=[ \t]*(?:\(?[0-9]{1,2}(?:\.[0-9]{1,2})*[.)]\s|\(?[a-z]{1,3}\)\s|"
    r"ARTICLE|Section|SECTION|[A-Z][A-Z ]{6,}\n))"
)


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    text: str


def _word_before(text: str, index: int) -> str:
    match = re.search(r"([A-Za-z.]+)$", text[max(0, index - 12):index])
    return match.group(1).lower().rstrip(".") if match else ""


def _cuts(text: str) -> list[int]:
    cuts = set()
    for match in _HARD_BREAK.finditer(text):
        cuts.add(match.end())
    for match in _SENTENCE_END.finditer(text):
        word = _word_before(text, match.start())
        if word in _ABBREVIATIONS or (len(word) == 1 and text[match.start()] == "."):
            continue
        cuts.add(match.end())
    return sorted(cuts)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def units(text: str) -> list[Unit]:
    """The text's units in order, trimmed of surrounding whitespace; overlong ones are cut."""
    found: list[Unit] = []
    previous = 0
    for cut in [*_cuts(text), len(text)]:
        start, end = _trimmed(text, previous, cut)
        previous = cut
        while end - start > MAX_UNIT:
            split = text.rfind(" ", start, start + MAX_UNIT)
            split = split if split > start else start + MAX_UNIT
            piece_start, piece_end = _trimmed(text, start, split)
            found.append(Unit(piece_start, piece_end, text[piece_start:piece_end]))
            start, end = _trimmed(text, split, end)
        if end - start >= MIN_UNIT:
            found.append(Unit(start, end, text[start:end]))
    return found
