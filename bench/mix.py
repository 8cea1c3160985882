"""The shift mix: what each handheld does during a shift, by the role its operator has on the floor.

- picker, 45 %: basket + order, each bin then each item, complete (`scan.pick_order`);
- verifier, 30 %: waybill, every item, complete; one item scan in 20 is preceded by an item of
  another parcel, which must be refused (`scan.verify_parcel`);
- putaway, 10 %: a receipt for 3 units of a SKU, 3 item scans into receiving, where to put them,
  the putaway of the 3;
- counter, 5 %: a blind count of one bin: open, one entry per SKU of the bin, submit;
- lookup, 10 %: an item lookup; an order by waybill and its page (the history); a SKU label
  printed every third round.

Every request is one scan on the handheld's schedule.
Verifiers take the baskets this shift's pickers completed first, and otherwise an order straight
off the shelf (packed at the table without a pick walk, which the system supports: its shipment
leaves from the bins). 5 % of pick and verification scans are sent twice with their key, as a
handheld's outbox replays a scan whose answer was lost. A handheld whose queue of orders is
empty stops working for the rest of the run (`Work.ran_out` says how often).
"""
from __future__ import annotations

import itertools
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench import scan, seed
from bench.loadgen import Handheld
from bench.printing import label_data

SHARES = {"picker": 0.45, "verifier": 0.30, "putaway": 0.10, "counter": 0.05, "lookup": 0.10}
# The gateway roles each floor role logs in with: only what the work needs.
OPERATOR_ROLES = {"picker": ["picker"], "verifier": ["verifier"], "putaway": ["receiver"],
                  "counter": ["counter"], "lookup": ["labeler", "supervisor"]}
WRONG_ITEM_SHARE = 1 / 20
RECEIPT_UNITS = 3
PRINT_EVERY = 3
FIRST_BASKET = 200_000   # the shift's baskets, BK-200000 on: a new one per walk, apart from the scan section's


def roles(count: int) -> list[str]:
    """The role of each of `count` handhelds: the shares, interleaved so any first n is mixed alike.

    Smooth weighted round robin: each handheld goes to the role furthest below its share so far.
    """
    given: Counter = Counter()
    found = []
    for n in range(1, count + 1):
        role = max(SHARES, key=lambda r: (SHARES[r] * n - given[r], SHARES[r]))
        given[role] += 1
        found.append(role)
    return found


@dataclass
class Work:
    """What the shift's handhelds share: the orders waiting, the baskets picked, the printers."""

    to_pick: deque[tuple[str, str]]      # (order number, waybill), for the pickers
    to_verify: deque[str]                # waybills packed without a pick walk
    printers: list[str]
    history: int                         # shipped orders in the history, for the lookups
    picked: deque[str] = field(default_factory=deque)   # waybills of baskets picked this shift
    ran_out: Counter = field(default_factory=Counter)
    baskets: itertools.count = field(default_factory=lambda: itertools.count(FIRST_BASKET))
    receipts: itertools.count = field(default_factory=lambda: itertools.count(1))


async def picker(hand: Handheld, work: Work) -> None:
    while work.to_pick:
        order_no, waybill = work.to_pick.popleft()
        if await scan.pick_order(hand, order_no, f"BK-{next(work.baskets)}"):
            work.picked.append(waybill)
    work.ran_out["picker"] += 1


async def verifier(hand: Handheld, work: Work) -> None:
    while work.picked or work.to_verify:
        waybill = work.picked.popleft() if work.picked else work.to_verify.popleft()
        await scan.verify_parcel(hand, waybill, wrong_share=WRONG_ITEM_SHARE)
    work.ran_out["verifier"] += 1


async def putaway(hand: Handheld, work: Work) -> None:
    while True:
        i = _any_sku()
        sku, code = seed.sku_code(i), seed.ean13(i)
        ref = f"SHIFT-{hand.device}-{next(work.receipts)}"
        opened = await hand.post("receipt_open", "/api/stock/receipts",
                                 {"ref": ref, "lines": [{"sku": sku, "qty": RECEIPT_UNITS}]})
        if opened.status != 201:
            continue
        received = 0
        for _ in range(RECEIPT_UNITS):
            answer = await hand.post("receive", f"/api/stock/receipts/{opened.json()['id']}/receive",
                                     {"code": code, "qty": 1})
            received += answer.status == 200
        where = await hand.get("putaway_suggest", f"/api/stock/putaway/suggest?sku={sku}")
        if where.status == 200 and received:
            put = await hand.post("putaway", "/api/stock/putaway",
                                  {"code": code, "qty": received, "to": where.json()["location"]})
            if put.status == 201:
                hand.sent["putaway_units"] += received


async def counter(hand: Handheld, work: Work) -> None:
    """Blind counts: the counter never sees the expected quantity, so what it enters is its own
    (the opening stock, which moves and padding have changed): most lines come back as variances."""
    while True:
        b = random.randrange(seed.BINS)  # noqa: S311 - a load pattern
        location = seed.bin_code(b)
        opened = await hand.post("count_open", "/api/stock/counts", {"locations": [location]})
        if opened.status != 201:
            continue
        path = f"/api/stock/counts/{opened.json()['id']}"
        for i in range(b, seed.SKUS, seed.BINS):   # the SKUs whose home is this bin
            entry = await hand.post("count_entry", path + "/entries",
                                    {"location": location, "code": seed.ean13(i), "qty": seed.SEED_QTY})
            if entry.status == 201:
                hand.sent["count_units"] += seed.SEED_QTY
        await hand.post("count_submit", path + "/submit")


async def lookup(hand: Handheld, work: Work) -> None:
    for round_ in itertools.count():
        i = _any_sku()
        await hand.get("item_lookup", f"/api/stock/items/lookup?code={seed.ean13(i)}")
        if work.printers and round_ % PRINT_EVERY == 0:
            await hand.post("print_job", "/api/print/jobs",
                            {"printer": work.printers[i % len(work.printers)], "template": "sku",
                             "data": label_data(i), "copies": 1})
        if work.history:
            order_no, waybill = seed.history_order(random.randint(1, work.history))  # noqa: S311
            await hand.get("order_lookup", f"/api/scan/orders?waybill={waybill}")
            await hand.get("order_page", f"/api/scan/orders/{order_no}")


def _any_sku() -> int:
    return random.randrange(seed.SKUS)  # noqa: S311 - a load pattern


WORK: dict[str, Callable[[Handheld, Work], Awaitable[None]]] = {
    "picker": picker, "verifier": verifier, "putaway": putaway, "counter": counter, "lookup": lookup}
# The requests of each role, in the order the report lists them.
LABELS = {"picker": ["pick_start", "pick_scan", "pick_complete", "pick_scan_replay"],
          "verifier": ["verify_open", "verify_scan", "verify_complete", "verify_scan_replay"],
          "putaway": ["receipt_open", "receive", "putaway_suggest", "putaway"],
          "counter": ["count_open", "count_entry", "count_submit"],
          "lookup": ["item_lookup", "order_lookup", "order_page", "print_job"]}
SCAN_LABELS = ["pick_scan", "verify_scan"]
