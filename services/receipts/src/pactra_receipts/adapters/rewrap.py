"""The one-off re-wrap (``pactra-dev rewrap``): evidence objects (named under their agreement
id) whose keys were wrapped by the master key get their header re-sealed under the key of the
agreement's workspace. Idempotent (``objects.rewrap``); an object of no tracked agreement
(none should exist) is left as it is and counted."""

from pactra_platform.db import session_factory
from pactra_platform.objects import EncryptedObjectStore, ObjectShredded
from pactra_platform.settings import Settings

from .orm import TrackedAgreement

SERVICE = "receipts"


def rewrap(settings: Settings) -> dict[str, int]:
    sessions = session_factory(settings, SERVICE)
    store = EncryptedObjectStore(settings, SERVICE, sessions)
    changed = orphans = shredded = 0
    with sessions() as session:
        for name in list(store.names()):
            tracked = session.get(TrackedAgreement, name.split("/", 1)[0])
            if tracked is None:
                orphans += 1
                continue
            try:
                changed += store.rewrap(name, tracked.workspace_id)
            except ObjectShredded:
                shredded += 1  # its workspace was deleted: unreadable, nothing to move
    return {"objects": changed, "objects_without_agreement": orphans, "objects_shredded": shredded}
