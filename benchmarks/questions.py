"""Timing of the questions users bring: ``precedents`` and ``search`` on a store.

:func:`bench_questions` runs this file as a child process on a store (read-only): it
builds the text index from scratch (``imr-graph search --reindex``: seconds, items), times
the check a search makes when the store has not changed, then each precedents question
(the first 20 rows, as the command shows them, and the counts of all; ``rows`` is how many
were found) and each search below once untimed and ``repeat`` times (p50 / p95, the whole library call
as the command makes it: reading the service words, coding diagnosis phrases, widening,
the rate). ``run.py`` calls it after the canned queries at every size, and with ``--store``.
Usage on its own::

    .venv/bin/python benchmarks/questions.py STORE [REPEAT]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

PRECEDENTS = [
    {"service": "lumbar MRI", "diagnoses": ["lumbar radiculopathy"]},
    {"service": "Norco 10/325mg #60", "section": "opioids", "before": "2017-02-01"},
    {"service": "physical therapy", "diagnoses": ["M54.5", "cervical strain"]},
    {"service": "intrathecal pump refill"},  # few: widens to the category
]
SEARCHES = [
    {"words": '"red flag"'},
    {"words": "pump"},
    {"words": '"functional restoration" opioids', "outcome": "upheld"},
    {"words": "MRI", "service": "lumbar MRI", "year": 2017},
    {"words": "acupunct* -electrical", "section": "acupuncture"},
]


def _times(run, repeat: int) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    rows = run()  # the first run pays for cold caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - t0)
    return times, rows


def _stat(times: list[float], rows: int) -> dict:
    s = sorted(times)
    return {"p50": s[len(s) // 2], "p95": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))],
            "rows": rows, "runs": len(s)}


def child(store: str, repeat: int) -> dict:
    from imr_graph.graph.precedents import find_precedents
    from imr_graph.graph.store import GraphStore
    from imr_graph.graph.textindex import search, sync

    out: dict = {"precedents": {}, "search": {}}
    with GraphStore(store, read_only=True) as gs:
        t0 = time.perf_counter()
        built = sync(gs, rebuild=True)
        out["index_build_seconds"] = time.perf_counter() - t0
        out["index_items"], out["index_cases"] = built.items, built.added
        t0 = time.perf_counter()
        again = sync(gs)
        out["index_check_seconds"] = time.perf_counter() - t0
        out["index_check_scanned_store"] = again.checked
        for ask in PRECEDENTS:
            def run(ask: dict = ask) -> int:  # as the command asks: the first 20 rows
                return find_precedents(gs, **ask, limit=20).total
            out["precedents"][json.dumps(ask)] = _stat(*_times(run, repeat))
        for ask in SEARCHES:
            def run_search(ask: dict = ask) -> int:
                return search(gs, **ask)[0]
            out["search"][json.dumps(ask)] = _stat(*_times(run_search, repeat))
    return out


def bench_questions(store: str, repeat: int = 5) -> dict:
    """:func:`child` in a child process, printed."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), store, str(repeat)],
                          capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"text index: built in {r['index_build_seconds']:.1f}s ({r['index_items']} items), "
          f"check {r['index_check_seconds'] * 1000:.1f} ms", flush=True)
    for kind in ("precedents", "search"):
        for ask, q in r[kind].items():
            print(f"  {kind} {ask}: p50 {q['p50']:.4f}s p95 {q['p95']:.4f}s, {q['rows']} rows",
                  flush=True)
    return r


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)))
