"""Create (or update) one service's RabbitMQ user and its permissions through the broker's
management API: what ``pactra_devtools.broker_users`` does with ``rabbitmqctl`` locally, for a
broker in another container or cluster. Run by ``pactra-container migrate`` as the bootstrap
(administrator) user of PACTRA_AMQP_URL, before ``pactra-migrate``.

PACTRA_RABBITMQ_MANAGEMENT_URL is the management API's base (``http://rabbitmq:15672``); the
service's password is ``PACTRA_<SERVICE>_AMQP_PASSWORD``. Idempotent: every call is a PUT.
"""

import os
import sys
from urllib.parse import quote, unquote, urlsplit

import requests

from pactra_platform.bus import broker_access
from pactra_platform.settings import SERVICES, get_settings


def main(service: str) -> int:
    if service not in SERVICES:
        print(f"no broker user for {service!r}", file=sys.stderr)
        return 64
    settings = get_settings()
    base = os.environ["PACTRA_RABBITMQ_MANAGEMENT_URL"].rstrip("/")
    password = settings.amqp_password_of(service)
    if not password:
        print(f"PACTRA_{service.upper()}_AMQP_PASSWORD is not set", file=sys.stderr)
        return 1
    amqp = urlsplit(settings.amqp_url)
    admin = (unquote(amqp.username or "guest"), unquote(amqp.password or "guest"))
    vhost = quote(unquote(amqp.path[1:]) if len(amqp.path) > 1 else "/", safe="")
    access = broker_access(settings, service)
    user = quote(access.user, safe="")
    calls = (
        (f"/api/users/{user}", {"password": password, "tags": ""}),
        (f"/api/permissions/{vhost}/{user}",
         {"configure": access.configure, "write": access.write, "read": access.read}),
        (f"/api/topic-permissions/{vhost}/{user}",
         {"exchange": access.topic_exchange, "write": access.topic_write, "read": access.topic_read}),
    )
    with requests.Session() as session:
        session.auth = admin
        for path, body in calls:
            answer = session.put(base + path, json=body, timeout=30)
            if answer.status_code not in (201, 204):
                # The path names the user, never the password; the body is not echoed.
                print(f"PUT {path} answered {answer.status_code}", file=sys.stderr)
                return 1
    print(f"broker user {access.user}: permissions set in vhost {unquote(vhost)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
