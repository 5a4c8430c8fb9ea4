"""The pure parts of ``make bench``'s rights phase: the RSS peak's arithmetic and MB/s. No
timing is asserted."""

import pytest

from pactra_devtools.bench_rights import PeakGrowth, megabytes_per_second


def test_growth_is_each_process_peak_over_its_own_baseline():
    growth = PeakGrowth({"gateway-worker": 100 * 1024, "documents-worker": 80 * 1024})
    growth.observe({"gateway-worker": 150 * 1024, "documents-worker": 70 * 1024})
    growth.observe({"gateway-worker": 120 * 1024, "documents-worker": 90 * 1024})
    assert growth.growth_mib() == {"gateway-worker": 50.0, "documents-worker": 10.0}
    assert growth.largest() == ("gateway-worker", 50.0)
    assert growth.samples == 2


def test_a_process_that_only_shrank_grew_by_nothing():
    growth = PeakGrowth({"signing": 64 * 1024})
    growth.observe({"signing": 32 * 1024})
    assert growth.growth_mib() == {"signing": 0.0}


def test_a_process_first_seen_after_the_baseline_starts_from_its_first_sample():
    growth = PeakGrowth({"gateway": 50 * 1024})
    growth.observe({"gateway": 50 * 1024, "receipts-issuer": 200 * 1024})
    growth.observe({"gateway": 50 * 1024, "receipts-issuer": 210 * 1024})
    assert growth.growth_mib()["receipts-issuer"] == 10.0
    assert growth.largest() == ("receipts-issuer", 10.0)


def test_megabytes_are_decimal_and_no_time_is_no_rate():
    assert megabytes_per_second(10**9, 10.0) == pytest.approx(100.0)
    assert megabytes_per_second(1024 * 1024, 1.0) == pytest.approx(1.048576)
    assert megabytes_per_second(5, 0.0) == 0.0
