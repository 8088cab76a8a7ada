"""What `sms-addon dev` prints once the stack is up: where everything is, the demo
accounts, how to sign in to the billing page as each demo user, the tokens and the
walkthrough (devstack/walkthrough.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from config.settings import DEFAULTS
from devstack.demo import DEMO_ACCOUNTS, MAIN_ACCOUNT, DemoState, token_key
from devstack.layout import DevStack
from devstack.walkthrough import token_lines, walkthrough
from domain.enums import Currency


def sms_addon_command() -> str:
    """``sms-addon`` as this shell reaches it: the script beside this Python (make run's
    .venv/bin/sms-addon), relative to the working directory when it is under it."""
    script = Path(sys.executable).with_name("sms-addon")
    return os.path.relpath(script) if script.is_relative_to(Path.cwd()) else str(script)


def ops_example(stack: DevStack) -> str:
    """An operator command that works as printed: the token comes from .data/admin-token,
    and the API's address is given when it is not the one ``ops`` assumes."""
    moved = stack.settings.api_port != DEFAULTS.api_port
    api = f" --api {stack.api_url}" if moved else ""
    return f"{sms_addon_command()} ops{api} audit {MAIN_ACCOUNT}"


def banner(stack: DevStack, admin_token: str, state: DemoState, seeded_now: bool) -> str:
    seed_note = "seeded now" if seeded_now else "seeded on an earlier run; data kept"
    return f"""
SMS add-on is running. Ctrl-C stops everything.

  API          {stack.api_url}   (OpenAPI: {stack.api_url}/docs)
  Billing page {stack.api_url}/billing
  Metrics      {stack.api_url}/metrics (API)   {stack.worker_metrics_url} (worker)
  Temporal UI  {stack.temporal_ui_url}   (gRPC: {stack.temporal_address})
  Mail         {stack.mail_dir}/*.eml: every message the service sends (SMTP sink {stack.smtp_url})
  State        {stack.data_dir}/ (databases, secrets, demo tokens); logs in {stack.data_dir}/logs/
  Admin token  {admin_token}
  Operators    {ops_example(stack)}   (all commands: {sms_addon_command()} --help)

Demo accounts ({seed_note}):
{accounts_table()}

The billing page, signed in as each demo user:
{billing_page_lines(stack.api_url, state)}

Demo tokens (also in {state.path}); paste these lines into another shell:
{token_lines(stack.api_url, state)}

Then walk through the flow:
{walkthrough()}
"""


def accounts_table() -> str:
    return "\n".join(
        f"  {account.account_id:<8} {account.plan:<13} {account.billing_cycle:<8} "
        + ", ".join(f"{user.user_id} ({user.label})" for user in account.users)
        + ("" if account.currency is Currency.USD else f"; {account.currency}, {account.locale}")
        for account in DEMO_ACCOUNTS
    )


def billing_page_lines(api_url: str, state: DemoState) -> str:
    """How to sign in to the billing page as each demo user."""
    lines = [
        f'Open {api_url}/billing, paste a token into "API token" and press "Sign in"'
        " (Portuguese with a pt-BR browser):"
    ] + [
        f"  {user.user_id:<5} {account.account_id:<8} {user.label:<24} "
        + state.tokens.get(token_key(account.account_id, user.user_id), "")
        for account in DEMO_ACCOUNTS
        for user in account.users
    ]
    return "\n".join(f"  {line}" for line in lines)
