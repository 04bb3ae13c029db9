"""One command for the scale benchmark: ``make bench`` (= ``.venv/bin/python benchmarks/run.py``).

For each size N (``--sizes``, default 1000; 10000 takes ~10 min and 100000 hours on 2 cores):

1. generate N letters from real ones (:mod:`generate`) in a temp dir;
2. ingest them with :func:`imr_graph.graph.pipeline.ingest_parallel` in a child process
   (letters/s, triples/s, time spent writing to the store, peak RSS of the writer and of
   the largest worker via ``resource.getrusage``); then, as a user would (``--no-enrich``
   skips it), link the vocabularies (``imr-graph link``) and load the corpus's DMHC CSV
   when present, so that every canned query has data to work on; queries with a ``case``
   parameter get a case of the store;
3. dump the store as N-Quads and bulk-load that file into a fresh store with
   ``pyoxigraph.Store.bulk_load`` (the floor for our load path), and, up to
   ``--write-path-max`` letters, time our write path alone (the same ingest with ``--jobs
   1``: its writes do not share the cores with parsing workers);
   at sizes up to ``--reingest-max`` (default 2000), time re-ingest in one child process: a
   fresh ingest, the same letters again (unchanged letters are passed over), with
   ``--resume``, and changed copies of every letter (:func:`child_reingest`);
4. run every canned query (``imr_graph.graph.queries``) once untimed, then ``--repeat`` times and
   more while they fit in a second (:func:`timed_runs`): p50 / p95; then time ``imr-graph
   validate`` (the SHACL shapes as SPARQL) on the same store, letters with the DMHC cases
   (``--no-validate`` skips it);
5. at the sizes in ``--rdflib-sizes`` (default: the smallest), load the same N-Quads into
   ``rdflib.Dataset`` and run the same queries with rdflib's SPARQL, in a child process
   killed after ``--rdflib-cap`` seconds (unfinished queries are reported as capped); each
   timed rdflib run is followed by a burst of ours as long (:func:`paired_runs`, ours in a
   process of its own), and the ratios are those of these interleaved medians.

6. at the sizes in ``--virtuoso-sizes`` (Debian ``virtuoso-opensource`` installed), the same
   store on Virtuoso (:mod:`imr_graph.graph.virtuoso`, a private server on loopback ports): its
   N-Quads dump loaded with Virtuoso's bulk loader (timed, against ``bulk_load`` above), then
   every canned query through ``--endpoint`` (:class:`imr_graph.graph.remote.RemoteStore`, the
   HTTP round trip included), timed like ours, with the p50 ratio Virtuoso / embedded and
   the row counts of both.

Then PDF text extraction on the real corpus: what ``imr_graph.letters.reading`` uses (PDFium through
pypdfium2, ``imr-graph``) versus pypdf, and plain pypdfium2 and pymupdf when a Python with them
is found (``--pdf-python``): letters/s and how many letters parse to the same record as with
pypdf.

Writes ``benchmarks/results/latest.json`` and ``benchmarks/results/latest.svg``, prints ratios.
With ``--store PATH`` it only times the canned queries, the same way, on a store you already
have (read-only), e.g. to re-measure after changing a query without rebuilding 100k letters.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imr_graph.graph.store import GraphStore

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

RESULTS = HERE / "results"
DMHC = REPO.parent / "shared" / "corpus" / "dmhc"
"""The DMHC health-plan CSV of the corpus (loaded after ingest when present)."""


# ------------------------------------------------------------------------------------------
# Child-process steps (run as `run.py _ingest ...` etc. so RSS and timeouts are per step)
# ------------------------------------------------------------------------------------------


def timed_runs(run: Callable[[], int], repeat: int, budget: float = 1.0,
               most: int = 200) -> tuple[list[float], int]:
    """Seconds of each timed run of ``run`` (which returns a row count), and the rows.

    The first run is not timed: it pays for cold caches and first-call set-up (imports,
    parsers), which a median of three would still half include for a sub-millisecond query.
    Then ``repeat`` timed runs, and more while all of them fit in ``budget`` seconds (at
    most ``most``), so that a fast query's median rests on enough runs. Used alike for our
    queries and for rdflib's, so the ratios compare like with like.
    """
    run()
    return burst_runs(run, budget, most, least=repeat)


def paired_runs(theirs: Callable[[], int], burst: Callable[[float], tuple[list[float], int]],
                repeat: int, budget: float = 1.0, most: int = 200,
                least: float = 0.05) -> tuple[list[float], int, list[float], int]:
    """:func:`timed_runs` of ``theirs``, each timed run followed by ``burst(seconds)``: runs
    of ours for as long (at least ``least`` seconds), so both medians come from the same
    minutes. Returns (their times, their rows, our times, our rows).

    This machine has phases in which everything, plain Python included, runs about 1.7×
    slower for seconds to minutes (see docs/performance.md): two queries timed minutes
    apart can be compared across phases, interleaved ones cannot.
    """
    rows = theirs()
    times: list[float] = []
    our_times: list[float] = []
    our_rows = -1
    while len(times) < repeat or (len(times) < most and sum(times) < budget):
        t = time.perf_counter()
        rows = theirs()
        times.append(time.perf_counter() - t)
        got, our_rows = burst(max(times[-1], least))
        our_times += got
    return times, rows, our_times, our_rows


def burst_runs(run: Callable[[], int], seconds: float, most: int = 20000,
               least: int = 1) -> tuple[list[float], int]:
    """Timed runs of ``run``: at least ``least``, then more until they add up to
    ``seconds`` (at most ``most``); their times and the rows of the last."""
    times: list[float] = []
    rows = 0
    while len(times) < least or (sum(times) < seconds and len(times) < most):
        t = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - t)
    return times, rows


def child_serve(store: str) -> None:
    """Our side of :func:`paired_runs`, in a process of its own (in rdflib's process, with
    its graph in memory and its queries run in between, ours take 1.4–2.3× longer): reads
    ``{"name", "params", "seconds"}`` lines on stdin and answers each with a line
    ``{"times", "rows"}`` of :func:`burst_runs` of that canned query (the first request for
    a query runs it once untimed first). Ends at end of input."""
    from imr_graph.graph.queries import canned_queries, run_query
    from imr_graph.graph.store import GraphStore

    canned = canned_queries()
    warm: set[str] = set()
    with GraphStore(store, read_only=True) as gs:
        for line in sys.stdin:
            req = json.loads(line)

            def run(q: object = canned[req["name"]], params: dict = req["params"]) -> int:
                return len(list(run_query(gs, q, params)))  # type: ignore[arg-type]

            if req["name"] not in warm:
                run()
                warm.add(req["name"])
            times, rows = burst_runs(run, req["seconds"])
            print(json.dumps({"times": times, "rows": rows}), flush=True)


def child_ingest(letters: str, store: str, jobs: int) -> dict:
    """Ingest a directory into a fresh store; timings and peak RSS."""
    from imr_graph.graph.pipeline import PipelineStats, ingest_parallel
    from imr_graph.graph.store import GraphStore

    stats = PipelineStats()
    ok = errors = triples = items = 0
    t0 = time.perf_counter()
    with GraphStore(store) as gs:
        for r in ingest_parallel(gs, [letters], jobs=jobs, stats=stats):
            if r.ok:
                ok += 1
                triples += r.triples
                items += r.items
            else:
                errors += 1
    seconds = time.perf_counter() - t0
    # the peak of the ingest itself, before the count below reads the whole store through
    # a second Oxigraph instance (with block caches of its own)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with GraphStore(store, read_only=True) as gs:
        total = len(gs)  # a report figure, not part of the ingest (seconds on a large store)
    return {
        "seconds": seconds,
        "letters": ok,
        "errors": errors,
        "items": items,
        "triples": triples,
        "store_triples": total,
        "write_seconds": stats.write_seconds,
        "letters_per_s": ok / seconds,
        "triples_per_s": triples / seconds,
        "peak_rss_mib_writer": peak,
        "peak_rss_mib_largest_worker": (
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ),
        "jobs": jobs,
    }


def changed_copy(letters: Path, out: Path) -> int:
    """Copies of the letters, each changed early in its text (a sentence before the first
    "injured worker", else before the second line): new bytes, the same case, and the
    character spans after the change moved, as in a re-issued letter. Returns the count."""
    shutil.rmtree(out, ignore_errors=True)
    count = 0
    for src in sorted(p for p in letters.rglob("*") if p.is_file()):
        text = src.read_text(encoding="utf-8")
        at = text.find("injured worker")
        if at < 0:
            at = text.find("\n") + 1
        dest = out / src.relative_to(letters)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text[:at] + "(Amended copy.) " + text[at:], encoding="utf-8")
        count += 1
    return count


def child_reingest(letters: str, work: str, jobs: int) -> dict:
    """Re-ingest, timed in one process, back to back: a fresh ingest of the letters into a
    new store, the same letters again (unchanged: passed over), again with ``--resume``,
    then changed copies of every letter (each case rewritten as a difference)."""
    from imr_graph.graph.pipeline import PipelineStats, ingest_parallel
    from imr_graph.graph.store import GraphStore

    store = Path(work) / "reingest-store"
    changed = Path(work) / "reingest-changed"
    shutil.rmtree(store, ignore_errors=True)
    n = changed_copy(Path(letters), changed)

    def timed(folder: Path | str, resume: bool = False) -> dict:
        stats = PipelineStats()
        ok = errors = 0
        t0 = time.perf_counter()
        with GraphStore(store) as gs:
            for r in ingest_parallel(gs, [folder], jobs=jobs, stats=stats, resume=resume):
                ok += r.ok
                errors += not r.ok
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "stored": ok, "errors": errors, "unchanged": stats.unchanged,
                "skipped": stats.skipped, "write_seconds": stats.write_seconds,
                "letters_per_s": stats.files / seconds}

    out = {"letters": n, "jobs": jobs, "fresh": timed(letters), "unchanged": timed(letters),
           "resume": timed(letters, resume=True), "changed": timed(changed)}
    with GraphStore(store, read_only=True) as gs:
        out["cases_after"] = gs.case_count()
    out["unchanged_vs_resume"] = out["unchanged"]["seconds"] / out["resume"]["seconds"]
    out["changed_vs_fresh"] = out["changed"]["seconds"] / out["fresh"]["seconds"]
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(changed, ignore_errors=True)
    return out


def child_enrich(store: str, dmhc_csv: str) -> dict:
    """What a user adds after ingest, so that every canned query has data: ``imr-graph link``
    (vocabularies) and, when the corpus has it, the DMHC health-plan CSV."""
    from imr_graph.dmhc.ingest import ingest_dmhc
    from imr_graph.graph.store import GraphStore
    from imr_graph.linking import relink

    out: dict = {}
    with GraphStore(store) as gs:
        if dmhc_csv:
            t0 = time.perf_counter()
            res = ingest_dmhc(gs, dmhc_csv)
            out["dmhc_seconds"] = time.perf_counter() - t0
            out["dmhc_cases"] = res.cases
        t0 = time.perf_counter()
        links, triples = relink(gs)
        out["link_seconds"] = time.perf_counter() - t0
        out["links"], out["vocabulary_triples"] = len(links), triples
        out["case"] = first_case(gs)
    return out


def child_validate(store: str, engine: str) -> dict:
    """``imr-graph validate`` on a store (read-only): seconds, cases, violations, peak RSS."""
    from imr_graph.graph.store import GraphStore
    from imr_graph.graph.validate import validate_store

    t0 = time.perf_counter()
    with GraphStore(store, read_only=True) as gs:
        report = validate_store(gs, engine=engine)
        stats = gs.stats()
    seconds = time.perf_counter() - t0
    return {"engine": engine, "seconds": seconds, "cases": report.cases,
            "dwc_cases": stats["dwc_cases"], "dmhc_cases": stats["dmhc_cases"],
            "triples": stats["triples"], "violations": len(report.violations),
            "ms_per_case": 1000 * seconds / max(1, report.cases),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_validate(store: str) -> dict:
    """``validate`` (the SPARQL engine) in a child process, printed."""
    v = _child(["_validate", store, "sparql"])
    print(f"[{v['dwc_cases']} letters + {v['dmhc_cases']} DMHC] validate: {v['seconds']:.1f}s "
          f"({v['ms_per_case']:.2f} ms a case, {v['triples']} triples), {v['violations']} "
          f"violations, peak RSS {v['peak_rss_mib']:.0f} MiB", flush=True)
    return v


def bench_questions(store: str) -> dict:
    """precedents and search on the store (``questions.py``, beside this file)."""
    from questions import bench_questions as run

    return run(store)


def first_case(gs: GraphStore) -> str:
    """A case number of the store, for the queries with a ``case`` parameter ("" if none)."""
    case = gs.store.query(
        "SELECT ?k WHERE { GRAPH ?g { ?c <https://w3id.org/imr-graph/ontology#caseNumber> "
        "?k } } LIMIT 1")
    return next((str(s["k"].value) for s in case), "")


def letters_in(gs: GraphStore) -> int:
    """How many letter (workers' compensation) cases the store holds."""
    rows = gs.store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?c a "
                          "<https://w3id.org/imr-graph/ontology#WorkersCompCase> } }")
    return int(next(iter(rows))["n"].value)


