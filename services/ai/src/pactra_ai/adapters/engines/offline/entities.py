"""Short answers found by rules: the parties' names and defined terms, and the dates."""

import re
from dataclasses import dataclass

PREAMBLE_CHARS = 3000
LATE_PREAMBLE_CHARS = 20000
PREAMBLE_WINDOW = 1800

_SUFFIX = (r"(?:Inc|Incorporated|Corporation|Corp|Company|Co|LLC|L\.L\.C|Ltd|Limited|LP|L\.P|"
           r"LLP|N\.A|GmbH|AG|SA|S\.A|SAS|plc|PLC|B\.V|N\.V|S\.p\.A|S\.A\.S|Pty|Trust|Bank|"
           r"Association|Partnership|Fund|Holdings|Group|University|Authority)")
_NAME_WORD = r"(?:[A-Z0-9][\w&'\u2019.\-]*|of|and|&|de|du|the)"
_COMPANY = re.compile(
    rf"\b[A-Z][\w&'\u2019.\-]*(?:[ \t]+{_NAME_WORD}){{0,7}}?,?[ \t]+(?:{_SUFFIX}|{_SUFFIX.upper()})\b\.?"
    rf"(?:,?\s+(?:Inc|INC|Ltd|LTD|LLC|Co|CO|Corp|CORP|Limited|LIMITED)\b\.?)?",
)
# Internet companies that spell their names in lower case ("drkoop.com, inc.").
_DOTCOM = re.compile(r"\b[a-z][\w\-]*\.com,?\s+(?:inc|Inc|INC)\b\.?")
_DEFINED = re.compile(
    r"(?:\(\s*(?:hereinafter\s+(?:referred\s+to\s+as\s+|called\s+)?|the\s+|each\s+a\s+|"
    r"individually\s+|collectively\s+|and\s+together\s+with[^\"\u201c]{0,60}?the\s+)?|"
    r"hereinafter\s+(?:referred\s+to\s+as\s+|called\s+)?(?:the\s+)?|\bas\s+|"
    r"(?<=[\"\u201d])\s+or\s+(?:the\s+)?)"
    r"[\"\u201c\u201d']{1,2}(?:the\s+)?([A-Z][^\"\u201c\u201d'\n]{0,40}?)[\"\u201c\u201d']{1,2}"
)
_NOT_PARTY_TERMS = {
    "agreement", "effective date", "amendment", "contract", "term", "territory", "products",
    "product", "services", "execution date", "commencement date", "parties", "party",
    "license agreement", "original agreement", "plan", "program", "purchase agreement",
}
# "a Delaware corporation" describes a party; it is not one.
_PLACES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware",
    "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky",
    "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota", "mississippi",
    "missouri", "montana", "nebraska", "nevada", "new", "hampshire", "jersey", "mexico", "york",
    "north", "south", "carolina", "dakota", "ohio", "oklahoma", "oregon", "pennsylvania", "rhode",
    "island", "tennessee", "texas", "utah", "vermont", "virginia", "washington", "west", "wisconsin",
    "wyoming", "cayman", "islands", "british", "swedish", "german", "english", "chinese", "japanese",
    "canadian", "israeli", "irish", "dutch", "french", "swiss", "liability", "limited", "public",
    "private", "a", "an", "the", "business", "stock", "nonprofit", "non-profit", "professional",
}
# Headings and tables of contents ("Section 4.01 The Company", "Remedies   9  14.   Company").
_NOT_A_NAME = re.compile(r"\b(?:Section|SECTION|Article|ARTICLE)\b|\b\d+\s{2,}\d+\.\s")
_SIDE = re.compile(r"\bParty\s+[A-D]\b")
# A defined term ending so names a document, a date or a thing, not a party.
_NOT_PARTY_LAST_WORDS = {
    "agreement", "agreements", "contract", "statement", "date", "amendment", "shares", "offering",
    "meeting", "board", "platform", "products", "product", "services", "territory", "term", "plan",
    "program", "act", "rules", "fees", "fee", "period", "notice", "schedule", "exhibit", "3", "2", "1",
}
# The sentence that names the parties together ('each a "Party" and together the "Parties"'):
# CUAD labels it as a Parties answer.
_TOGETHER = re.compile(r"[\"\u201c]Parties[.,]?[\"\u201d](?:[^.()\n]{0,60}?[\"\u201c]Party[.,]?[\"\u201d])?",
                       re.IGNORECASE)
