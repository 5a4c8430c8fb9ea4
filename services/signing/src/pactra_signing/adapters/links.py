"""Signing links as they travel in events (``SealedLink``, events.md): sealed here, where the
link is made, and opened only by notify (``pactra_notify.adapters.links``), which emails it.

The purpose string and the associated data (the signer id) are part of that format: both
sides must agree on them, so neither changes without the other."""

from pactra_platform.crypto import SecretBox, b64url

SIGNING_LINK_PURPOSE = "signing-links"


def seal_link(master_key: str, url: str, signer_id: str) -> str:
    """A signing link as it may travel in an event: AES-GCM under the signing-link key,
    bound to the signer it belongs to."""
    box = SecretBox(master_key, SIGNING_LINK_PURPOSE)
    return b64url(box.seal(url.encode(), signer_id.encode()))
