"""bounded webhook delivery: rounds, attempts and errors; secrets in Standard Webhooks form

Webhook secrets were issued as ``whsec_`` and the URL-safe base64 of 32 random bytes,
and signed with as text. Standard Webhooks signs with the bytes themselves and writes
them in the standard base64 alphabet; this rewrites every stored secret to that form
of the same bytes, so a receiver keeps its key: in its copy of the secret, ``-`` is
``+`` and ``_`` is ``/`` (docs/api.md). Written here, not imported, so that this
migration does what it did whatever the code becomes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import base64
import binascii
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "whsec_"


def standard_form(secret: str) -> str:
    """The same key bytes, written ``whsec_`` + standard base64 (idempotent)."""
    body = secret.removeprefix(PREFIX)
    try:
        key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return secret  # not one we issued: left as it is, and its deliveries say so
    return PREFIX + base64.b64encode(key).decode()


def upgrade() -> None:
    with op.batch_alter_table("account_events") as table:
        table.add_column(
            sa.Column("delivery_round", sa.Integer(), server_default="0", nullable=False)
        )
        table.add_column(
            sa.Column("delivery_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        table.add_column(sa.Column("delivery_error", sa.String(length=500), nullable=True))
    settings = sa.table(
        "alert_settings", sa.column("account_id", sa.String), sa.column("webhook_secret", sa.String)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(settings.c.account_id, settings.c.webhook_secret).where(
            settings.c.webhook_secret.is_not(None)
        )
    ).all()
    for account_id, secret in rows:
        converted = standard_form(secret)
        if converted != secret:
            connection.execute(
                settings.update()
                .where(settings.c.account_id == account_id)
                .values(webhook_secret=converted)
            )


def downgrade() -> None:
    with op.batch_alter_table("account_events") as table:
        table.drop_column("delivery_error")
        table.drop_column("delivery_attempts")
        table.drop_column("delivery_round")
