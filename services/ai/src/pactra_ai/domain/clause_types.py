"""The clause types analysis extracts, spelled as CUAD's ``labels.json`` spells them."""

CLAUSE_TYPES = (
    "Parties", "Agreement Date", "Effective Date", "Expiration Date", "Renewal Term",
    "Notice Period To Terminate Renewal", "Governing Law", "Termination For Convenience",
    "Cap On Liability", "Uncapped Liability", "Non-Compete", "Exclusivity", "Anti-Assignment",
    "Change Of Control", "Audit Rights", "Insurance", "Warranty Duration",
    "Ip Ownership Assignment", "License Grant", "Minimum Commitment",
)
# Short answers: extracted as the names and dates themselves, not as sentences.
ENTITY_TYPES = ("Parties", "Agreement Date", "Effective Date")
SENTENCE_TYPES = tuple(name for name in CLAUSE_TYPES if name not in ENTITY_TYPES)
