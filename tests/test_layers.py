"""The layers as docs/design.md draws them, checked on the imports: the application
layer knows no HTTP framework, and routes and the page go through it. And every module
but the tests' stays small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROUTES = sorted((ROOT / "starter" / "api" / "routes").glob("*.py"))
PAGE = sorted((ROOT / "starter" / "web").glob("*.py"))
# Probing the database and Temporal is what the health check is for.
REACHES_THE_PARTS_ITSELF = {"health.py"}
MAX_MODULE_LINES = 300
NOT_SHIPPED = {"tests", "build"}  # beside the hidden folders (.venv, caches)


def modules() -> list[Path]:
    """Every Python module of the project but the tests'."""
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not any(
            part.startswith(".") or part in NOT_SHIPPED
            for part in path.relative_to(ROOT).parent.parts
        )
    )


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def under(names: set[str], *packages: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(f"{p}.") for p in packages)}


@pytest.mark.parametrize("path", sorted((ROOT / "application").rglob("*.py")), ids=lambda p: p.name)
def test_the_application_layer_imports_no_http_framework(path: Path) -> None:
    assert not under(imports(path), "fastapi", "starlette", "starter"), path


@pytest.mark.parametrize("path", ROUTES + PAGE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_route_or_page_module_imports_a_route_module(path: Path) -> None:
    assert not under(imports(path), "starter.api.routes"), path


@pytest.mark.parametrize(
    "path", [p for p in ROUTES if p.name not in REACHES_THE_PARTS_ITSELF], ids=lambda p: p.name
)
def test_routes_reach_the_store_and_temporal_only_through_the_application(path: Path) -> None:
    reached = under(imports(path), "store", "temporalio", "workflows", "activities", "sqlalchemy")
    assert not reached, path


@pytest.mark.parametrize(
    "path",
    modules(),
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_no_module_is_over_300_lines(path: Path) -> None:
    assert lines(path) <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)}: {lines(path)} lines"
