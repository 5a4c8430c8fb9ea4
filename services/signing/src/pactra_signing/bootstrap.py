"""The signing service's composition root: builds its parts from its settings, the only module
that reads them."""

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from pactra_contracts.events import Actor
from pactra_platform.db import session_factory, snapshot_reads
from pactra_platform.settings import Settings

from .adapters.peers import Peers, owner_of
from .adapters.tokens import TokenVault
from .config import SigningSettings
from .domain.workspace import Owner
from .service_layer.context import Context
from .service_layer.unit_of_work import SqlUnitOfWork

SERVICE = "signing"


@dataclass
class Signing:
    settings: SigningSettings
    sessions: sessionmaker
    vault: TokenVault
    peers: Peers
    single_reads: sessionmaker

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)

    def single_read(self) -> SqlUnitOfWork:
        """For a read that is a single statement (db.snapshot_reads)."""
        return SqlUnitOfWork(self.single_reads)

    def context(self, request_id: str | None, actor: Actor) -> Context:
        return Context(master_key=self.settings.master_key, public_url=self.settings.public_url,
                       vault=self.vault, request_id=request_id, actor=actor)

    def owner_of(self, workspace_id: str) -> Owner:
        return owner_of(self.peers, workspace_id)


def bootstrap(settings: Settings | None = None) -> Signing:
    """The service from ``settings`` (None: the environment's)."""
    config = SigningSettings.of(settings)
    config.require_secrets()
    sessions = session_factory(config, SERVICE)
    return Signing(settings=config, sessions=sessions,
                   vault=TokenVault(config.master_key, sessions), peers=Peers(config),
                   single_reads=snapshot_reads(config, SERVICE))
