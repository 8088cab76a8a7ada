"""The billing page's receipts and billing details: a receipt's PDF for the signed-in
user's account only, and the billing-details form. Each is authorized by the table
(application/authorization.py) and calls the application function that answers the
same JSON route, with the signed-in user as the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from application import billing_details, receipts
from application.authorization import Action, authorize
from application.errors import ApiError
from domain.billing_details import BillingDetails
from starter.api.deps import ServicesDep
from starter.api.downloads import pdf_download
from starter.web import notices
from starter.web.rendering import render
from starter.web.routes import FormField, _permit, _signed_in, _to

router = APIRouter(prefix="/billing", include_in_schema=False)

OptionalField = Annotated[str, Form()]


@router.get("/receipts/{receipt_id}/pdf")
def receipt_pdf(request: Request, receipt_id: str, services: ServicesDep) -> Response:
    """The receipt's PDF, if it is the signed-in user's account's."""
    page = _signed_in(request, services)
    if page is None:
        return _to("/sign-in")
    permit = authorize(page.caller, Action.READ_BILLING, page.caller.account_id)
    try:
        return pdf_download(receipts.receipt_pdf(services, permit, receipt_id))
    except ApiError:
        notice = notices.NOTICES[notices.RECEIPT_NOT_FOUND]
        return render(request, "problem.html", {"notice": notice}, 404)


def _form_details(fields: dict[str, str]) -> BillingDetails:
    """The form as the JSON body would carry it: an empty optional field is null."""

    def optional(name: str) -> str | None:
        return fields[name].strip() or None

    return BillingDetails.model_validate(
        {
            "legal_name": fields["legal_name"].strip(),
            "tax_id": optional("tax_id"),
            "email": fields["email"].strip(),
            "address": {
                "line1": fields["line1"].strip(),
                "line2": optional("line2"),
                "city": fields["city"].strip(),
                "state": optional("state"),
                "postal_code": optional("postal_code"),
                "country": fields["country"].strip(),
            },
        }
    )


@router.post("/billing-details")
def save_billing_details(
    request: Request,
    services: ServicesDep,
    csrf_token: FormField = "",
    legal_name: OptionalField = "",
    tax_id: OptionalField = "",
    email: OptionalField = "",
    line1: OptionalField = "",
    line2: OptionalField = "",
    city: OptionalField = "",
    state: OptionalField = "",
    postal_code: OptionalField = "",
    country: OptionalField = "",
) -> Response:
    permit = _permit(request, services, csrf_token, Action.BILLING_DETAILS)
    if isinstance(permit, Response):
        return permit
    fields = {
        "legal_name": legal_name,
        "tax_id": tax_id,
        "email": email,
        "line1": line1,
        "line2": line2,
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "country": country,
    }
    try:
        details = _form_details(fields)
    except ValidationError as invalid:
        tax_id_refused = any(error["loc"] == ("tax_id",) for error in invalid.errors())
        refusal = notices.TAX_ID_INVALID if tax_id_refused else notices.BILLING_DETAILS_INVALID
        return _to("", notice=refusal)
    billing_details.save(services, permit, details)
    return _to("", notice=notices.BILLING_DETAILS_SAVED)
