"""Sender display names: what a workspace owner may call themselves in the emails Pactra
sends on their behalf (issue 16, "Sender display names").

A signer reads "<name> sent you ... to sign": a name that poses as Pactra itself, as another
signature service or payment brand, or as a "Security Team" is a phishing lure, and a control
character (a right-to-left override, a zero-width joiner, a line break) can disguise any name.
Both are refused. Look-alikes are caught by reducing the name to a *skeleton*: Unicode NFKC
(full-width and styled letters become plain ones), case folded, common confusable letters
(Cyrillic and Greek look-alikes, digits that read as letters, ``rn`` for ``m``) mapped to one
representative, and everything but letters and digits dropped (so spaces, dots and dashes
cannot split a brand). The brand list goes through the same reduction.
"""

import unicodedata

# Look-alike characters -> the letter they pass for (after NFKC and casefold). Small on
# purpose: the letters the brands below are made of, and their usual stand-ins. Written as
# escapes, so the source never shows a look-alike as if it were the Latin letter.
CONFUSABLES = str.maketrans({
    # Cyrillic
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u043a": "k", "\u043c": "m",
    "\u043d": "h", "\u043e": "o", "\u0440": "p",
    "\u0441": "c", "\u0442": "t", "\u0443": "y", "\u0445": "x", "\u0455": "s", "\u0456": "l",
    "\u0457": "l", "\u0458": "j", "\u0501": "d",
    "\u051b": "q", "\u051d": "w", "\u0261": "g", "\u04bb": "h", "\u057d": "u", "\u0578": "n",
    # Greek
    "\u03b1": "a", "\u03b2": "b", "\u03b5": "e", "\u03b9": "l", "\u03ba": "k", "\u03bd": "v",
    "\u03bf": "o", "\u03c1": "p", "\u03c4": "t",
    "\u03c5": "u", "\u03c7": "x", "\u03b3": "y", "\u03b7": "n",
    # Latin letters and digits that read alike: i, l, 1, | and ! are one stroke; 0 is o.
    "i": "l", "\u0131": "l", "1": "l", "|": "l", "!": "l", "0": "o", "3": "e", "4": "a", "@": "a",
    "5": "s", "$": "s", "7": "t", "8": "b", "9": "g", "\u00df": "ss",
})

# Names nobody sends an agreement under but an impersonator: this platform, other signature
# services, payment brands, and "we are the security/support team" lures.
LOOKALIKE_BRANDS = (
    "Pactra", "DocuSign", "Adobe Sign", "HelloSign", "Dropbox Sign", "PandaDoc", "PayPal",
    "Security Team", "Support Team", "Account Team", "Trust and Safety",
)


def skeleton(value: str) -> str:
    """The letters-and-digits shape a reader sees, with look-alikes folded together."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    # Combining marks (a dotted or accented letter standing in for a plain one) are dropped.
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", folded)
                       if not unicodedata.combining(ch))
    mapped = stripped.translate(CONFUSABLES).replace("rn", "m").replace("vv", "w")
    return "".join(ch for ch in mapped if ch.isalnum())


_BRAND_SKELETONS = tuple((brand, skeleton(brand)) for brand in LOOKALIKE_BRANDS)
# Control (Cc), format (Cf: bidi overrides, zero-width characters), private-use (Co),
# surrogate (Cs) and unassigned (Cn) code points, and line or paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def display_name_problem(name: str) -> str | None:
    """Why ``name`` may not be a sender's display name, or None when it may."""
    for ch in name:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return f"The name contains a control or invisible character (U+{ord(ch):04X})."
    shape = skeleton(name)
    for brand, brand_shape in _BRAND_SKELETONS:
        if brand_shape in shape:
            return (f"The name looks like \u201c{brand}\u201d; a sender name may not pose as "
                    "this platform, another service or a security team.")
    return None


def check_display_name(name: str) -> str:
    """A pydantic ``AfterValidator``: the name, or a ``ValueError`` saying why not (422)."""
    problem = display_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name
