"""Property-based test of the whole HTTP API against its own OpenAPI document
(schemathesis over the real ASGI app, in-process), on SQLite and PostgreSQL.

For every operation, valid requests (as the document describes them, on the
seeded account with its tokens) and invalid ones (schemathesis's negative
mode) must never answer 5xx, and every answer must be one the document lists,
with the content type and body schema it lists.

Temporal is deliberately unreachable here: the operations that start or steer a
workflow (purchases, the add-on's cancel and resume and a line's end, registration,
the carrier webhook, health)
answer 503 ``service_unavailable``, which their documents list. Their workflow
behaviour is covered by the Temporal-backed suites; this test is about the HTTP
contract, and it stays fast (fixed seed, bounded examples).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from domain.enums import GrantSource, Role
from starter.api.app import build_services, create_app
from store.db import transaction
from store.ledger import grant_credits
from tests.support import ADMIN_TOKEN, bearer, create_account, create_user, settings_for

# A port nothing listens on: every Temporal call fails fast with 503 (see above).
NO_TEMPORAL = "127.0.0.1:9"
EXAMPLES_PER_OPERATION = 12
SEED = 20261126
# ``not_a_server_error`` is asserted in ``_run`` itself: 503 is the one 5xx allowed,
# and only for the operations in ``NEEDS_TEMPORAL``.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NOW = datetime.now(UTC)
ACCOUNT = "/v1/accounts/{account_id}"
NEEDS_TEMPORAL = {
    ("GET", "/healthz"),
    ("PUT", "/v1/admin/accounts/{account_id}"),  # a plan change signals the subscription
    ("POST", f"{ACCOUNT}/sms/purchases"),
    ("POST", f"{ACCOUNT}/sms/purchases/{{purchase_id}}/confirm"),
    ("POST", f"{ACCOUNT}/sms/purchases/{{purchase_id}}/cancel"),
    # The subscription decides whether the add-on can take these (no status is read first).
    ("POST", f"{ACCOUNT}/sms/addon/cancel"),
    ("POST", f"{ACCOUNT}/sms/addon/resume"),
    ("POST", f"{ACCOUNT}/sms/lines/{{line_id}}/cancel"),
    ("POST", f"{ACCOUNT}/sms/registrations/a2p_10dlc"),
    ("POST", "/v1/webhooks/a2p_10dlc"),
    # Operator actions reach the subscription or start the refund workflow.
    ("POST", "/v1/admin/accounts/{account_id}/sms/refunds"),
    ("POST", "/v1/admin/accounts/{account_id}/sms/goodwill"),
    ("POST", "/v1/admin/accounts/{account_id}/sms/retry-payment"),
    ("POST", "/v1/admin/accounts/{account_id}/sms/addon/cancel"),
}


def _seed(sessions) -> str:
    create_account(sessions, "acme", anchor=date(2026, 1, 1), now=NOW)
    token = create_user(sessions, "acme", "ana", role=Role.PRIMARY_ADMIN, now=NOW)
    with transaction(sessions) as session:
        grant_credits(
            session,
            account_id="acme",
            source=GrantSource.ADDON,
            credits=100_000,
            expires_at=NOW + timedelta(days=30),
            at=NOW,
            reference="test allotment",
            key="acme:test",
        )
    return token


@pytest.fixture
def api_schema(database_url, sessions):
    token = _seed(sessions)
    app_settings = settings_for(
        database_url, temporal_address=NO_TEMPORAL, sms_api_wait_seconds=2.0
    )
    app = create_app(app_settings)
    services = build_services(app_settings, None)
    app.state.services = services
    yield schemathesis.openapi.from_asgi("/openapi.json", app), token
    services.engine.dispose()


def _run(operation, mode: GenerationMode, headers: dict[str, str], checks) -> None:
    fixed = {"account_id": "acme"} if mode is GenerationMode.POSITIVE else None
    path_parameters = fixed if "{account_id}" in operation.path else None

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    def check(case) -> None:
        response = case.call_and_validate(headers=headers, checks=checks)
        allowed = {503} if (operation.method.upper(), operation.path) in NEEDS_TEMPORAL else set()
        assert response.status_code < 500 or response.status_code in allowed, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
        )

    try:
        check()
    except Unsatisfiable:
        # Negative mode finds nothing to break where every input is a free-form
        # string in the path or a header; positive mode has covered the operation.
        if mode is GenerationMode.POSITIVE:
            raise
        print(f"no invalid request for {operation.label}")


def test_every_answer_is_one_the_document_lists(api_schema):
    schema, token = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:
        admin = operation.path.startswith("/v1/admin/")
        headers = bearer(ADMIN_TOKEN if admin else token)
        _run(operation, GenerationMode.POSITIVE, headers, CHECKS)
        raw = operation.definition.raw
        if raw.get("parameters") or raw.get("requestBody"):  # something to make invalid
            _run(operation, GenerationMode.NEGATIVE, headers, [*CHECKS, negative_data_rejection])
