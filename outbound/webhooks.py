"""Webhook addresses and the signed POST.

An address must be http(s) and, unless private addresses are allowed
(``SMS_WEBHOOK_ALLOW_PRIVATE``, for the embedded stack and the tests), must not
reach a private, loopback, link-local or otherwise internal address: not at
settings time (a literal address, or a name that resolves to one) and not at
delivery time (a name may resolve elsewhere later).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from domain.events import SIGNATURE_HEADER, sign

# A receiver that takes longer than this is treated as a failed attempt (retried).
POST_TIMEOUT_SECONDS = 10.0


class WebhookNotAccepted(Exception):
    """The receiver answered other than 2xx, or could not be reached: retry later."""


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _resolved(host: str) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
    except (OSError, UnicodeError):
        return []  # unresolvable now: nothing internal to refuse; delivery checks again


def address_refusal(url: str, allow_private: bool) -> str | None:
    """Why ``url`` may not receive webhooks, or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "A webhook URL must be an http or https URL with a host."
    if parts.username or parts.password:
        return "A webhook URL must not carry credentials."
    if allow_private:
        return None
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return "A webhook URL must not point at this machine (localhost)."
        addresses = _resolved(host)
    if any(_internal(a) for a in addresses):
        return "A webhook URL must not reach a private, loopback or link-local address."
    return None


async def post_signed(url: str, secret: str, body: bytes) -> int:
    """POST ``body`` with its signature; the status code when it was 2xx."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    try:
        async with httpx.AsyncClient(timeout=POST_TIMEOUT_SECONDS) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise WebhookNotAccepted(f"The webhook could not be reached: {exc!r}") from exc
    if not 200 <= response.status_code < 300:
        raise WebhookNotAccepted(f"The webhook answered {response.status_code}.")
    return response.status_code