_CLAUSE_START = re.compile(r"[()]|[.:]\s|\n|\s{3,}")
# The sentence often follows the last party's long description, past where the preamble is cut.
TOGETHER_REACH = 250
_START = re.compile(r"\b(?:between|among|by and between|by and among|entered into|is made|"
                    r"parties|BETWEEN|AMONG|PARTIES|MADE)\b")

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_DATE = re.compile(
    rf"(?:\b\d{{1,2}}\s*(?:st|nd|rd|th|s\s?t|t\s?h|n\s?d|r\s?d)?\s+day\s+of\s+{_MONTH}\s*,?\s+(?:\d{{4}}|\[\s*\])|"
    rf"\[[ _]*\]\s+day\s+of\s+\[[ _]*\],?\s+\d{{4}}|"
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|"
    rf"\b{_MONTH}\s+(?:\[[ _]*\]|_+),?\s+\d{{4}}|\[[_\u00b7 ]*\],?\s+\d{{4}}|"
    rf"\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b)",
    re.IGNORECASE,
)
OPENING_DATE_CHARS = 4000
_OPENING_CUE = re.compile(r"\b(?:dated|made|signed|entered|executed|this|as\s+of|effective|on)\b",
                          re.IGNORECASE)
_DATE_CUE = re.compile(r"\bdated\b|\bdate:|executed|effective|signed", re.IGNORECASE)
_EFFECTIVE = re.compile(r"effective|commence", re.IGNORECASE)
# When the agreement starts on an event rather than a date ("This Agreement shall become
# effective upon ...", "takes effect upon signature"), CUAD labels that sentence. It must open
# with the agreement as subject: "notice under this Agreement shall be effective when" is not it,
# and neither is "effective as of the Effective Date", which only points at the date.
_STARTS_ON = re.compile(
    r"(?-i:\bTh(?:is|e))\s+(?:term\s+of\s+this\s+)?(?:agreement|amendment|contract)\s+(?:executed[^.;]{0,40}?\s+)?"
    r"(?:(?:shall|will)\s+(?:only\s+|automatically\s+)?(?:become|be)\s+effective\s+(?:upon|when|as\s+of|on)|"
    r"is\s+effective\s+as\s+of|(?:shall\s+)?takes?\s+effect|shall\s+come\s+into\s+(?:force|effect)|"
    r"commences\s+upon)(?!\s+the\s+effective\s+date)",
    re.IGNORECASE,
)
# The labelled part stops where the sentence turns to the term's end ("... and shall remain").
_STARTS_ON_END = re.compile(r";|,?\s+and\s+(?:shall|will|unless)\b|\.(?:\s|$)|\n\s*\n")
STARTS_ON_CHARS = 600


@dataclass(frozen=True)
class Found:
    type: str
    start: int
    end: int
    confidence: float


def _preamble(text: str) -> tuple[int, int]:
    # A table of contents often pushes the opening past the first pages: the opening is where
    # "between" (or the like) is soon followed by a defined name.
    match = _START.search(text, 0, PREAMBLE_CHARS)
    if match is None or not (_DEFINED.search(text, match.end(), match.end() + 600)
                             or _COMPANY.search(text, match.end(), match.end() + 600)):
        match = next((found for found in _START.finditer(text, 0, LATE_PREAMBLE_CHARS)
                      if _DEFINED.search(text, found.end(), found.end() + 600)), match)
    return _window(text, 0 if match is None else max(0, match.start() - 400))


def _window(text: str, begin: int) -> tuple[int, int]:
    """The opening from begin to its recitals, at most PREAMBLE_WINDOW characters."""
    stop = begin + PREAMBLE_WINDOW
    for marker in ("WHEREAS", "RECITALS", "W I T N E S S E T H", "NOW, THEREFORE", "Recitals", "BACKGROUND"):
        at = text.find(marker, begin + 80, stop)
        if at != -1:
            stop = min(stop, at)
    return begin, min(stop, len(text))


def _only_places(name: str) -> bool:
    described = re.sub(rf"(?:{_SUFFIX}|{_SUFFIX.upper()})\.?$", "", name).lower().split()
    return all(word.strip(",.") in _PLACES for word in described)


def parties(text: str) -> list[Found]:
    begin, stop = _preamble(text)
    seen: set[str] = set()
    found, defined = _names(text, begin, stop, seen)
    if not defined:
        # A cover page or a title ("... by and between X and Y") can hold the names without
        # their defined terms; those follow in the opening after the table of contents.
        late = next((match for match in _START.finditer(text, stop, LATE_PREAMBLE_CHARS)
                     if _DEFINED.search(text, match.end(), match.end() + 600)), None)
        if late is not None:
            begin, stop = _window(text, max(stop, late.start() - 400))
            found.extend(_names(text, begin, stop, seen)[0])
    return found


