"""The lookup ratios: 1M over 10k, as measured and with the machine's drift taken out by the bare endpoint."""
import pytest

from bench.stock import lookup_ratios


def test_a_machine_twice_as_slow_at_1m_does_not_pass_for_a_slower_lookup():
    p50 = {"balances@10,000": 2.0, "bare beside balances@10,000": 1.0,
           "lookup@10,000": 5.0, "bare beside lookup@10,000": 1.0,
           "balances@1,000,000": 4.0, "bare beside balances@1,000,000": 2.0,
           "lookup@1,000,000": 15.0, "bare beside lookup@1,000,000": 2.0}
    ratios = dict(lookup_ratios(p50, "10,000", "1,000,000"))
    assert ratios["balances p50 at 1M ÷ at 10k ledger rows"] == pytest.approx(2.0)
    assert ratios["balances p50 at 1M ÷ at 10k ledger rows, each over the bare endpoint's p50 beside it"] == \
        pytest.approx(1.0)
    assert ratios["items/lookup p50 at 1M ÷ at 10k ledger rows, each over the bare endpoint's p50 beside it"] == \
        pytest.approx(1.5)  # slower than the machine's drift explains: it shows
