"""The body of "Add to plan" (POST …/sms/purchases): one item, and exactly the
fields its type needs, so the OpenAPI document shows what the service accepts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from domain.inputs import Id, InputModel
from domain.purchase import PurchaseItem


class AddonItemIn(InputModel):
    type: Literal["addon"]
    tier: Id


class CreditPackItemIn(InputModel):
    type: Literal["credit_pack"]
    pack: Id


class PurchaseCreate(InputModel):
    item: Annotated[AddonItemIn | CreditPackItemIn, Field(discriminator="type")]

    @property
    def purchase_item(self) -> PurchaseItem:
        return PurchaseItem.model_validate(self.item.model_dump())
