"""locations, balances, the append-only movement ledger, receipts, allocations, counts

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from common.migrate import drop_append_only, make_append_only

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "stock"


def _now() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.add_column("skus", sa.Column("home_bin", sa.String(64)), schema=SCHEMA)
    op.create_table(
        "locations",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("zone", sa.String(16), nullable=False, server_default=""),
        sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
        sa.Column("allow_negative", sa.Boolean, nullable=False, server_default=sa.false()),
        _now(),
        sa.CheckConstraint("kind IN ('bin', 'staging', 'basket', 'returns', 'intercept')", name="location_kind"),
        schema=SCHEMA,
    )
    op.create_index("locations_kind_sequence", "locations", ["kind", "sequence"], schema=SCHEMA)
    op.create_table(
        "balances",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("sku", sa.String(64), sa.ForeignKey(f"{SCHEMA}.skus.sku"), nullable=False),
        sa.Column("location", sa.String(64), sa.ForeignKey(f"{SCHEMA}.locations.code"), nullable=False, index=True),
        sa.Column("lot", sa.String(64), nullable=False, server_default=""),
        sa.Column("qty", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("sku", "location", "lot"),
        schema=SCHEMA,
    )
    op.create_table(
        "movements",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("sku", sa.String(64), sa.ForeignKey(f"{SCHEMA}.skus.sku"), nullable=False, index=True),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("from_location", sa.String(64), index=True),
        sa.Column("to_location", sa.String(64), index=True),
        sa.Column("lot", sa.String(64), nullable=False, server_default=""),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("device", sa.String(64), nullable=False, server_default=""),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("reference", sa.String(128), nullable=False, server_default="", index=True),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("qty > 0", name="movement_qty_positive"),
        sa.CheckConstraint("type IN ('receive', 'putaway', 'move', 'pick', 'ship', 'return', 'adjust')",
                           name="movement_type"),
        sa.CheckConstraint("from_location IS NOT NULL OR to_location IS NOT NULL", name="movement_has_side"),
        schema=SCHEMA,
    )
    # The ledger is the truth: a correction is a new movement, never an edit.
    make_append_only(op, SCHEMA, "movements")
    op.create_table(
        "receipts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("location", sa.String(64), sa.ForeignKey(f"{SCHEMA}.locations.code"), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
        schema=SCHEMA,
    )
    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("receipt_id", sa.BigInteger, sa.ForeignKey(f"{SCHEMA}.receipts.id"), nullable=False, index=True),
        sa.Column("sku", sa.String(64), sa.ForeignKey(f"{SCHEMA}.skus.sku"), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("received", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("receipt_id", "sku"),
        schema=SCHEMA,
    )
    op.create_table(
        "allocations",
        sa.Column("order_no", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        _now(),
        schema=SCHEMA,
    )
    op.create_table(
        "allocation_lines",
        sa.Column("order_no", sa.String(64), sa.ForeignKey(f"{SCHEMA}.allocations.order_no"), primary_key=True),
        sa.Column("sku", sa.String(64), sa.ForeignKey(f"{SCHEMA}.skus.sku"), primary_key=True, index=True),
        sa.Column("qty", sa.Integer, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "counts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("locations", ARRAY(sa.String(64)), nullable=False),
        sa.Column("skus", ARRAY(sa.String(64))),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
        schema=SCHEMA,
    )
    op.create_table(
        "count_bins",
        sa.Column("count_id", sa.BigInteger, sa.ForeignKey(f"{SCHEMA}.counts.id"), primary_key=True),
        sa.Column("location", sa.String(64), primary_key=True),
        sa.Column("snapshot_movement_id", sa.BigInteger, nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "count_lines",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("count_id", sa.BigInteger, sa.ForeignKey(f"{SCHEMA}.counts.id"), nullable=False, index=True),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), sa.ForeignKey(f"{SCHEMA}.skus.sku"), nullable=False),
        sa.Column("snapshot_qty", sa.Integer, nullable=False, server_default="0"),
        sa.Column("expected", sa.Integer),
        sa.Column("counted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counted_by", sa.String(64)),
        sa.Column("recounted", sa.Integer),
        sa.Column("recounted_by", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("reason", sa.String(32)),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("adjustment_id", sa.BigInteger),
        sa.UniqueConstraint("count_id", "location", "sku"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("count_lines", "count_bins", "counts", "allocation_lines", "allocations", "receipt_lines",
                  "receipts"):
        op.drop_table(table, schema=SCHEMA)
    drop_append_only(op, SCHEMA, "movements")
    op.drop_table("movements", schema=SCHEMA)
    op.drop_table("balances", schema=SCHEMA)
    op.drop_table("locations", schema=SCHEMA)
    op.drop_column("skus", "home_bin", schema=SCHEMA)

