"""The pure parts of ``make bench``: percentiles, the open-loop schedule and scheduler, wrk's
report, the Procfile's gunicorn defaults, the ratios new/base. No timing is asserted."""

import threading

import pytest

from pactra_devtools import bench_compare, bench_http, bench_openloop


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unordered
    assert bench_openloop.percentile(values, 0.5) == 50
    assert bench_openloop.percentile(values, 0.95) == 95
    assert bench_openloop.percentile(values, 0.99) == 99
    assert bench_openloop.percentile(values, 1.0) == 100
    # Few samples: p99 is the largest, never an interpolated value that was not measured.
    assert bench_openloop.percentile([3.0, 1.0, 2.0], 0.99) == 3.0
    assert bench_openloop.percentile([7.0], 0.5) == 7.0
    with pytest.raises(ValueError, match="no values"):
        bench_openloop.percentile([], 0.5)
    with pytest.raises(ValueError, match="share"):
        bench_openloop.percentile([1.0], 0)


def test_schedule_is_evenly_spaced_at_the_rate():
    assert bench_openloop.schedule(4.0, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert bench_openloop.schedule(2.0, 0) == []
    for rate in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="positive rate"):
            bench_openloop.schedule(rate, 3)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_scheduler_starts_each_at_its_time_without_waiting_for_the_previous_ones():
    clock = FakeClock()
    release = threading.Event()
    started: list[tuple[int, float]] = []
    lock = threading.Lock()

    def start(index: int, due: float) -> None:
        with lock:
            started.append((index, due))
        if index == 0:
            # The first life cycle hangs until the last has started: a closed loop would
            # deadlock here, the open loop starts the others on time regardless.
            assert release.wait(5)
        if index == 3:
            release.set()

    lateness = bench_openloop.run(start, bench_openloop.schedule(2.0, 4), clock=clock, sleep=clock.sleep)
    assert sorted(started) == [(0, 100.0), (1, 100.5), (2, 101.0), (3, 101.5)]
    assert lateness == [0.0, 0.0, 0.0, 0.0]


def test_scheduler_reports_late_starts():
    clock = FakeClock()

    def slow_start(index: int, due: float) -> None:
        pass

    def sleep(seconds: float) -> None:
        clock.now += seconds + 0.1  # an overloaded client oversleeps

    lateness = bench_openloop.run(slow_start, [0.0, 1.0], clock=clock, sleep=sleep)
    assert lateness == [0.0, pytest.approx(0.1)]


WRK_REPORT = """Running 8s test @ http://127.0.0.1:8090/v1/agreements/agr_1
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.44ms    2.01ms  30.00ms   80.00%
    Req/Sec     3.07k   200.00     3.50k    70.00%
  24563 requests in 8.02s, 3.50MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 0, read 3, write 0, timeout 1
Requests/sec:   3062.72
Transfer/sec:    447.50KB
"""


def test_wrk_report_counts_failures_out_of_the_rate():
    assert bench_http.parse_wrk(WRK_REPORT) == (24563, 8.02, 16)
    result = bench_http.WrkResult(24563, 8.02, 16, 2.0, 1)
    assert result.rate == pytest.approx((24563 - 16) / 8.02)
    assert result.cpu_share == pytest.approx(2.0 / 8.02)
    assert bench_http.parse_wrk("  10 requests in 1.00m, 1KB read\n") == (10, 60.0, 0)
    with pytest.raises(RuntimeError):
        bench_http.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_gunicorn_defaults_come_from_the_procfile_line():
    line = ".venv/bin/python -m gunicorn --worker-class gthread --threads ${PACTRA_API_THREADS:-16} 'x:y()'"
    assert bench_http.pactra_defaults({"WEB_CONCURRENCY": "3"}, line) == bench_http.Gunicorn(3, 16)
    assert bench_http.pactra_defaults({"WEB_CONCURRENCY": "2", "PACTRA_API_THREADS": "4"}, line) == \
        bench_http.Gunicorn(2, 4)
    assert bench_http.pactra_defaults({}, "gunicorn --workers 1 --threads 8 x:y").workers == 1
    # Unset WEB_CONCURRENCY: what `pactra-dev run` sets, one process per available core.
    assert bench_http.pactra_defaults({}, line).workers >= 1
    assert str(bench_http.Gunicorn(2, 4)) == "2 workers x 4 threads"


def test_ratios_say_which_way_is_better():
    new = {"rps": bench_compare.figure(600, "req/s", "higher", "GET"),
           "p99": bench_compare.figure(40, "ms", "lower", "POST p99"),
           "cpu": bench_compare.figure(100, "ms", "lower", "CPU"),
           "webhooks": bench_compare.figure(5, "ms", "lower", "webhook p50")}
    base = {"rps": bench_compare.figure(300, "req/s", "higher", "GET"),
            "p99": bench_compare.figure(80, "ms", "lower", "POST p99"),
            "cpu": bench_compare.figure(0, "ms", "lower", "CPU"),
            "gone": bench_compare.figure(1, "x", "higher", "old figure")}
    lines = bench_compare.ratio_lines(new, base)
    by_label = {line.split()[0]: line for line in lines[1:]}
    assert "2.00" in by_label["GET"] and by_label["GET"].rstrip().endswith("better")
    assert "0.50" in by_label["POST"] and by_label["POST"].rstrip().endswith("better")
    assert "n/a" in by_label["CPU"]
    assert "not measured on the baseline" in by_label["webhook"]
    assert "baseline only" in by_label["old"]
    worse = bench_compare.ratio_lines({"p99": bench_compare.figure(90, "ms", "lower", "p99")},
                                      {"p99": bench_compare.figure(60, "ms", "lower", "p99")})
    assert "1.50" in worse[1] and worse[1].rstrip().endswith("worse")
    with pytest.raises(ValueError, match="higher or lower"):
        bench_compare.figure(1, "ms", "sideways", "x")


def test_json_round_trip(tmp_path):
    figures = {"rps": bench_compare.figure(600, "req/s", "higher", "GET")}
    bench_compare.save(tmp_path / "out.json", figures, {"commit": "abc"})
    assert bench_compare.load(tmp_path / "out.json") == ({"commit": "abc"}, figures)
    (tmp_path / "other.json").write_text('{"figures": {}}')
    with pytest.raises(ValueError, match="not a version 1"):
        bench_compare.load(tmp_path / "other.json")
