"""Features of a unit for the clause model: the same function serves training and analysis."""

import itertools
import math
import re

from .segment import Unit

_TOKEN = re.compile(r"[a-z]+|[0-9]+")
POSITION_BUCKETS = 10
# Truncating words to a prefix is a crude stemmer, but with 60 training contracts it lets
# "terminate", "termination" and "terminates" share one weight.
STEM = 6
# Cues that hold across contracts' wording; they give the rarer types (a dozen examples each)
# a signal that single words learnt from so few examples do not.
KEYWORDS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in {
    "control": r"change\s+(?:of|in)\s+(?:control|ownership)|merger|consolidat|acqui|controlling|"
               r"beneficial|voting\s+(?:stock|securities|power)|fifty\s+percent|50%",
    # A "non-exclusive" licence is the opposite of exclusivity, and the commoner of the two.
    "exclusive": r"(?<!non-)(?<!non)(?<!non )exclusiv|"
                 r"sole\s+(?:and\s+exclusive\s+)?(?:source|supplier|provider|distributor)|"
                 r"only\s+(?:supplier|provider)",
    "non_exclusive": r"non-?\s?exclusiv",
    "minimum": r"minimum|at\s+least|not\s+less\s+than|no\s+less\s+than|shortfall|"
               r"(?:purchase|order)\s+(?:requirement|commitment|target|quota)",
    "warrant": r"warrant|guarantee",
    "period": r"\b\d+\)?\s*(?:\(\d+\)\s*)?(?:days|months|years)|(?:one|two|three|four|five|six|"
              r"twelve|eighteen|twenty|thirty|sixty|ninety)\s+(?:\(\d+\)\s+)?(?:days|months|years)",
    "defect": r"defect|nonconform|free\s+from|workmanship",
    "assign_ip": r"hereby\s+assign|shall\s+(?:be\s+)?(?:the\s+)?(?:sole\s+and\s+exclusive\s+)?"
                 r"(?:own|owner|property)|right,\s+title\s+and\s+interest|works?\s+made\s+for\s+hire|vest",
    "ip": r"intellectual\s+property|patent|copyright|invention|improvement|deliverable|work\s+product",
    "compete": r"compet|similar\s+(?:product|service|business)|solicit",
    "not_engage": r"(?:not|nor)\s+(?:\w+\s+){0,4}(?:engage|develop|sell|market|distribute|manufacture|"
                  r"promote|offer|enter)",
    "convenience": r"for\s+convenience|without\s+cause|for\s+any\s+reason|any\s+reason\s+or\s+no\s+reason|"
                   r"with\s+or\s+without\s+cause|at\s+any\s+time",
    "terminate_notice": r"terminat\w*\s+(?:\w+\s+){0,8}(?:upon|by|with|on)\s+(?:\w+\s+){0,3}\(?\d*\)?\s*"
                        r"(?:days|months)",
    "uncapped": r"shall\s+not\s+apply|not\s+(?:be\s+)?limit|gross\s+negligence|wil(?:l)?ful|unlimited|"
                r"exclusion|except\s+for|excluding",
    "cap": r"in\s+no\s+event|shall\s+not\s+exceed|aggregate\s+liability|maximum\s+(?:aggregate\s+)?"
           r"liability|limitation\s+of\s+liability|consequential|indirect",
    "audit": r"audit|inspect|books\s+and\s+records|examin",
    "insurance": r"insur|insured|polic(?:y|ies)|coverage|underwriter",
    "renew": r"renew|successive|automatically\s+extend|extend\w*\s+for",
    "non_renew": r"non-?\s?renew|intention\s+not\s+to|(?:prior|before)\s+to\s+the\s+(?:end|expiration)|"
                 r"written\s+notice",
    "law": r"governed\s+by|construed|laws\s+of|governing\s+law",
    "assign": r"assign|transfer|delegat",
    "consent": r"consent|approval",
    "license": r"licen[cs]|grants?\b|royalt|sublicens",
    "term": r"\bterm\b|expir|remain\s+in\s+(?:full\s+)?(?:force|effect)|years?\s+from|until",
}.items()}
_LEAD = re.compile(r"\s*(?:[\d.()a-z]+\s+)?([A-Z][\w ,&\-]{2,60}?)[.:]\s")


# "non-exclusive", "non-compete", "non-transferable": joined, so the prefix stays with its word
# instead of turning into a token of its own that says nothing.
_NON = re.compile(r"\bnon[-\s]+(?=[a-z])")


def _tokens(text: str) -> list[str]:
    text = _NON.sub("non", text.lower())
    return ["0" if token[0].isdigit() else token[:STEM] for token in _TOKEN.findall(text)]


def _heading(units: list[Unit], index: int) -> list[str]:
    """The words of the nearest heading-like unit before this one: a section's title says a
    lot about every sentence under it."""
    for before in range(index - 1, max(-1, index - 40), -1):
        text = units[before].text
        if len(text) < 80 and (text.isupper() or text.rstrip().endswith(":") or len(text.split()) <= 6):
            return _tokens(text)[:8]
    return []


def unit_features(units: list[Unit], index: int) -> dict[str, float]:
    """Stemmed word and word-pair features of the unit, the words of the units before and
    after it, of its section heading and of its own leading title, keyword cues and pairs of
    them, its place in the document and its length; L2-normalised."""
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
    # The unit after says what a lead-in introduces ("... as follows:", a one-line title) and
    # carries the rest of a clause the segmenter split.
    if index + 1 < len(units):
        for token in _tokens(units[index + 1].text)[:30]:
            features["n:" + token] = 0.5
    for token in _heading(units, index):
        features["h:" + token] = 0.7
    lead = _LEAD.match(unit.text)
    if lead:
        for token in _tokens(lead.group(1)):
            features["l:" + token] = 1.0
    cues = [name for name, pattern in KEYWORDS.items() if pattern.search(unit.text)]
    for name in cues:
        features["kw:" + name] = 1.0
    # Pairs of cues in one unit (a warranty and a period, an assignment and intellectual
    # property): a linear model cannot form the conjunction itself.
    for first, second in itertools.combinations(cues, 2):
        features[f"kw:{first}+{second}"] = 1.0
    features[f"pos:{index * POSITION_BUCKETS // max(1, len(units))}"] = 1.0
    features[f"len:{min(6, int(math.log2(1 + len(tokens))))}"] = 1.0
    if unit.text[:60].isupper():
        features["upper"] = 1.0
    norm = math.sqrt(sum(value * value for value in features.values())) or 1.0
    return {name: value / norm for name, value in features.items()}
