"""request fingerprints of Idempotency-Keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_fingerprints",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_digest"),
    )
    with op.batch_alter_table("request_fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_fingerprints_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("request_fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_fingerprints_created_at"))
    op.drop_table("request_fingerprints")
