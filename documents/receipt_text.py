"""The words of a receipt in each account language. Figures and dates are formatted
by ``documents.formats``; these are the labels around them."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import Locale
from domain.receipts import ReceiptKind


@dataclass(frozen=True)
class ReceiptText:
    title: dict[ReceiptKind, str]
    number: str
    issued_on: str
    seller: str
    billed_to: str
    payment_reference: str
    currency: str
    description: str
    amount: str
    total: dict[ReceiptKind, str]
    refunds: str  # {number}
    settled: dict[ReceiptKind, str]  # {date}
    vat_id: str
    footer: str  # {seller}


TEXT: dict[Locale, ReceiptText] = {
    Locale.EN: ReceiptText(
        title={ReceiptKind.PAYMENT: "Receipt", ReceiptKind.REFUND: "Refund receipt"},
        number="Receipt no.",
        issued_on="Date of issue",
        seller="Issued by",
        billed_to="Billed to",
        payment_reference="Payment reference",
        currency="Currency",
        description="Description",
        amount="Amount",
        total={ReceiptKind.PAYMENT: "Total paid", ReceiptKind.REFUND: "Total refunded"},
        refunds="This receipt refunds receipt {number}.",
        settled={
            ReceiptKind.PAYMENT: "Paid by card on {date}.",
            ReceiptKind.REFUND: "Refunded to the card on {date}.",
        },
        vat_id="VAT ID",
        footer=(
            "This receipt, issued electronically by {seller}, confirms a payment; "
            "it is not a tax invoice."
        ),
    ),
    Locale.PT_BR: ReceiptText(
        title={ReceiptKind.PAYMENT: "Recibo", ReceiptKind.REFUND: "Recibo de estorno"},
        number="Recibo nº",
        issued_on="Data de emissão",
        seller="Emitido por",
        billed_to="Faturado para",
        payment_reference="Referência do pagamento",
        currency="Moeda",
        description="Descrição",
        amount="Valor",
        total={ReceiptKind.PAYMENT: "Total pago", ReceiptKind.REFUND: "Total estornado"},
        refunds="Este recibo estorna o recibo {number}.",
        settled={
            ReceiptKind.PAYMENT: "Pago com cartão em {date}.",
            ReceiptKind.REFUND: "Estornado para o cartão em {date}.",
        },
        vat_id="Identificação fiscal",
        footer=(
            "Este recibo, emitido eletronicamente por {seller}, comprova um pagamento "
            "e não substitui a nota fiscal de serviço (NFS-e)."
        ),
    ),
}
