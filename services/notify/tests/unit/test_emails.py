"""Composing emails: escaping, links, attachments (no network)."""

from datetime import UTC, datetime

from pactra_contracts.events import Person, ReceiptIssued, Recipient, SealedLink, SignerInvited
from pactra_notify.domain.emails import SignedPdf, invitation_email, receipt_email

LINK = "http://127.0.0.1:8080/s/tok3n-AbC"


def invited(**changes: object) -> SignerInvited:
    values = {
        "agreement_id": "agr_1", "signer_id": "sgr_1", "name": "Bob <b>Bold</b> & Co",
        "email": "bob@example.com", "link": SealedLink(sealed="x"),
        "message": "Please sign <script>alert(1)</script>",
        "sender": Person(name="Ada \"Al\" <Lovelace>", email="ada@example.com"),
        "title": "NDA <i>2026</i>\r\nBcc: evil@example.com",
        "expires_at": datetime(2026, 12, 24, 17, 0, tzinfo=UTC),
    }
    values.update(changes)
    return SignerInvited(**values)


def receipt(outcome: str) -> ReceiptIssued:
    return ReceiptIssued(
        agreement_id="agr_1", receipt_id="rcp_1", title="Lease & <Annex>", outcome=outcome,
        sealed_sha256="a" * 64 if outcome == "completed" else None, receipt_sha256="b" * 64,
        recipients=[Recipient(name="Ada", email="ada@example.com", signer_id=None),
                    Recipient(name="Bob", email="bob@example.com", signer_id="sgr_1")],
    )


def test_invitation_escapes_names_in_html_and_keeps_them_in_text() -> None:
    email = invitation_email("invitation", invited(), LINK)
    assert "Bob &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in email.html
    assert "<b>Bold</b>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "<script>" not in email.html
    assert "Ada &#34;Al&#34; &lt;Lovelace&gt;" in email.html
    assert "Hello Bob <b>Bold</b> & Co," in email.text
    assert "Please sign <script>alert(1)</script>" in email.text
    assert f"Review and sign: {LINK}" in email.text
    assert f'href="{LINK}"' in email.html
    assert "24 December 2026 at 17:00 UTC" in email.text


def test_subject_is_one_header_line() -> None:
    email = invitation_email("invitation", invited(), LINK)
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.subject.startswith('Ada "Al" <Lovelace> sent you')
    assert email.to == "bob@example.com" and email.kind == "invitation"


def test_reminder_without_message_or_expiry() -> None:
    email = invitation_email("reminder", invited(message=None, expires_at=None), LINK)
    assert email.subject.startswith("Reminder:")
    assert "Message from" not in email.text and "works until" not in email.text
    assert LINK in email.text and LINK in email.html


def test_completed_attaches_the_pdf_when_it_has_it() -> None:
    data = receipt("completed")
    pdf = SignedPdf(b"%PDF-1.7 signed", "agr_1-signed.pdf")
    signer = receipt_email(data, data.recipients[1], sender_name="Ada", link=LINK,
                           public_url="http://x", pdf=pdf)
    assert [(a.filename, a.content_type, a.content) for a in signer.attachments] == [
        ("agr_1-signed.pdf", "application/pdf", b"%PDF-1.7 signed")]
    assert "is attached" in signer.text
    assert "/signed.pdf" not in signer.text
    assert "Lease &amp; &lt;Annex&gt;" in signer.html and "Lease & <Annex>" in signer.text
    assert "rcp_1" in signer.text and "http://x/verify" in signer.text


def test_completed_links_instead_when_the_pdf_is_too_large() -> None:
    data = receipt("completed")
    too_large = SignedPdf(None, "agr_1-signed.pdf")
    signer = receipt_email(data, data.recipients[1], sender_name="Ada", link=LINK,
                           public_url="http://x", pdf=too_large)
    sender = receipt_email(data, data.recipients[0], sender_name="Ada", link=None,
                           public_url="http://x", pdf=too_large)
    assert signer.attachments == () and sender.attachments == ()
    assert f"{LINK}/signed.pdf" in signer.text and f'href="{LINK}/signed.pdf"' in signer.html
    assert "GET /v1/agreements/agr_1/signed.pdf" in sender.text


def test_each_ending_has_its_words_and_the_signers_link() -> None:
    for outcome, words in (("declined", "was declined"), ("voided", "was voided"),
                           ("expired", "expired")):
        data = receipt(outcome)
        signer = receipt_email(data, data.recipients[1], sender_name="Ada", link=LINK,
                               public_url="http://x")
        sender = receipt_email(data, data.recipients[0], sender_name="Ada", link=None,
                               public_url="http://x")
        assert signer.subject == f"\u201cLease & <Annex>\u201d {words}"
        assert signer.kind == outcome and signer.attachments == ()
        assert f"See the record: {LINK}" in signer.text
        assert "See the record" not in sender.text
        assert "&lt;Annex&gt;" in sender.html and "<Annex>" not in sender.html
