"""What a request may hold (API.md Conventions, DESIGN.md §5 "Every input is bounded").

Every request body model derives from ``InputModel``: JSON types are strict
(``"1"`` is not an integer, ``0`` or ``"yes"`` not a boolean), unknown fields are
refused, no string is longer than ``MAX_TEXT_CHARS`` or holds a NUL, and the
types below bound each kind of string more tightly. FastAPI validates bodies as
Python objects (after its own JSON parse), where pydantic's strict mode would
also refuse an enum's string value or an ISO date string; ``Choice`` and
``IsoDate`` take exactly what JSON carries for those.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, field_validator
from pydantic.types import Strict

# Account, user, purchase and line ids; tier and pack ids fit in it too (64 chars at most).
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254
# The longest free text any request carries (campaign descriptions are the longest).
MAX_TEXT_CHARS = 4096
NUL = "\x00"
# A schema keyword marking a field whose values are the loaded catalogue's list of that
# name ("countries"); the OpenAPI document lists them (starter/api/openapi.py).
CATALOGUE_ENUM = "x-catalogue-enum"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# The patterns repeat "no NUL" so that the OpenAPI document says it too.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"^[^\x00]+$")
]
Email = Annotated[
    str,
    StringConstraints(
        pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$", max_length=MAX_EMAIL_CHARS
    ),
]

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date_only(value: Any) -> Any:
    """Dates come as ``YYYY-MM-DD`` strings, never as numbers (0 is not 1970-01-01)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("a date must be a YYYY-MM-DD string")
    return value


IsoDate = Annotated[date, Strict(False), BeforeValidator(_iso_date_only)]
# An enum field takes its members' string values (strict mode alone would want the
# Python enum object, which a JSON body cannot carry); ``Choice[Plan]`` reads as "one of".
_Enum = TypeVar("_Enum")
Choice = Annotated[_Enum, Strict(False)]


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        if NUL in value:
            raise ValueError("text must not contain a NUL character")
    elif isinstance(value, list | tuple):
        for item in value:
            _without_nul(item)
    return value


class InputModel(BaseModel):
    """The base of every request body model: strict, closed and bounded."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=MAX_TEXT_CHARS)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _without_nul(value)
