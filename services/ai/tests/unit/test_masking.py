"""Masking finds what the regexes it replaced found, and in linear time on hostile text.

The earlier patterns (kept below as the reference) backtracked: an e-mail pattern that tried
every position of a long word, and a 600-character window tried at every position for a
planted instruction took 24 s on 108 KB. The rewritten ones must agree with them on any
text, and get through such text before pytest-timeout would fail the test.
"""

import random
import re

import pytest

from pactra_ai.adapters.engines.llm import masking

OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def old_injection(reach: int) -> re.Pattern[str]:
    return re.compile(
        rf"(?:[^\n]|\n(?![ \t]*\n)){{0,{reach}}}?\b(?:ignore|disregard|forget|override)\b"
        rf"[^.\n]{{0,60}}\b(?:instructions?|prompts?|rules|directions)\b"
        rf"(?:[^\n]|\n(?![ \t]*\n)){{0,{reach}}}",
        re.IGNORECASE)


PIECES = ["ignore", "Disregard", "forget", "override", "all", "previous", "instructions",
          "prompt", "rules", "directions", "the", "a@b", "x.y", "@", ".", ".com", "+", "-",
          "bob", "example", "\n", "\n\n", "\n \t\n", " ", " ", " ", "\f", "12", "3456",
          "555-0100", "(415)", "+1", "DE44", "5001", "0517", "5407", "3249", "31", "/"]


def random_texts(seed: int, count: int, words: int) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test texts, not secrets
    return ["".join(rng.choice(PIECES) + rng.choice(["", " "]) for _ in range(words))
            for _ in range(count)]


@pytest.mark.parametrize("reach", [5, 30, 600])
def test_injection_spans_equal_the_old_regex(reach: int) -> None:
    reference = old_injection(reach)
    for text in random_texts(reach, 400, 120):
        expected = [m.span() for m in reference.finditer(text)]
        assert masking.injection_spans(text, reach) == expected, text


def test_email_pattern_equals_the_old_one() -> None:
    texts = [*random_texts(7, 400, 80), "a.b+c@x.co.uk.", "x@y", "@a.b", "a@b.c@d.e", "..@a.b"]
    for text in texts:
        assert ([m.span() for m in masking._EMAIL.finditer(text)]
                == [m.span() for m in OLD_EMAIL.finditer(text)]), text


def test_every_text_maps_back() -> None:
    for text in random_texts(11, 100, 100):
        masked = masking.mask(text, redact=True)
        assert len(masked.starts) == len(masked.text) + 1 == len(masked.ends)
        assert masked.original_span(0, len(masked.text)) == (0, len(text))


def hostile(size: int) -> str:
    """Text built against each old pattern: word runs with no "@", trigger verbs with no
    object, dotted runs, digit groups that almost make an account number."""
    parts = ["a" * (size // 2), "ignore " * (size // 14), "a." * (size // 20),
             "1-" * (size // 20)]
    return "".join(parts)[:size]


@pytest.mark.timeout(15)
def test_hostile_108_kb_is_masked_promptly() -> None:
    # The old patterns needed about 30 s for this text; the new ones a fraction of one.
    # No timing is asserted here: pytest-timeout fails the test if it hangs.
    text = hostile(108 * 1024)
    masked = masking.mask(text, redact=True)
    assert masked.original_span(0, len(masked.text)) == (0, len(text))
    # The planted verbs without an object are not instructions: nothing was blanked for them.
    assert masking.injection_spans(text) == []
