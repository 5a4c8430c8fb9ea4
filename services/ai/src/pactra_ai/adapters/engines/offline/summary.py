"""An extractive summary built from what the extractors found: at most 1,200 characters."""

import re

from ....domain.results import Clause

MAX_SUMMARY = 1200
_MONEY = re.compile(r"(?:US\$|\$|USD\s?|EUR\s?|€|£)\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion))?")
_JURISDICTION = re.compile(
    r"laws?\s+(?:of|in)\s+(?:and\s+)?(?:the\s+)?((?:State|Commonwealth|Province|Republic|"
    r"Kingdom|People's Republic)\s+of\s+)?"
    r"([A-Z][A-Za-z.]+(?:(?:[ \t]+|,[ \t]+(?=[A-Z]))(?:[A-Z][A-Za-z.]+|and|of))*)")
_LAW_WORDS = re.compile(r"\blaws?\b|governed|jurisdiction", re.IGNORECASE)
MAX_LAW_EXCERPT = 160
MAX_DATE_CHARS = 60
_TITLE = re.compile(r"[A-Z][A-Z0-9 &,\-']{6,80}(?:AGREEMENT|CONTRACT|AMENDMENT)[A-Z ]*")
_PERIOD = re.compile(r"\b(?:\w+\s+)?\(?\d+\)?\s+(?:years?|months?|days?)\b|perpetu\w+", re.I)
# The sentence naming the parties together ("each a Party, together the Parties") is an
# answer, but it names nobody.
_TOGETHER = re.compile(r"[\"\u201c]Parties\b", re.IGNORECASE)
_RISK_TYPES = ("Uncapped Liability", "Non-Compete", "Exclusivity", "Change Of Control",
               "Minimum Commitment", "Ip Ownership Assignment", "Termination For Convenience")


def _first(clauses: list[Clause], type_: str) -> Clause | None:
    best = [clause for clause in clauses if clause.type == type_]
    return max(best, key=lambda clause: clause.confidence) if best else None


def _squash(text: str) -> str:
    return " ".join(text.split())


def jurisdiction(clause_text: str) -> str | None:
    match = _JURISDICTION.search(clause_text)
    if match is None:
        return None
    return _squash((match.group(1) or "") + match.group(2)).rstrip(".")


def law_excerpt(clause_text: str) -> str:
    """The words naming the law when no jurisdiction pattern matched: from "laws"/"governed"
    to the end of that sentence, kept short."""
    text = _squash(clause_text)
    match = _LAW_WORDS.search(text)
    start = match.start() if match else 0
    end = text.find(".", start)
    excerpt = text[start:end if end != -1 else len(text)]
    return excerpt if len(excerpt) <= MAX_LAW_EXCERPT else excerpt[:MAX_LAW_EXCERPT].rsplit(" ", 1)[0] + "…"


def build(text: str, clauses: list[Clause]) -> str:
    lines: list[str] = []
    title = _TITLE.search(text[:2000])
    parties = []
    for clause in clauses:
        if (clause.type == "Parties" and _squash(clause.text) not in parties
                and not _TOGETHER.search(clause.text)):
            parties.append(_squash(clause.text))
    lines.append(f"{_squash(title.group(0)).title() if title else 'Agreement'} between "
                 f"{'; '.join(parties[:8]) or 'parties not identified'}.")
    dated = _first(clauses, "Agreement Date")
    # An effective date given as the sentence naming its event would crowd out the governing law.
    effective = _first([clause for clause in clauses if len(clause.text) <= MAX_DATE_CHARS],
                       "Effective Date")
    if dated or effective:
        parts = [f"dated {_squash(dated.text)}" if dated else "",
                 f"effective {_squash(effective.text)}" if effective else ""]
        lines.append("Key dates: " + ", ".join(part for part in parts if part) + ".")
    law = _first(clauses, "Governing Law")
    if law is not None:
        lines.append(f"Governing law: {jurisdiction(law.text) or law_excerpt(law.text)}.")
    term = _first(clauses, "Expiration Date")
    if term is not None:
        periods = _PERIOD.findall(term.text)
        lines.append(f"Term: {', '.join(_squash(p) for p in periods[:2]) or 'see clause'}"
                     f" (page {term.page}).")
    renewal = _first(clauses, "Renewal Term")
    if renewal is not None:
        lines.append("Renews automatically; notice period applies." if
                     _first(clauses, "Notice Period To Terminate Renewal") else "May renew.")
    money = list(dict.fromkeys(_squash(m) for m in _MONEY.findall(text)))
    if money:
        lines.append("Amounts: " + ", ".join(money[:4]) + ".")
    obligations = [name for name in ("Insurance", "Audit Rights", "Minimum Commitment",
                                     "Anti-Assignment", "License Grant") if _first(clauses, name)]
    if obligations:
        lines.append("Obligations: " + ", ".join(name.lower() for name in obligations) + ".")
    risks = [name for name in _RISK_TYPES if _first(clauses, name)]
    if _first(clauses, "Cap On Liability"):
        risks.append("liability cap")
    if risks:
        lines.append("Watch: " + ", ".join(name.lower() for name in risks) + ".")
    summary = " ".join(lines)
    return summary if len(summary) <= MAX_SUMMARY else summary[:MAX_SUMMARY - 1] + "…"
