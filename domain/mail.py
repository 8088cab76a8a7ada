"""Mail to an account (API.md "Billing details, receipts and mail"): what is mailed,
where each message stands, and its Message-ID. Pure: no I/O.

Each message is written to the mail outbox in the transaction of its fact, once per
(account, kind, reference), and sent by its own workflow, whose id is made from that
key (``contracts.mail``).
"""

from __future__ import annotations

from enum import StrEnum


class MailKind(StrEnum):
    """What a message is about; its reference names the fact."""

    RECEIPT = "receipt"  # reference: the receipt id; the receipt's PDF is attached
    PAST_DUE = "past_due"  # the renewal charge was declined: reference the credit month
    RENEWAL_DECLINED = "renewal_declined"  # a dunning retry declined: month and attempt
    LOW_BALANCE = "low_balance"  # reference: the low_balance event of the crossing
    ADDON_ENDED = "addon_ended"  # cancelled or suspended: reference the status and moment


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused it, or was away, for every attempt
    SKIPPED = "skipped"  # mail was off (no SMS_SMTP_URL), or no one to write to


# Why a message was not sent when no SMTP server is configured.
MAIL_OFF = "mail is off (no SMS_SMTP_URL)"
# Why a message was not sent when the account has no billing email and no primary admin.
NO_RECIPIENT = "no one to write to"


def message_id(mail_id: str, sender_domain: str) -> str:
    """The ``Message-ID`` of a message: the same for every attempt to send it, so a
    receiver drops a copy that a retry after a lost answer delivered again."""
    return f"<{mail_id}@{sender_domain}>"
