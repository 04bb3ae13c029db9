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
