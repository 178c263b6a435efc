"""The identity vault: clear values behind the graph's pseudonyms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_vault",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("kind", "pseudonym", name="pk_identity_vault"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("identity_vault")
