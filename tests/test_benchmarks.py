"""The scale benchmark's timing rule (``benchmarks/run.py`` is a script, loaded by path)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("imr_bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_first_run_is_not_timed(bench: ModuleType) -> None:
    calls: list[float] = []

    def run() -> int:
        time.sleep(0.2 if not calls else 0.01)  # the first run pays for cold caches
        calls.append(time.perf_counter())
        return len(calls)

    times, rows = bench.timed_runs(run, 3, budget=0.0)
    assert len(calls) == 4 and len(times) == 3
    assert rows == 4  # the rows of the last run
    assert max(times) < 0.15


def test_slow_queries_get_repeat_runs_and_fast_ones_more(bench: ModuleType) -> None:
    def slow() -> int:
        time.sleep(0.02)
        return 1

    times, _ = bench.timed_runs(slow, 2, budget=0.01)
    assert len(times) == 2  # the budget is spent: no more than --repeat
    times, _ = bench.timed_runs(lambda: 1, 2, budget=60.0, most=25)
    assert len(times) == 25  # a fast query runs until the budget or ``most``


def test_paired_runs_time_ours_in_the_same_minutes_as_theirs(bench: ModuleType) -> None:
    order: list[str] = []

    def theirs() -> int:
        time.sleep(0.01)
        order.append("t")
        return 7

    def ours() -> int:
        time.sleep(0.002)
        order.append("o")
        return 7

    asked: list[float] = []

    def burst(seconds: float) -> tuple[list[float], int]:
        asked.append(seconds)
        return bench.burst_runs(ours, seconds)

    times, rows, our_times, our_rows = bench.paired_runs(theirs, burst, 3, budget=0.0,
                                                         least=0.0)
    assert len(times) == 3 and rows == our_rows == 7
    # The untimed run of theirs, then each timed run followed by a burst of ours that lasts
    # as long (several runs, at least one).
    assert asked == pytest.approx(times)
    assert order[0] == "t"
    bursts = "".join(order[1:]).split("t")[1:]
    assert len(bursts) == 3 and all(3 <= len(b) <= 6 for b in bursts)
    assert len(our_times) == sum(len(b) for b in bursts)
    # A burst lasts at least ``least``; a query of ours slower than that still runs once.
    _, _, our_times, _ = bench.paired_runs(lambda: 1, burst, 2, budget=0.0, least=0.01)
    assert asked[-2:] == [0.01, 0.01] and 6 <= len(our_times) <= 12
    assert len(bench.burst_runs(ours, 0.0)[0]) == 1


def test_rdflib_ratios_prefer_the_interleaved_times(bench: ModuleType,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ours = {"a": {"p50": 0.004}, "b": {"p50": 0.002}, "c": {"capped": True}}
    rd = {"queries": {
        "a": {"p50": 0.2, "rows": 3, "our_rows": 3, "our_p50_interleaved": 0.002},
        "b": {"capped": True, "cap_seconds": 30.0},
        "c": {"p50": 1.0, "rows": 2, "our_rows": 5, "our_p50_interleaved": 0.01},
    }}
    r = bench.rdflib_ratios(ours, rd)
    assert r["rdflib_over_oxigraph_p50"] == pytest.approx({"a": 100.0, "c": 100.0})
    assert r["rdflib_over_oxigraph_p50_separate"] == pytest.approx({"a": 50.0})
    assert r["rdflib_over_oxigraph_p50_at_least"] == pytest.approx({"b": 15000.0})
    assert "WARNING c: rdflib 2 rows, ours 5" in capsys.readouterr().out


def test_validate_is_timed_on_a_store(bench: ModuleType, tmp_path: Path) -> None:
    from imr_graph.graph.ingest import ingest
    from imr_graph.graph.store import GraphStore

    from .conftest import EXAMPLES

    with GraphStore(tmp_path / "store") as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
    got = bench.child_validate(str(tmp_path / "store"), "sparql")
    assert (got["cases"], got["dwc_cases"], got["dmhc_cases"], got["violations"]) == (2, 2, 0, 0)
    assert got["seconds"] > 0 and got["ms_per_case"] > 0 and got["peak_rss_mib"] > 0
