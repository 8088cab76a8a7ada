"""The public catalogue: countries and what one message costs there."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from starter.api.deps import ServicesDep

router = APIRouter(prefix="/v1/sms", tags=["catalogue"])


class CountryOut(BaseModel):
    country: str
    name: str
    credits_per_message: int
    registration: Literal["a2p_10dlc"] | None


class CountriesOut(BaseModel):
    countries: list[CountryOut]


@router.get("/countries")
def list_countries(services: ServicesDep) -> CountriesOut:
    return CountriesOut(
        countries=[
            CountryOut(
                country=c.code,
                name=c.name,
                credits_per_message=c.credits_per_message,
                registration=c.registration,
            )
            for c in services.catalogue.countries
        ]
    )
