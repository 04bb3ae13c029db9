"""Crash safety: SIGKILL an ingest at random moments; the store stays whole.

After each kill: the store opens, validates, holds every case the ingest reported as
written with its full triple count, and no case graph is partial (each has the items and
triples a fresh mapping of its letter gives). A last run finishes the job.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from imr_graph.graph.mapping import case_graph_iri, record_to_quads
from imr_graph.graph.store import GraphStore
from imr_graph.graph.validate import validate_store
from imr_graph.letters.parsing import parse_document
from imr_graph.letters.reading import read_document

from .conftest import corpus_pdfs
from .safety_letters import cli, env, write_copies

LINE = re.compile(r"^(?P<path>.+): case (?P<case>\S+), (?P<items>\d+) items, "
                  r"(?P<triples>\d+) triples$")
KILLS = 5


def expected_counts(files: list[Path]) -> dict[str, tuple[int, int]]:
    """case key -> (items, triples in its graph) from mapping each letter afresh."""
    out: dict[str, tuple[int, int]] = {}
    for f in files:
        doc = read_document(f)
        record = parse_document(doc)
        graph = case_graph_iri(record.case_key)
        own = {q for q in record_to_quads(record, doc.text) if q.graph_name == graph}
        out[record.case_key] = (len(record.items), len(own))
    return out


def check_store(store: Path, reported: dict[str, int],
                expected: dict[str, tuple[int, int]]) -> int:
    """All the invariants; returns the number of cases stored."""
    with GraphStore(store, read_only=True) as gs:
        graphs = {g.value.rsplit("/", 1)[-1]: g for g in gs.case_graphs()}
        for case, triples in reported.items():
            assert case in graphs, f"case {case} was reported as written but is missing"
            assert gs.graph_size(graphs[case]) == triples, case
        for case, graph in graphs.items():
            items = int(next(iter(gs.query(  # type: ignore[call-overload]
                "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a imr:DisputedItem }",
                graph=graph)))["n"].value)
            assert (items, gs.graph_size(graph)) == expected[case], f"partial case {case}"
        report = validate_store(gs)
        assert report.conforms, [v.line() for v in report.violations[:5]]
        return len(graphs)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigkill_at_random_moments_never_loses_or_corrupts_a_case(tmp_path: Path,
                                                                  jobs: str) -> None:
    letters = tmp_path / "letters"
    files = write_copies(letters, 200)  # enough that most runs are killed mid-ingest
    pdfs = corpus_pdfs()[:20]
    files += pdfs
    expected = expected_counts(files)
    store = tmp_path / "store"
    # --jobs 1 is the serial path, --jobs 2 the parallel pipeline (batched writes).
    command = [*cli(), "ingest", "-v", "--jobs", jobs, "--store", str(store), str(letters),
               *map(str, pdfs)]
    rng = random.Random(8)
    reported: dict[str, int] = {}
    killed_mid_run = 0
    for run in range(KILLS):
        if run:
            # New bytes for every text letter (the same record): no letter is passed over
            # as unchanged, each run rewrites the stored cases (as their difference) and
            # stores the others, so every run has the whole ingest to do.
            for f in letters.glob("*.txt"):
                with f.open("a", encoding="utf-8") as fh:
                    fh.write("\n")
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=env(), start_new_session=True)
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is None:
            killed_mid_run += 1
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and any worker it started
        out, _ = proc.communicate(timeout=60)
        for line in out.decode("utf-8", "replace").splitlines():
            m = LINE.match(line)
            if m:
                reported[m["case"]] = int(m["triples"])
        if store.exists():
            check_store(store, reported, expected)
    assert killed_mid_run >= 2, "ingest finished too fast to be killed; use more letters"
    assert reported, "no kill happened after the first case was written"

    done = subprocess.run(command, capture_output=True, env=env(), timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert check_store(store, reported, expected) == len(expected)


def kill_after_first_report(tmp_path: Path, *options: str) -> None:
    """Kill an ingest right after it reports its first case; that case must be stored."""
    letters = tmp_path / "letters"
    write_copies(letters, 60)
    store = tmp_path / "store"
    proc = subprocess.Popen([*cli(), "ingest", "-v", *options, "--store", str(store),
                             str(letters)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env(), start_new_session=True)
    assert proc.stdout is not None
    first = proc.stdout.readline().decode()
    os.killpg(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    reported = {m["case"]: int(m["triples"])
                for line in [first, *rest.decode().splitlines()] if (m := LINE.match(line.strip()))}
    assert reported, first
    check_store(store, reported, expected_counts(sorted(letters.glob("*.txt"))))


def test_kill_right_after_a_report_serial(tmp_path: Path) -> None:
    kill_after_first_report(tmp_path, "--jobs", "1")


def test_kill_right_after_a_report_parallel(tmp_path: Path) -> None:
    kill_after_first_report(tmp_path, "--jobs", "2")
