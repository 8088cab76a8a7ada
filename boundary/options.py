"""How long each kind of work may take and how it is retried, named once.

A workflow passes one of these to every activity call:
``await workflow.execute_activity_method(Steps.grant, request, **DATABASE_WRITE)``.

Short start-to-close timeouts on fast steps let another worker take over within
seconds when one dies (DESIGN.md §5); the failure types that no retry can change
are listed in every retry policy, so a permanent error never holds a workflow.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy

from boundary.errors import PERMANENT_TYPES
from contracts.mail import MailRetry


class StepOptions(TypedDict, total=False):
    """What any activity takes, regular or local."""

    start_to_close_timeout: timedelta
    schedule_to_close_timeout: timedelta
    retry_policy: RetryPolicy


class ActivityOptions(StepOptions, total=False):
    """A regular activity's options: it may also heartbeat."""

    heartbeat_timeout: timedelta


# A workflow task takes milliseconds; one held by a worker that died is handed to
# another after this (Temporal's default is 10 s). Passed as ``task_timeout`` at start.
WORKFLOW_TASK_TIMEOUT = timedelta(seconds=3)
# A purchase's tasks: a customer waits on the answer, so a task lost with its worker is
# handed on sooner (DESIGN.md §5; `make bench` "fail-over"). Still ~10× what a task takes
# on a busy 2-core machine (100-200 ms).
WAITED_ON_TASK_TIMEOUT = timedelta(seconds=2)
# An activity someone waits on heartbeats (boundary.interceptor) once it has run for a
# third of this, so an attempt lost with its worker is retried elsewhere after this,
# not after its whole start-to-close. Background work (renewals, deliveries) does
# without: a few seconds' delay there harms no one, and thousands of heartbeats would not.
HEARTBEAT_TIMEOUT = timedelta(milliseconds=1500)


def waited_on(options: StepOptions) -> ActivityOptions:
    """``options`` for a step whose answer a caller is waiting for."""
    return ActivityOptions(**options, heartbeat_timeout=HEARTBEAT_TIMEOUT)


def _retry(maximum_interval: timedelta) -> RetryPolicy:
    """Retried until it succeeds (each step is idempotent by its key), except for
    the permanent failure types."""
    return RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        maximum_interval=maximum_interval,
        non_retryable_error_types=list(PERMANENT_TYPES),
    )


# A transaction on our own database: milliseconds; past 5 s the attempt is presumed
# lost (its worker died) and tried again elsewhere.
DATABASE_WRITE = StepOptions(
    start_to_close_timeout=timedelta(seconds=5),
    retry_policy=_retry(timedelta(seconds=10)),
)

# A payment provider may take seconds to answer (each Stripe call is cut at 8 s); an
# attempt lost with its worker (or cut short here) is retried elsewhere and settled by
# the key, never resent. Retried without end: only a renewal charge replayed from a
# history recorded before the bound below still takes it.
GATEWAY_CALL = StepOptions(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=_retry(timedelta(seconds=30)),
)

# Every call to the payment provider (a charge, a refund) stops retrying a provider that
# does not answer after this many attempts (1, 2, 4, 8 and 16 s apart), or this long,
# whichever comes first: a provider that answers nothing at all is not hammered, one
# that lets each attempt hang is not waited on for ever. A charge's outcome is then
# unknown: the payment janitor settles it against the provider, and the workflow waits
# for that answer on durable timers; a refund is sent again after a pause
# (workflows/payment_outcomes.py).
GATEWAY_ATTEMPTS = 6
GATEWAY_PATIENCE = timedelta(minutes=2)
BOUNDED_GATEWAY_CALL = StepOptions(
    start_to_close_timeout=timedelta(seconds=10),
    schedule_to_close_timeout=GATEWAY_PATIENCE,
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=GATEWAY_ATTEMPTS,
        non_retryable_error_types=list(PERMANENT_TYPES),
    ),
)

# While a step waits out an outage (the database does not answer, a payment's outcome
# is unknown), it tries again after a durable timer: first this long, doubling up to
# the longest, so a short outage passes quickly and a long one costs a few tries an hour.
OUTAGE_FIRST_PAUSE = timedelta(seconds=2)
OUTAGE_LONGEST_PAUSE = timedelta(minutes=5)
# A read such a step makes: three quick tries inside its workflow task (their backoff
# stays below LOCAL_RETRY_THRESHOLD below, so no timer), then the pause above.
DATABASE_READ = StepOptions(
    start_to_close_timeout=timedelta(seconds=5),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        maximum_attempts=3,
        non_retryable_error_types=list(PERMANENT_TYPES),
    ),
)

# Starting or signalling another workflow: one RPC to the Temporal frontend.
TEMPORAL_CALL = StepOptions(
    start_to_close_timeout=timedelta(seconds=5),
    retry_policy=_retry(timedelta(seconds=5)),
)

# A sweep that starts what writes left waiting: up to a few hundred starts, one RPC
# each, which under load take seconds in all. It heartbeats after each start, so an
# attempt lost with its worker is retried after SWEEP_HEARTBEAT, and one that ran out of
# time learns it was cancelled and stops: an attempt is never retried while it still
# runs (each of them starting the same batch again, on the server customers wait on).
SWEEP_HEARTBEAT = timedelta(seconds=10)
SWEEP_STARTS = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=SWEEP_HEARTBEAT,
    retry_policy=_retry(timedelta(seconds=30)),
)

# A step run as a local activity retries inside its workflow task only while the next
# backoff is this short; a longer one waits on a durable timer (server time, so a worker
# that dies meanwhile loses nothing) and runs the step again in a later task.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=1)

# Read-only checks run as local activities while the API waits for the answer: their
# whole budget stays below the API's wait (SMS_API_WAIT_SECONDS, checked at start-up),
# so the API answers a refusal or 503, never a stale "processing".
CHECK_DEADLINE = timedelta(seconds=20)
READ_CHECK = StepOptions(
    start_to_close_timeout=timedelta(seconds=5),
    schedule_to_close_timeout=CHECK_DEADLINE,
    retry_policy=_retry(timedelta(seconds=2)),
)

# A customer's webhook: one POST per activity, cut at 10 s (outbound/webhooks.py) and
# never retried by Temporal: the delivery workflow itself waits and tries again
# (``WEBHOOK_BACKOFF``), on durable timers, until the delivery's retry bound.
WEBHOOK_ATTEMPT = StepOptions(
    start_to_close_timeout=timedelta(seconds=15),
    retry_policy=RetryPolicy(maximum_attempts=1),
)


def mail_attempt(retry: MailRetry) -> StepOptions:
    """One attempt to hand a message to the SMTP server: the mail workflow counts the
    attempts and waits between them itself (``SMS_MAIL_*``). Cut after twice the SMTP
    timeout: building the message, then several replies each bounded by it."""
    return StepOptions(
        start_to_close_timeout=retry.attempt_timeout * 2,
        retry_policy=RetryPolicy(maximum_attempts=1),
    )
