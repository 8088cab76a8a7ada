"""The subscription workflow as the workflow sandbox runs it. Production runs it
unsandboxed (workflows/subscription.py says why); replaying its histories with this
copy keeps the sandbox's checks (no clock, randomness or I/O outside Temporal's) on
its code."""

from __future__ import annotations

from temporalio import workflow

# Imported inside the sandbox (not passed through), so its calls meet the restrictions.
from workflows.subscription import SmsSubscriptionWorkflow

with workflow.unsafe.imports_passed_through():
    from domain.enums import AddonStatus
    from domain.subscription import SUBSCRIPTION_WORKFLOW, SubscriptionStart


@workflow.defn(name=SUBSCRIPTION_WORKFLOW, sandboxed=True)
class SandboxedSubscription(SmsSubscriptionWorkflow):
    @workflow.run
    async def run(self, start: SubscriptionStart) -> AddonStatus:
        return await super().run(start)
