"""Logging for both processes: one JSON object per line (or text), ids attached, secrets out.

Every record passes three steps on the root handler:

- ``_ContextFilter`` attaches the ids known where it was logged: the request id and
  the account and purchase of an API request (``request_scope``), the workflow of a
  worker's activity or workflow (temporalio's own log extras, else
  ``activity.info()``), with the account and purchase read from the workflow id, and
  those an activity's input names (``activity_scope``, bound by the worker's
  interceptor: a purchase's steps, and the work done on a purchase's behalf by
  another workflow such as the reconciler);
- ``_RefusalFilter`` turns temporalio's "Completing activity as failed" record for a
  business refusal (``ApplicationError`` with a ``domain.errors.ErrorCode`` type)
  into one info line without a traceback; real errors keep theirs;
- the formatter's output is redacted: bearer tokens, ``Authorization`` values,
  ``sms_…`` API tokens, Stripe secret keys and the configured secrets never reach
  the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from asgi_correlation_id import correlation_id
from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

from domain.errors import ErrorCode

ID_FIELDS = ("request_id", "account_id", "purchase_id", "workflow_id")
# The ASGI scope of the request being served; its path parameters are filled in by
# routing, after the middleware set it, so they are read at log time.
request_scope: ContextVar[Mapping[str, Any] | None] = ContextVar("request_scope", default=None)
# The account and purchase the running activity's input names (``ids_of_input``).
activity_scope: ContextVar[Mapping[str, str] | None] = ContextVar("activity_scope", default=None)

REFUSAL_CODES = frozenset(code.value for code in ErrorCode)
REDACTED = "[redacted]"
_REDACTIONS = (
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), f"Bearer {REDACTED}"),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"',}\n]+"), rf"\1{REDACTED}"),
    # API tokens are "sms_" + 43 url-safe characters; metric and logger names are
    # lower-case words and never match.
    (re.compile(r"\bsms_(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{32,}"), f"sms_{REDACTED}"),
    # Stripe's secret and restricted keys, e.g. quoted back in a refusal's message.
    (re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9*]+"), rf"\1_\2_{REDACTED}"),
)
# The workflow ids "<kind>:<account_id>[:...]" (contracts/*.py); a schedule's runs
# ("sms-reconciler-pass-<time>") name no account.
_PURCHASE_WORKFLOW = "sms-purchase"
_ACCOUNT_WORKFLOWS = frozenset(
    {
        _PURCHASE_WORKFLOW,
        "sms-subscription",
        "sms-refund",
        "a2p-10dlc",
        "sms-event",
        "sms-auto-top-up",
    }
)
# The input fields that name what an activity acts on, in the input or in its record.
_INPUT_IDS = ("account_id", "purchase_id")


def ids_from_workflow_id(workflow_id: str) -> dict[str, str]:
    kind, _, rest = workflow_id.partition(":")
    account_id, _, purchase_id = rest.partition(":")
    ids = {"workflow_id": workflow_id}
    if kind not in _ACCOUNT_WORKFLOWS:
        return ids
    if account_id:
        ids["account_id"] = account_id
    if kind == _PURCHASE_WORKFLOW and purchase_id:
        ids["purchase_id"] = purchase_id
    return ids


def _temporal_workflow_id(record: logging.LogRecord) -> str | None:
    for extra in ("temporal_activity", "temporal_workflow"):
        details = getattr(record, extra, None)
        if isinstance(details, Mapping) and details.get("workflow_id"):
            return str(details["workflow_id"])
    if activity.in_activity():
        return activity.info().workflow_id
    return None


def ids_of_input(args: Sequence[Any]) -> dict[str, str]:
    """The account and purchase an activity's input names: fields of its argument, or
    of the record it carries (a quote's ``record``, a purchase's view)."""
    ids: dict[str, str] = {}
    for source in (*args[:1], getattr(args[0], "record", None) if args else None):
        for name in _INPUT_IDS:
            value = getattr(source, name, None)
            if isinstance(value, str) and value:
                ids.setdefault(name, value)
    return ids


def _known_ids(record: logging.LogRecord) -> dict[str, str]:
    ids: dict[str, str] = {}
    if (workflow_id := _temporal_workflow_id(record)) is not None:
        ids.update(ids_from_workflow_id(workflow_id))
    ids.update(activity_scope.get() or {})
    if (scope := request_scope.get()) is not None:
        params = scope.get("path_params") or {}
        ids.update({k: str(params[k]) for k in ("account_id", "purchase_id") if k in params})
    if (request_id := correlation_id.get()) is not None:
        ids["request_id"] = request_id
    return ids


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _known_ids(record).items():
            if getattr(record, name, None) is None:  # an explicit ``extra`` wins
                setattr(record, name, value)
        return True


def refusal_of(exc: BaseException | None) -> ApplicationError | None:
    """The business refusal ``exc`` is (or wraps), if any."""
    if isinstance(exc, ApplicationError) and exc.non_retryable and exc.type in REFUSAL_CODES:
        return exc
    return None


class _RefusalFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        refusal = refusal_of(record.exc_info[1] if record.exc_info else None)
        if refusal is None:
            return True
        kind = "Activity" if record.name.startswith("temporalio.activity") else "Task"
        record.msg, record.args = "%s refused (%s): %s", (kind, refusal.type, refusal.message)
        record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.refusal = refusal.type
        return True


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [f"{name}={getattr(record, name)}" for name in ID_FIELDS if hasattr(record, name)]
        if not known:
            return line
        head, newline, rest = line.partition("\n")  # keep the ids on the message line
        return f"{head} [{' '.join(known)}]{newline}{rest}"


class _Redacting(logging.Formatter):
    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self._secrets)


def make_formatter(fmt: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    inner: logging.Formatter
    if fmt == "json":
        inner = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        inner = _TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return _Redacting(inner, secrets)


def install_filters(handler: logging.Handler) -> None:
    handler.addFilter(_ContextFilter())
    handler.addFilter(_RefusalFilter())


def configure_logging(fmt: str, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Replace the root handlers with one stderr handler in ``fmt`` ("json" or "text")."""
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(fmt, secrets))
    install_filters(handler)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if fmt == "json":  # the ids are fields; temporalio need not repeat them in the message
        activity.logger.activity_info_on_message = False
        workflow.logger.workflow_info_on_message = False
    # Alembic narrates every schema check at INFO; a refusal must stay one line.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def quiet_http_client() -> None:
    """httpx logs every request at INFO; a command's output is its answer, not that line."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
