"""What the page says after an action, in words: each outcome or refusal code of
the services (API.md's error codes) and the page's own outcomes.

The texts are gettext message ids (``N_`` marks them for extraction); they are
translated when the page is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ErrorCode


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class Notice:
    message: str
    success: bool = False


PURCHASE_COMPLETED = "purchase_completed"
PURCHASE_CANCELLED = "purchase_cancelled"
ADDON_CANCELLING = "addon_cancelling"
ADDON_RESUMED = "addon_resumed"
LINE_ENDING = "line_ending"
FORM_EXPIRED = "form_expired"
SIGN_IN_FAILED = "sign_in_failed"
SIGNED_OUT = "signed_out"
UNAVAILABLE = "unavailable"
BILLING_DETAILS_SAVED = "billing_details_saved"
TAX_ID_INVALID = "tax_id_invalid"
BILLING_DETAILS_INVALID = "billing_details_invalid"
RECEIPT_NOT_FOUND = "receipt_not_found"

NOTICES: dict[str, Notice] = {
    PURCHASE_COMPLETED: Notice(
        N_("Purchase complete: the payment was captured and your SMS credits were added."),
        success=True,
    ),
    PURCHASE_CANCELLED: Notice(N_("Purchase cancelled. Nothing was charged."), success=True),
    ADDON_CANCELLING: Notice(
        N_(
            "The SMS add-on is cancelled. It stays active until the end of the paid period"
            " and nothing more will be charged."
        ),
        success=True,
    ),
    ADDON_RESUMED: Notice(
        N_(
            "The SMS add-on is active again. It renews and is charged as before; nothing"
            " was charged now."
        ),
        success=True,
    ),
    LINE_ENDING: Notice(
        N_(
            "These extra credits end at the renewal: they count until then and are not"
            " charged again. Nothing is refunded."
        ),
        success=True,
    ),
    ErrorCode.ADDON_NOT_CANCELLING: Notice(
        N_("The SMS add-on is not cancelled, so there is nothing to resume.")
    ),
    SIGNED_OUT: Notice(N_("You are signed out."), success=True),
    ErrorCode.BILLING_PERMISSION_REQUIRED: Notice(
        N_(
            "You cannot buy or cancel here: only the account's primary admin or a user with"
            " the billing permission can. Ask your primary admin to give you the billing"
            " permission, or to make the purchase."
        )
    ),
    ErrorCode.PLAN_NOT_ELIGIBLE: Notice(
        N_(
            "SMS is not available on the Starter plan. Upgrade the account to Plus,"
            " Professional or Enterprise, then add SMS to the plan here."
        )
    ),
    ErrorCode.ADDON_ALREADY_ACTIVE: Notice(
        N_("The SMS add-on is already active on this tier. Choose another tier to change it.")
    ),
    ErrorCode.ADDON_NOT_ACTIVE: Notice(
        N_(
            "This needs an active SMS add-on. Add SMS to the plan first (or wait until a"
            " pending change has finished), then try again."
        )
    ),
    ErrorCode.PAYMENT_DECLINED: Notice(
        N_(
            "The card was declined, so nothing was charged and no credits were added."
            " Update the account's payment method or ask the bank, then review the"
            " purchase again."
        )
    ),
    ErrorCode.PAYMENT_PROVIDER_ERROR: Notice(
        N_(
            "The payment provider refused the request, so nothing was charged and no"
            " credits were added. We have been alerted; try again later."
        )
    ),
    ErrorCode.QUOTE_EXPIRED: Notice(
        N_(
            "This quote expired before it was confirmed, so nothing was charged."
            " Prices are held for a limited time: review the purchase again for a current quote."
        )
    ),
    ErrorCode.NOT_AWAITING_CONFIRMATION: Notice(
        N_("This purchase is no longer waiting for confirmation; see its outcome below.")
    ),
    ErrorCode.SERVICE_UNAVAILABLE: Notice(
        N_("The service is busy and your request goes on. Reload this page in a moment.")
    ),
    UNAVAILABLE: Notice(
        N_("Billing cannot be reached right now. Reload this page in a few minutes.")
    ),
    ErrorCode.INVALID_REQUEST: Notice(N_("That choice is not available. Pick one from the list.")),
    ErrorCode.CONFLICT: Notice(N_("That could not be done now. Reload the page and try again.")),
    ErrorCode.NOT_FOUND: Notice(
        N_("That purchase was not found in this account. Go back to the billing page.")
    ),
    FORM_EXPIRED: Notice(N_("This form has expired. Reload the page and try again.")),
    SIGN_IN_FAILED: Notice(
        N_("That API token was not recognised. Paste the whole token, starting with sms_.")
    ),
    BILLING_DETAILS_SAVED: Notice(
        N_("Billing details saved. Receipts from now on are made out to them."), success=True
    ),
    TAX_ID_INVALID: Notice(
        N_(
            "The billing details were not saved: the tax ID is not valid for the country."
            " A Brazilian address needs a CPF (11 digits) or a CNPJ (14 digits)."
        )
    ),
    BILLING_DETAILS_INVALID: Notice(
        N_(
            "The billing details were not saved: fill in the legal name, a billing email,"
            " the address, the city and the country."
        )
    ),
    RECEIPT_NOT_FOUND: Notice(N_("That receipt was not found.")),
}


def notice(code: str | None) -> Notice | None:
    """The notice of a known code; anything else in the address is ignored."""
    return NOTICES.get(code) if code else None
