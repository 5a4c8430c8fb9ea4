"""Opening the signing links that signing seals into its events (``SealedLink``, events.md;
``pactra_signing.links`` seals them). The purpose string and the associated data (the signer
id) are part of that format: both sides must agree on them."""

from pactra_platform.crypto import SecretBox, b64url_decode

SIGNING_LINK_PURPOSE = "signing-links"


def open_link(master_key: str, sealed: str, signer_id: str) -> str:
    """The link in clear; ``cryptography.exceptions.InvalidTag`` when it was sealed for
    another signer or under another master key."""
    box = SecretBox(master_key, SIGNING_LINK_PURPOSE)
    return box.open(b64url_decode(sealed), signer_id.encode()).decode()


# Links to the owner's account pages (email confirmation, recovery), sealed by the gateway
# (``pactra_gateway.owner_account.seal_account_link``) and bound to the user id.
ACCOUNT_LINK_PURPOSE = "account-links"


def open_account_link(master_key: str, sealed: str, user_id: str) -> str:
    box = SecretBox(master_key, ACCOUNT_LINK_PURPOSE)
    return box.open(b64url_decode(sealed), user_id.encode()).decode()
