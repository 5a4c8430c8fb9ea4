"""``pactra-dev rewrap``: the one-off move of data sealed under the master key directly
(before per-workspace keys) to the key of its workspace, so that deleting a workspace
crypto-shreds it too. Each service that holds such data has a ``pactra_<service>.adapters.rewrap``
module; each is idempotent, so the command may be run again (after an interruption, or after
a deploy that still wrote a few old values): a second run changes nothing."""

import importlib
import json
import logging
from types import ModuleType

from pactra_contracts.services import SERVICES
from pactra_platform.settings import Settings

log = logging.getLogger(__name__)


def rewrap_all(settings: Settings) -> dict[str, dict[str, int]]:
    """Counts of values re-sealed, per service that has something to re-wrap."""
    counts = {}
    for service in SERVICES:
        module = _rewrap_module(service)
        if module is None:
            continue  # nothing of this service is sealed under the master key
        counts[service] = module.rewrap(settings)
        log.info("re-wrapped", extra={"service": service, "counts": counts[service]})
    return counts


def _rewrap_module(service: str) -> ModuleType | None:
    """The service's rewrap module: in its adapters (issue 12's house), or at its top."""
    for name in (f"pactra_{service}.adapters.rewrap", f"pactra_{service}.rewrap"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name not in (name, name.rpartition(".")[0]):
                raise
    return None


def main(settings: Settings) -> int:
    print(json.dumps(rewrap_all(settings), indent=2, sort_keys=True))
    return 0
