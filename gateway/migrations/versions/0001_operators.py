"""operators and idempotency keys

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from common.migrate import create_idempotency_keys

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("badge", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False, server_default="zh-CN"),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    create_idempotency_keys(op, SCHEMA)


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema=SCHEMA)
    op.drop_table("operators", schema=SCHEMA)
