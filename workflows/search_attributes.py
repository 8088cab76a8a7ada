"""Custom search attributes that let operators find any purchase or add-on in the UI."""

from temporalio.common import SearchAttributeKey

ACCOUNT_ID = SearchAttributeKey.for_keyword("AccountId")
SMS_PURCHASE_STATUS = SearchAttributeKey.for_keyword("SmsPurchaseStatus")
SMS_ADDON_STATUS = SearchAttributeKey.for_keyword("SmsAddonStatus")
A2P_REGISTRATION_STATUS = SearchAttributeKey.for_keyword("A2pRegistrationStatus")

ALL = (ACCOUNT_ID, SMS_PURCHASE_STATUS, SMS_ADDON_STATUS, A2P_REGISTRATION_STATUS)
