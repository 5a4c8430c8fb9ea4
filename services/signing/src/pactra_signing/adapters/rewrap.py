"""The one-off re-wrap (``pactra-dev rewrap``): signing tokens sealed under the master key
before per-workspace keys are sealed again under their workspace's key. Idempotent: a value
already under a workspace key is left as it is, so a second run changes nothing."""

from sqlalchemy import select, update

from pactra_platform.db import session_factory
from pactra_platform.erasure import KeyShredded
from pactra_platform.settings import Settings

from .orm import Agreement, Signer
from .tokens import TokenVault

SERVICE = "signing"
BATCH = 500


def rewrap(settings: Settings) -> dict[str, int]:
    sessions = session_factory(settings, SERVICE)
    cipher = TokenVault(settings.master_key, sessions).cipher
    changed = 0
    after = ""
    while True:
        with sessions() as session:
            rows = session.execute(
                select(Signer.id, Signer.token_sealed, Agreement.workspace_id)
                .join(Agreement, Agreement.id == Signer.agreement_id)
                .where(Signer.token_sealed.is_not(None), Signer.id > after)
                .order_by(Signer.id).limit(BATCH)).all()
            for signer_id, sealed, workspace_id in rows:
                try:
                    resealed = cipher.rewrap(workspace_id, sealed, signer_id.encode())
                except KeyShredded:
                    continue  # its workspace is being deleted: the purge takes the row
                if resealed is None:
                    continue
                # Compare-and-set: a token sealed meanwhile by the running service wins.
                changed += session.execute(update(Signer).where(
                    Signer.id == signer_id, Signer.token_sealed == sealed)
                    .values(token_sealed=resealed)).rowcount
            session.commit()
        if len(rows) < BATCH:
            return {"signers.token_sealed": changed}
        after = rows[-1][0]
