"""The unit of work: one transaction for a state change, its outbox rows and its inbox record."""

from typing import Any, Protocol, Self

from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.events import Event

from .messaging import add_to_outbox, claim_inbox


class UnitOfWork(Protocol):
    """What every service's abstract unit of work offers besides its repositories (a service's
    ``service_layer/unit_of_work.py`` extends it with them); handlers are typed against that,
    so that unit tests can pass a fake (``pactra_devtools.fakes.FakeUnitOfWork``)."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def publish(self, event: Event[Any]) -> None: ...

    def claim(self, event: Event[Any], consumer: str) -> bool: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit.

    Services subclass it to attach their repositories in :meth:`_start`.
    """

    session: Session

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self._start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # close() rolls back whatever was not committed and detaches the objects with their
        # loaded state intact; rollback() first would expire them, and a caller reading an
        # object after the unit of work ended would then fail to refresh it.
        self.session.close()

    def _start(self) -> None:
        """Hook for subclasses: build repositories on ``self.session``."""

    def publish(self, event: Event) -> None:
        """Queue ``event`` in the outbox; it leaves only if this unit of work commits."""
        add_to_outbox(self.session, event)

    def claim(self, event: Event, consumer: str) -> bool:
        """Record ``event`` in the inbox; False when ``consumer`` already handled it."""
        return claim_inbox(self.session, event, consumer)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
