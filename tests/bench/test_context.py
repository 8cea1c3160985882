"""Bench.take_turns: two phases in slices, ABBA ABBA, so a drifting machine weighs on both alike."""
import asyncio
import os
import time

from bench.context import ABBA, Bench
from bench.loadgen import Stats


class OwnProcess:
    """A stack of one part, this process: enough for the CPU shares a phase records."""

    def pids(self) -> dict[str, int]:
        return {"tests": os.getpid()}


def recorder(label: str, slices: list, lasts: float | None = None):  # type: ignore[no-untyped-def]
    async def scenario(_hand, deadline: float) -> None:
        slices.append((label, deadline - time.monotonic()))
        await asyncio.sleep(lasts if lasts is not None else max(deadline - time.monotonic(), 0))

    return scenario


def test_timed_turns_alternate_abba_and_add_up_each_labels_seconds():
    bench, slices = Bench(OwnProcess(), [object()], Stats()), []
    elapsed = asyncio.run(bench.take_turns(("bare", recorder("bare", slices), None),
                                           ("direct", recorder("direct", slices), None), seconds=0.05))
    assert [label for label, _ in slices] == ["bare" if turn == "a" else "direct" for turn in ABBA]
    assert set(elapsed) == {"bare", "direct"}
    for label in elapsed:
        assert 0.2 <= elapsed[label] < 0.6, elapsed  # four slices of 0.05 s each, plus scheduling


def test_an_untimed_turn_sets_how_long_the_other_kinds_next_slices_last():
    """A scan slice ends when its scans are done; the transaction slices after it last as long."""
    bench, slices = Bench(OwnProcess(), [object()], Stats(), phase_seconds=4.0), []
    asyncio.run(bench.take_turns(("scan", recorder("scan", slices, lasts=0.6), None),
                                 ("tx", recorder("tx", slices), None)))
    given = [round(budget, 1) for label, budget in slices if label == "tx"]
    assert len(given) == 4 and all(0.5 <= budget <= 0.7 for budget in given), given
    assert set(bench.cores) == {"scan", "tx"}  # slices long enough to say what the CPU did, averaged


def answering(label: str, every: float):  # type: ignore[no-untyped-def]
    """A scenario answering one request per `every` seconds until its slice ends."""
    async def scenario(hand, deadline: float) -> None:
        while time.monotonic() + every <= deadline:
            await asyncio.sleep(every)
            hand.stats.add(label, every, 200)

    return scenario


class Hand:
    def __init__(self, stats: Stats):
        self.stats = stats


def test_turns_keep_each_pair_of_neighbouring_slices_ratio():
    """Four pairs (ABBA ABBA), each the rate of a ÷ the rate of b in neighbouring slices: their range is the spread."""
    stats = Stats()
    bench = Bench(OwnProcess(), [Hand(stats)], stats)
    asyncio.run(bench.take_turns(("slow", answering("slow", 0.02), None),
                                 ("fast", answering("fast", 0.01), None), seconds=0.3))
    pairs = bench.turn_ratios[("slow", "fast")]
    assert len(pairs) == 4 and all(0.35 < ratio < 0.65 for ratio in pairs), pairs
    low, high = bench.spread("slow", "fast").removeprefix(" (turn pairs ").removesuffix(")").split("–")
    assert float(low) == round(min(pairs), 2) and float(high) == round(max(pairs), 2)
    assert bench.spread("slow", "nobody") == ""
