"""The service's OpenAPI document serves every path and method of API.md."""

from __future__ import annotations

import pytest

from starter.app import create_app

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
