"""One webhook POST (outbound/webhooks.py) against real receivers on loopback: it goes to
the address that was checked, with the URL's name as Host and TLS server name, follows
no redirect, and tells a refusal for good from one worth retrying. Names resolve through
a resolver the test gives (``*.invalid`` names that no DNS knows), so that reaching the
receiver at all proves the client connected to the checked address itself."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address

import pytest
import trustme

from outbound.address_safety import IPAddress
from outbound.webhook_signing import new_secret, signature_headers
from outbound.webhooks import WebhookNotAccepted, WebhookRefused, post_signed
from tests.event_support import FOREVER, receiver
from tests.ports import HOST

NAME = "hooks.receiver.invalid"  # resolvable only through ``to_loopback``
BODY = b'{"event_id":"evt_1"}'


def to_loopback(host: str, port: int) -> list[IPAddress]:
    assert host == NAME
    return [IPv4Address(HOST)]


def signed() -> dict[str, str]:
    return signature_headers(new_secret(), "evt_1", datetime.now(UTC), BODY)


async def test_the_post_goes_to_the_checked_address_with_the_name_as_host() -> None:
    with receiver(0) as hook:
        url = hook.url.replace(HOST, NAME)
        status = await post_signed(url, signed(), BODY, allow_private=True, resolver=to_loopback)
    assert status == 204
    [request] = hook.received
    assert request.host == url.split("/")[2]  # "hooks.receiver.invalid:port"
    assert request.body == BODY and request.headers["webhook-id"] == "evt_1"


async def test_tls_checks_the_name_while_connecting_to_the_checked_address() -> None:
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(NAME).configure_cert(server_tls)
    names: list[str | None] = []

    def heard(_socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    server_tls.sni_callback = heard
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    with receiver(0, tls=server_tls) as hook:
        url = hook.url.replace(HOST, NAME)
        status = await post_signed(
            url, signed(), BODY, allow_private=True, verify=client_tls, resolver=to_loopback
        )
        # The certificate names NAME, not the address: asked for by address, TLS fails.
        with pytest.raises(WebhookNotAccepted):
            await post_signed(hook.url, signed(), BODY, allow_private=True, verify=client_tls)
    assert status == 204 and names[0] == NAME
    assert hook.received[0].host == url.split("/")[2]


@pytest.mark.parametrize(
    "inward",
    [
        [IPv4Address("127.0.0.1")],
        [IPv6Address("::ffff:127.0.0.1")],
        [IPv6Address("::1"), IPv4Address("127.0.0.1")],
    ],
)
async def test_a_name_resolving_inward_now_is_refused_before_any_request(
    inward: list[IPAddress],
) -> None:
    """Public at registration, inward at delivery (DNS rebinding): refused for good."""
    with receiver(0) as hook:
        url = hook.url.replace(HOST, NAME)
        with pytest.raises(WebhookRefused, match="loopback"):
            await post_signed(
                url, signed(), BODY, allow_private=False, resolver=lambda _h, _p: inward
            )
    assert hook.received == []


async def test_a_literal_inward_address_is_refused_in_any_form() -> None:
    with receiver(0) as hook:
        port = hook.url.split(":")[2].split("/")[0]
        for host in ("127.0.0.1", "127.1", "2130706433", "0x7f000001", "[::ffff:7f00:1]"):
            with pytest.raises(WebhookRefused):
                await post_signed(f"http://{host}:{port}/", signed(), BODY, allow_private=False)
    assert hook.received == []


async def test_a_redirect_is_not_followed() -> None:
    with (
        receiver(0) as elsewhere,
        receiver(FOREVER, 307, location=elsewhere.url) as hook,
        pytest.raises(WebhookNotAccepted, match="307"),
    ):
        await post_signed(hook.url, signed(), BODY, allow_private=True)
    assert len(hook.received) == 1 and elsewhere.received == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
async def test_a_client_error_is_a_refusal_for_good(status: int) -> None:
    with receiver(FOREVER, status) as hook, pytest.raises(WebhookRefused, match=str(status)):
        await post_signed(hook.url, signed(), BODY, allow_private=True)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
async def test_busy_or_broken_receivers_are_worth_retrying(status: int) -> None:
    with receiver(FOREVER, status) as hook, pytest.raises(WebhookNotAccepted, match=str(status)):
        await post_signed(hook.url, signed(), BODY, allow_private=True)


async def test_a_receiver_that_is_not_listening_is_worth_retrying() -> None:
    with receiver(0) as hook:
        url = hook.url
    with pytest.raises(WebhookNotAccepted, match="could not be reached"):
        await post_signed(url, signed(), BODY, allow_private=True)
