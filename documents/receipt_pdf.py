"""A receipt as the A4 PDF a finance team files: who issued it and to whom (with
their tax ids), its number and date, the lines and the total, in the account's
language and number format (``R$ 1.234,56`` and ``2 de janeiro de 2027`` in pt-BR).

Set in DejaVu Sans, shipped beside this module, so any name or address a customer
types (not only Latin-1) prints as written.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from documents.formats import Formats
from documents.receipt_text import TEXT, ReceiptText
from domain.enums import Locale
from domain.receipts import BilledParty, Receipt
from domain.tax_ids import brazilian_kind

FONTS = Path(__file__).with_name("fonts")
FAMILY = "DejaVu"
# The page: A4 portrait, in millimetres.
MARGIN = 18.0
PAGE_WIDTH = 210.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
COLUMN_GAP = 10.0
HALF_WIDTH = (CONTENT_WIDTH - COLUMN_GAP) / 2
RIGHT_COLUMN = MARGIN + HALF_WIDTH + COLUMN_GAP
# Type sizes (points) and the height of one line of each (millimetres).
TITLE_SIZE, HEADING_SIZE, BODY_SIZE, SMALL_SIZE = 20, 12, 9.5, 7.5
BODY_LINE, SMALL_LINE = 5.0, 4.0
# Colours: body text, quiet text (labels, footer), rules and the table's heading band.
INK = (33, 37, 41)
QUIET = (108, 117, 125)
RULE = (206, 212, 218)
BAND = (241, 243, 245)
AMOUNT_COLUMN = 42.0


def render_receipt_pdf(receipt: Receipt, locale: Locale) -> bytes:
    """The receipt's PDF in ``locale``: the same receipt always gives the same bytes."""
    return _ReceiptDocument(receipt, locale).render()


