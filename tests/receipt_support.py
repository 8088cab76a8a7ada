"""Helpers for the receipt tests: a Brazilian company's billing details, and a PDF read
back (its text) and rasterised with pdftoppm (that it draws something)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from devstack.demo import BRAZILIAN_COMPANY as BRAZILIAN_COMPANY
from tests.support import ADMIN_TOKEN, bearer

ADMIN = bearer(ADMIN_TOKEN)
CNPJ = "12.345.678/0001-95"
# The darkest grey a blank page has none of (0 black, 255 white).
INK_BELOW = 128


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def rasterised_pages(pdf: bytes, folder: Path) -> list[Image.Image]:
    """Every page drawn by poppler's pdftoppm at 40 dpi."""
    source = folder / "receipt.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(source), str(folder / "page")],
        check=True,
        capture_output=True,
    )
    return [Image.open(path).convert("L") for path in sorted(folder.glob("page*.png"))]


def has_ink(page: Image.Image) -> bool:
    """Some pixel of the (greyscale) page is dark: text or rules were drawn."""
    histogram = page.histogram()
    return sum(histogram[:INK_BELOW]) > 0
