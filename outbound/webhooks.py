"""One signed POST of an event to a customer's webhook, to a checked address only.

The host is resolved here, every address it gives is checked (outbound/address_safety.py,
unless private addresses are allowed: ``SMS_WEBHOOK_ALLOW_PRIVATE``) and the request is
sent to a checked address itself: the URL's host is replaced by that address, while the
``Host`` header and the TLS server name (SNI, and the certificate check) stay the
URL's. A name that resolved outward at registration and inward now (DNS rebinding) is
refused, and the HTTP client never resolves anything on its own. Redirects are not
followed, and no proxy from the environment is used.

What the receiver answered decides what happens next: a 2xx is delivered; no answer, a
5xx, a redirect, 408 or 429 is worth another try (``WebhookNotAccepted``); any other 4xx,
or an address that may not be reached, will not change by retrying (``WebhookRefused``).
"""

from __future__ import annotations

import asyncio
import ssl

import httpx

from outbound.address_safety import (
    AddressRefused,
    IPAddress,
    Resolver,
    default_port,
    ip_literal,
    refuse_inward,
    resolve,
    webhook_parts,
)

# A receiver that takes longer than this is treated as a failed attempt (retried).
POST_TIMEOUT_SECONDS = 10.0
# Client errors that say "later", not "never".
RETRY_LATER = frozenset({408, 429})


class WebhookNotAccepted(Exception):
    """No 2xx this time, for a reason that may pass: try again later."""


class WebhookRefused(Exception):
    """The webhook cannot take this event, and retrying will not change that."""


def _outcome(status: int) -> int:
    if 200 <= status < 300:
        return status
    if 400 <= status < 500 and status not in RETRY_LATER:
        raise WebhookRefused(f"The webhook answered {status}, which retrying will not change.")
    raise WebhookNotAccepted(f"The webhook answered {status}.")


async def _checked_addresses(
    host: str, port: int, allow_private: bool, resolver: Resolver
) -> list[IPAddress]:
    try:
        addresses = await asyncio.to_thread(resolver, host, port)
    except AddressRefused as refused:
        raise WebhookRefused(str(refused)) from refused
    except (OSError, UnicodeError) as exc:
        raise WebhookNotAccepted(f"{host} did not resolve: {exc}") from exc
    if not allow_private:
        try:
            refuse_inward(host, addresses)
        except AddressRefused as refused:
            raise WebhookRefused(str(refused)) from refused
    return addresses


async def post_signed(
    url: str,
    headers: dict[str, str],
    body: bytes,
    allow_private: bool,
    verify: ssl.SSLContext | bool = True,
    resolver: Resolver = resolve,
) -> int:
    """POST ``body`` with its signature ``headers`` to a checked address of ``url``'s
    host; the status code when it was 2xx. ``verify`` (the TLS trust) and ``resolver``
    (names to addresses) are the system's unless a test brings its own."""
    try:
        port = default_port(webhook_parts(url))
        target = httpx.URL(url)
    except (AddressRefused, httpx.InvalidURL) as refused:
        raise WebhookRefused(str(refused)) from refused
    host = target.raw_host.decode("ascii")
    addresses = await _checked_addresses(host, port, allow_private, resolver)
    sent_headers = {**headers, "Content-Type": "application/json", "Host": target.netloc.decode()}
    # The TLS server name is the URL's name, whatever address is connected to.
    extensions = {"sni_hostname": host} if ip_literal(host) is None else {}
    unreachable: list[str] = []
    async with httpx.AsyncClient(
        timeout=POST_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, verify=verify
    ) as client:
        for address in addresses:
            try:
                response = await client.post(
                    target.copy_with(host=str(address)),
                    content=body,
                    headers=sent_headers,
                    extensions=extensions,
                )
            except httpx.ConnectError as exc:  # the next address may answer
                unreachable.append(f"{address}: {exc}")
                continue
            except httpx.HTTPError as exc:
                raise WebhookNotAccepted(f"The webhook did not answer: {exc!r}") from exc
            return _outcome(response.status_code)
    raise WebhookNotAccepted(f"The webhook could not be reached ({'; '.join(unreachable)}).")
