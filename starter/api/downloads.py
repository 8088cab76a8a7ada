"""A receipt's PDF answered as a download named by its number: the JSON API and the
billing page serve it alike."""

from __future__ import annotations

from fastapi import Response

from application.receipts import ReceiptPdf

PDF = "application/pdf"


def pdf_download(pdf: ReceiptPdf) -> Response:
    return Response(
        pdf.content,
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{pdf.filename}"'},
    )
