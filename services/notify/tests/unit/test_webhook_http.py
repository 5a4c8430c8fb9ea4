"""Webhook URLs cannot be aimed inward. Private and metadata addresses are reached only
through a resolver the test controls, and an opener that fails the test if asked to connect:
no test ever opens a connection outside 127.0.0.0/8 and ::1."""

import ipaddress

import pytest

from pactra_devtools.webhook_receiver import Reply, running_receiver
from pactra_notify.adapters.webhook_http import (
    MAX_RESPONSE_BYTES,
    RefusedUrl,
    WebhookSender,
    address_refusal,
    check_url,
    open_pinned,
    retry_after_seconds,
)

REFUSED = ["10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
           "0.0.0.0",  # noqa: S104 - an address refused, not one bound to
           "224.0.0.1", "100.64.0.1", "240.0.0.1", "127.0.0.1", "::1", "fd00::1", "fe80::1",
           "::", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
           "fd00:ec2::254", "64:ff9b::a00:1", "2002:a00:1::1", "168.63.129.16"]


@pytest.mark.parametrize("address", REFUSED)
def test_inward_addresses_are_refused(address):
    assert address_refusal(ipaddress.ip_address(address), allow_loopback=False)


def test_public_addresses_pass_and_loopback_only_when_allowed():
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert address_refusal(ipaddress.ip_address(address), allow_loopback=False) is None
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("::1"), allow_loopback=True) is None
    # Allowing loopback allows nothing else.
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)
    assert address_refusal(ipaddress.ip_address("169.254.169.254"), allow_loopback=True)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://example.com/hook", "https"),
    ("ftp://example.com/hook", "https"),
    ("https://user:pw@example.com/hook", "credentials"),
    ("https://user@example.com/hook", "credentials"),
    ("https://10.0.0.1/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://[fd00::1]/hook", "private"),
    ("https://[::ffff:10.0.0.1]/hook", "private"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https:///hook", "no host"),
    ("https://exa mple.com/", "spaces"),
    ("https://example.com:99999/", "not valid"),
])
def test_urls_that_can_never_be_valid(url, reason):
    with pytest.raises(RefusedUrl, match=reason):
        check_url(url, allow_http=False, allow_loopback=False)


def test_a_name_is_only_checked_for_its_form_at_creation():
    target = check_url("https://hooks.example.com:8443/in?x=1", allow_http=False, allow_loopback=False)
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert check_url("http://127.0.0.1:9/x", allow_http=True, allow_loopback=True).port == 9


def _never_connect(*args):
    raise AssertionError(f"a connection was attempted: {args}")


@pytest.mark.parametrize("resolved", [["10.0.0.1"], ["169.254.169.254"], ["fd00::1"],
                                      ["::ffff:10.0.0.1"], ["93.184.216.34", "10.0.0.1"]])
def test_a_name_resolving_inward_is_refused_before_any_connection(resolved):
    asked = []

    def resolver(host, port):
        asked.append((host, port))
        return resolved

    sender = WebhookSender(allow_http=False, allow_loopback=True, timeout=2, resolver=resolver,
                           opener=_never_connect)
    answer = sender.send("https://hooks.example.com/in", {}, b"{}")
    assert asked == [("hooks.example.com", 443)]  # resolved at the attempt
    assert answer.status_code is None and answer.error.startswith("refused: ")
    assert not answer.delivered


def test_loopback_is_refused_unless_allowed_and_nothing_connects():
    with running_receiver() as receiver, running_receiver("::1") as receiver6:
        sender = WebhookSender(allow_http=True, allow_loopback=False, timeout=2)
        for url in (receiver.url + "/in", f"http://localhost:{receiver.port}/in",
                    receiver6.url + "/in"):
            answer = sender.send(url, {}, b"{}")
            assert answer.error and "loopback" in answer.error, url
        assert receiver.connections == 0 and receiver6.connections == 0
        # Allowed, the same receivers get the request, IPv6 included.
        allowed = WebhookSender(allow_http=True, allow_loopback=True, timeout=5)
        assert allowed.send(receiver.url + "/in", {}, b"{}").status_code == 200
        assert allowed.send(receiver6.url + "/in", {}, b"{}").status_code == 200


def test_connects_to_the_checked_address_with_the_name_as_host():
    with running_receiver() as receiver:
        opened = []

        def opener(scheme, address, port, host, timeout):
            opened.append((scheme, address, port, host))
            return open_pinned(scheme, address, port, host, timeout)

        # The name resolves once (to loopback); the connection goes to that address.
        sender = WebhookSender(allow_http=True, allow_loopback=True, timeout=5,
                               resolver=lambda host, port: ["127.0.0.1"], opener=opener)
        answer = sender.send(f"http://hooks.example.test:{receiver.port}/in?a=1", {"X": "y"}, b"{}")
        assert answer.status_code == 200
        assert opened == [("http", "127.0.0.1", receiver.port, "hooks.example.test")]
        request = receiver.requests()[0]
        assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
        assert request.path == "/in?a=1"


def test_redirects_are_not_followed_and_answers_are_read_to_64_kib():
    with running_receiver() as first, running_receiver() as second:
        first.script.append(Reply(302, {"Location": second.url + "/elsewhere"}))
        first.script.append(Reply(200, body=b"x" * (3 * MAX_RESPONSE_BYTES)))
        sender = WebhookSender(allow_http=True, allow_loopback=True, timeout=5)
        redirected = sender.send(first.url + "/in", {}, b"{}")
        assert redirected.status_code == 302 and not redirected.delivered
        assert "redirect" in redirected.error
        assert second.requests() == [] and second.connections == 0
        big = sender.send(first.url + "/in", {}, b"{}")
        assert big.delivered and len(big.body) == MAX_RESPONSE_BYTES


def test_a_slow_receiver_times_out():
    with running_receiver() as receiver:
        receiver.script.append(Reply(200, delay=3))
        answer = WebhookSender(allow_http=True, allow_loopback=True, timeout=1).send(
            receiver.url, {}, b"{}")
        assert answer.status_code is None and answer.error == "timed out"
        assert answer.duration_ms < 2500


def test_retry_after():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("999999") == 24 * 3600
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None
