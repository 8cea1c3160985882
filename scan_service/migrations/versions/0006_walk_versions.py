"""A version on each pick and each check, so a scan reads without a lock and writes with a claim

A scan read its pick (or check) under a row lock and wrote in the same transaction: BEGIN, the
locking read, the write, COMMIT, four round trips. Now it reads with no lock and no transaction,
and sends its writes as one statement whose main query claims the version it read: the claim
moves the version on with the scan's change (`moves`), or only finds it unchanged for a scan
that changes nothing but the journal; when another writer moved it first, it fails with SQLSTATE
40001 and undoes the whole statement (common.db.claim). Every change to a pick or its tasks, a
check or its lines, moves the version in the same transaction, so a claim can only succeed on
what the scan read.

The locking reads of migration 0005 now answer the version too (a walk's completion, and the last
try of a scan that kept losing its claims, read under the lock and still claim).

Revision ID: 0006
Revises: 0005
"""
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
SCHEMA = "scan"


def _claim(kind: str, table: str, args: str = "", sets: str = "") -> str:
    """scan.claim_<kind>: the version seen moved on with the change (`moves`), or only found unchanged."""
    return f"""
CREATE FUNCTION scan.claim_{kind}(wanted bigint, seen integer, moves boolean{args})
RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF moves THEN
    UPDATE scan.{table} SET version = version + 1{sets} WHERE id = wanted AND version = seen;
  ELSE
    PERFORM 1 FROM scan.{table} WHERE id = wanted AND version = seen;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION '{kind} % changed since it was read', wanted USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN seen + moves::integer;
END $$
"""  # noqa: S608 - names fixed in this file


CLAIM_PICK = _claim("pick", "picks", ", at varchar, by varchar, by_name varchar",
                    ", location = at, picker = by, picker_name = by_name")
CLAIM_CHECK = _claim("check", "verifications")

LOCKED_PICK = """
CREATE FUNCTION scan.locked_pick(wanted bigint)
RETURNS TABLE (id bigint, state varchar, location varchar, picker varchar, picker_name varchar, basket varchar,
               orders jsonb, version integer, task_id bigint, seq integer, task_location varchar, sku varchar,
               name varchar, image_url varchar, barcodes jsonb, qty integer, picked integer, short integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM scan.picks AS p WHERE p.id = wanted FOR UPDATE;
  RETURN QUERY
    SELECT p.id, p.state, p.location, p.picker, p.picker_name, p.basket, p.orders, p.version, t.id, t.seq,
           t.location, t.sku, t.name, t.image_url, t.barcodes, t.qty, t.picked, t.short
    FROM scan.picks AS p LEFT JOIN scan.pick_tasks AS t ON t.pick_id = p.id
    WHERE p.id = wanted ORDER BY t.seq, t.id;
END $$
"""

LOCKED_CHECK = """
CREATE FUNCTION scan.locked_check(wanted bigint)
RETURNS TABLE (id bigint, state varchar, orders jsonb, version integer, line_id bigint, sku varchar, name varchar,
               barcodes jsonb, expected integer, scanned integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM scan.verifications AS v WHERE v.id = wanted FOR UPDATE;
  RETURN QUERY
    SELECT v.id, v.state, v.orders, v.version, l.id, l.sku, l.name, l.barcodes, l.expected, l.scanned
    FROM scan.verifications AS v LEFT JOIN scan.verification_lines AS l ON l.verification_id = v.id
    WHERE v.id = wanted ORDER BY l.id;
END $$
"""


def upgrade() -> None:
    for table in ("picks", "verifications"):
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="0"), schema=SCHEMA)
    op.execute("DROP FUNCTION scan.locked_pick(bigint)")
    op.execute("DROP FUNCTION scan.locked_check(bigint)")
    for function in (LOCKED_PICK, LOCKED_CHECK, CLAIM_PICK, CLAIM_CHECK):
        op.execute(function)


def downgrade() -> None:
    previous = _revision_0005()
    for function in ("claim_check(bigint, integer, boolean)",
                     "claim_pick(bigint, integer, boolean, varchar, varchar, varchar)",
                     "locked_check(bigint)", "locked_pick(bigint)"):
        op.execute(f"DROP FUNCTION scan.{function}")
    op.execute(previous.LOCKED_PICK)
    op.execute(previous.LOCKED_CHECK)
    for table in ("picks", "verifications"):
        op.drop_column(table, "version", schema=SCHEMA)


def _revision_0005() -> ModuleType:
    """Migration 0005, whose functions a downgrade puts back (the folder is not a package)."""
    spec = spec_from_file_location("revision_0005", Path(__file__).with_name("0005_locked_reads.py"))
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
