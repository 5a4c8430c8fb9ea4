"""Wires the signing service's dependencies; the only module that knows them all."""

import time
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from pactra_contracts.events import Actor
from pactra_platform.db import session_factory, snapshot_reads
from pactra_platform.problems import ProblemError
from pactra_platform.settings import Settings
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .agreements import Context
from .models import Sender
from .peers import Peers
from .tokens import TokenVault

SERVICE = "signing"
# A workspace's sender arrives by event moments after signup; an API call that races it
# waits this long before giving up.
SENDER_PATIENCE_SECONDS = 5.0


@dataclass
class Signing:
    settings: Settings
    sessions: sessionmaker
    vault: TokenVault
    peers: Peers
    single_reads: sessionmaker

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions)

    def single_read(self) -> SqlAlchemyUnitOfWork:
        """For a read that is a single statement (db.snapshot_reads)."""
        return SqlAlchemyUnitOfWork(self.single_reads)

    def context(self, request_id: str | None, actor: Actor) -> Context:
        return Context(master_key=self.settings.master_key, public_url=self.settings.public_url,
                       vault=self.vault, request_id=request_id, actor=actor)

    def sender(self, workspace_id: str) -> Sender:
        deadline = time.monotonic() + SENDER_PATIENCE_SECONDS
        while True:
            with self.sessions() as session:
                sender = session.get(Sender, workspace_id)
                if sender is not None:
                    session.expunge(sender)
                    return sender
            if time.monotonic() > deadline:
                raise ProblemError("unavailable", "This workspace is still being set up; retry shortly.",
                                   headers={"Retry-After": "1"})
            time.sleep(0.1)


def bootstrap(settings: Settings) -> Signing:
    settings.require_secrets()
    sessions = session_factory(settings, SERVICE)
    return Signing(settings=settings, sessions=sessions,
                   vault=TokenVault(settings.master_key, sessions), peers=Peers(settings),
                   single_reads=snapshot_reads(settings, SERVICE))
