"""docs/ ships with the code: the HTTP contract matches the OpenAPI (its A2P 10DLC
example too, which the real API accepts), /docs needs no CDN, operations.md lists every
setting with the default the code has and every message an operator can send a
workflow, and the README points only inside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr
from temporalio.workflow import _Definition

import worker
from config.settings import DEFAULTS, Settings
from domain.registration import RegistrationDetails
from starter.api.app import create_app
from starter.api.registration_example import EXAMPLE_REGISTRATION
from tests.registration_support import stack

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# "### `GET /path`" (any backticked "METHOD /path"), with any query string dropped.
OPERATION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?]*)[^`]*`")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


def served(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def documented() -> set[tuple[str, str]]:
    return set(OPERATION.findall((DOCS / "api.md").read_text()))


def test_every_served_operation_is_documented(app: FastAPI):
    missing = served(app) - documented()
    assert not missing, f"add to docs/api.md: {sorted(missing)}"


def test_every_documented_operation_is_served(app: FastAPI):
    unknown = documented() - served(app)
    assert not unknown, f"docs/api.md lists what the app does not serve: {sorted(unknown)}"


def test_the_docs_exist_and_the_readme_links_them():
    readme = (ROOT / "README.md").read_text()
    for name in ("product.md", "api.md", "design.md", "operations.md", "runbook.md"):
        assert (DOCS / name).stat().st_size > 1000, name
        assert f"docs/{name}" in readme, name
    assert "shared/" not in readme and "../" not in readme


async def test_swagger_ui_loads_nothing_from_outside(app: FastAPI):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        pages = [await client.get(path) for path in ("/docs", "/redoc")]
        for page in pages:
            assert page.status_code == 200
            assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text), page.text
            assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
            assert assets
            for asset in assets:
                assert asset.startswith("/"), asset
                assert (await client.get(asset)).status_code == 200, asset


def test_the_a2p_example_is_complete_and_is_the_openapi_example():
    api = (DOCS / "api.md").read_text()
    shown = re.search(r"### `POST [^`]*/registrations/a2p_10dlc`.*?```json\n(.*?)```", api, re.S)
    assert shown is not None
    assert json.loads(shown.group(1)) == EXAMPLE_REGISTRATION
    details = RegistrationDetails.model_validate(EXAMPLE_REGISTRATION)
    assert details.model_dump(mode="json", exclude_unset=True) == EXAMPLE_REGISTRATION
    # Every field, the optional ones too, so no one has to assemble it from the schema.
    assert details.model_fields_set == set(RegistrationDetails.model_fields)
    assert details.brand.model_fields_set == set(type(details.brand).model_fields)
    assert details.campaign.model_fields_set == set(type(details.campaign).model_fields)
    schema = create_app(Settings()).openapi()["components"]["schemas"]["RegistrationDetails"]
    assert schema["examples"] == [EXAMPLE_REGISTRATION]


async def test_the_real_api_accepts_the_example(time_skipping_env, sqlite_sessions, sqlite_url):
    async with stack(time_skipping_env, sqlite_sessions, sqlite_url) as s:
        submitted = await s.submit(EXAMPLE_REGISTRATION)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["status"] == "brand_pending"


def _shown_defaults(value: object) -> set[str]:
    """How a default may be written in the settings table."""
    if isinstance(value, SecretStr) or value == "":
        return {"empty"}
    if isinstance(value, bool):
        return {f"`{str(value).lower()}`"}
    if isinstance(value, float):
        return {f"`{value}`", f"`{value:g}`"}
    if isinstance(value, list):
        return {f"`{','.join(map(str, value))}`"}
    if isinstance(value, Path):
        return {f"`{value.relative_to(ROOT)}`"}
    if isinstance(value, BaseModel):  # a JSON setting
        return {f"`{value.model_dump_json()}`"}
    return {f"`{value}`"}


def test_operations_lists_every_setting_with_its_default():
    """One truth: the table says what config/settings.py says, the slots included."""
    rows: dict[str, str] = {}
    for name, default in re.findall(r"(?m)^\| `([A-Z_]+)` \| ([^|]*) \|", _operations()):
        rows.setdefault(name, default.strip())
    for field in Settings.model_fields:
        cell = rows.get(field.upper())
        assert cell is not None, f"docs/operations.md has no row for {field.upper()}"
        shown = _shown_defaults(getattr(DEFAULTS, field))
        assert any(cell.startswith(text) for text in shown), (field.upper(), cell, shown)


def _operations() -> str:
    return (DOCS / "operations.md").read_text()


@pytest.mark.parametrize("workflow", worker.WORKFLOWS, ids=lambda cls: cls.__name__)
def test_the_workflow_table_lists_every_message(workflow: type):
    definition = _Definition.must_from_class(workflow)
    row = next(
        line
        for line in _operations().splitlines()
        if line.startswith("| ") and f"(`{definition.name}`)" in line
    )
    handlers = [*definition.signals, *definition.queries, *definition.updates]
    missing = [name for name in handlers if name is not None and f"`{name}`" not in row]
    assert missing == [], f"docs/operations.md's workflow table omits {missing}"
