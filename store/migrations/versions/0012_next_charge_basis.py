"""the add-on's next charge as its subscription priced it: the cycle and the moment

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("addon_subscriptions") as batch:
        batch.add_column(sa.Column("next_charge_cycle", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("next_charge_priced_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Rows written before: a renewal is priced when it is due, a past-due retry at the
    # start of the month it pays for, on the add-on's own cycle.
    op.execute(
        "UPDATE addon_subscriptions SET next_charge_cycle = billing_cycle, "
        "next_charge_priced_at = CASE status WHEN 'past_due' THEN period_start "
        "ELSE next_charge_at END "
        "WHERE next_charge_at IS NOT NULL AND status IN ('active', 'past_due')"
    )


def downgrade() -> None:
    with op.batch_alter_table("addon_subscriptions") as batch:
        batch.drop_column("next_charge_priced_at")
        batch.drop_column("next_charge_cycle")
