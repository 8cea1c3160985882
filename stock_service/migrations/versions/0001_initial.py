"""schema stock and its idempotency keys

Revision ID: 0001
Revises:
"""
from alembic import op

from common.migrate import create_idempotency_keys

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = "stock"


def upgrade() -> None:
    create_idempotency_keys(op, SCHEMA)


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema=SCHEMA)
