"""Every service's migrations go up, down to nothing, and up again on a scratch database."""
import pytest
from sqlalchemy import create_engine, text

from common import migrate
from common.db import engine_url
from common.testing import database_url_for, worker_number


@pytest.fixture
def scratch_db(test_env):
    name = f"wms_migrations_{worker_number()}"
    admin = create_engine(engine_url(test_env["DATABASE_URL"]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield database_url_for(test_env["DATABASE_URL"], name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize("service", sorted(migrate.SERVICE_PACKAGES))
def test_upgrade_downgrade_upgrade(scratch_db, service):
    """Head, base, head again: each downgrade undoes its upgrade completely."""
    from alembic import command

    config = migrate.alembic_config(service, scratch_db)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(engine_url(scratch_db))
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_tables "
                                 "WHERE schemaname = :s AND tablename <> 'alembic_version'"), {"s": service}).scalar()
    engine.dispose()
    assert left == 0
    command.upgrade(config, "head")
