"""Webhook URLs that cannot be aimed inward, and the one HTTP request of an attempt.

Checked twice: when an endpoint is created or changed (``check_url``: the URL's form, and an
address written literally in it), and at every attempt (``WebhookSender.send``): the name is
resolved then, every address it resolves to is checked, and the connection is made to the
checked address (the name still goes in ``Host`` and in TLS SNI and certificate checks), so a
name that re-resolves between the check and the connection (DNS rebinding) gains nothing.
Redirects are never followed and at most 64 KiB of an answer is read.
"""

import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3

from pactra_contracts.times import utcnow

from ..domain.errors import RefusedUrl

MAX_URL_LENGTH = 2048
MAX_RESPONSE_BYTES = 64 * 1024
# Cloud providers' instance-metadata services (AWS, GCP, Azure, Alibaba, Oracle; AWS's IPv6
# one). Most are link-local, refused anyway; they are named so the reason says what they are.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "168.63.129.16", "100.100.100.200", "192.0.0.192",
    "fd00:ec2::254"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (tests inject their own).
Resolver = Callable[[str, int], list[str]]


def address_refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be connected to, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 reaches 10.0.0.1; and 6to4 / NAT64 forms would reach theirs.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded, allow_loopback=allow_loopback)
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback else f"{address} is a loopback address"
    for kind in ("unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    if not address.is_global:  # shared (100.64/10), benchmarking, documentation ranges...
        return f"{address} is not a public address"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as the request line carries them


def check_url(url: str, *, allow_http: bool, allow_loopback: bool) -> Target:
    """The URL's form (https unless allowed, a host, no credentials) and, when the host is an
    address, the address. Raises :class:`RefusedUrl`."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise RefusedUrl("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl(f"the URL is not valid: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise RefusedUrl("the URL must use https" if allow_http is False else
                         "the URL must use https or http")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise RefusedUrl("the URL must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedUrl("the URL has no host")
    if parts.fragment:
        raise RefusedUrl("the URL must not have a fragment")
    literal = _literal(host)
    if literal is not None:
        reason = address_refusal(literal, allow_loopback=allow_loopback)
        if reason:
            raise RefusedUrl(f"the URL's host {reason}")
    else:
        try:
            host.encode("idna")
        except UnicodeError:
            raise RefusedUrl("the URL's host is not a valid name") from None
        if not all(label and len(label) <= 63 for label in host.split(".")):
            raise RefusedUrl("the URL's host is not a valid name")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code, or an error (refused, timed out, unreachable)."""

    status_code: int | None
    error: str | None
    body: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None, *, cap: float = 24 * 3600.0) -> float | None:
    """A ``Retry-After`` (seconds or an HTTP date) in seconds, within [0, ``cap``]."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min((when - utcnow()).total_seconds(), cap))


# scheme, address, port, host name, timeout -> a connection pool to that address only
Opener = Callable[[str, str, int, str, float], urllib3.HTTPConnectionPool]


def open_pinned(scheme: str, address: str, port: int, host: str,
                timeout: float) -> urllib3.HTTPConnectionPool:
    """A pool that connects to ``address`` itself, never resolving ``host`` again; TLS still
    sends ``host`` as SNI and checks the certificate against it."""
    common = {"maxsize": 1, "retries": False, "timeout": urllib3.Timeout(total=timeout)}
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(address, port, server_hostname=host,
                                           assert_hostname=host, cert_reqs="CERT_REQUIRED",
                                           **common)
    return urllib3.HTTPConnectionPool(address, port, **common)


class WebhookSender:
    def __init__(self, *, allow_http: bool, allow_loopback: bool, timeout: float,
                 resolver: Resolver = system_resolver, opener: Opener = open_pinned) -> None:
        self.allow_http = allow_http
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self.resolver = resolver
        self.opener = opener

    def pick_address(self, target: Target) -> str:
        """Resolve now and check every address; refuse if any is refused (a name resolving
        to a public and a private address must not be a coin toss)."""
        literal = _literal(target.host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self.resolver(target.host, target.port)
            except OSError as exc:
                raise RefusedUrl(f"the host could not be resolved ({exc})") from None
        if not addresses:
            raise RefusedUrl("the host resolves to no address")
        for text in addresses:
            try:
                address = ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                raise RefusedUrl(f"the host resolves to {text!r}, not an address") from None
            reason = address_refusal(address, allow_loopback=self.allow_loopback)
            if reason:
                raise RefusedUrl(f"the host resolves to {reason}")
        return addresses[0].split("%", 1)[0]

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = check_url(url, allow_http=self.allow_http, allow_loopback=self.allow_loopback)
            address = self.pick_address(target)
        except RefusedUrl as exc:
            return Answer(None, f"refused: {exc}", None, took())
        host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        if ":" in target.host:
            host_header = f"[{target.host}]" + ("" if target.port in (80, 443) else f":{target.port}")
        pool = self.opener(target.scheme, address, target.port, target.host, self.timeout)
        try:
            response = pool.urlopen(
                "POST", target.path, body=body, headers={**headers, "Host": host_header},
                redirect=False, retries=False, preload_content=False, decode_content=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(total=self.timeout))
            try:
                content = self._read_limited(response, started)
            finally:
                response.release_conn()
                response.close()
            retry_after = None
            if response.status in (429, 503):
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            error = None
            if 300 <= response.status < 400:
                error = "redirects are not followed"
            return Answer(response.status, error, content.decode("utf-8", "replace"), took(),
                          retry_after)
        except urllib3.exceptions.HTTPError as exc:
            return Answer(None, _describe(exc), None, took())
        except OSError as exc:
            return Answer(None, f"connection failed: {type(exc).__name__}", None, took())
        finally:
            pool.close()

    def _read_limited(self, response: urllib3.BaseHTTPResponse, started: float) -> bytes:
        """At most 64 KiB, and not past the attempt's deadline (a receiver dripping bytes)."""
        chunks: list[bytes] = []
        size = 0
        while size < MAX_RESPONSE_BYTES:
            if time.monotonic() - started > self.timeout:
                break
            chunk = response.read(min(8192, MAX_RESPONSE_BYTES - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS failed: the certificate or handshake was refused"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or unreachable"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "the connection broke off"
    return f"request failed: {type(exc).__name__}"
