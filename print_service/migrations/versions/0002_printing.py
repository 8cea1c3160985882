"""printers, print jobs, their history and batches

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "print"


def upgrade() -> None:
    op.create_table(
        "printers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("uri", sa.String(500), nullable=False),
        sa.Column("dpi", sa.Integer, nullable=False),
        sa.Column("width_mm", sa.Float, nullable=False),
        sa.Column("height_mm", sa.Float, nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("font", sa.String(64), nullable=False),
        sa.Column("retries", sa.Integer, nullable=False),
        sa.Column("retry_interval_s", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.String(40)),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("printer", sa.String(64), sa.ForeignKey(f"{SCHEMA}.printers.name"), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=False), nullable=False, unique=True),
        sa.Column("printer", sa.String(64), sa.ForeignKey(f"{SCHEMA}.printers.name"), nullable=False, index=True),
        sa.Column("template", sa.String(20), nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        sa.Column("copies", sa.Integer, nullable=False),
        sa.Column("zpl", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("reprint_of", sa.String(36), sa.ForeignKey(f"{SCHEMA}.jobs.id")),
        sa.Column("batch_id", sa.String(36), sa.ForeignKey(f"{SCHEMA}.batches.id"), index=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_name", sa.String(200), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("copies BETWEEN 1 AND 500", name="ck_jobs_copies"),
        schema=SCHEMA,
    )
    op.create_index("ix_jobs_printer_state_seq", "jobs", ["printer", "state", "seq"], schema=SCHEMA)
    op.create_table(
        "job_events",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("job_id", sa.String(36), sa.ForeignKey(f"{SCHEMA}.jobs.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("operator", sa.String(64)),
        sa.Column("detail", sa.Text),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("job_events", schema=SCHEMA)
    op.drop_index("ix_jobs_printer_state_seq", table_name="jobs", schema=SCHEMA)
    op.drop_table("jobs", schema=SCHEMA)
    op.drop_table("batches", schema=SCHEMA)
    op.drop_table("printers", schema=SCHEMA)
