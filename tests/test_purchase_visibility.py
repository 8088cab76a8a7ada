"""Operators find a purchase by its account (the AccountId search attribute, API.md
"Operations"): the API sets it when it starts the workflow, so the workflow spends no
command on it; workflows started without it (older ones) set it themselves."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from tests.purchase_support import open_shop
from workflows.search_attributes import ACCOUNT_ID

ADDON = {"type": "addon", "tier": "sms-1000"}


async def _listed(client: Client, account_id: str) -> list[str]:
    query = f'WorkflowType = "SmsPurchase" AND {ACCOUNT_ID.name} = "{account_id}"'
    for _ in range(100):  # visibility follows the history shortly after
        found = [wf.id async for wf in client.list_workflows(query)]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def test_a_purchase_is_found_by_its_account(dev_env, sqlite_sessions, sqlite_url):
    async with open_shop(dev_env, sqlite_sessions, sqlite_url) as shop:
        quoted = await shop.buy(ADDON)
        assert quoted.status_code == 201, quoted.text
        handle = shop.handle(quoted.json()["purchase_id"])
        assert await _listed(dev_env.client, shop.account_id) == [handle.id]
        described = await handle.describe()
        assert described.typed_search_attributes.get(ACCOUNT_ID) == shop.account_id
