"""An account's A2P 10DLC registration workflow (``A2pRegistration``) as the API calls
it: a submission starts a run (or corrects the one waiting for corrections), and a
carrier's decision is signalled to it."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from application.context import Services
from application.temporal_calls import answer, unavailable
from boundary.options import WORKFLOW_TASK_TIMEOUT
from contracts.registration import (
    CarrierDecision,
    RegistrationStart,
    RegistrationState,
    workflow_id,
)
from domain.registration import RegistrationDetails
from workflows.registration import A2pRegistrationWorkflow

STILL_RECORDING = "The registration is still being recorded."


class RegistrationClient:
    def __init__(self, services: Services, account_id: str) -> None:
        self._services = services
        self._account_id = account_id

    async def _handle(self) -> WorkflowHandle[A2pRegistrationWorkflow, RegistrationState]:
        client = await self._services.temporal.client()
        return client.get_workflow_handle_for(
            A2pRegistrationWorkflow.run, workflow_id(self._account_id)
        )

    async def submit(self, start: RegistrationStart) -> RegistrationState:
        """Start a run for a new submission, or hand corrected details to the run that
        waits for them (a failed or timed-out registration); answers once recorded."""
        client = await self._services.temporal.client()
        try:
            handle: WorkflowHandle[Any, RegistrationState] = await client.start_workflow(
                A2pRegistrationWorkflow.run,
                start,
                id=workflow_id(self._account_id),
                static_summary=(
                    f"{self._account_id}: A2P 10DLC registration of "
                    f"{start.details.brand.legal_name}, submission {start.submission}"
                ),
                task_queue=self._services.settings.sms_task_queue,
                task_timeout=WORKFLOW_TASK_TIMEOUT,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            return await self.resubmit(start.details)
        except RPCError as exc:
            raise unavailable("Temporal did not take the registration; try again soon.") from exc
        call = handle.execute_update(A2pRegistrationWorkflow.submitted)
        return await answer(self._services, call, STILL_RECORDING)

    async def resubmit(self, details: RegistrationDetails) -> RegistrationState:
        handle = await self._handle()
        call = handle.execute_update(A2pRegistrationWorkflow.resubmit, details)
        return await answer(self._services, call, STILL_RECORDING)

    async def decide(self, decision: CarrierDecision) -> None:
        handle = await self._handle()
        call = handle.signal(A2pRegistrationWorkflow.decide, decision)
        await answer(self._services, call, "Temporal did not take the decision; send it again.")
