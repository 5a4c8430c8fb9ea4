"""Each service's own RabbitMQ user, made with ``rabbitmqctl`` (``make run``, the test stack).

The user is ``<bus_prefix>-<service>`` (users are global to the broker, so a test stack's carry
its own prefix), its password ``PACTRA_<SERVICE>_AMQP_PASSWORD``, its permissions in the vhost
of PACTRA_AMQP_URL those of :func:`pactra_platform.bus.broker_access`. Passwords reach
``rabbitmqctl`` on its standard input, never on a command line other users can list.
"""

import subprocess
from urllib.parse import unquote, urlsplit

from pactra_platform.bus import broker_access
from pactra_platform.settings import SERVICES, Settings

USER_EXISTS = 70  # rabbitmqctl's exit status for "user already exists"
NO_SUCH_USER = 67


def vhost_of(amqp_url: str) -> str:
    """The vhost an AMQP URL names: its path without the leading slash; none is ``/``."""
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _rabbitmqctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", "-q", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {what} failed ({result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[:500]}")


def provision(settings: Settings, services: tuple[str, ...] = SERVICES) -> list[str]:
    """Create (or update the password of) each service's user and set its permissions.
    Returns the users. Every service must have its password set."""
    vhost = vhost_of(settings.amqp_url)
    users = []
    for service in services:
        password = settings.amqp_password_of(service)
        if not password:
            raise RuntimeError(f"PACTRA_{service.upper()}_AMQP_PASSWORD is not set")
        access = broker_access(settings, service)
        added = _rabbitmqctl("add_user", access.user, stdin=password + "\n")
        if added.returncode == USER_EXISTS:
            _check(_rabbitmqctl("change_password", access.user, stdin=password + "\n"),
                   f"change_password {access.user}")
        else:
            _check(added, f"add_user {access.user}")
        _check(_rabbitmqctl("set_permissions", "-p", vhost, access.user,
                            access.configure, access.write, access.read),
               f"set_permissions {access.user}")
        _check(_rabbitmqctl("set_topic_permissions", "-p", vhost, access.user,
                            access.topic_exchange, access.topic_write, access.topic_read),
               f"set_topic_permissions {access.user}")
        users.append(access.user)
    return users


def remove(settings: Settings, services: tuple[str, ...] = SERVICES) -> None:
    """Delete the services' users (those that exist)."""
    for service in services:
        user = settings.amqp_user_of(service)
        result = _rabbitmqctl("delete_user", user)
        if result.returncode not in (0, NO_SUCH_USER):
            _check(result, f"delete_user {user}")


def users() -> set[str]:
    """Every user the broker has (for tests)."""
    result = _rabbitmqctl("list_users", "--no-table-headers")
    _check(result, "list_users")
    return {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
