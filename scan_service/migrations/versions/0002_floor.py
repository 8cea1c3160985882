"""orders, notes (append-only), events, picks, verifications, shipment outbox, returns

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from common.migrate import drop_append_only, make_append_only

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "scan"


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True)


def _ts(name: str, nullable: bool = True, default: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable,
                     server_default=sa.func.now() if default else None)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_no", sa.String(64), primary_key=True),
        sa.Column("shop", sa.String(200), nullable=False, server_default=""),
        sa.Column("waybill_no", sa.String(64), index=True),
        sa.Column("carrier", sa.String(32)),
        sa.Column("paid", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("merge_into", sa.String(64)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("allocated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("basket", sa.String(64)),
        sa.Column("intercept_reason", sa.String(32)),
        _ts("created_at", False, True), _ts("updated_at", False, True), _ts("picked_at"), _ts("verified_at"),
        _ts("shipped_at"), _ts("intercepted_at"), _ts("returned_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_orders_created_at", "orders", ["created_at"], schema=SCHEMA)
    op.create_table(
        "order_lines", _id(),
        sa.Column("order_no", sa.String(64), sa.ForeignKey(f"{SCHEMA}.orders.order_no"), nullable=False, index=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("returned", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("qty > 0", name="order_line_qty_positive"),
        schema=SCHEMA,
    )
    op.create_table(
        "order_notes", _id(),
        sa.Column("order_no", sa.String(64), sa.ForeignKey(f"{SCHEMA}.orders.order_no"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("operator", sa.String(64), nullable=False, server_default=""),
        _ts("created_at", False, True),
        schema=SCHEMA,
    )
    # Notes are append-only (domain rule 1), enforced where no code path can get around it.
    make_append_only(op, SCHEMA, "order_notes")
    op.create_table(
        "events", _id(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("order_no", sa.String(64), index=True),
        sa.Column("pick_id", sa.BigInteger, index=True),
        sa.Column("verification_id", sa.BigInteger, index=True),
        sa.Column("operator", sa.String(64), nullable=False, index=True),
        sa.Column("operator_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("device", sa.String(64), nullable=False, server_default=""),
        sa.Column("code", sa.String(256)),
        sa.Column("result", sa.String(32)),
        sa.Column("sku", sa.String(64)),
        sa.Column("qty", sa.Integer, nullable=False, server_default="0"),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    op.create_index("ix_events_at", "events", ["at"], schema=SCHEMA)
    op.create_table(
        "picks", _id(),
        sa.Column("basket", sa.String(64), nullable=False, index=True),
        sa.Column("picker", sa.String(64), nullable=False),
        sa.Column("picker_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("location", sa.String(64)),
        sa.Column("orders", JSONB, nullable=False),
        _ts("created_at", False, True), _ts("completed_at"),
        schema=SCHEMA,
    )
    # One open pick per basket: two pickers cannot fill the same basket.
    op.create_index("uq_picks_open_basket", "picks", ["basket"], unique=True, schema=SCHEMA,
                    postgresql_where=sa.text("state = 'open'"))
    op.create_table(
        "pick_tasks", _id(),
        sa.Column("pick_id", sa.BigInteger, sa.ForeignKey(f"{SCHEMA}.picks.id"), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("image_url", sa.String(500)),
        sa.Column("barcodes", JSONB, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("picked", sa.Integer, nullable=False, server_default="0"),
        sa.Column("short", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("picked + short <= qty", name="pick_task_not_over"),
        schema=SCHEMA,
    )
    op.create_table(
        "verifications", _id(),
        sa.Column("waybill", sa.String(64), nullable=False, index=True),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("verifier_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("orders", JSONB, nullable=False),
        _ts("created_at", False, True), _ts("completed_at"),
        schema=SCHEMA,
    )
    op.create_table(
        "verification_lines", _id(),
        sa.Column("verification_id", sa.BigInteger, sa.ForeignKey(f"{SCHEMA}.verifications.id"), nullable=False,
                  index=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("barcodes", JSONB, nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("scanned", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("scanned <= expected", name="verification_line_not_over"),
        schema=SCHEMA,
    )
    op.create_table(
        "shipment_outbox", _id(),
        sa.Column("order_no", sa.String(64), nullable=False, unique=True),
        sa.Column("basket", sa.String(64)),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("identity", JSONB, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500)),
        _ts("created_at", False, True), _ts("delivered_at"),
        schema=SCHEMA,
    )
    op.create_table(
        "returns", _id(),
        sa.Column("order_no", sa.String(64), nullable=False, index=True),
        sa.Column("reference", sa.String(250), nullable=False, unique=True),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        _ts("created_at", False, True),
        schema=SCHEMA,
    )


def downgrade() -> None:
    drop_append_only(op, SCHEMA, "order_notes")
    for table in ("returns", "shipment_outbox", "verification_lines", "verifications", "pick_tasks", "picks",
                  "events", "order_notes", "order_lines", "orders"):
        op.drop_table(table, schema=SCHEMA)
