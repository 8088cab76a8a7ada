"""currency and locale per account, billing details, receipts and their numbering

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every account so far was priced and charged in US dollars, and spoke English.
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False)
        )
        batch.add_column(
            sa.Column("locale", sa.String(length=8), server_default="en", nullable=False)
        )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("lines", sa.JSON(), nullable=True))
    op.create_table(
        "billing_details",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "receipt_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("refunds", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("billed_to", sa.JSON(), nullable=False),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.payment_id"]),
        sa.ForeignKeyConstraint(["refunds"], ["receipts.receipt_id"]),
        sa.PrimaryKeyConstraint("receipt_id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("payment_id"),
        sa.UniqueConstraint("year", "sequence", name="uq_receipt_sequence"),
    )
    op.create_index("ix_receipts_account", "receipts", ["account_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_receipts_account", table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_table("billing_details")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("lines")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("locale")
        batch.drop_column("currency")
