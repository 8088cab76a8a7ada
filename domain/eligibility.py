"""Whether an account may buy the SMS add-on at all, and the reason in words when not.

The billing page shows it before any purchase, so a Starter account learns it
cannot buy from the page rather than from a refused purchase.
"""

from __future__ import annotations

from domain.catalogue import Catalogue
from domain.enums import Plan
from domain.errors import ErrorCode
from domain.purchase import Failure


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def plan_refusal(catalogue: Catalogue, plan: Plan) -> Failure | None:
    """None when ``plan`` may buy; otherwise the refusal a purchase would get."""
    if catalogue.plan_eligible(plan):
        return None
    names = [info.name for info in catalogue.plans.values() if info.sms_addon_eligible]
    return Failure(
        code=ErrorCode.PLAN_NOT_ELIGIBLE,
        message=f"The SMS add-on needs a {_listed(names)} plan.",
    )
