"""Jinja2 rendering in the request's language, with headers that keep the page to
its own assets and out of caches and frames."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from domain.billing_details import COUNTRIES
from starter.web import labels, usage_chart
from starter.web.i18n import Formats, negotiate, translations
from starter.web.notices import NOTICES

TEMPLATES = Path(__file__).with_name("templates")

SECURITY_HEADERS = {
    # Everything comes from the service itself; no inline script, no framing.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@pass_context
def _gettext(context: Context, message: str) -> str:
    return str(context["translations"].gettext(message))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return str(context["translations"].ngettext(singular, plural, count))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Per-request catalogues: the callables read the one the render was given.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["labels"] = labels
    env.globals["usage_chart"] = usage_chart
    env.globals["NOTICES"] = NOTICES
    env.globals["COUNTRIES"] = COUNTRIES
    env.globals["new_request_key"] = lambda: secrets.token_urlsafe(16)
    return env


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    locale = negotiate(request.headers.get("accept-language"))
    full = {"translations": translations(locale), "fmt": Formats(locale), **context}
    response: Response = templates.TemplateResponse(request, name, full, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = full["fmt"].tag
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
