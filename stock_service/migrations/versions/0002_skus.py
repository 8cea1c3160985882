"""skus and their barcodes

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "stock"


def upgrade() -> None:
    op.create_table(
        "skus",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.String(200), nullable=False, server_default=""),
        sa.Column("image_url", sa.String(500)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "barcodes",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), sa.ForeignKey(f"{SCHEMA}.skus.sku"), nullable=False, index=True),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("barcodes", schema=SCHEMA)
    op.drop_table("skus", schema=SCHEMA)