def child_bulk(nquads: str, store: str) -> dict:
    """``Store.bulk_load`` of an N-Quads file into a fresh on-disk store."""
    from pyoxigraph import RdfFormat, Store

    t0 = time.perf_counter()
    st = Store(store)
    st.bulk_load(path=nquads, format=RdfFormat.N_QUADS)
    st.flush()
    n = len(st)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "triples": n, "triples_per_s": n / seconds,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_rdflib(nquads: str, plan: str, out: str, store: str) -> None:
    """Load N-Quads into rdflib.Dataset and run the planned queries, each interleaved with
    the same canned query on our ``store`` (:func:`paired_runs`); JSON lines to ``out``."""
    from rdflib import Dataset, Literal, URIRef

    from imr_graph.graph.mapping import PREFIXES

    jobs = json.loads(Path(plan).read_text(encoding="utf-8"))
    ours = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_serve", store],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert ours.stdin is not None and ours.stdout is not None
    with open(out, "w", encoding="utf-8") as fh, ours:
        t0 = time.perf_counter()
        ds = Dataset(default_union=True)
        ds.parse(nquads, format="nquads")
        fh.write(json.dumps({"load_seconds": time.perf_counter() - t0, "quads": len(ds)}) + "\n")
        fh.flush()
        for job in jobs:
            bindings = {}
            for k, (kind, value, datatype) in job["bindings"].items():
                bindings[k] = URIRef(value) if kind == "iri" else Literal(
                    value, datatype=URIRef(datatype) if datatype else None)

            def run(text: str = job["text"], cap: float = job["cap"],
                    bindings: dict = bindings) -> int:
                signal.setitimer(signal.ITIMER_REAL, cap)
                try:
                    return len(list(ds.query(text, initNs=PREFIXES, initBindings=bindings)))
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)

            # rdflib is pure Python, so an alarm can interrupt a query that runs too long:
            # that query is then reported as capped, with the cap as a lower bound.
            def burst(seconds: float, name: str = job["name"],
                      params: dict = job["params"]) -> tuple[list[float], int]:
                assert ours.stdin is not None and ours.stdout is not None
                ours.stdin.write(json.dumps({"name": name, "params": params,
                                             "seconds": seconds}) + "\n")
                ours.stdin.flush()
                got = json.loads(ours.stdout.readline())
                return got["times"], got["rows"]

            signal.signal(signal.SIGALRM, _alarm)
            try:
                times, rows, our_times, our_rows = paired_runs(run, burst, job["repeat"])
            except _QueryCap:
                fh.write(json.dumps({"name": job["name"], "capped": job["cap"]}) + "\n")
                fh.flush()
                continue
            fh.write(json.dumps({"name": job["name"], "times": times, "rows": rows,
                                 "our_times": our_times, "our_rows": our_rows}) + "\n")
            fh.flush()


