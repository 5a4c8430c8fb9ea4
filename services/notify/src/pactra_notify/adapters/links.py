"""Opening the links other services seal into their events. The purpose strings and the
associated data (whom the link is for) are part of that format: both sides must agree on them.

Signing links (``SealedLink``, events.md) are sealed by ``pactra_signing.adapters.links``, bound to the
signer id; the owner's account links (email confirmation, recovery, deletion) by the gateway
(``pactra_gateway.owner_account.seal_account_link``), bound to the user id. Both open with
``cryptography.exceptions.InvalidTag`` raised when sealed for someone else or under another
master key."""

from pactra_platform.crypto import SecretBox, b64url_decode

SIGNING_LINK_PURPOSE = "signing-links"
ACCOUNT_LINK_PURPOSE = "account-links"


def open_link(master_key: str, sealed: str, signer_id: str) -> str:
    """A signing link in clear."""
    return SecretBox(master_key, SIGNING_LINK_PURPOSE).open(
        b64url_decode(sealed), signer_id.encode()).decode()


def open_account_link(master_key: str, sealed: str, user_id: str) -> str:
    return SecretBox(master_key, ACCOUNT_LINK_PURPOSE).open(
        b64url_decode(sealed), user_id.encode()).decode()


class SealedLinks:
    """The ``LinkOpener`` of the running service, under its master key."""

    def __init__(self, master_key: str) -> None:
        self.master_key = master_key

    def signing_link(self, sealed: str, signer_id: str) -> str:
        return open_link(self.master_key, sealed, signer_id)

    def account_link(self, sealed: str, user_id: str) -> str:
        return open_account_link(self.master_key, sealed, user_id)
