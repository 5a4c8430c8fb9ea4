"""The notify service's one composition root: from its settings, the unit of work, the email
backend, the peers it asks, the keys it opens links and secrets with, the webhook scheduler,
and the event handlers with what each needs bound in. The only module that reads settings;
``entrypoints/app.py`` and ``entrypoints/worker.py`` build the service here."""

from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.orm import sessionmaker

from pactra_platform.bus import Subscription
from pactra_platform.db import session_factory

from .adapters import exports, purging
from .adapters.email_backends import LazyBackend, backend_for
from .adapters.links import SealedLinks
from .adapters.peers import HttpPeers
from .adapters.webhook_dispatcher import Dispatcher
from .adapters.webhook_secrets import EndpointSecrets
from .config import NotifySettings
from .domain.webhooks import BUS_TYPES
from .service_layer import handlers, webhooks
from .service_layer.ports import EmailBackend, Mail, Peers
from .service_layer.unit_of_work import SqlAlchemyUnitOfWork

SERVICE = "notify"
# Notify keeps no objects in S3: its readiness and its worker check no bucket.
USES_STORAGE = False


@dataclass
class Notify:
    settings: NotifySettings
    sessions: sessionmaker
    email: EmailBackend
    peers: Peers
    secrets: EndpointSecrets
    mail: Mail = field(init=False)

    def __post_init__(self) -> None:
        self.mail = Mail(self.email, SealedLinks(self.settings.master_key), self.peers,
                         self.settings.public_url)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.sessions)

    def dispatcher(self) -> Dispatcher:
        """The webhook scheduler (a worker's; its thread pool starts at once)."""
        return Dispatcher(self.settings, self.sessions, self.secrets, self.email)

    def subscriptions(self) -> tuple[Subscription, ...]:
        mail = self.mail
        return (
            # Records each agreement's parties: the only addresses its receipt may be emailed to.
            Subscription("on_agreement_created", ("agreement.created",), handlers.on_agreement_created),
            Subscription("on_signer_invited", ("signer.invited",),
                         partial(handlers.on_signer_invited, mail=mail)),
            Subscription("on_signer_reminded", ("signer.reminded",),
                         partial(handlers.on_signer_reminded, mail=mail)),
            Subscription("on_receipt_issued", ("receipt.issued",),
                         partial(handlers.on_receipt_issued, mail=mail)),
            # The account's emails: confirming an address, recovering access (api.md, "Account").
            Subscription("on_email_verification_requested", ("account.email_verification_requested",),
                         partial(handlers.on_email_verification_requested, mail=mail)),
            Subscription("on_recovery_requested", ("account.recovery_requested",),
                         partial(handlers.on_recovery_requested, mail=mail)),
            Subscription("on_deletion_confirmation_requested", ("account.deletion_confirmation_requested",),
                         partial(handlers.on_deletion_confirmation_requested, mail=mail)),
            # Webhooks: each catalogue event becomes deliveries for the endpoints that subscribed;
            # owners are remembered to be told when an endpoint of theirs is disabled.
            Subscription("on_webhook_event", BUS_TYPES, partial(webhooks.on_webhook_event, peers=self.peers)),
            Subscription("on_workspace_created", ("workspace.created",), handlers.on_workspace_created),
            # The owner's confirmed address and whether it is verified: where test-mode email may go.
            Subscription("on_account_updated", ("account.updated",), handlers.on_account_updated),
            # An agreement purged by retention or an early delete: its parties and their emails go.
            Subscription("on_agreement_purged", ("agreement.purged",), handlers.on_agreement_purged),
            # Its part of a workspace export (api.md, "Exports").
            Subscription("on_export_requested", ("export.requested",),
                         partial(exports.on_export_requested, settings=self.settings)),
            # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
            Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                         purging.on_deletion_requested),
        )


def bootstrap(settings: NotifySettings | None = None, *, email: EmailBackend | None = None,
              peers: Peers | None = None) -> Notify:
    """``settings`` default to the environment's (PACTRA_*); tests may hand in their own
    email backend or peers."""
    settings = settings or NotifySettings()
    sessions = session_factory(settings, SERVICE)
    return Notify(settings=settings, sessions=sessions,
                  email=email or LazyBackend(partial(backend_for, settings)),
                  peers=peers or HttpPeers(settings),
                  secrets=EndpointSecrets(settings.master_key, sessions))
