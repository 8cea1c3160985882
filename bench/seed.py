"""The floor's master data and the ledger, made the fast way before the measured phases.

Bins are written with SQL (set-up, not measured); SKUs come in through the CSV import (measured);
the ledger is seeded and padded with INSERT ... SELECT generate_series, with the balances updated
to match, so the end-of-run check (ledger sums = balances) holds only if the services kept it.
"""
from __future__ import annotations

from codes.gtin import check_digit

BINS = 2000
SKUS = 10_000
SEED_QTY = 100_000
OVERFLOW_BIN = "Z-99-99-01"
SEED_REFERENCE = "bench-seed"
PAD_REFERENCE = "bench-pad"


def bin_code(i: int) -> str:
    """The i-th bin: zone A–E, aisle, shelf, level (walking order = i)."""
    return f"{chr(65 + i // 400)}-{i // 20 % 20 + 1:02d}-{i // 2 % 10 + 1:02d}-{i % 2 + 1:02d}"


# The ERP's order file, as POST /api/scan/orders/import reads it.
ORDERS_CSV_HEADER = "order_no,shop,waybill_no,carrier,paid,buyer_note,seller_note,sku,qty"


def sku_code(i: int) -> str:
    return f"BS-{i:05d}"


def ean13(i: int) -> str:
    """A valid EAN-13 in the Chinese 690 range."""
    digits = f"690{i:09d}"
    return digits + str(check_digit(digits))


def barcode(sku: str) -> str:
    """The EAN-13 printed on a seeded SKU (`BS-00042` → ean13(42))."""
    return ean13(int(sku.split("-")[1]))


def home_bin(i: int) -> str:
    return bin_code(i % BINS)


def sku_csv(count: int = SKUS, variant: str = "M") -> bytes:
    """The SKU master file: `sku,name,spec,barcode,bin`, Chinese names as the shops write them."""
    rows = ["sku,name,spec,barcode,bin"]
    rows += [f"{sku_code(i)},T恤 {i} 红 {variant},棉 100%,{ean13(i)},{home_bin(i)}" for i in range(count)]
    return ("\n".join(rows) + "\n").encode()


BINS_SQL = ("INSERT INTO stock.locations (code, kind, zone, sequence) VALUES (:code, 'bin', :zone, :sequence) "
            "ON CONFLICT (code) DO NOTHING")


def bin_rows() -> list[dict]:
    """Every bin and the overflow bin, with their walking order."""
    codes = [bin_code(i) for i in range(BINS)] + [OVERFLOW_BIN]
    return [{"code": c, "zone": c[0], "sequence": n * 10} for n, c in enumerate(codes)]


SEED = {"qty": SEED_QTY, "seed": SEED_REFERENCE, "pad": PAD_REFERENCE, "skus": SKUS}
RECEIVE_ALL = """
    INSERT INTO stock.movements (type, sku, qty, to_location, operator, device, reason, reference)
    SELECT 'receive', sku, :qty, home_bin, 'EDB_AD900', 'BENCH', 'opening stock', :seed
    FROM stock.skus WHERE home_bin IS NOT NULL;
    INSERT INTO stock.balances (sku, location, lot, qty)
    SELECT sku, home_bin, '', :qty FROM stock.skus WHERE home_bin IS NOT NULL
    ON CONFLICT (sku, location, lot) DO UPDATE SET qty = stock.balances.qty + excluded.qty;
    ANALYZE stock.movements;
    ANALYZE stock.balances
"""

# One unit received per row, spread over every SKU, then the balances raised by the same amounts.
PAD_LEDGER = """
    INSERT INTO stock.movements (type, sku, qty, to_location, operator, device, reason, reference)
    SELECT 'receive', s.sku, 1, s.home_bin, 'EDB_AD900', 'BENCH', 'ledger padding', :pad
    FROM generate_series(1, :rows) AS g
    JOIN stock.skus s ON s.sku = 'BS-' || lpad((g % :skus)::text, 5, '0');
    UPDATE stock.balances b SET qty = b.qty + c.n
    FROM (SELECT sku, to_location, count(*) AS n FROM stock.movements WHERE reference = :pad
          GROUP BY sku, to_location) c
    WHERE b.sku = c.sku AND b.location = c.to_location AND b.lot = '';
    ANALYZE stock.movements;
    ANALYZE stock.balances
"""


def statements(script: str, **values: int | str) -> list[tuple[str, dict]]:
    """Each statement of a script with the parameters it names (SEED, plus `values`)."""
    params = SEED | values
    found = []
    for part in (p.strip() for p in script.split(";")):
        if part:
            found.append((part, {k: v for k, v in params.items() if f":{k}" in part}))
    return found


# Orders outside the CSV import: the shift's waiting orders and the shop's history. The import
# itself is measured in the scan section; here only the rows matter.
SHIFT_PREFIX, SHIFT_WAYBILLS = "TB2026SHIFT", 200_000_000_000
HISTORY_PREFIX, HISTORY_WAYBILLS = "TB2025HIST", 3_000_000_000_000
HISTORY_DAYS = 100
HISTORY_IDS = 1_000_000_000   # pick and verification ids of the history: far above any the run makes


def shift_order(i: int) -> tuple[str, str]:
    """Order number and waybill of the i-th order waiting for the shift."""
    return f"{SHIFT_PREFIX}{i:06d}", f"SF{SHIFT_WAYBILLS + i}"


