"""Alembic, one migration history per service schema, run programmatically.

Each service's `migrations/env.py` calls `run_env(metadata)`; `upgrade(service)` is what
`make run`, the tests and the Kubernetes migration Job call.
"""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text

from common.db import advisory_key, engine_url

ROOT = Path(__file__).resolve().parent.parent
SERVICE_PACKAGES = {"gateway": "gateway", "stock": "stock_service", "scan": "scan_service", "print": "print_service"}


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / SERVICE_PACKAGES[service] / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(service: str, database_url: str | None = None, revision: str = "head") -> None:
    url = database_url or os.environ["DATABASE_URL"]
    command.upgrade(alembic_config(service, url), revision)


def upgrade_all(database_url: str | None = None) -> None:
    for service in SERVICE_PACKAGES:
        upgrade(service, database_url)


def run_env(metadata: MetaData) -> None:
    """Body of a service's env.py: migrate its schema only, under a lock so two runs never race."""
    schema = metadata.schema
    url = context.config.attributes.get("database_url") or os.environ["DATABASE_URL"]
    engine = create_engine(engine_url(url))
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key("migrate", schema or "")})
        try:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.commit()
            context.configure(connection=conn, target_metadata=metadata, version_table_schema=schema,
                              include_schemas=True, transaction_per_migration=False)
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key("migrate", schema or "")})
            conn.commit()
    engine.dispose()


if __name__ == "__main__":
    upgrade_all()
    print("migrations: every schema is at head")


def create_idempotency_keys(op, schema: str) -> None:  # type: ignore[no-untyped-def]
    """The idempotency key table, as every service's first migration creates it."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "idempotency_keys",
        sa.Column("operator", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Index("ix_idempotency_keys_created_at", "created_at"),
        schema=schema,
    )


def make_append_only(op, schema: str, table: str) -> None:  # type: ignore[no-untyped-def]
    """Refuse UPDATE and DELETE on a table in the database itself, so no code path can edit history.

    A row trigger does not fire on TRUNCATE, which stays available to maintenance and tests.
    """
    op.execute(f"""
        CREATE FUNCTION {schema}.{table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{schema}.{table} is append-only: % refused', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$;
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {schema}.{table}
            FOR EACH ROW EXECUTE FUNCTION {schema}.{table}_append_only();
    """)


def drop_append_only(op, schema: str, table: str) -> None:  # type: ignore[no-untyped-def]
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {schema}.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.{table}_append_only()")
