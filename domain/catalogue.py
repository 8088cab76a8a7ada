"""The product catalogue: plans, add-on tiers, credit packs and country rates.

Prices and rates are data (``catalogue.toml``), validated once at load so that a
bad file stops the service with the file, the field and the reason.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.enums import BillingCycle, Currency, Plan

DEFAULT_CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")

ItemId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Minor = Annotated[int, Field(ge=0)]


class CatalogueError(ValueError):
    """The catalogue file is missing or invalid; the message names file, field and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanInfo(_Strict):
    name: str
    sms_addon_eligible: bool


class RecurringItem(_Strict):
    """An add-on tier or a credit pack priced in one currency: credits every month for
    a recurring price. Purchases record it as priced (an activity's result)."""

    id: ItemId
    name: str
    credits_per_month: Annotated[int, Field(gt=0)]
    monthly_price_minor: Annotated[int, Field(gt=0)]
    annual_price_minor: Annotated[int, Field(gt=0)] | None = None

    def price_minor(self, cycle: BillingCycle) -> int:
        """The price of one billing period of ``cycle`` (annual = 12 × monthly by default)."""
        if cycle is BillingCycle.MONTHLY:
            return self.monthly_price_minor
        return self.annual_price_minor or 12 * self.monthly_price_minor


class Price(_Strict):
    """One currency's price of an item, in that currency's minor units."""

    monthly_minor: Annotated[int, Field(gt=0)]
    annual_minor: Annotated[int, Field(gt=0)] | None = None


class CatalogueItem(_Strict):
    """A tier or a pack as the catalogue lists it: a price in every currency."""

    id: ItemId
    name: str
    credits_per_month: Annotated[int, Field(gt=0)]
    prices: dict[Currency, Price]

    @model_validator(mode="after")
    def _priced_in_every_currency(self) -> CatalogueItem:
        missing = [currency.value for currency in Currency if currency not in self.prices]
        if missing:
            raise ValueError(f"prices missing for {', '.join(missing)}")
        return self

    def priced(self, currency: Currency) -> RecurringItem:
        price = self.prices[currency]
        return RecurringItem(
            id=self.id,
            name=self.name,
            credits_per_month=self.credits_per_month,
            monthly_price_minor=price.monthly_minor,
            annual_price_minor=price.annual_minor,
        )


class Country(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    name: str
    credits_per_message: Annotated[int, Field(gt=0)]
    registration: Literal["a2p_10dlc"] | None = None


class Catalogue(_Strict):
    plans: dict[Plan, PlanInfo]
    addon_tiers: Annotated[list[CatalogueItem], Field(min_length=1)]
    credit_packs: Annotated[list[CatalogueItem], Field(min_length=1)]
    countries: Annotated[list[Country], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_complete_and_unique(self) -> Catalogue:
        missing = [plan.value for plan in Plan if plan not in self.plans]
        if missing:
            raise ValueError(f"plans missing: {', '.join(missing)}")
        for field, ids in (
            ("addon_tiers", [t.id for t in self.addon_tiers]),
            ("credit_packs", [p.id for p in self.credit_packs]),
            ("countries", [c.code for c in self.countries]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{field}: duplicate ids {', '.join(dupes)}")
        return self

    def addon_tier(self, tier_id: str, currency: Currency) -> RecurringItem | None:
        """The tier priced in ``currency``, if the catalogue lists it."""
        tier = next((t for t in self.addon_tiers if t.id == tier_id), None)
        return None if tier is None else tier.priced(currency)

    def credit_pack(self, pack_id: str, currency: Currency) -> RecurringItem | None:
        """The pack priced in ``currency``, if the catalogue lists it."""
        pack = next((p for p in self.credit_packs if p.id == pack_id), None)
        return None if pack is None else pack.priced(currency)

    def country(self, code: str) -> Country | None:
        return next((c for c in self.countries if c.code == code.upper()), None)

    def plan_eligible(self, plan: Plan) -> bool:
        return self.plans[plan].sms_addon_eligible


def parse_catalogue(data: dict[str, object], source: str) -> Catalogue:
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise CatalogueError(f"{source}: {field}: {first['msg']}") from exc


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    """Read and validate the catalogue; raise ``CatalogueError`` naming file, field and reason."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: (file): not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: (syntax): {exc}") from exc
    return parse_catalogue(data, str(path))
