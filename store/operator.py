"""Operator refunds and the audit (API.md "Operators"): the refund request recorded
before the gateway is called, within what its capture still holds; the credits a
refund takes back; and the audit records every action writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.operator import (
    OPERATOR_REFUND_PREFIX,
    AuditAction,
    OperatorRefundStart,
    RefundedPayment,
    RefundRequestStatus,
)
from domain.enums import EntryKind, PaymentKind, PaymentStatus
from domain.errors import DomainError, ErrorCode
from domain.refunds import check_refund, credits_to_revoke
from store.ledger import append_entry, find_entry, lock_account
from store.ledger_models import CreditGrant
from store.models import Payment
from store.operator_models import AuditRecord, RefundRequest
from store.subscriptions import purchase_grant_key


def refunded_payment(payment: Payment, credits_revoked: int = 0) -> RefundedPayment:
    return RefundedPayment(
        payment_id=payment.payment_id,
        at=payment.at,
        kind=PaymentKind(payment.kind),
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        status=PaymentStatus(payment.status),
        reference=payment.reference,
        refund_of=payment.refund_of,
        provider_ref=payment.provider_ref,
        credits_revoked=credits_revoked,
    )


def refunded_minor(session: Session, payment_id: str) -> int:
    """Every refund of a capture made or under way: operator requests not failed, and
    the other refunds (a failed purchase's, an ended add-on's) that did not fail."""
    requested = session.scalar(
        select(func.coalesce(func.sum(RefundRequest.amount_minor), 0)).where(
            RefundRequest.payment_id == payment_id,
            RefundRequest.status != RefundRequestStatus.FAILED.value,
        )
    )
    other = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.refund_of == payment_id,
            Payment.kind == PaymentKind.REFUND.value,
            Payment.status != PaymentStatus.DECLINED.value,
            Payment.idempotency_key.not_like(f"{OPERATOR_REFUND_PREFIX}%"),
        )
    )
    return int(requested or 0) + int(other or 0)


def find_request(session: Session, account_id: str, key: str) -> RefundRequest | None:
    return session.scalars(
        select(RefundRequest).where(
            RefundRequest.account_id == account_id, RefundRequest.request_key == key
        )
    ).first()


def is_capture_of(payment: Payment, account_id: str) -> bool:
    """``payment`` is a succeeded capture of the account: what a refund may refund."""
    return (
        payment.account_id == account_id
        and payment.kind == PaymentKind.CAPTURE.value
        and payment.status == PaymentStatus.SUCCEEDED.value
    )


def refund_start_of(session: Session, request: RefundRequest) -> OperatorRefundStart | None:
    """The operator refund workflow's input for ``request``; None when the payment it
    refunds is no longer a succeeded capture of its account (it can never run)."""
    capture = session.get(Payment, request.payment_id)
    if capture is None or not is_capture_of(capture, request.account_id):
        return None
    return OperatorRefundStart(
        account_id=request.account_id,
        request_id=request.id,
        payment_id=request.payment_id,
        amount_minor=request.amount_minor,
        currency=capture.currency,
        revoke_credits=request.revoke_credits,
        requested_at=request.created_at,
    )


def record_refund_request(
    session: Session,
    *,
    account_id: str,
    key: str,
    payment_id: str,
    amount_minor: int,
    revoke_credits: bool,
    reason: str,
    operator: str,
    at: datetime,
) -> RefundRequest:
    """The request under ``key`` (the first one's when repeated). Under the account's
    lock, so that two refunds of one capture are checked one after the other: 404 for a
    capture the account never made, 409 ``conflict`` beyond what it still holds."""
    lock_account(session, account_id)
    existing = find_request(session, account_id, key)
    if existing is not None:
        return existing
    capture = session.get(Payment, payment_id)
    if capture is None or not is_capture_of(capture, account_id):
        raise DomainError(
            ErrorCode.NOT_FOUND, f"Payment {payment_id} is not a capture of {account_id}."
        )
    check_refund(amount_minor, capture.amount_minor, refunded_minor(session, payment_id))
    request = RefundRequest(
        account_id=account_id,
        request_key=key,
        payment_id=payment_id,
        amount_minor=amount_minor,
        revoke_credits=revoke_credits,
        reason=reason,
        operator=operator,
        status=RefundRequestStatus.REQUESTED.value,
        credits_revoked=0,
        created_at=at,
        updated_at=at,
    )
    session.add(request)
    session.flush()
    write_audit(
        session,
        account_id=account_id,
        action=AuditAction.REFUND,
        operator=operator,
        reason=reason,
        payload={
            "payment_id": payment_id,
            "amount_minor": amount_minor,
            "revoke_credits": revoke_credits,
            "request_id": request.id,
        },
        reference=None,
        key=key,
        at=at,
    )
    return request


def grant_bought_by(session: Session, capture: Payment) -> CreditGrant | None:
    """The grant a capture paid for: a purchase's (``purchase:{id}`` →
    ``purchase:{id}:grant``) or a renewal's (``renewal:{account}:{month}:attempt-n`` →
    ``renewal:{account}:{month}``)."""
    key = capture.idempotency_key
    if key.startswith("purchase:"):
        grant_key = purchase_grant_key(key.removeprefix("purchase:"))
    elif key.startswith("renewal:") and ":attempt-" in key:
        grant_key = key.rsplit(":attempt-", 1)[0]
    else:
        return None
    return session.scalars(
        select(CreditGrant).where(CreditGrant.idempotency_key == grant_key)
    ).first()


def revoke_for(session: Session, request: RefundRequest, at: datetime) -> int:
    """Take back the credits the refund's rule allows (domain.refunds.credits_to_revoke);
    key ``revoke:{request_id}``, so a retry revokes nothing twice."""
    key = f"revoke:{request.id}"
    done = find_entry(session, key)
    if done is not None:
        return -done.credits
    account = lock_account(session, request.account_id)
    capture = session.get(Payment, request.payment_id)
    grant = None if capture is None else grant_bought_by(session, capture)
    if capture is None or grant is None:
        return 0
    credits = credits_to_revoke(
        granted=grant.credits,
        remaining=grant.remaining,
        captured_minor=capture.amount_minor,
        refund_minor=request.amount_minor,
        refunded_after_minor=refunded_minor(session, capture.payment_id),
    )
    if credits == 0:
        return 0
    grant.remaining -= credits
    append_entry(
        session,
        account,
        kind=EntryKind.ADJUST,
        credits=-credits,
        at=at,
        reference=f"revoked with refund of {capture.payment_id}",
        key=key,
        grant_id=grant.id,
    )
    return credits


def settle_refund_request(
    session: Session, request_id: int, refund_payment_id: str, at: datetime
) -> RefundRequest:
    """Record the gateway's answer on the request (and its audit record); revoke the
    credits when the money went back and the operator asked for it."""
    request = session.get(RefundRequest, request_id)
    refund = session.get(Payment, refund_payment_id)
    if request is None or refund is None:
        raise LookupError(f"Refund request {request_id} or payment {refund_payment_id} is gone.")
    lock_account(session, request.account_id)
    if request.status != RefundRequestStatus.REQUESTED.value:
        return request
    succeeded = refund.status == PaymentStatus.SUCCEEDED.value
    request.refund_payment_id = refund.payment_id
    request.status = (
        RefundRequestStatus.REFUNDED if succeeded else RefundRequestStatus.FAILED
    ).value
    if succeeded and request.revoke_credits:
        request.credits_revoked = revoke_for(session, request, at)
    request.updated_at = at
    audit = find_audit(session, request.account_id, AuditAction.REFUND, request.request_key)
    if audit is not None:
        audit.reference = refund.payment_id
        audit.payload = {**audit.payload, "credits_revoked": request.credits_revoked}
    return request


def fail_refund_request(session: Session, request_id: int, at: datetime) -> None:
    """The provider refused the refund itself: its amount is free again."""
    request = session.get(RefundRequest, request_id)
    if request is not None and request.status == RefundRequestStatus.REQUESTED.value:
        request.status = RefundRequestStatus.FAILED.value
        request.updated_at = at


# -- the audit ---------------------------------------------------------------------------


def find_audit(
    session: Session, account_id: str, action: AuditAction, key: str
) -> AuditRecord | None:
    return session.scalars(
        select(AuditRecord).where(
            AuditRecord.account_id == account_id,
            AuditRecord.action == action.value,
            AuditRecord.request_key == key,
        )
    ).first()


def write_audit(
    session: Session,
    *,
    account_id: str,
    action: AuditAction,
    operator: str,
    reason: str,
    payload: dict[str, Any],
    reference: str | None,
    key: str,
    at: datetime,
) -> AuditRecord:
    """One record per (account, action, request key): a repeated request finds the first.
    The account's lock orders concurrent repeats, so the second one finds the first."""
    lock_account(session, account_id)
    existing = find_audit(session, account_id, action, key)
    if existing is not None:
        return existing
    record = AuditRecord(
        account_id=account_id,
        action=action.value,
        operator=operator,
        reason=reason,
        payload=payload,
        reference=reference,
        request_key=key,
        at=at,
    )
    session.add(record)
    session.flush()
    return record


def audit_of(session: Session, account_id: str, limit: int) -> list[AuditRecord]:
    return list(
        session.scalars(
            select(AuditRecord)
            .where(AuditRecord.account_id == account_id)
            .order_by(AuditRecord.id.desc())
            .limit(limit)
        )
    )
