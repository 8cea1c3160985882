"""allocation_lines.held: the units an open order still holds, found by SKU without reading shipped orders

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SCHEMA = "stock"


def upgrade() -> None:
    op.add_column("allocation_lines", sa.Column("held", sa.Boolean, nullable=False, server_default=sa.true()),
                  schema=SCHEMA)
    op.execute("UPDATE stock.allocation_lines l SET held = false FROM stock.allocations a "
               "WHERE a.order_no = l.order_no AND a.state <> 'open'")
    # What every allocation sums per SKU: the open orders' lines only, however many orders have shipped.
    op.create_index("allocation_lines_held_sku", "allocation_lines", ["sku"], schema=SCHEMA,
                    postgresql_include=["qty"], postgresql_where=sa.text("held"))


def downgrade() -> None:
    op.drop_index("allocation_lines_held_sku", table_name="allocation_lines", schema=SCHEMA)
    op.drop_column("allocation_lines", "held", schema=SCHEMA)
