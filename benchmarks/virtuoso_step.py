"""The Virtuoso step of the benchmark (``run.py --virtuoso-sizes``): the same store on Virtuoso.

The store's N-Quads dump is loaded with Virtuoso's bulk loader into a private server
(:class:`imr_graph.graph.virtuoso.VirtuosoServer`, loopback ports, its own directory), timed; then
every canned query runs through ``--endpoint`` (:class:`imr_graph.graph.remote.RemoteStore`, HTTP
round trip included), timed like the embedded store's (``run.timed_runs``), with the p50
ratio Virtuoso / embedded and whether the row counts agree.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path


def bench_virtuoso(store: Path, plan: list[dict], repeat: int, cap: float, work: Path,
                   ours: dict) -> dict:
    """The store on a private Virtuoso: bulk load of its dump, then every canned query."""
    from run import _pct, timed_runs

    from imr_graph.graph.engines import VIRTUOSO
    from imr_graph.graph.queries import canned_queries, run_query
    from imr_graph.graph.remote import RemoteStore
    from imr_graph.graph.store import GraphStore
    from imr_graph.graph.virtuoso import PASSWORD, USER, VirtuosoServer, installed
    from imr_graph.views.server import free_port

    if not installed():
        return {"skipped": "virtuoso-opensource not installed (scripts/ensure-virtuoso.sh)"}
    home = work / "virtuoso"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    nq = home / "store.nq"
    with GraphStore(store, read_only=True) as gs:
        gs.dump("nq", nq)
        triples = len(gs)
    os.environ["IMR_GRAPH_USER"], os.environ["IMR_GRAPH_PASSWORD"] = USER, PASSWORD
    out: dict = {"triples": triples}
    with VirtuosoServer(home, free_port(), free_port(), buffers=85000) as srv:
        t = time.perf_counter()
        srv.bulk_load(nq)
        out["bulk_load_seconds"] = time.perf_counter() - t
        out["bulk_triples_per_s"] = triples / out["bulk_load_seconds"]
        print(f"  virtuoso bulk load {out['bulk_load_seconds']:.1f}s "
              f"({out['bulk_triples_per_s']:.0f} triples/s)", flush=True)
        remote = RemoteStore(srv.url, engine=VIRTUOSO, timeout=cap, retries=0)
        with GraphStore(store, read_only=True) as gs:
            out["same_stats"] = remote.stats() == gs.stats()
        queries = canned_queries()
        out["queries"] = {}
        for job in plan:
            if "skip" in job:
                continue
            name = job["name"]
            try:
                times, rows = timed_runs(
                    lambda q=queries[name], p=job["params"]: len(list(run_query(remote, q, p))),
                    repeat)
            except Exception as exc:  # a timeout or a server error: reported, not fatal
                out["queries"][name] = {"error": str(exc).splitlines()[0][:200]}
                print(f"  virtuoso {name}: {out['queries'][name]['error']}", flush=True)
                continue
            q = {"p50": _pct(times, 0.5), "p95": _pct(times, 0.95), "rows": rows,
                 "runs": len(times)}
            mine = ours.get(name, {})
            if "p50" in mine:
                q["over_embedded_p50"] = q["p50"] / mine["p50"]
                q["same_rows"] = rows == mine["rows"]
            out["queries"][name] = q
    shutil.rmtree(home, ignore_errors=True)
    ratios = [q["over_embedded_p50"] for q in out["queries"].values()
              if "over_embedded_p50" in q]
    if ratios:
        out["over_embedded_p50_median"] = statistics.median(ratios)
        out["over_embedded_p50_max"] = max(ratios)
    return out
