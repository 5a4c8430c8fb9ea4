"""Worker assembly: a service's FastStream app from its subscriptions, outbox relay and
scheduled jobs."""

import asyncio
import logging
from collections.abc import Callable, Sequence

from faststream import AckPolicy, FastStream
from faststream.rabbit import Channel, RabbitBroker
from faststream.specification import AsyncAPI
from sqlalchemy.orm import sessionmaker

from .. import key_check, logs
from ..db_wakeups import Wakeups
from ..messaging import OUTBOX_CHANNEL
from ..settings import Settings
from ..storage import ensure_bucket
from ..unit_of_work import SqlAlchemyUnitOfWork
from .consumer import Subscription, subscribe
from .relay import OUTBOX_PURGE_SECONDS, OutboxRelay, purge_outbox
from .scheduled import Periodic, run_every
from .topology import Topology, check_topology, declare_topology

log = logging.getLogger(__name__)


def build_worker(
    settings: Settings,
    service: str,
    subscriptions: Sequence[Subscription],
    make_uow: Callable[[], SqlAlchemyUnitOfWork],
    sessions: sessionmaker,
    *,
    relay: bool = True,
    uses_storage: bool = False,
    periodic: Sequence[Periodic] = (),
    graceful_timeout: float = 20.0,
) -> FastStream:
    """The service's FastStream app: its consumers and (when it produces events) its relay."""
    logs.configure_logging(service, settings.log_level)
    topology = Topology(settings, service)
    own_user = bool(settings.amqp_password_of(service))
    broker = RabbitBroker(
        settings.amqp_url_of(service),
        graceful_timeout=graceful_timeout,
        reconnect_interval=1.0,
        # Confirms make publish() wait for the broker to take the message; a return (no
        # queue, no alternate exchange) raises instead of being silently dropped.
        default_channel=Channel(publisher_confirms=True, on_return_raises=True, prefetch_count=16),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        logger=logging.getLogger(f"pactra.{service}.bus"),
        # "Received"/"Processed" for every message is debugging detail, and formatting it
        # was a tenth of a worker's CPU; failures are still logged as errors.
        log_level=logging.DEBUG,
        description=f"Pactra {service} service events",
    )
    exchange = topology.exchange_spec()
    for sub in subscriptions:
        subscribe(broker, topology, exchange, sub, make_uow)

    app = FastStream(
        broker,
        specification=AsyncAPI(title=f"pactra-{service}", version="1.0.0",
                               description=f"Events the {service} service consumes and publishes."),
    )
    outbox = OutboxRelay(broker, topology, sessions, settings.outbox_poll_seconds,
                         wakeups=Wakeups(settings.database_url_of(service), OUTBOX_CHANNEL))

    @app.on_startup
    async def declare() -> None:
        # At start, not at import: `make docs` imports every worker without a database.
        await asyncio.to_thread(key_check.refuse_to_start_on_mismatch, settings, service)
        if own_user:
            await check_topology(settings, service, subscriptions)
        else:  # the bootstrap account (a scratch test's worker): it may declare its own
            log.warning("no broker password for this service: connected with PACTRA_AMQP_URL's "
                        "account, which may publish any event",
                        extra={"setting": f"PACTRA_{service.upper()}_AMQP_PASSWORD"})
            await declare_topology(settings, service, subscriptions)
        if uses_storage:
            await _ensure_bucket(settings, service)

    stopping = asyncio.Event()
    jobs: list[asyncio.Task] = []

    @app.after_startup
    async def start_background() -> None:
        if relay:
            outbox.start()
        housekeeping = (Periodic("purge_outbox", OUTBOX_PURGE_SECONDS,
                                 lambda: purge_outbox(sessions, settings, service)),) if relay else ()
        jobs.extend(asyncio.create_task(run_every(job, stopping, settings.database_url_of(service)),
                                        name=job.name) for job in (*periodic, *housekeeping))

    @app.on_shutdown
    async def stop_background() -> None:
        stopping.set()
        if relay:
            await outbox.stop()
        await asyncio.gather(*jobs)

    return app


async def _ensure_bucket(settings: Settings, service: str, patience: float = 120.0) -> None:
    """Create the service's bucket, waiting for an object store that is still starting."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            await asyncio.to_thread(ensure_bucket, settings, service)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("object store not reachable yet; retrying", extra={"service": service})
            await asyncio.sleep(1.0)


def service_worker(service: str, subscriptions: Sequence[Subscription], *,
                   uses_storage: bool = False, periodic: Sequence[Periodic] = (),
                   relay: bool = True) -> FastStream:
    """The worker of a service whose handlers need only the plain unit of work."""
    from ..db import session_factory
    from ..settings import get_settings

    settings = get_settings()
    sessions = session_factory(settings, service)
    return build_worker(settings, service, subscriptions, lambda: SqlAlchemyUnitOfWork(sessions),
                        sessions, uses_storage=uses_storage, periodic=periodic, relay=relay)
