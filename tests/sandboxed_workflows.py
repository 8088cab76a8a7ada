"""The subscription and purchase workflows as the workflow sandbox runs them.
Production runs them unsandboxed (workflows/subscription.py says why); replaying their
histories with these copies keeps the sandbox's checks (no clock, randomness or I/O
outside Temporal's) on their code."""

from __future__ import annotations

from temporalio import workflow

# Imported inside the sandbox (not passed through), so their calls meet the restrictions.
from workflows.purchase import PurchaseWorkflow
from workflows.subscription import SmsSubscriptionWorkflow

with workflow.unsafe.imports_passed_through():
    from contracts.purchase import PurchaseInput, PurchaseView
    from contracts.subscription import SUBSCRIPTION_WORKFLOW, SubscriptionStart
    from domain.enums import AddonStatus


@workflow.defn(name=SUBSCRIPTION_WORKFLOW, sandboxed=True)
class SandboxedSubscription(SmsSubscriptionWorkflow):
    @workflow.run
    async def run(self, start: SubscriptionStart) -> AddonStatus:
        return await super().run(start)


@workflow.defn(name="SmsPurchase", sandboxed=True)
class SandboxedPurchase(PurchaseWorkflow):
    @workflow.run
    async def run(self, request: PurchaseInput) -> PurchaseView:
        return await super().run(request)
