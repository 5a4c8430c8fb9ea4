"""The one-off re-wrap (``pactra-dev rewrap``): objects whose keys were wrapped by the master
key before per-workspace keys get their header re-sealed under their workspace's key (every
object of documents is named under its workspace id). Idempotent (``objects.rewrap``)."""

from pactra_platform.objects import ObjectShredded
from pactra_platform.settings import Settings

from .bootstrap import bootstrap
from .config import DocumentsSettings


def rewrap(settings: Settings) -> dict[str, int]:
    store = bootstrap(DocumentsSettings.model_validate(settings.model_dump())).store
    changed = shredded = 0
    for name in list(store.names()):
        try:
            changed += store.rewrap(name, name.split("/", 1)[0])
        except ObjectShredded:
            shredded += 1  # left behind by a deleted workspace: unreadable, nothing to move
    return {"objects": changed, "objects_shredded": shredded}