def _names(text: str, begin: int, stop: int, seen: set[str]) -> tuple[list[Found], int]:
    """The parties named between begin and stop (not those in seen), and how many of them
    are defined terms."""
    found: list[Found] = []
    company_ends: list[int] = []
    for match in sorted([*_COMPANY.finditer(text, begin, stop), *_DOTCOM.finditer(text, begin, stop)],
                        key=lambda match: match.start()):
        name = match.group(0).strip(" ,")
        if (name.lower() in seen or len(name) < 4 or _only_places(name) or _NOT_A_NAME.search(name)
                or _filing_line(text, match.start())):
            continue
        seen.add(name.lower())
        found.append(Found("Parties", match.start(), match.start() + len(name), 0.8))
        company_ends.append(match.end())
    defined = 0
    for match in _DEFINED.finditer(text, begin, stop):
        term = match.group(1).strip(" ,.")
        last = term.lower().split()[-1] if term.split() else ""
        if term.lower() in _NOT_PARTY_TERMS or term.lower() in seen or last in _NOT_PARTY_LAST_WORDS:
            continue
        near_party = any(0 <= match.start() - end <= 250 for end in company_ends)
        if not near_party and not match.group(0).startswith(("(", "herein")):
            continue
        seen.add(term.lower())
        start = match.start(1)
        found.append(Found("Parties", start, start + len(term), 0.7 if near_party else 0.5))
        defined += 1
    together = _together(text, begin, stop)
    if together is not None and "parties" not in seen:
        seen.add("parties")
        found.append(together)
    for match in _SIDE.finditer(text, begin, stop):
        if match.group(0).lower() not in seen:
            seen.add(match.group(0).lower())
            found.append(Found("Parties", match.start(), match.end(), 0.6))
    return found, defined


def _together(text: str, begin: int, stop: int) -> Found | None:
    """That sentence, from the start of its clause to the defined "Parties" (and "Party")."""
    match = _TOGETHER.search(text, begin, stop + TOGETHER_REACH)
    if match is None:
        return None
    start = max(begin, match.start() - TOGETHER_REACH)
    for boundary in _CLAUSE_START.finditer(text, start, match.start()):
        start = boundary.end()
    while start < match.start() and not text[start].isalnum() and text[start] not in "\"\u201c'":
        start += 1
    return Found("Parties", start, match.end(), 0.5)


def _filing_line(text: str, at: int) -> bool:
    """Whether at is on a filing's "Source:" line, which names the filer, not a party."""
    return text[text.rfind("\n", 0, at) + 1:at].lstrip().startswith("Source:")


def _opening_date(text: str, stop: int) -> re.Match[str] | None:
    """The agreement's date near its opening: the first one introduced as such ("made on",
    "dated", "this ... day of"), else the first one at all; never a filing's "Source:" line."""
    candidates = [match for match in _DATE.finditer(text, 0, max(stop, OPENING_DATE_CHARS))
                  if not _filing_line(text, match.start())]
    introduced = [match for match in candidates
                  if _OPENING_CUE.search(text, max(0, match.start() - 60), match.start())]
    first = next((match for match in candidates if match.start() < max(stop, 2500)), None)
    return introduced[0] if introduced else first


def _cued_date(text: str) -> re.Match[str] | None:
    """When the opening has no date, the first one said to be the signing or dating date
    (often beside the signatures at the end)."""
    for match in _DATE.finditer(text):
        if _DATE_CUE.search(text, max(0, match.start() - 80), match.start()):
            return match
    return None


def dates(text: str) -> list[Found]:
    stop = _preamble(text)[1]
    found: list[Found] = []
    first = _opening_date(text, stop) or _cued_date(text)
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
            start, end = offset + date.start(), offset + date.end()
            found = [item for item in found if (item.type, item.start) != ("Effective Date", start)]
            found.append(Found("Effective Date", start, end, 0.8))
            break
    # No guess of the first date as the effective date when nothing says so: on dev that guess
    # was wrong about nine times in ten.
    starts_on = _starts_on(text)
    if starts_on is not None:
        found.append(starts_on)
    return found


def _starts_on(text: str) -> Found | None:
    for match in _STARTS_ON.finditer(text):
        before = text[max(0, match.start() - 20):match.start()].split()
        if before and before[-1].isalpha() and before[-1].islower():
            continue
        end = _STARTS_ON_END.search(text, match.end(), match.end() + STARTS_ON_CHARS)
        stop = end.start() + (end.group(0).startswith(".")) if end else match.end() + STARTS_ON_CHARS
        return Found("Effective Date", match.start(), stop, 0.5)
    return None
