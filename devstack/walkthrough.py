"""The curl walkthrough `make run` prints, through the demo's flow (API.md), and the
shell lines it starts from: the API's address and each demo user's token."""

from __future__ import annotations

import json
import shlex

from devstack.demo import DEMO_ACCOUNTS, MAIN_ACCOUNT, STARTER, DemoState, token_key

DEMO_TIER = "sms-1000"
DEMO_PACK = "pack-500"
DEMO_MESSAGE = {"country": "BR", "recipients": 120, "text": "Sale ends tonight!"}


def token_lines(api_url: str, state: DemoState) -> str:
    """Shell assignments of the API address and every demo user's token."""
    lines = [f"API={api_url}"] + [
        f"{_var(user.user_id)}={state.tokens.get(token_key(account.account_id, user.user_id), '')}"
        for account in DEMO_ACCOUNTS
        for user in account.users
    ]
    return "\n".join(f"  {line}" for line in lines)


def _var(user_id: str) -> str:
    return user_id.upper()


# Every call shows its answer and then " -> " and its status code.
SHOW_STATUS = "-w ' -> %{http_code}\\n'"
# Shows an answer (with its status) and prints its field $1; fails when there is none.
PICK = (
    'pick() { python3 -c "import json,sys; a=sys.stdin.read(); sys.stderr.write(a); '
    "v=json.loads(a.rpartition(' -> ')[0]).get('$1'); print(v or ''); sys.exit(v is None)\"; }"
)
# Fresh Idempotency-Keys on every paste, so a second paste makes new purchases and sends.
RUN = "RUN=$(date +%s)-$RANDOM"


def _curl(
    method: str, path: str, *, user: str | None = None, body: object = None, key: str | None = None
) -> str:
    parts = [f"curl -sS {SHOW_STATUS}"]
    if method != "GET":
        parts.append(f"-X {method}")
    if user is not None:
        parts.append(f'-H "Authorization: Bearer ${_var(user)}"')
    if key is not None:
        parts.append(f'-H "Idempotency-Key: demo-$RUN-{key}"')
    if body is not None:
        parts.append('-H "Content-Type: application/json"')
        parts.append("-d " + shlex.quote(json.dumps(body, separators=(",", ":"))))
    parts.append(f'"$API{path}"')
    return " ".join(parts)


def _purchase_request(account: str, user: str, item: dict[str, str], key: str) -> str:
    path = f"/v1/accounts/{account}/sms/purchases"
    return _curl("POST", path, user=user, body={"item": item}, key=key)


def _purchase(user: str, item: dict[str, str], key: str) -> str:
    """Create a purchase (the Review purchase step), show it, and keep its id in $P."""
    return f"P=$({_purchase_request(MAIN_ACCOUNT, user, item, key)} | pick purchase_id)"


def _confirm(user: str) -> str:
    return _curl("POST", f"/v1/accounts/{MAIN_ACCOUNT}/sms/purchases/$P/confirm", user=user)


DEMO_ALERTS = {
    "low_balance_threshold": 1000,
    "auto_top_up": {"pack": DEMO_PACK, "below": 1000, "max_per_month": 3},
    "webhook_url": None,
}


DEMO_DRAIN = {"country": "BR", "recipients": 100, "text": "Last call!"}  # 400 credits


def walkthrough() -> str:
    """A copy-paste curl session through the seed's flow (API.md), after ``token_lines``.

    It can be pasted again after a later `make run`: the keys are fresh, and once acme
    has the add-on its first purchase is refused (409) and a credit pack is bought instead.
    """
    acme = f"/v1/accounts/{MAIN_ACCOUNT}/sms"
    addon = {"type": "addon", "tier": DEMO_TIER}
    pack = {"type": "credit_pack", "pack": DEMO_PACK}
    starter = STARTER.account_id
    steps = [
        PICK,
        RUN,
        "# Countries and the credits one message costs there -> 200",
        _curl("GET", "/v1/sms/countries"),
        "# The billing page (eligible: true), and the add-on tiers and credit packs for",
        "# acme's billing cycle -> 200 each",
        _curl("GET", acme, user="ana"),
        _curl("GET", f"{acme}/offers", user="ana"),
        f"# Add to plan: the {DEMO_TIER} add-on -> 201, the Review purchase step (its quote).",
        "# Once acme has the add-on (a later paste) that is 409 addon_already_active,",
        f"# and ana adds the {DEMO_PACK} credit pack instead -> 201",
        f"{_purchase('ana', addon, 'addon')} ||",
        f"  {_purchase('ana', pack, 'pack-ana')}",
        "# Confirm purchase: payment captured, credits granted -> 200, status completed",
        _confirm("ana"),
        "# The credits on the billing page, the credit ledger and the payments -> 200 each",
        _curl("GET", acme, user="ana"),
        _curl("GET", f"{acme}/ledger", user="ana"),
        _curl("GET", f"{acme}/payments", user="ana"),
        f"# Extra credits: the billing user buys {DEMO_PACK} (recurring) -> 201, confirms -> 200",
        _purchase("ben", pack, "pack-ben"),
        _confirm("ben"),
        "# Send 120 messages to Brazil -> 200 (credits debited, the balance after), then",
        "# estimate the same send (public, debits nothing) -> 200",
        _curl("POST", f"{acme}/usage", user="ana", body=DEMO_MESSAGE, key="send"),
        _curl("POST", "/v1/sms/estimate", body=DEMO_MESSAGE),
        "# Alerts: warn below 1,000 credits, and auto top-up (one-time credits of",
        f"# {DEMO_PACK}, at most 3 a month) below 1,000 -> 200; add a webhook_url to get",
        "# each event POSTed, signed (the secret is answered once). Spend 400 more credits",
        "# -> 200, then the events (low_balance; top_up.completed once it is bought) -> 200",
        _curl("PUT", f"{acme}/settings", user="ana", body=DEMO_ALERTS),
        _curl("POST", f"{acme}/usage", user="ana", body=DEMO_DRAIN, key="drain"),
        _curl("GET", f"{acme}/events", user="ana"),
        "# Refusals: a plain user -> 403 billing_permission_required; the Starter",
        f"# account {starter} (its billing page says eligible: false) -> 409 plan_not_eligible",
        _curl("POST", f"{acme}/purchases", user="cleo", body={"item": pack}, key="cleo"),
        _purchase_request(starter, STARTER.users[0].user_id, addon, "starter"),
    ]
    return "\n".join(f"  {step}" for step in steps)
