"""The words of every message, in each account language (``en``, ``pt-BR``).

A small catalogue in code, like the receipt's (``documents.receipt_text``), rather
than the page's gettext files: the worker writes these, and a test keeps both
languages complete (the same texts, the same fields). Figures are formatted for the
language (``documents.formats``) before they are put in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from documents.formats import Formats
from domain.enums import Locale
from domain.mail import MailKind


@dataclass(frozen=True)
class Text:
    subject: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Letter:
    """A message in one language: its subject and paragraphs, greeting and signature
    included, ready for the plain-text and HTML parts."""

    locale: Locale
    subject: str
    paragraphs: tuple[str, ...]


GREETING = {Locale.EN: "Hello,", Locale.PT_BR: "Olá,"}
SIGNATURE = {
    Locale.EN: "— The SMS add-on billing team",
    Locale.PT_BR: "— Equipe de faturamento do adicional de SMS",
}

# Keyed by the text's name: the mail kind, or kind/variant where one kind has two.
TEXTS: dict[Locale, dict[str, Text]] = {
    Locale.EN: {
        "receipt/payment": Text(
            "Your receipt {number}",
            (
                "Thank you for your payment of {amount}. Receipt {number}, issued on "
                "{date}, is attached as a PDF.",
                "Please keep it for your records.",
            ),
        ),
        "receipt/refund": Text(
            "Your refund receipt {number}",
            (
                "We refunded {amount}. Receipt {number}, issued on {date}, is attached as a PDF.",
                "Please keep it for your records.",
            ),
        ),
        "past_due": Text(
            "Your SMS add-on renewal was declined",
            (
                "We could not charge the renewal of your SMS add-on for the month starting "
                "{month}. The add-on is past due: its monthly credits are granted once a "
                "payment succeeds.",
                "We retry the charge automatically. Updating your payment method retries "
                "it at once.",
            ),
        ),
        "renewal_declined": Text(
            "Another charge for your SMS add-on was declined",
            (
                "Attempt {attempt} to charge {amount} for the month of your SMS add-on "
                "starting {month} was declined. The add-on stays past due.",
                "We try again on the retry schedule; if every retry is declined, the "
                "add-on is suspended. Updating your payment method retries at once.",
            ),
        ),
        "low_balance": Text(
            "Your SMS credits are running low",
            (
                "Your SMS credit balance is {balance} credits, below your alert threshold "
                "of {threshold}.",
                "Add a credit pack or turn on auto top-up on the billing page to keep sending.",
            ),
        ),
        "addon_ended/cancelled": Text(
            "Your SMS add-on has ended",
            (
                "Your SMS add-on was cancelled on {date}. Its remaining credits have "
                "expired and nothing more will be charged for it.",
                "You can add it again at any time from the billing page.",
            ),
        ),
        "addon_ended/suspended": Text(
            "Your SMS add-on was suspended",
            (
                "Your SMS add-on was suspended on {date}: the renewal charge was declined "
                "on every retry. Its remaining credits have expired.",
                "Update your payment method and add the add-on again from the billing "
                "page to send again.",
            ),
        ),
    },
    Locale.PT_BR: {
        "receipt/payment": Text(
            "Seu recibo {number}",
            (
                "Obrigado pelo seu pagamento de {amount}. O recibo {number}, emitido em "
                "{date}, está anexado em PDF.",
                "Guarde-o para os seus registros.",
            ),
        ),
        "receipt/refund": Text(
            "Seu recibo de reembolso {number}",
            (
                "Reembolsamos {amount}. O recibo {number}, emitido em {date}, está anexado em PDF.",
                "Guarde-o para os seus registros.",
            ),
        ),
        "past_due": Text(
            "A renovação do seu adicional de SMS foi recusada",
            (
                "Não conseguimos cobrar a renovação do seu adicional de SMS do mês que "
                "começa em {month}. O adicional está em atraso: os créditos do mês são "
                "concedidos assim que um pagamento for aprovado.",
                "Tentamos a cobrança de novo automaticamente. Atualizar a forma de "
                "pagamento tenta de novo na hora.",
            ),
        ),
        "renewal_declined": Text(
            "Outra cobrança do seu adicional de SMS foi recusada",
            (
                "A tentativa {attempt} de cobrar {amount} pelo mês do seu adicional de SMS "
                "que começa em {month} foi recusada. O adicional continua em atraso.",
                "Tentamos de novo conforme o calendário de novas tentativas; se todas forem "
                "recusadas, o adicional é suspenso. Atualizar a forma de pagamento tenta "
                "de novo na hora.",
            ),
        ),
        "low_balance": Text(
            "Seus créditos de SMS estão acabando",
            (
                "Seu saldo é de {balance} créditos de SMS, abaixo do seu limite de alerta "
                "de {threshold}.",
                "Adicione um pacote de créditos ou ative a recarga automática na página "
                "de faturamento para continuar enviando.",
            ),
        ),
        "addon_ended/cancelled": Text(
            "Seu adicional de SMS foi encerrado",
            (
                "Seu adicional de SMS foi cancelado em {date}. Os créditos restantes "
                "expiraram e nada mais será cobrado por ele.",
                "Você pode adicioná-lo de novo quando quiser na página de faturamento.",
            ),
        ),
        "addon_ended/suspended": Text(
            "Seu adicional de SMS foi suspenso",
            (
                "Seu adicional de SMS foi suspenso em {date}: a cobrança da renovação foi "
                "recusada em todas as tentativas. Os créditos restantes expiraram.",
                "Atualize a forma de pagamento e adicione o adicional de novo na página "
                "de faturamento para voltar a enviar.",
            ),
        ),
    },
}


def text_name(kind: MailKind, data: dict[str, Any]) -> str:
    if kind is MailKind.RECEIPT:
        return f"receipt/{data['kind']}"
    if kind is MailKind.ADDON_ENDED:
        return f"addon_ended/{data['status']}"
    return kind.value


def letter(kind: MailKind, data: dict[str, Any], locale: Locale) -> Letter:
    """The message about ``data`` in the account's language."""
    text = TEXTS[locale][text_name(kind, data)]
    fields = _fields(data, Formats.of(locale))
    paragraphs = tuple(paragraph.format(**fields) for paragraph in text.paragraphs)
    return Letter(
        locale=locale,
        subject=text.subject.format(**fields),
        paragraphs=(GREETING[locale], *paragraphs, SIGNATURE[locale]),
    )


def _fields(data: dict[str, Any], formats: Formats) -> dict[str, str]:
    """Every figure of ``data`` as the language writes it."""
    fields = {key: str(value) for key, value in data.items()}
    if "amount_minor" in data:
        fields["amount"] = formats.money(data["amount_minor"], data["currency"])
    for key in ("balance", "threshold"):
        if key in data:
            fields[key] = formats.number(data[key])
    for key in ("date", "month"):
        if key in data:
            fields[key] = formats.date(datetime.fromisoformat(data[key]))
    return fields
