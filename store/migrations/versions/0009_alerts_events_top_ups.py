"""alerts, events and auto top-up

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_settings",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("low_balance_threshold", sa.Integer(), nullable=True),
        sa.Column("top_up_pack", sa.String(length=64), nullable=True),
        sa.Column("top_up_credits", sa.Integer(), nullable=True),
        sa.Column("top_up_price_minor", sa.Integer(), nullable=True),
        sa.Column("top_up_currency", sa.String(length=3), nullable=True),
        sa.Column("top_up_below", sa.Integer(), nullable=True),
        sa.Column("top_up_max_per_month", sa.Integer(), nullable=True),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column("webhook_secret", sa.String(length=128), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_account_events_account", "account_events", ["account_id", "id"])
    op.create_index("ix_account_events_delivery", "account_events", ["delivery_status", "id"])
    op.create_table(
        "auto_top_ups",
        sa.Column("top_up_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("month_start", TS, nullable=False),
        sa.Column("month_end", TS, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", TS, nullable=False),
        sa.Column("settled_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("top_up_id"),
        sa.UniqueConstraint("account_id", "month_start", "sequence", name="uq_top_up_month_seq"),
    )
    op.create_index(
        "uq_top_up_in_flight",
        "auto_top_ups",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("status = 'in_flight'"),
        postgresql_where=sa.text("status = 'in_flight'"),
    )


def downgrade() -> None:
    op.drop_index("uq_top_up_in_flight", table_name="auto_top_ups")
    op.drop_table("auto_top_ups")
    op.drop_index("ix_account_events_delivery", table_name="account_events")
    op.drop_index("ix_account_events_account", table_name="account_events")
    op.drop_table("account_events")
    op.drop_table("alert_settings")
