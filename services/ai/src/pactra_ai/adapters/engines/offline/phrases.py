"""Sentences kept for a clause type whatever the model scores them, because a precise phrase
says what they are. The model learns the rarer types from a dozen examples each and misses
much of them on unseen contracts (out-of-fold on dev: Change Of Control F1 0.42, Warranty
Duration 0.27, Cap On Liability 0.66, Insurance 0.67); these phrases, checked on dev alone,
fire seldom and are seldom wrong there."""

import re
from typing import NamedTuple

from .segment import Unit

# A heading ("ASSIGNMENT AND CHANGE OF CONTROL", "A. WARRANTY PERIOD.") names the topic but is
# not the labelled clause.
MIN_WORDS = 8
_DURATION = (r"(?:\(?\b\d+\)?|\b(?:thirty|sixty|ninety|twelve|one|two|three|six|eighteen|"
             r"twenty-four)\b(?:\s+\(\d+\))?)[\s-]+(?:calendar\s+)?(?:days?|months?|years?)\b")


class Phrase(NamedTuple):
    found: re.Pattern[str]
    unless: re.Pattern[str] | None


PHRASES = {
    # A change of control as such is defined in many contracts; it is the clause when it
    # lets a party end the agreement, assign it, or do without the other's consent.
    "Change Of Control": Phrase(
        re.compile(r"^(?=.*change\s+(?:of|in)\s+(?:effective\s+)?control)(?=.*(?:terminat|assign|consent))",
                   re.IGNORECASE | re.DOTALL),
        None),
    # A warranty with its period, or the warranty period itself. Survival of "representations
    # and warranties" and share warrants are other things.
    "Warranty Duration": Phrase(
        re.compile(rf"warranty\s+period|{_DURATION}\s+(?:\w+\s+){{0,3}}warranty|"
                   rf"warrant\w*[^.;]{{0,100}}\bfor\s+(?:a\s+period\s+of\s+)?{_DURATION}|"
                   rf"(?:for|within|during)\s+(?:a\s+period\s+of\s+)?(?:the\s+)?{_DURATION}[^.;]{{0,100}}warrant",
                   re.IGNORECASE),
        re.compile(r"representations\s+and\s+warranties|exercise\s+price|(?-i:Warrants)", re.IGNORECASE)),
    # A limit on what a party can be made to pay or claim: excluded kinds of damages, a total
    # or a ceiling, an exclusive remedy, a time bar on actions. A definition ('"Liability
    # Claim" means') and "not the exclusive remedy" say the opposite.
    "Cap On Liability": Phrase(
        re.compile(r"\b(?:liable|liability)\b[^.;]{0,200}?\b(?:consequential|incidental|punitive|exemplary|"
                   r"lost\s+profits|loss\s+of\s+profits?)\b|"
                   r"\b(?:total|aggregate|maximum|cumulative|entire)\s+liability\b|"
                   r"\bliability\b[^.;]{0,150}?(?:shall|will)\s+(?:not\s+exceed|be\s+limited\s+to|in\s+no\s+event\s+exceed)|"
                   r"\bexclusive\s+remed(?:y|ies)\b|\bno\s+action\b[^.;]{0,150}?\bmay\s+be\s+brought\b",
                   re.IGNORECASE),
        re.compile(r"^\W*\"[^\"]{1,40}\"\s+means\b|\bnot\s+(?:constitute|be)\s+the\s+(?:sole\s+(?:and\s+)?)?exclusive",
                   re.IGNORECASE)),
    # A duty to hold insurance. Mentions of policies, coverage or insureds alone were wrong
    # about one time in four on dev.
    "Insurance": Phrase(
        re.compile(r"\b(?:maintain|carry|obtain|procure)\w*\b[^.;]{0,150}?\binsurance\b", re.IGNORECASE),
        None),
}


def phrase_units(units: list[Unit], type_: str) -> list[int]:
    """The indices of the units the type's phrase picks (none for types without one)."""
    phrase = PHRASES.get(type_)
    if phrase is None:
        return []
    return [index for index, unit in enumerate(units)
            if len(unit.text.split()) >= MIN_WORDS and phrase.found.search(unit.text)
            and not (phrase.unless and phrase.unless.search(unit.text))]
