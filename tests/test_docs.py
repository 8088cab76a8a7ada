"""docs/ ships with the code: the HTTP contract matches the OpenAPI, /docs needs no CDN,
and the README points only inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from starter.api.app import create_app

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
    for name in ("product.md", "api.md", "design.md", "runbook.md"):
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