class _QueryCap(Exception):
    """Raised by the alarm when an rdflib query runs past its cap."""


def _alarm(signum: int, frame: object) -> None:
    raise _QueryCap


# ------------------------------------------------------------------------------------------
# Parent steps
# ------------------------------------------------------------------------------------------


class StepError(Exception):
    """A child step exited with an error (its last stderr lines are the message)."""


def _child(args: list[str], timeout: float | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise StepError(f"step {args[0]} failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def query_plan() -> list[dict]:
    """Every canned query with the parameters of its first example (or its defaults)."""
    from imr_graph.graph.queries import bind_params, canned_queries

    plan = []
    for name, q in canned_queries().items():
        params: dict[str, str] = {}
        for ex in q.examples[:1]:
            words = shlex.split(ex)
            for i, w in enumerate(words[:-1]):
                if w in ("--param", "-p") and "=" in words[i + 1]:
                    k, v = words[i + 1].split("=", 1)
                    params[k] = v
        try:
            terms = bind_params(q, params)
        except Exception as exc:
            plan.append({"name": name, "skip": str(exc)})
            continue
        bindings = {}
        for k, t in terms.items():
            dt = getattr(t, "datatype", None)
            bindings[k] = ("iri" if not hasattr(t, "datatype") else "literal", t.value,
                           dt.value if dt is not None and not dt.value.endswith("#string") else None)
        plan.append({"name": name, "params": params, "text": q.text, "bindings": bindings})
    return plan


def with_case(plan: list[dict], case: str) -> list[dict]:
    """The plan with every ``case`` parameter set to a case of the store (the examples name
    real letters, which generated stores do not have)."""
    if not case:
        return plan
    out = []
    for job in plan:
        if "case" in job.get("params", {}):
            job = dict(job, params=dict(job["params"], case=case),
                       bindings=dict(job["bindings"], case=("literal", case, None)))
        out.append(job)
    return out


def child_query(store: str, name: str, params: str, repeat: int) -> dict:
    """Run one canned query ``repeat`` times on the store (read-only); all times."""
    from imr_graph.graph.queries import canned_queries, run_query
    from imr_graph.graph.store import GraphStore

    q = canned_queries()[name]
    with GraphStore(store, read_only=True) as gs:
        times, rows = timed_runs(lambda: len(list(run_query(gs, q, json.loads(params)))),
                                 repeat)
    return {"times": times, "rows": rows}


def bench_queries(store: str, plan: list[dict], repeat: int, cap: float) -> dict:
    """p50/p95 seconds of every canned query, each in a child process killed after ``cap``."""
    out: dict[str, dict] = {}
    for job in plan:
        if "skip" in job:
            out[job["name"]] = {"skipped": job["skip"]}
            continue
        try:
            r = _child(["_query", store, job["name"], json.dumps(job["params"]), str(repeat)],
                       timeout=cap)
        except StepError as exc:  # e.g. a query renamed while the benchmark runs
            out[job["name"]] = {"error": str(exc).splitlines()[-1]}
            print(f"  query {job['name']}: {out[job['name']]['error']}", flush=True)
            continue
        except subprocess.TimeoutExpired:
            out[job["name"]] = {"capped": True, "cap_seconds": cap}
            print(f"  query {job['name']}: over the {cap:.0f}s cap", flush=True)
            continue
        out[job["name"]] = {"p50": _pct(r["times"], 0.5), "p95": _pct(r["times"], 0.95),
                            "rows": r["rows"], "runs": len(r["times"])}
    return out


def bench_store(store: str, plan: list[dict], repeat: int, cap: float,
                validate: bool = True) -> dict:
    """Only the canned queries, timed as in a full run, on a store that already exists."""
    from imr_graph.graph.store import GraphStore

    with GraphStore(store, read_only=True) as gs:
        case, n = first_case(gs), letters_in(gs)
    entry = {"n": n, "store": store,
             "queries": bench_queries(store, with_case(plan, case), repeat, cap)}
    entry["questions"] = bench_questions(store)  # precedents and search (questions.py)
    if validate:
        entry["validate"] = bench_validate(store)
    for name, q in entry["queries"].items():
        print(f"[{n}] {name}: " + (f"p50 {q['p50']:.4f}s p95 {q['p95']:.4f}s, {q['rows']} "
                                   f"rows, {q['runs']} runs" if "p50" in q else str(q)),
              flush=True)
    return entry


def bench_rdflib(nquads: Path, store: Path, plan: list[dict], cap: float, repeat: int,
                 work: Path, query_cap: float = 10.0) -> dict:
    """The same queries through rdflib, each interleaved with ours on ``store`` and capped
    at ``query_cap`` seconds, all at ``cap``."""
    jobs = [dict(j, repeat=repeat, cap=query_cap) for j in plan if "skip" not in j]
    plan_file, out_file = work / "rdflib-plan.json", work / "rdflib-out.jsonl"
    plan_file.write_text(json.dumps(jobs), encoding="utf-8")
    cmd = [sys.executable, str(Path(__file__).resolve()), "_rdflib", str(nquads),
           str(plan_file), str(out_file), str(store)]
    capped = False
    try:
        subprocess.run(cmd, timeout=cap, check=False, capture_output=True)
    except subprocess.TimeoutExpired:
        capped = True
    lines = [json.loads(x) for x in out_file.read_text().splitlines()] if out_file.exists() else []
    result: dict = {"cap_seconds": cap, "capped": capped, "queries": {}}
    if lines:
        result["load_seconds"] = lines[0]["load_seconds"]
        for x in lines[1:]:
            if "capped" in x:
                result["queries"][x["name"]] = {"capped": True, "cap_seconds": x["capped"]}
                continue
            result["queries"][x["name"]] = {
                "p50": _pct(x["times"], 0.5), "p95": _pct(x["times"], 0.95), "rows": x["rows"],
                "runs": len(x["times"]), "our_p50_interleaved": _pct(x["our_times"], 0.5),
                "our_runs_interleaved": len(x["our_times"]), "our_rows": x["our_rows"]}
    for j in jobs:
        result["queries"].setdefault(j["name"], {"capped": True})
    return result


def rdflib_ratios(ours: dict, rd: dict) -> dict[str, dict[str, float]]:
    """rdflib's p50 over ours per query: interleaved (:func:`paired_runs`, the headline),
    separately timed (ours from :func:`bench_queries`, minutes apart), and lower bounds for
    the queries rdflib did not finish (its cap over our p50). Prints each finished query,
    and a warning when the two engines' row counts differ."""
    out: dict[str, dict[str, float]] = {"rdflib_over_oxigraph_p50": {},
                                        "rdflib_over_oxigraph_p50_separate": {},
                                        "rdflib_over_oxigraph_p50_at_least": {}}
    for k, q in ours.items():
        r = rd["queries"].get(k, {})
        if "p50" in r:
            mine = r["our_p50_interleaved"]
            out["rdflib_over_oxigraph_p50"][k] = r["p50"] / max(mine, 1e-9)
            print(f"  rdflib {k}: {r['p50'] * 1000:.2f} ms / ours {mine * 1000:.3f} ms "
                  f"interleaved = {out['rdflib_over_oxigraph_p50'][k]:.0f}x", flush=True)
            if r["rows"] != r["our_rows"]:
                print(f"  WARNING {k}: rdflib {r['rows']} rows, ours {r['our_rows']}",
                      flush=True)
            if "p50" in q:
                out["rdflib_over_oxigraph_p50_separate"][k] = r["p50"] / max(q["p50"], 1e-9)
        elif "p50" in q and r.get("cap_seconds"):
            out["rdflib_over_oxigraph_p50_at_least"][k] = r["cap_seconds"] / max(q["p50"], 1e-9)
    return out


def bench_pdf(pdf_python: str | None, limit: int) -> dict:
    """Extraction speed of the project's extractor, pypdf, pypdfium2 and pymupdf on the corpus,
    and agreement of the parsed records with pypdf's."""
    from generate import CORPUS

    from imr_graph.letters.parsing import parse_text

    files = sorted(str(p) for p in CORPUS.glob("*.pdf"))[:limit] if CORPUS.is_dir() else []
    if not files:
        return {"skipped": "corpus absent"}

    def record(text: str | None) -> dict | None:
        if text is None:
            return None
        try:
            d = parse_text(text).to_dict()
        except Exception:
            return None
        return _strip_spans(d)

    out: dict = {"letters": len(files)}
    libs = [("pypdf", sys.executable), ("imr-graph", sys.executable)]
    if pdf_python:
        libs += [("pypdfium2", pdf_python), ("pymupdf", pdf_python)]
    reference: dict[str, dict | None] = {}
    for lib, py in libs:
        proc = subprocess.run([py, str(HERE / "pdf_extract.py"), lib, *files],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            out[lib] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        data = json.loads(proc.stdout)
        recs = {p: record(t) for p, t in data["texts"].items()}
        if lib == "pypdf":
            reference = recs
        same = sum(1 for p in files if recs[p] is not None and recs[p] == reference.get(p))
        out[lib] = {"seconds": data["seconds"], "letters_per_s": len(files) / data["seconds"],
                    "parsed": sum(r is not None for r in recs.values()),
                    "same_record_as_pypdf": same}
    return out


def _strip_spans(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_spans(v) for k, v in value.items()
                if "span" not in k and k not in ("source", "text")}
    if isinstance(value, list):
        return [_strip_spans(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------
# Plot (plain SVG: no plotting dependency)
# ------------------------------------------------------------------------------------------


def write_svg(results: dict, path: Path) -> None:
    """Query p50 per canned query and size (log scale), plus rdflib where measured."""
    import math

    sizes = [s for s in results["sizes"] if "queries" in s]
    names = sorted({n for s in sizes for n, q in s["queries"].items() if "p50" in q})
    series = [(f"oxigraph {s['n']} letters", s["queries"]) for s in sizes]
    series += [(f"rdflib {s['n']} letters", s["rdflib"]["queries"]) for s in sizes
               if "rdflib" in s]
    colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
    lo, hi = 1e-4, 100.0
    row_h, bar_h, left, width = 14 * max(1, len(series)) + 6, 12, 260, 520
    height = 60 + row_h * len(names) + 20 * len(series)

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return left + width * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" '
             f'height="{height}" font-family="sans-serif" font-size="11">',
             '<text x="10" y="18" font-size="14">Canned query p50 (seconds, log scale)</text>']
    for e in range(-4, 3):
        xx = x(10.0**e)
        parts.append(f'<line x1="{xx:.1f}" y1="30" x2="{xx:.1f}" y2="{height - 20 * len(series)}"'
                     ' stroke="#ddd"/>')
        parts.append(f'<text x="{xx:.1f}" y="28" text-anchor="middle">1e{e}</text>')
    for i, name in enumerate(names):
        y0 = 36 + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y0 + row_h / 2 + 4:.0f}" '
                     f'text-anchor="end">{name}</text>')
        for j, (_label, qs) in enumerate(series):
            q = qs.get(name, {})
            if "p50" not in q:
                continue
            parts.append(f'<rect x="{left}" y="{y0 + j * 14}" width="{x(q["p50"]) - left:.1f}" '
                         f'height="{bar_h}" fill="{colours[j % len(colours)]}"/>')
    for j, (label, _qs) in enumerate(series):
        y = height - 20 * (len(series) - j) + 12
        parts.append(f'<rect x="{left}" y="{y - 10}" width="12" height="12" '
                     f'fill="{colours[j % len(colours)]}"/>')
        parts.append(f'<text x="{left + 18}" y="{y}">{label}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------


def find_pdf_python(given: str | None) -> str | None:
    """A Python that can import pypdfium2 and pymupdf (given, this one, or /tmp/pdfvenv)."""
    for py in [given, sys.executable, "/tmp/pdfvenv/bin/python"]:
        if py and Path(py).exists():
            ok = subprocess.run([py, "-c", "import pypdfium2, pymupdf"], capture_output=True,
                                check=False).returncode == 0
            if ok:
                return py
    return None


def write_results(results: dict, out: Path) -> None:
    """Stamp the end time and write ``out`` (JSON) and its plot (``.svg``)."""
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_svg(results, out.with_suffix(".svg"))
    print(f"results: {out} and {out.with_suffix('.svg')}")


def main() -> None:
    """Run the benchmark and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000", help="comma-separated letter counts")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes (default: cores)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="timed runs per query at least (after one untimed run)")
    ap.add_argument("--query-cap", type=float, default=60.0,
                    help="seconds per canned query (all its runs) before it is reported capped")
    ap.add_argument("--rdflib-sizes", default="", help="sizes to run rdflib at (default: smallest)")
    ap.add_argument("--rdflib-cap", type=float, default=600.0, help="seconds for all rdflib work")
    ap.add_argument("--rdflib-query-cap", type=float, default=10.0,
                    help="seconds for each rdflib query (a capped query is a lower bound)")
    ap.add_argument("--pdf-python", default=None, help="a Python with pypdfium2 and pymupdf")
    ap.add_argument("--pdf-limit", type=int, default=120, help="corpus PDFs to extract")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF extraction benchmark")
    ap.add_argument("--no-rdflib", action="store_true", help="skip rdflib at every size")
    ap.add_argument("--virtuoso-sizes", default="",
                    help="sizes to also load into and query on Virtuoso (default: none; "
                    "with --store, any value: that store)")
    ap.add_argument("--write-path-max", type=int, default=10000,
                    help="largest size at which the write path is also timed alone (--jobs 1)")
    ap.add_argument("--reingest-max", type=int, default=2000,
                    help="largest size at which re-ingest (unchanged, --resume, changed "
                         "letters) is timed against a fresh ingest (0: never)")
    ap.add_argument("--no-enrich", action="store_true",
                    help="skip linking the vocabularies and loading the DMHC CSV after ingest")
    ap.add_argument("--workdir", default=None, help="where letters and stores go (temp dir)")
    ap.add_argument("--store", default=None,
                    help="only time the canned queries on this existing store (read-only; no "
                         "letters, ingest, bulk load, rdflib or PDFs)")
    ap.add_argument("--no-validate", action="store_true",
                    help="skip timing `imr-graph validate` on each store")
    ap.add_argument("--out", default=str(RESULTS / "latest.json"))
    args = ap.parse_args()

    from generate import generate
    from virtuoso_step import bench_virtuoso

    from imr_graph.graph.pipeline import default_jobs
    from imr_graph.graph.store import GraphStore

    jobs = args.jobs or default_jobs()
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "jobs": jobs, "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg_at_start": os.getloadavg()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "sizes": [],
    }
    plan = query_plan()
    if args.store:
        entry = bench_store(args.store, plan, args.repeat, args.query_cap,
                            not args.no_validate)
        results["sizes"].append(entry)
        if args.virtuoso_sizes:  # any value: the same store on Virtuoso too
            with GraphStore(args.store, read_only=True) as gs:
                case = first_case(gs)
            entry["virtuoso"] = bench_virtuoso(
                Path(args.store), with_case(plan, case), args.repeat, args.query_cap,
                Path(args.workdir or tempfile.mkdtemp(prefix="imr-bench-")), entry["queries"])
        write_results(results, Path(args.out))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.no_rdflib:
        rdflib_sizes: set[int] = set()
    else:
        rdflib_sizes = ({int(s) for s in args.rdflib_sizes.split(",") if s}
                        if args.rdflib_sizes else {min(sizes)})
    work = Path(args.workdir or tempfile.mkdtemp(prefix="imr-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        entry: dict = {"n": n}
        letters, store = work / f"letters-{n}", work / f"store-{n}"
        shutil.rmtree(letters, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)
        t = time.perf_counter()
        generate(n, letters, cache=work / "sources.json")
        entry["generate_seconds"] = time.perf_counter() - t
        print(f"[{n}] generated {n} letters in {entry['generate_seconds']:.1f}s", flush=True)
        entry["ingest"] = ing = _child(["_ingest", str(letters), str(store), str(jobs)])
        print(f"[{n}] ingest: {ing['letters_per_s']:.0f} letters/s, "
              f"{ing['triples_per_s']:.0f} triples/s, writing {ing['write_seconds']:.1f}s of "
              f"{ing['seconds']:.1f}s, peak RSS writer {ing['peak_rss_mib_writer']:.0f} MiB, "
              f"worker {ing['peak_rss_mib_largest_worker']:.0f} MiB, errors {ing['errors']}",
              flush=True)
        nq = work / f"store-{n}.nq"
        with GraphStore(store, read_only=True) as gs:
            gs.dump("nq", nq)
        bulk_store = work / f"bulk-{n}"
        shutil.rmtree(bulk_store, ignore_errors=True)
        entry["bulk_load"] = bulk = _child(["_bulk", str(nq), str(bulk_store)])
        entry["ratios"] = {
            "write_path_in_pipeline_vs_bulk_load": ing["write_seconds"] / bulk["seconds"],
            "whole_ingest_vs_bulk_load": ing["seconds"] / bulk["seconds"],
        }
        print(f"[{n}] bulk_load {bulk['seconds']:.1f}s ({bulk['triples_per_s']:.0f} triples/s); "
              f"whole ingest / bulk = {entry['ratios']['whole_ingest_vs_bulk_load']:.2f}x, "
              f"our writes while workers parse / bulk = "
              f"{entry['ratios']['write_path_in_pipeline_vs_bulk_load']:.2f}x", flush=True)
        if n <= args.write_path_max:
            # The same writer with nothing else running (--jobs 1: parse, then write, in
            # turn): what our load path costs on its own, against the raw bulk load.
            serial_store = work / f"serial-{n}"
            shutil.rmtree(serial_store, ignore_errors=True)
            entry["ingest_serial"] = ser = _child(["_ingest", str(letters), str(serial_store), "1"])
            shutil.rmtree(serial_store, ignore_errors=True)
            entry["ratios"]["write_path_vs_bulk_load"] = ser["write_seconds"] / bulk["seconds"]
            print(f"[{n}] our write path alone (--jobs 1) {ser['write_seconds']:.1f}s = "
                  f"{entry['ratios']['write_path_vs_bulk_load']:.2f}x the bulk load", flush=True)
        if n <= args.reingest_max:
            entry["reingest"] = re = _child(["_reingest", str(letters), str(work), str(jobs)])
            print(f"[{n}] re-ingest: fresh {re['fresh']['letters_per_s']:.0f} letters/s; "
                  f"unchanged {re['unchanged']['letters_per_s']:.0f}/s "
                  f"({re['unchanged_vs_resume']:.2f}x the time of --resume, "
                  f"{re['resume']['letters_per_s']:.0f}/s); changed "
                  f"{re['changed']['letters_per_s']:.0f}/s "
                  f"({re['changed_vs_fresh']:.2f}x the time of a fresh ingest)", flush=True)
        if not args.no_enrich:
            dmhc = sorted(DMHC.glob("*.csv")) if DMHC.is_dir() else []
            entry["enrich"] = en = _child(["_enrich", str(store), str(dmhc[0]) if dmhc else ""])
            print(f"[{n}] link {en['link_seconds']:.1f}s ({en['links']} links), DMHC "
                  f"{en.get('dmhc_cases', 0)} cases in {en.get('dmhc_seconds', 0):.1f}s",
                  flush=True)
            size_plan = with_case(plan, en["case"])
        else:
            size_plan = plan
        if n in rdflib_sizes and not args.no_enrich:
            with GraphStore(store, read_only=True) as gs:  # rdflib gets the same data
                gs.dump("nq", nq)
        entry["queries"] = bench_queries(str(store), size_plan, args.repeat, args.query_cap)
        worst = max(((q["p50"], k) for k, q in entry["queries"].items() if "p50" in q),
                    default=(float("nan"), "-"))
        capped = [k for k, q in entry["queries"].items() if q.get("capped")]
        print(f"[{n}] queries: slowest p50 {worst[0]:.3f}s ({worst[1]}); "
              f"over the cap: {', '.join(capped) or 'none'}", flush=True)
        entry["questions"] = bench_questions(str(store))  # precedents and search
        if not args.no_validate:
            entry["validate"] = bench_validate(str(store))
        if str(n) in args.virtuoso_sizes.split(","):
            entry["virtuoso"] = vi = bench_virtuoso(store, size_plan, args.repeat,
                                                    args.query_cap, work, entry["queries"])
            if "bulk_load_seconds" in vi:
                # Virtuoso loads the enriched store (links, DMHC), bulk_load above the letters
                # alone: compared by rate.
                entry["ratios"]["oxigraph_bulk_rate_over_virtuoso"] = (
                    bulk["triples_per_s"] / vi["bulk_triples_per_s"])
                print(f"[{n}] virtuoso: bulk load {vi['bulk_load_seconds']:.1f}s for "
                      f"{vi['triples']} triples ({vi['bulk_triples_per_s']:.0f}/s; ours "
                      f"{bulk['triples_per_s']:.0f}/s), "
                      f"queries p50 / embedded median "
                      f"{vi.get('over_embedded_p50_median', float('nan')):.1f}x, max "
                      f"{vi.get('over_embedded_p50_max', float('nan')):.1f}x, same stats "
                      f"{vi['same_stats']}", flush=True)
        if n in rdflib_sizes:
            rd = bench_rdflib(nq, store, size_plan, args.rdflib_cap, min(args.repeat, 3), work,
                              args.rdflib_query_cap)
            entry["rdflib"] = rd
            entry["ratios"].update(rdflib_ratios(entry["queries"], rd))
            speedups = entry["ratios"]["rdflib_over_oxigraph_p50"]
            at_least = entry["ratios"]["rdflib_over_oxigraph_p50_at_least"]
            done = sum(1 for q in rd["queries"].values() if "p50" in q)
            every = list(speedups.values()) + list(at_least.values())
            print(f"[{n}] rdflib: load {rd.get('load_seconds', float('nan')):.1f}s, "
                  f"{done}/{len(rd['queries'])} queries within {args.rdflib_query_cap:.0f}s each; "
                  f"speed-up of the finished ones min "
                  f"{min(speedups.values(), default=float('nan')):.0f}x; over all (capped ones "
                  f"as lower bounds) min {min(every, default=float('nan')):.0f}x, "
                  f"median {statistics.median(every) if every else float('nan'):.0f}x",
                  flush=True)
        results["sizes"].append(entry)
        shutil.rmtree(bulk_store, ignore_errors=True)
        nq.unlink(missing_ok=True)
    if not args.no_pdf:
        results["pdf"] = pdf = bench_pdf(find_pdf_python(args.pdf_python), args.pdf_limit)
        for lib, r in pdf.items():
            if isinstance(r, dict) and "letters_per_s" in r:
                print(f"pdf {lib}: {r['letters_per_s']:.1f} letters/s, parsed {r['parsed']}, "
                      f"same record as pypdf {r['same_record_as_pypdf']}/{pdf['letters']}")
    write_results(results, Path(args.out))
    print(f"work dir {work}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_ingest":
        print(json.dumps(child_ingest(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "_reingest":
        print(json.dumps(child_reingest(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "_enrich":
        print(json.dumps(child_enrich(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_validate":
        print(json.dumps(child_validate(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_bulk":
        print(json.dumps(child_bulk(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_query":
        print(json.dumps(child_query(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "_serve":
        child_serve(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "_rdflib":
        child_rdflib(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        main()
