"""Composing Pactra's emails: which template, which words, what is attached or linked.

Plain functions over the event data (the templates are part of the words); they know nothing
of SMTP, HTTP or the database.
"""

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pactra_contracts.events import ReceiptIssued, Recipient, SignerInvited


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Email:
    kind: str
    to: str
    subject: str
    html: str
    text: str
    attachments: tuple[Attachment, ...] = field(default=())


# HTML templates escape every value (names, titles and messages are typed by other people);
# the plain-text part must not, or "Smith & Co" would read "Smith &amp; Co".
_templates = Environment(
    loader=PackageLoader("pactra_notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

Q = "\u201c{title}\u201d"  # the title in typographic quotes
# outcome -> (what the subject and heading say after the title, the sentence in the body)
ENDINGS = {
    "declined": ("was declined", f"A signer declined {Q}."),
    "voided": ("was voided", f"The sender voided {Q}."),
    "expired": ("expired", f"{Q} expired before everyone signed."),
}


def one_line(value: str) -> str:
    """A header-safe line: no CR/LF from a title can start a header of its own."""
    return re.sub(r"\s+", " ", value).strip()


TEXT_WIDTH = 72


def readable_text(text: str) -> str:
    """The plain-text part with its long lines wrapped at 72 columns, as mail readers expect.

    A word is never split, so a link longer than a line stays whole on a line of its own
    (readers linkify it only whole), and a line the sender broke stays broken there.
    """
    lines = []
    for line in text.split("\n"):
        if len(line) <= TEXT_WIDTH:
            lines.append(line)
            continue
        lines.extend(textwrap.wrap(line, TEXT_WIDTH, break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def human_time(value: datetime | None) -> str | None:
    return value.strftime("%-d %B %Y at %H:%M UTC") if value else None


def render(kind: str, template: str, to: str, subject: str, context: Mapping[str, object],
           attachments: tuple[Attachment, ...] = ()) -> Email:
    subject = one_line(subject)
    context = {"subject": subject, **context}
    return Email(
        kind=kind, to=to, subject=subject,
        html=_templates.get_template(f"{template}.html").render(context),
        text=readable_text(_templates.get_template(f"{template}.txt").render(context)),
        attachments=attachments,
    )


def invitation_email(kind: str, data: SignerInvited, link: str) -> Email:
    """``kind`` is ``invitation`` or ``reminder``; both carry the signer's one link."""
    sender = one_line(data.sender.name)
    title = one_line(data.title)
    subject = (f"{sender} sent you \u201c{title}\u201d to sign" if kind == "invitation"
               else f"Reminder: \u201c{title}\u201d is waiting for your signature")
    return render(kind, kind, data.email, subject, {
        "recipient_name": data.name, "sender_name": data.sender.name,
        "sender_email": data.sender.email, "title": data.title, "message": data.message,
        "link": link, "expires_at": human_time(data.expires_at),
    })


@dataclass(frozen=True)
class SignedPdf:
    """The signed PDF for a completed agreement, or only how large it is when too large."""

    content: bytes | None
    filename: str


def receipt_email(data: ReceiptIssued, recipient: Recipient, *, sender_name: str,
                  link: str | None, public_url: str, pdf: SignedPdf | None = None,
                  sender_email: str | None = None) -> Email:
    """The completion or ending email for one recipient.

    ``link`` is the signer's own link (``/s/{token}``), or None for the sender and for a
    signer whose link notify never saw. A completed agreement's signed PDF is attached when
    ``pdf`` holds it; otherwise signers get ``/s/{token}/signed.pdf`` and the sender the API
    path.
    """
    title = one_line(data.title)
    base = {
        "recipient_name": recipient.name, "sender_name": sender_name, "sender_email": sender_email,
        "title": data.title, "receipt_id": data.receipt_id,
    }
    if data.outcome == "completed":
        attached = pdf is not None and pdf.content is not None
        attachments = (
            (Attachment(pdf.filename, "application/pdf", pdf.content),)
            if attached and pdf is not None and pdf.content is not None else ()
        )
        return render("completed", "completed", recipient.email, f"\u201c{title}\u201d is complete", {
            **base, "attached": attached,
            "link": f"{link}/signed.pdf" if link and not attached else None,
            "api_path": (f"/v1/agreements/{data.agreement_id}/signed.pdf"
                         if link is None and not attached else None),
            "verify_url": public_url.rstrip("/") + "/verify",
        }, attachments)
    headline, explanation = ENDINGS[data.outcome]
    return render(data.outcome, "ended", recipient.email, f"{Q.format(title=title)} {headline}", {
        **base, "headline": headline, "explanation": explanation.format(title=data.title),
        "link": link,
    })