class _ReceiptDocument:
    def __init__(self, receipt: Receipt, locale: Locale) -> None:
        self.receipt = receipt
        self.text: ReceiptText = TEXT[locale]
        self.fmt = Formats.of(locale)
        self.pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self.pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_auto_page_break(auto=True, margin=MARGIN + 12)
        self.pdf.set_creation_date(receipt.issued_at)  # reproducible bytes
        self.pdf.set_lang(self.fmt.tag)
        self.pdf.set_title(f"{self.title} {receipt.number}")
        self.pdf.set_author(receipt.seller.legal_name)
        self.pdf.set_text_color(*INK)
        self.pdf.set_draw_color(*RULE)

    @property
    def title(self) -> str:
        return self.text.title[self.receipt.kind]

    def render(self) -> bytes:
        self.pdf.add_page()
        self._header()
        self._rule()
        self._parties()
        if self.receipt.refunds_number is not None:
            self._say(self.text.refunds.format(number=self.receipt.refunds_number), bold=True)
            self.pdf.ln(3)
        self._lines()
        settled = self.text.settled[self.receipt.kind]
        self._say(settled.format(date=self.fmt.date(self.receipt.issued_at)))
        self._footer()
        return bytes(self.pdf.output())

    # -- blocks ------------------------------------------------------------------------

    def _header(self) -> None:
        """The seller on the left; the title, number and date on the right."""
        pdf, top = self.pdf, self.pdf.get_y()
        left_bottom = self._party(self.receipt.seller, HEADING_SIZE)
        pdf.set_xy(RIGHT_COLUMN, top)
        pdf.set_font(FAMILY, "B", TITLE_SIZE)
        pdf.cell(HALF_WIDTH, 9, self.title.upper(), align="R")
        pdf.set_xy(RIGHT_COLUMN, top + 12)
        self._labelled_right(self.text.number, self.receipt.number, bold=True)
        self._labelled_right(self.text.issued_on, self.fmt.date(self.receipt.issued_at))
        pdf.set_y(max(left_bottom, pdf.get_y()) + 4)

    def _parties(self) -> None:
        """Who was billed on the left; the payment's reference and currency on the right."""
        pdf, top = self.pdf, self.pdf.get_y()
        self._label(self.text.billed_to, HALF_WIDTH)
        left_bottom = self._party(self.receipt.billed_to, BODY_SIZE + 1)
        pdf.set_xy(RIGHT_COLUMN, top)
        self._field_right(self.text.payment_reference, self.receipt.payment_id)
        self._field_right(self.text.currency, self.receipt.currency)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 6)

    def _lines(self) -> None:
        """The table of lines and the total, amounts right-aligned."""
        pdf, money, currency = self.pdf, self.fmt.money, self.receipt.currency
        pdf.set_font(FAMILY, "", BODY_SIZE)
        with pdf.table(
            col_widths=(CONTENT_WIDTH - AMOUNT_COLUMN, AMOUNT_COLUMN),
            text_align=("LEFT", "RIGHT"),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=BAND),
            line_height=BODY_LINE + 1,
            padding=(2, 3),
        ) as table:
            heading = table.row()
            heading.cell(self.text.description)
            heading.cell(self.text.amount)
            for line in self.receipt.lines:
                row = table.row()
                row.cell(line.description)
                row.cell(money(line.amount_minor, currency))
            total = table.row(style=FontFace(emphasis="BOLD"))
            total.cell(self.text.total[self.receipt.kind])
            total.cell(money(self.receipt.amount_minor, currency))
        pdf.ln(6)

    def _footer(self) -> None:
        """At the foot of the last page, below where the text may run."""
        pdf = self.pdf
        pdf.set_auto_page_break(auto=False)
        pdf.set_y(-(MARGIN + 10))
        self._rule()
        pdf.set_font(FAMILY, "", SMALL_SIZE)
        pdf.set_text_color(*QUIET)
        footer = self.text.footer.format(seller=self.receipt.seller.legal_name)
        pdf.multi_cell(CONTENT_WIDTH, SMALL_LINE, footer, align="C")
        pdf.set_text_color(*INK)

    # -- pieces --------------------------------------------------------------------------

    def _party(self, party: BilledParty, name_size: float) -> float:
        """A party in the left column: its name in bold, then its tax id, address and
        email, one per line; where the block ends."""
        pdf = self.pdf
        pdf.set_font(FAMILY, "B", name_size)
        pdf.multi_cell(HALF_WIDTH, name_size * 0.5, party.legal_name, align="L")
        pdf.set_font(FAMILY, "", BODY_SIZE)
        for line in self._party_text(party):
            pdf.set_x(MARGIN)
            pdf.multi_cell(
                HALF_WIDTH, BODY_LINE, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        return pdf.get_y()

    def _party_text(self, party: BilledParty) -> list[str]:
        address = party.address
        country = None if address is None else address.country
        lines: list[str] = []
        if party.tax_id is not None:
            label = brazilian_kind(country, party.tax_id) or self.text.vat_id
            lines.append(f"{label} {party.tax_id}")
        if address is not None:
            lines.append(address.line1)
            if address.line2:
                lines.append(address.line2)
            place = " ".join(p for p in (address.postal_code, address.city) if p)
            lines.append(f"{place} - {address.state}" if address.state else place)
            lines.append(self.fmt.country(address.country))
        if party.email:
            lines.append(party.email)
        return lines

    def _label(self, label: str, width: float, align: str = "L") -> None:
        """A small caps-like label; the next line starts under it."""
        pdf, x, y = self.pdf, self.pdf.get_x(), self.pdf.get_y()
        pdf.set_font(FAMILY, "", SMALL_SIZE)
        pdf.set_text_color(*QUIET)
        pdf.cell(width, SMALL_LINE, label.upper(), align=align)
        pdf.set_text_color(*INK)
        pdf.set_xy(x, y + SMALL_LINE + 0.5)

    def _field_right(self, label: str, value: str) -> None:
        """A label over its value, right-aligned in the right column."""
        pdf = self.pdf
        self._label(label, HALF_WIDTH, align="R")
        pdf.set_font(FAMILY, "", BODY_SIZE)
        pdf.cell(HALF_WIDTH, BODY_LINE, value, align="R")
        pdf.set_xy(RIGHT_COLUMN, pdf.get_y() + BODY_LINE + 2)

    def _labelled_right(self, label: str, value: str, *, bold: bool = False) -> None:
        """``label  value`` right-aligned in the header's right column."""
        pdf, x = self.pdf, self.pdf.get_x()
        pdf.set_font(FAMILY, "", BODY_SIZE)
        pdf.set_text_color(*QUIET)
        pdf.cell(HALF_WIDTH - 40, BODY_LINE + 1, label, align="R")
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "B" if bold else "", BODY_SIZE)
        pdf.cell(40, BODY_LINE + 1, value, align="R")
        pdf.set_xy(x, pdf.get_y() + BODY_LINE + 1)

    def _say(self, sentence: str, *, bold: bool = False) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", BODY_SIZE)
        self.pdf.multi_cell(CONTENT_WIDTH, BODY_LINE, sentence, align="L", new_x=XPos.LMARGIN)

    def _rule(self) -> None:
        y = self.pdf.get_y()
        self.pdf.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
        self.pdf.ln(4)
