"""A pick with its tasks, and a check with its lines, locked and read in one round trip

Every scan locks its pick (or check) and then reads the tasks (or lines), which must be read by a
statement that starts after the lock is held: in READ COMMITTED only such a statement sees what
a racing scan of the same pick committed while this one waited. Two statements were two round
trips. A VOLATILE function runs each of its statements on a fresh snapshot, so the lock and the
read keep that order inside one call. The functions hold no rule of the floor: they lock and read.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LOCKED_PICK = """
CREATE FUNCTION scan.locked_pick(wanted bigint)
RETURNS TABLE (id bigint, state varchar, location varchar, picker varchar, picker_name varchar, basket varchar,
               orders jsonb, task_id bigint, seq integer, task_location varchar, sku varchar, name varchar,
               image_url varchar, barcodes jsonb, qty integer, picked integer, short integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM scan.picks AS p WHERE p.id = wanted FOR UPDATE;
  RETURN QUERY
    SELECT p.id, p.state, p.location, p.picker, p.picker_name, p.basket, p.orders, t.id, t.seq, t.location,
           t.sku, t.name, t.image_url, t.barcodes, t.qty, t.picked, t.short
    FROM scan.picks AS p LEFT JOIN scan.pick_tasks AS t ON t.pick_id = p.id
    WHERE p.id = wanted ORDER BY t.seq, t.id;
END $$
"""

LOCKED_CHECK = """
CREATE FUNCTION scan.locked_check(wanted bigint)
RETURNS TABLE (id bigint, state varchar, orders jsonb, line_id bigint, sku varchar, name varchar, barcodes jsonb,
               expected integer, scanned integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM scan.verifications AS v WHERE v.id = wanted FOR UPDATE;
  RETURN QUERY
    SELECT v.id, v.state, v.orders, l.id, l.sku, l.name, l.barcodes, l.expected, l.scanned
    FROM scan.verifications AS v LEFT JOIN scan.verification_lines AS l ON l.verification_id = v.id
    WHERE v.id = wanted ORDER BY l.id;
END $$
"""


def upgrade() -> None:
    op.execute(LOCKED_PICK)
    op.execute(LOCKED_CHECK)


def downgrade() -> None:
    op.execute("DROP FUNCTION scan.locked_check(bigint)")
    op.execute("DROP FUNCTION scan.locked_pick(bigint)")
