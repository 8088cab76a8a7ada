"""``sms-addon ops …``: the operator actions from a shell, through the admin HTTP API.

It calls the API (``API_URL`` or ``--api``, with ``SMS_ADMIN_TOKEN``; against an API on
this machine without it, the token `make run` keeps in .data/admin-token) rather than the
service functions, so a command does exactly what the HTTP action does (the same
idempotency, limits, workflow calls and audit) and needs neither the database nor
Temporal, only the address an operator already reaches.

Every command sends a request key. Left out, it is derived from the command's own
arguments, so running the same command again (after a timeout, say) is answered with
the first result and acts once; pass ``--key`` to mean a second, identical action.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import ipaddress
import json
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx

from config.settings import DEV_ADMIN_TOKEN_FILE, Settings, get_settings
from contracts.operator import DEFAULT_OPERATOR
from observability.logs import quiet_http_client

TIMEOUT_SECONDS = 60.0
DESCRIPTION = f"""\
Operator actions on one account, through the admin HTTP API: the same limits, keys and
audit as the API, and no database or Temporal access needed.

The admin token is SMS_ADMIN_TOKEN; without it, for an API on this machine, the token
`make run` keeps in {DEV_ADMIN_TOKEN_FILE}. Each command sends a request key derived from
its arguments, so running the same command again (after a timeout, say) answers the
first result and acts once; --key makes a second, identical action."""


def derived_key(*parts: object) -> str:
    """A request key from the command's arguments: the same command, the same key."""
    text = "\x1f".join(str(part) for part in parts)
    return "cli-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def api_url(settings: Settings) -> str:
    """Where the commands go when ``--api`` is not given."""
    return settings.api_url or f"http://{settings.api_host}:{settings.api_port}"


def _on_this_machine(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def admin_token(settings: Settings, base: str) -> str:
    """SMS_ADMIN_TOKEN; else, for an API on this machine, the dev stack's own token.

    The file is only read for a loopback address, so a stray .data/ never sends the
    embedded stack's token to another server.
    """
    configured = settings.sms_admin_token.get_secret_value()
    if configured or not _on_this_machine(base) or not DEV_ADMIN_TOKEN_FILE.is_file():
        return configured
    return DEV_ADMIN_TOKEN_FILE.read_text(encoding="utf-8").strip()


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None, str | None]:
    """(method, path under the account, JSON body, Idempotency-Key) of the command."""
    account = args.account_id
    if args.action == "refund":
        body = {
            "payment_id": args.payment_id,
            "amount_minor": args.amount_minor,
            "reason": args.reason,
            "revoke_credits": args.revoke_credits,
        }
        return "POST", "/refunds", body, args.key or derived_key("refund", account, body)
    if args.action == "goodwill":
        request_id = args.request_id or derived_key("goodwill", account, args.credits, args.reason)
        body = {"credits": args.credits, "reason": args.reason, "request_id": request_id}
        return "POST", "/goodwill", body, None
    if args.action == "retry-payment":
        return "POST", "/retry-payment", None, args.key
    if args.action == "cancel":
        body = {"when": args.when, "refund": args.refund, "reason": args.reason}
        return "POST", "/addon/cancel", body, args.key or derived_key("cancel", account, body)
    if args.action == "redeliver":
        return "POST", f"/events/{args.event_id}/redeliver", None, None
    return "GET", "/audit", None, None


async def run_ops(
    argv: list[str] | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> int:
    """Run one ops command; prints the answer's JSON; 0 when the API accepted it."""
    args = build_ops_parser().parse_args(argv)
    settings = get_settings()
    base = args.api or api_url(settings)
    token = admin_token(settings, base)
    if not token:
        print(
            f"sms-addon ops: set SMS_ADMIN_TOKEN to the admin token ({DEV_ADMIN_TOKEN_FILE}, "
            "where `make run` keeps its own, is read only for an API on this machine)",
            file=sys.stderr,
        )
        return 2
    method, path, body, key = _request(args)
    headers = {"Authorization": f"Bearer {token}", "X-Operator": args.operator}
    if key is not None:
        headers["Idempotency-Key"] = key
    async with httpx.AsyncClient(
        base_url=base, transport=transport, timeout=TIMEOUT_SECONDS
    ) as client:
        try:
            response = await client.request(
                method,
                f"/v1/admin/accounts/{args.account_id}/sms{path}",
                json=body,
                headers=headers,
            )
        except httpx.HTTPError as error:
            print(f"sms-addon ops: {base} did not answer: {error}", file=sys.stderr)
            return 1
    out = sys.stdout if response.is_success else sys.stderr
    print(json.dumps(response.json(), indent=2), file=out)
    if key is not None and response.status_code == 503:
        print(f"sms-addon ops: repeat with --key {key} to settle it", file=sys.stderr)
    return 0 if response.is_success else 1


def build_ops_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(
        prog="sms-addon ops",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--api",
        default=None,
        help="the API's base URL (default API_URL, else http://API_HOST:API_PORT)",
    )
    parser.add_argument(
        "--operator", default=DEFAULT_OPERATOR, help="who acts, for the audit (default admin)"
    )
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)

    refund = actions.add_parser("refund", help="refund a capture in part or in full")
    refund.add_argument("account_id")
    refund.add_argument("payment_id")
    refund.add_argument("amount_minor", type=int, help="in minor units (cents)")
    refund.add_argument("--reason", required=True)
    refund.add_argument("--revoke-credits", action="store_true", help="take back the credits")
    refund.add_argument("--key", default=None, help="request key (default: from the arguments)")

    goodwill = actions.add_parser("goodwill", help="credits until the next renewal")
    goodwill.add_argument("account_id")
    goodwill.add_argument("credits", type=int)
    goodwill.add_argument("--reason", required=True)
    goodwill.add_argument("--request-id", default=None, help="default: from the arguments")

    retry = actions.add_parser("retry-payment", help="retry a past-due charge now")
    retry.add_argument("account_id")
    retry.add_argument("--key", default=None)

    cancel = actions.add_parser("cancel", help="cancel at period end, or end now")
    cancel.add_argument("account_id")
    cancel.add_argument("--when", choices=["period_end", "now"], required=True)
    cancel.add_argument("--refund", choices=["none", "prorated"], default="none")
    cancel.add_argument("--reason", default="operator cancel")
    cancel.add_argument("--key", default=None)

    redeliver = actions.add_parser("redeliver", help="send a failed webhook delivery again")
    redeliver.add_argument("account_id")
    redeliver.add_argument("event_id")

    audit = actions.add_parser("audit", help="the operator actions on an account")
    audit.add_argument("account_id")
    return parser


def ops_main(argv: list[str]) -> None:
    quiet_http_client()  # the answer is the output, not a log line per request
    sys.exit(asyncio.run(run_ops(argv)))
