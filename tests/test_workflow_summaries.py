"""What `temporal workflow describe` shows: every workflow carries a static summary
(account, item, amounts where known) and a current-details line that stays true to
the end, in one time format (workflows/summaries.py). On the real dev server."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from config.payment_janitor import janitor_schedule
from contracts.operator import operator_refund_workflow_id
from contracts.purchase import purchase_workflow_id
from contracts.subscription import subscription_workflow_id
from store.operator_models import RefundRequest
from tests.operator_support import ops_post
from tests.purchase_support import open_shop
from tests.registration_support import DETAILS
from tests.support import settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}
MOMENT = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
WAIT_SECONDS = 15.0


async def details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata.current_details


async def closed(handle: WorkflowHandle[Any, Any]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        assert asyncio.get_running_loop().time() < deadline, handle.id
        await asyncio.sleep(0.1)


async def test_every_workflow_says_what_it_is_and_where_it_stands(
    dev_env, sqlite_sessions, sqlite_url
):
    async with open_shop(
        dev_env, sqlite_sessions, sqlite_url, sms_sandbox_carrier_delay_seconds=0.2
    ) as shop:
        account = shop.account_id
        bought = await shop.bought(ADDON)
        client = dev_env.client

        purchase = client.get_workflow_handle(purchase_workflow_id(account, bought["purchase_id"]))
        await closed(purchase)
        described = await purchase.describe()
        assert await described.static_summary() == f"{account}: buy addon sms-1000"
        assert re.fullmatch(rf"Ended completed at {MOMENT}\.", await details(purchase))

        subscription = client.get_workflow_handle(subscription_workflow_id(account))
        described = await subscription.describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
        assert await described.static_summary() == (
            f"{account}: SMS add-on subscription, activated by purchase {bought['purchase_id']}"
        )
        assert re.fullmatch(
            r"renews \d{4}-\d\d-\d\d, charges \$18\.00", await details(subscription)
        )

        body = {"payment_id": bought["payment"]["payment_id"], "amount_minor": 100, "reason": "x"}
        assert (await ops_post(shop, "/refunds", body, key="sum-1")).status_code == 201
        with shop.sessions() as session:
            request = session.query(RefundRequest).filter_by(account_id=account).one()
        refund = client.get_workflow_handle(operator_refund_workflow_id(account, request.id))
        await closed(refund)
        summary = await (await refund.describe()).static_summary()
        assert summary is not None and summary.startswith(f"{account}: operator refund of 100")
        assert re.fullmatch(
            rf"Refund pay_\w+ succeeded: \$1\.00 at {MOMENT}, 0 credits revoked",
            await details(refund),
        )

        registration = await shop.api.post(
            f"/v1/accounts/{account}/sms/registrations/a2p_10dlc", json=DETAILS, headers=shop.admin
        )
        assert registration.status_code == 202, registration.text
        a2p = client.get_workflow_handle(f"a2p-10dlc:{account}")
        assert await (await a2p.describe()).static_summary() == (
            f"{account}: A2P 10DLC registration of Acme Corporation, submission 1"
        )
        await closed(a2p)
        assert re.fullmatch(rf"Registration approved at {MOMENT}\.", await details(a2p))

        ended = await ops_post(shop, "/addon/cancel", {"when": "now"}, key="sum-2")
        assert ended.status_code == 200, ended.text
        await closed(subscription)
        assert re.fullmatch(r"cancelled on \d{4}-\d\d-\d\d", await details(subscription))


def test_the_janitor_schedule_starts_sweeps_with_a_summary(sqlite_url):
    action = janitor_schedule(settings_for(sqlite_url)).action
    assert getattr(action, "static_summary", None) == (
        "payment janitor: settle payments pending over 900 s"
    )
