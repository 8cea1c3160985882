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


def sku_code(i: int) -> str:
    return f"BS-{i:05d}"


def ean13(i: int) -> str:
    """A valid EAN-13 in the Chinese 690 range."""
    digits = f"690{i:09d}"
    return digits + str(check_digit(digits))


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


def statements(script: str, **values: int) -> list[tuple[str, dict]]:
    """Each statement of a script with the parameters it names (SEED, plus `values`)."""
    params = SEED | values
    found = []
    for part in (p.strip() for p in script.split(";")):
        if part:
            found.append((part, {k: v for k, v in params.items() if f":{k}" in part}))
    return found
