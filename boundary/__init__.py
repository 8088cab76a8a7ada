"""The seam between Temporal and the rest of the service, written once.

- ``options``: how long each kind of work may take and how it is retried
  (database write, gateway call, Temporal call, read-only check).
- ``errors``: the error mapping in both directions: an exception raised by an
  activity becomes ``ApplicationError(type=code)`` (retryable or not, on purpose),
  and a failure that reaches a workflow or the API becomes an ``ErrorCode``,
  which ``application.errors.HTTP_STATUS`` turns into the HTTP status.
- ``interceptor``: the worker interceptor that applies the first direction to
  every activity, so no activity maps its own exceptions.

Workflows call activities through typed method references
(``workflow.execute_activity_method(PurchaseActivities.capture_payment, …,
**GATEWAY_CALL)``), never by a string name.
"""
