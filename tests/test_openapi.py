"""The service's OpenAPI document serves every path and method of API.md."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalogue import load_catalogue
from domain.inputs import ID_PATTERN
from starter.api.app import create_app

API_MD = [
    ("get", "/healthz"),
    ("put", "/v1/admin/accounts/{account_id}"),
    ("post", "/v1/admin/accounts/{account_id}/users"),
    ("get", "/v1/sms/countries"),
    ("get", "/v1/accounts/{account_id}/sms"),
    ("get", "/v1/accounts/{account_id}/sms/offers"),
    ("get", "/v1/accounts/{account_id}/sms/ledger"),
    ("get", "/v1/accounts/{account_id}/sms/payments"),
    ("post", "/v1/accounts/{account_id}/sms/purchases"),
    ("get", "/v1/accounts/{account_id}/sms/purchases/{purchase_id}"),
    ("post", "/v1/accounts/{account_id}/sms/purchases/{purchase_id}/confirm"),
    ("post", "/v1/accounts/{account_id}/sms/purchases/{purchase_id}/cancel"),
    ("post", "/v1/accounts/{account_id}/sms/addon/cancel"),
    ("post", "/v1/accounts/{account_id}/sms/usage"),
    ("post", "/v1/sms/estimate"),
    ("post", "/v1/accounts/{account_id}/sms/registrations/a2p_10dlc"),
    ("get", "/v1/accounts/{account_id}/sms/registrations/a2p_10dlc"),
]

SPEC = create_app().openapi()


@pytest.mark.parametrize(("method", "path"), API_MD)
def test_api_md_route_is_served(method: str, path: str) -> None:
    assert method in SPEC["paths"].get(path, {}), f"{method.upper()} {path} missing"


def test_purchase_refusals_are_documented() -> None:
    create = SPEC["paths"]["/v1/accounts/{account_id}/sms/purchases"]["post"]["responses"]
    assert set(create) >= {"201", "403", "409", "422"}
    assert "addon_already_active" in create["409"]["description"]


OPERATIONS = [
    (path, method, operation)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
]
ERROR_REF = "#/components/schemas/ErrorBody"


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = SPEC["components"]["schemas"][name]
    return schema


def _error_schema(response: dict[str, Any]) -> str | None:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return None if ref is None else str(ref)


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS)
def test_every_authenticated_operation_lists_401(path, method, operation):
    if operation.get("security") or path == "/v1/webhooks/a2p_10dlc":
        assert "401" in operation["responses"], f"{method.upper()} {path}"
        assert _error_schema(operation["responses"]["401"]) == ERROR_REF


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS)
def test_errors_use_api_md_format(path, method, operation):
    """422 answers API.md's {"error": …}, never FastAPI's {"detail": […]}; bodies may be 413."""
    responses = operation["responses"]
    for status, response in responses.items():
        if status.startswith(("4", "5")) and path != "/healthz":
            assert _error_schema(response) == ERROR_REF, f"{method.upper()} {path} {status}"
    if method in {"post", "put"}:
        assert {"413", "422"} <= set(responses), f"{method.upper()} {path}"
    assert "HTTPValidationError" not in SPEC["components"]["schemas"]


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS)
def test_every_operation_lists_503(path, method, operation):
    """The database or Temporal may be unable to act on any request (API.md Conventions)."""
    unavailable = operation["responses"].get("503")
    assert unavailable is not None, f"{method.upper()} {path}"
    if path != "/healthz":  # its 503 is its own body, naming the part
        assert _error_schema(unavailable) == ERROR_REF
        assert "service_unavailable" in unavailable["description"]


def test_addon_cancel_lists_its_refusals():
    cancel = SPEC["paths"]["/v1/accounts/{account_id}/sms/addon/cancel"]["post"]["responses"]
    assert "addon_not_active" in cancel["409"]["description"]
    assert {"401", "403", "404", "409"} <= set(cancel)


def test_an_addon_item_needs_its_tier_and_a_pack_its_pack():
    item = _schema("PurchaseCreate")["properties"]["item"]
    assert item["discriminator"]["propertyName"] == "type"
    addon, pack = _schema("AddonItemIn"), _schema("CreditPackItemIn")
    assert (addon["required"], addon["additionalProperties"]) == (["type", "tier"], False)
    assert (pack["required"], pack["additionalProperties"]) == (["type", "pack"], False)
    assert addon["properties"]["tier"]["pattern"] == ID_PATTERN


def test_a_brand_needs_a_tax_id_unless_a_sole_proprietor():
    brand = _schema("BrandDetails")
    assert {"required": ["tax_id"], "properties": {"tax_id": {"type": "string"}}} in brand["anyOf"]
    assert {"properties": {"entity_type": {"const": "sole_proprietor"}}} in brand["anyOf"]


def test_countries_are_the_catalogue_s():
    country = _schema("SendIn")["properties"]["country"]
    assert country["enum"] == [c.code for c in load_catalogue().countries]
    assert "pattern" not in country


def test_request_types_are_strict_json_types():
    send = _schema("SendIn")["properties"]
    assert send["recipients"]["type"] == "integer"
    assert _schema("UserIn")["properties"]["billing_permission"]["type"] == "boolean"
    anchor = _schema("AccountIn")["properties"]["billing_anchor"]["anyOf"][0]
    assert anchor == {"type": "string", "format": "date"}
    user = _schema("UserIn")["properties"]
    assert user["email"]["maxLength"] == 254 and user["user_id"]["pattern"] == ID_PATTERN


SIGNATURE_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"]


def test_webhooks_are_described_with_the_standard_webhooks_headers():
    """The webhook the service sends and the carrier's it receives carry the same three
    signed headers; the old body-only signature header is gone."""
    sent = SPEC["webhooks"]["sms-event"]["post"]
    received = SPEC["paths"]["/v1/webhooks/a2p_10dlc"]["post"]
    for operation in (sent, received):
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == SIGNATURE_HEADERS
    assert sent["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WebhookEvent"
    )
    assert "5 minutes" in received["responses"]["401"]["description"]
    assert "x-signature" not in str(SPEC).lower()


def test_event_deliveries_and_their_redelivery_are_described():
    delivery = _schema("DeliveryOut")["properties"]
    assert _schema("DeliveryState")["enum"] == ["none", "pending", "delivered", "failed"]
    assert {"state", "attempts"} <= set(delivery)
    assert "delivery" in _schema("EventOut")["required"]
    path = "/v1/admin/accounts/{account_id}/sms/events/{event_id}/redeliver"
    redeliver = SPEC["paths"][path]["post"]["responses"]
    assert {"202", "401", "404", "409"} <= set(redeliver)
