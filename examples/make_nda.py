"""Writes ``examples/nda.pdf``, the sample agreement the README's "Try it" sends.

A two-page mutual non-disclosure agreement drawn with reportlab, so the repository ships a PDF
it made itself (no third-party document). Page 2 leaves room for a signature at
x=72, y=650 (points from the page's top-left), where the README places the signer's field.
Run: ``.venv/bin/python examples/make_nda.py``.
"""

from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

CLAUSES = [
    ("1. Confidential Information", "\"Confidential Information\" means any non-public business, "
     "technical or financial information that one party (the \"Discloser\") discloses to the other "
     "(the \"Recipient\"), in any form, and that is marked confidential or would reasonably be "
     "understood to be confidential."),
    ("2. Obligations", "The Recipient shall use Confidential Information only to evaluate a possible "
     "business relationship between the parties, shall not disclose it to any third party except "
     "its employees and advisers who need to know it and are bound by duties of confidentiality, "
     "and shall protect it with at least reasonable care."),
    ("3. Exclusions", "These obligations do not apply to information that is or becomes public "
     "through no fault of the Recipient, was known to the Recipient before disclosure, is "
     "independently developed, or is lawfully received from a third party without restriction."),
    ("4. Term", "This Agreement takes effect on the date of the last signature and continues for "
     "two (2) years. The duty to protect Confidential Information survives for three (3) years "
     "after the Agreement ends."),
    ("5. Return of Materials", "On request, the Recipient shall promptly return or destroy all "
     "Confidential Information and certify that it has done so."),
    ("6. No License", "Nothing in this Agreement grants any license or right in the Discloser's "
     "intellectual property, except the limited right to use it as set out above."),
    ("7. Governing Law", "This Agreement is governed by the laws of the State of Delaware, without "
     "regard to its conflict of laws rules."),
]


def build(path: Path) -> None:
    styles = getSampleStyleSheet()
    story = [Paragraph("Mutual Non-Disclosure Agreement", styles["Title"]),
             Paragraph("This Mutual Non-Disclosure Agreement (the \"Agreement\") is made between "
                       "Analytical Engines Ltd. and the undersigned counterparty.", styles["BodyText"]),
             Spacer(1, 12)]
    for heading, text in CLAUSES:
        story += [Paragraph(heading, styles["Heading3"]), Paragraph(text, styles["BodyText"])]
    story += [PageBreak(), Paragraph("Signatures", styles["Heading2"]),
              Paragraph("Signed by the parties on the dates shown on the certificate of completion.",
                        styles["BodyText"])]
    document = SimpleDocTemplate(str(path), pagesize=LETTER, title="Mutual NDA", author="Pactra",
                                 invariant=True)  # the same bytes on every run
    document.build(story)


if __name__ == "__main__":
    build(Path(__file__).with_name("nda.pdf"))
