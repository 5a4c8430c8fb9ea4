"""Short answers found by rules: the parties' names and defined terms, and the dates."""

import re
from dataclasses import dataclass

PREAMBLE_CHARS = 3000

_SUFFIX = (r"(?:Inc|Incorporated|Corporation|Corp|Company|Co|LLC|L\.L\.C|Ltd|Limited|LP|L\.P|"
           r"LLP|N\.A|GmbH|AG|SA|S\.A|SAS|plc|PLC|B\.V|N\.V|S\.p\.A|S\.A\.S|Pty|Trust|Bank|"
           r"Association|Partnership|Fund|Holdings|Group|University|Authority)")
_NAME_WORD = r"(?:[A-Z0-9][\w&'\u2019.\-]*|of|and|&|de|du|the)"
_COMPANY = re.compile(
    rf"\b[A-Z][\w&'\u2019.\-]*(?:[ \t]+{_NAME_WORD}){{0,7}}?,?[ \t]+{_SUFFIX}\b\.?"
    rf"(?:,?\s+(?:Inc|Ltd|LLC|Co|Corp|Limited)\b\.?)?",
)
_DEFINED = re.compile(
    r"(?:\(\s*(?:hereinafter\s+(?:referred\s+to\s+as\s+|called\s+)?|the\s+|each\s+a\s+|"
    r"individually\s+|collectively\s+|and\s+together\s+with[^\"\u201c]{0,60}?the\s+)?|"
    r"hereinafter\s+(?:referred\s+to\s+as\s+|called\s+)?(?:the\s+)?|\bas\s+)"
    r"[\"\u201c\u201d']{1,2}([A-Z][^\"\u201c\u201d'\n]{0,40}?)[\"\u201c\u201d']{1,2}"
)
_NOT_PARTY_TERMS = {
    "agreement", "effective date", "amendment", "contract", "term", "territory", "products",
    "product", "services", "execution date", "commencement date", "parties", "party",
    "license agreement", "original agreement", "plan", "program", "purchase agreement",
}
_START = re.compile(r"\b(?:between|among|by and between|by and among|entered into by|"
                    r"parties|BETWEEN|AMONG)\b")

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_DATE = re.compile(
    rf"(?:\b\d{{1,2}}(?:st|nd|rd|th)?\s+day\s+of\s+{_MONTH},?\s+(?:\d{{4}}|\[\s*\])|"
    rf"\[[ _]*\]\s+day\s+of\s+\[[ _]*\],?\s+\d{{4}}|"
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|"
    rf"\b{_MONTH}\s+(?:\[[ _]*\]|_+),?\s+\d{{4}}|"
    rf"\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b)",
    re.IGNORECASE,
)
_EFFECTIVE = re.compile(r"effective|commence", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    type: str
    start: int
    end: int
    confidence: float


def _preamble(text: str) -> tuple[int, int]:
    match = _START.search(text, 0, PREAMBLE_CHARS)
    begin = 0 if match is None else max(0, match.start() - 400)
    stop = begin + 1800
    for marker in ("WHEREAS", "RECITALS", "W I T N E S S E T H", "NOW, THEREFORE", "Recitals"):
        at = text.find(marker, begin + 80, stop)
        if at != -1:
            stop = at
    return begin, min(stop, len(text))


def parties(text: str) -> list[Found]:
    begin, stop = _preamble(text)
    found: list[Found] = []
    seen: set[str] = set()
    company_ends: list[int] = []
    for match in _COMPANY.finditer(text, begin, stop):
        name = match.group(0).strip(" ,")
        if name.lower() in seen or len(name) < 4:
            continue
        seen.add(name.lower())
        found.append(Found("Parties", match.start(), match.start() + len(name), 0.8))
        company_ends.append(match.end())
    for match in _DEFINED.finditer(text, begin, stop):
        term = match.group(1).strip()
        if term.lower() in _NOT_PARTY_TERMS or term.lower() in seen:
            continue
        near_party = any(0 <= match.start() - end <= 250 for end in company_ends)
        if not near_party and not match.group(0).startswith(("(", "herein")):
            continue
        seen.add(term.lower())
        start = match.start(1)
        found.append(Found("Parties", start, start + len(term), 0.7 if near_party else 0.5))
    return found


def dates(text: str) -> list[Found]:
    stop = _preamble(text)[1]
    found: list[Found] = []
    first = _DATE.search(text, 0, max(stop, 2500))
    if first is not None:
        found.append(Found("Agreement Date", first.start(), first.end(), 0.7))
        context = text[max(0, first.start() - 120):first.start()]
        if _EFFECTIVE.search(context):
            found.append(Found("Effective Date", first.start(), first.end(), 0.7))
    for match in re.finditer(r"[\"\u201c]Effective Date[\"\u201d]", text):
        window = text[max(0, match.start() - 150):match.end() + 150]
        date = _DATE.search(window)
        if date is not None:
            offset = max(0, match.start() - 150)
            found.append(Found("Effective Date", offset + date.start(), offset + date.end(), 0.8))
            break
    if first is not None and not any(item.type == "Effective Date" for item in found):
        found.append(Found("Effective Date", first.start(), first.end(), 0.4))
    return found