def history_order(i: int) -> tuple[str, str]:
    """Order number and waybill of the i-th shipped order of the history (1-based, as generate_series)."""
    return f"{HISTORY_PREFIX}{i:06d}", f"SF{HISTORY_WAYBILLS + i}"


# Printed today, waiting for a picker or the packing table; three SKUs each, the last one twice
# (as scan.order_lines), with the `imported` event the import would have written.
SHIFT_ORDERS = """
    INSERT INTO scan.orders (order_no, shop, waybill_no, carrier, paid, state, content_hash, allocated)
    SELECT CAST(:prefix AS text) || lpad(g::text, 6, '0'), '抖音小店', 'SF' || (:waybills + g), 'SF', true, 'printed',
           md5(CAST(:prefix AS text) || g), false
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS g;
    INSERT INTO scan.order_lines (order_no, sku, qty)
    SELECT CAST(:prefix AS text) || lpad(g::text, 6, '0'), 'BS-' || lpad(((g * 3 + k) % :skus)::text, 5, '0'),
           CASE WHEN k = 2 THEN 2 ELSE 1 END
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS g, generate_series(0, 2) AS k;
    INSERT INTO scan.events (kind, order_no, operator, operator_name)
    SELECT 'imported', CAST(:prefix AS text) || lpad(g::text, 6, '0'), 'EDB_AD900', 'Administrator'
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS g;
    ANALYZE scan.orders;
    ANALYZE scan.order_lines
"""

# The shop's past: shipped orders spread over HISTORY_DAYS days before yesterday (never the
# warehouse's today, whatever its time zone), each with the timeline a real one leaves: imported,
# a pick walk with its item scans, a packing-table check with its item scans, verified, shipped.
HISTORY = """
    INSERT INTO scan.orders (order_no, shop, waybill_no, carrier, paid, state, content_hash, allocated,
                             created_at, updated_at, picked_at, verified_at, shipped_at)
    SELECT CAST(:prefix AS text) || lpad(g::text, 6, '0'), '天猫旗舰店', 'SF' || (:waybills + g), 'SF', true, 'shipped',
           md5(CAST(:prefix AS text) || g), true, d, d + interval '65 minutes', d + interval '30 minutes',
           d + interval '35 minutes', d + interval '65 minutes'
    FROM (SELECT g, date_trunc('day', now()) - make_interval(days => 2 + g % :days)
                    + make_interval(secs => 8 * 3600 + (g * 7919) % 36000) AS d
          FROM generate_series(1, CAST(:orders AS int)) AS g) AS h;
    INSERT INTO scan.order_lines (order_no, sku, qty)
    SELECT CAST(:prefix AS text) || lpad(g::text, 6, '0'), 'BS-' || lpad(((g * 3 + k) % :skus)::text, 5, '0'),
           CASE WHEN k = 2 THEN 2 ELSE 1 END
    FROM generate_series(1, CAST(:orders AS int)) AS g, generate_series(0, 2) AS k;
    INSERT INTO scan.events (at, kind, order_no, pick_id, verification_id, operator, device, result, sku, qty)
    SELECT o.created_at + make_interval(mins => 5 * s.n), s.kind,
           CASE WHEN s.item IS NULL THEN o.order_no END,
           CASE WHEN s.kind LIKE 'pick%' THEN :ids + o.g END,
           CASE WHEN s.kind IN ('verification_opened', 'verify_scan', 'verified', 'shipped') THEN :ids + o.g END,
           CASE WHEN s.kind = 'imported' THEN 'EDB_AD900'
                WHEN s.kind LIKE 'pick%' THEN 'EDB_PH' || lpad((o.g % 40 + 1)::text, 3, '0')
                ELSE 'EDB_VF' || lpad((o.g % 20 + 1)::text, 3, '0') END,
           CASE WHEN s.kind = 'imported' THEN '' ELSE 'PDA-' || lpad((o.g % 60 + 1)::text, 3, '0') END,
           CASE WHEN s.item IS NOT NULL THEN 'ok' END,
           CASE WHEN s.item IS NOT NULL THEN 'BS-' || lpad(((o.g * 3 + s.item) % :skus)::text, 5, '0') END,
           CASE WHEN s.item IS NOT NULL THEN 1 WHEN s.kind IN ('picked', 'verified') THEN 4 ELSE 0 END
    FROM (SELECT order_no, created_at, substr(order_no, length(CAST(:prefix AS text)) + 1)::int AS g
          FROM scan.orders WHERE order_no LIKE CAST(:prefix AS text) || '%') AS o
    CROSS JOIN (VALUES (0, 'imported', NULL), (1, 'pick_started', NULL), (2, 'pick_scan', 0), (3, 'pick_scan', 1),
                       (4, 'pick_scan', 2), (5, 'pick_scan', 2), (6, 'picked', NULL),
                       (7, 'verification_opened', NULL), (8, 'verify_scan', 0), (9, 'verify_scan', 1),
                       (10, 'verify_scan', 2), (11, 'verify_scan', 2), (12, 'verified', NULL),
                       (13, 'shipped', NULL)) AS s(n, kind, item);
    ANALYZE scan.orders;
    ANALYZE scan.order_lines;
    ANALYZE scan.events
"""
HISTORY_EVENTS_PER_ORDER = 14
