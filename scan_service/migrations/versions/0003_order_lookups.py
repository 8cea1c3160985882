"""GIN indexes on picks.orders and verifications.orders: an order's timeline finds its picks and checks by index

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "scan"


def upgrade() -> None:
    op.create_index("ix_picks_orders", "picks", ["orders"], schema=SCHEMA, postgresql_using="gin")
    op.create_index("ix_verifications_orders", "verifications", ["orders"], schema=SCHEMA, postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_verifications_orders", table_name="verifications", schema=SCHEMA)
    op.drop_index("ix_picks_orders", table_name="picks", schema=SCHEMA)
