"""Every email as a phone and a desktop show it (Debian's Chromium driven by Playwright): no
sideways scrolling at 390 or 1200 px, no serious or critical accessibility violation (axe-core),
and a plain-text part that reads well with its link whole."""

from datetime import UTC, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from pactra_contracts.events import Person, ReceiptIssued, Recipient, SealedLink, SignerInvited
from pactra_notify.domain.emails import TEXT_WIDTH, Email, SignedPdf, invitation_email, receipt_email

WIDTHS = (390, 1200)
# As long as a real one: a public URL and a 43-character token, one unbreakable word.
LINK = "https://sign.pactra-customer-domain.example/s/" + "Ab3_dE6-gH9" * 3 + "kLmNoPqRsT"
TITLE = "Master services agreement between Analytical Engines Ltd and Difference Co for 2026-2027"
SENDER = Person(name="Ada Lovelace", email="ada.lovelace.head-of-procurement@analytical-engines.example")


def _invited() -> SignerInvited:
    return SignerInvited(
        agreement_id="agr_1", signer_id="sgr_1", name="Bob Babbage", email="bob@example.com",
        link=SealedLink(sealed="x"), sender=SENDER, title=TITLE,
        message=("Please sign by Friday; the annex lists every site and every delivery date that we "
                 "agreed on the phone.\nThanks!"),
        expires_at=datetime(2026, 12, 24, 17, 0, tzinfo=UTC))


def _receipt(outcome: str) -> ReceiptIssued:
    return ReceiptIssued(
        agreement_id="agr_0123456789abcdefghijklmnop", receipt_id="rcp_0123456789abcdefghijklmnop",
        title=TITLE, outcome=outcome, sealed_sha256="a" * 64 if outcome == "completed" else None,
        receipt_sha256="b" * 64,
        recipients=[Recipient(name="Ada", email=SENDER.email, signer_id=None),
                    Recipient(name="Bob", email="bob@example.com", signer_id="sgr_1")])


def _emails() -> dict[str, Email]:
    done = _receipt("completed")
    too_large = SignedPdf(None, "signed.pdf")
    emails = {
        "invitation": invitation_email("invitation", _invited(), LINK),
        "reminder": invitation_email("reminder", _invited(), LINK),
        "completed-attached": receipt_email(done, done.recipients[1], sender_name="Ada", link=LINK,
                                            public_url="https://pactra.example",
                                            pdf=SignedPdf(b"%PDF", "signed.pdf")),
        "completed-linked": receipt_email(done, done.recipients[1], sender_name="Ada", link=LINK,
                                          public_url="https://pactra.example", pdf=too_large),
        "completed-sender": receipt_email(done, done.recipients[0], sender_name="Ada", link=None,
                                          public_url="https://pactra.example", pdf=too_large),
    }
    for outcome in ("declined", "voided", "expired"):
        ended = _receipt(outcome)
        emails[outcome] = receipt_email(ended, ended.recipients[1], sender_name="Ada", link=LINK,
                                        public_url="https://pactra.example")
    return emails


EMAILS = _emails()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(EMAILS))
def test_the_email_fits_the_screen_and_is_accessible(browser, name, width):
    email = EMAILS[name]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_content(email.html)
    assert page.locator('meta[name="viewport"]').count() == 1
    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert overflow[0] <= overflow[1], (name, width, overflow)
    card = page.locator("td.card").bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= width
    if width == 1200:  # fluid up to a readable measure, not stretched
        assert card["width"] <= 560
    if "link" in name or name in ("invitation", "reminder", "declined", "voided", "expired"):
        shown = page.get_by_role("link", name=LINK + ("/signed.pdf" if "linked" in name else ""),
                                 exact=True)
        box = shown.bounding_box()
        assert box["x"] + box["width"] <= width  # the long link wraps instead
    violations = [f"{v['id']} ({v['impact']}): {v['help']}"
                  for v in Axe().run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == [], (name, width, violations)
    context.close()


@pytest.mark.parametrize("name", sorted(EMAILS))
def test_the_plain_text_part_reads_well(name):
    text = EMAILS[name].text
    lines = text.splitlines()
    for line in lines:
        # Wrapped at 72 columns; only a single unbreakable word (a link) may be longer.
        assert len(line) <= TEXT_WIDTH or " " not in line.strip(), line
    if name in ("completed-attached", "completed-sender"):
        assert LINK not in text
    else:
        target = LINK + ("/signed.pdf" if name == "completed-linked" else "")
        # Whole, and alone at the end of its line, where a mail reader can linkify it.
        assert any(line.endswith(target) for line in lines), text
    assert TITLE.split()[0] in text and "&amp;" not in text and "<p" not in text
    assert text.rstrip().endswith("-- Pactra")
