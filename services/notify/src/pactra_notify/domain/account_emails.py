"""The account's emails (api.md, "Account"): a link to confirm an address, a link to recover
access, and the link that confirms a workspace's deletion. The gateway asks for them by event,
with the link sealed; it is opened only to be put into the email, and never stored."""

from pactra_contracts.events import AccountLinkRequested, DeletionLinkRequested

from .emails import Email, human_time, render

SUBJECTS = {
    "verify_email": "Confirm your email address for Pactra",
    "recovery": "Recover access to your Pactra workspace",
}


def account_email(kind: str, data: AccountLinkRequested, link: str) -> Email:
    """``kind`` is ``verify_email`` or ``recovery``."""
    return render(kind, kind, data.email, SUBJECTS[kind], {
        "recipient_name": data.name, "email": data.email, "link": link,
        "expires_at": human_time(data.expires_at), "reason": data.reason,
    })


def deletion_email(data: DeletionLinkRequested, link: str) -> Email:
    return render("deletion_confirm", "deletion_confirm", data.email,
                  f"Confirm the deletion of your Pactra workspace \u201c{data.workspace_name}\u201d", {
                      "recipient_name": data.name, "workspace_name": data.workspace_name,
                      "link": link, "expires_at": human_time(data.expires_at),
                      "grace_hours": data.grace_hours,
                  })
