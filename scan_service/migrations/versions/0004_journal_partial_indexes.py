"""The journal's order, pick and verification indexes hold only the events that have one

A scan's event names its pick or its check, never both, and rarely an order: indexing the
empty columns put every scan's NULLs on the same last index pages. The lookups ask for a
value (`order_no = ...`, `pick_id IN ...`), which a partial index on `IS NOT NULL` answers.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SCHEMA = "scan"
COLUMNS = ("order_no", "pick_id", "verification_id")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_scan_events_{column}", table_name="events", schema=SCHEMA)
        op.create_index(f"ix_events_{column}", "events", [column], schema=SCHEMA,
                        postgresql_where=sa.text(f"{column} IS NOT NULL"))


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_events_{column}", table_name="events", schema=SCHEMA)
        op.create_index(f"ix_scan_events_{column}", "events", [column], schema=SCHEMA)
