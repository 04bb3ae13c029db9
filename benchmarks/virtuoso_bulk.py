"""Virtuoso's bulk loader on a big N-Quads dump: ``python benchmarks/virtuoso_bulk.py STORE -x 10``.

Dumps STORE (an embedded store, e.g. the benchmark's 10k-letter one), writes it ``-x`` times
into one N-Quads file with every case-specific IRI (``{base}case/KEY…``, ``{base}graph/KEY``,
``{base}source/SHA…``) renamed per copy, so ten copies of a 10k-letter store have the size
and the distinct cases of a 100k-letter one (the letters' literals repeat), then loads that
file into a private Virtuoso with ``ld_dir`` + ``rdf_loader_run`` + ``checkpoint`` and times
it, and checks the case count. Prints one JSON object. Run it niced: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store")
    ap.add_argument("-x", "--copies", type=int, default=10)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--buffers", type=int, default=170000, help="Virtuoso NumberOfBuffers")
    args = ap.parse_args()

    from imr_graph.graph.mapping import DEFAULT_BASE
    from imr_graph.graph.remote import RemoteStore
    from imr_graph.graph.store import GraphStore
    from imr_graph.graph.virtuoso import PASSWORD, USER, VirtuosoServer
    from imr_graph.views.server import free_port

    work = Path(args.workdir or tempfile.mkdtemp(prefix="imr-vbulk-"))
    home = work / "virtuoso"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    one, big = work / "one.nq", home / "big.nq"
    with GraphStore(args.store, read_only=True) as gs:
        gs.dump("nq", one)
        cases = gs.case_count()
    keep = (f"<{DEFAULT_BASE}graph/concepts> .", f"<{DEFAULT_BASE}graph/vocabulary> .")
    own = re.compile(r"<(" + re.escape(DEFAULT_BASE) + r"(?:case|graph|source)/)([^/#>]+)")
    t = time.perf_counter()
    quads = 0
    with one.open(encoding="utf-8") as src, big.open("w", encoding="utf-8") as out:
        lines = src.readlines()
        for copy in range(args.copies):

            def rename(m: re.Match[str], c: int = copy) -> str:
                if m.group(2) in ("concepts", "vocabulary"):
                    return m.group(0)
                return f"<{m.group(1)}{m.group(2)}-x{c}"

            for line in lines:
                if copy and line.rstrip().endswith(keep):
                    continue  # shared concepts and vocabulary: once
                out.write(own.sub(rename, line) if copy else line)
                quads += 1
    one.unlink()
    result: dict = {"copies": args.copies, "quads": quads, "cases_per_copy": cases,
                    "write_seconds": time.perf_counter() - t,
                    "file_mib": big.stat().st_size / 2**20}
    os.environ["IMR_GRAPH_USER"], os.environ["IMR_GRAPH_PASSWORD"] = USER, PASSWORD
    with VirtuosoServer(home, free_port(), free_port(), buffers=args.buffers) as srv:
        t = time.perf_counter()
        srv.bulk_load(big)
        result["bulk_load_seconds"] = time.perf_counter() - t
        result["quads_per_s"] = quads / result["bulk_load_seconds"]
        remote = RemoteStore(srv.url, engine="virtuoso", timeout=600)
        result["cases_loaded"] = remote.case_count()
        result["triples_loaded"] = len(remote)
    shutil.rmtree(work, ignore_errors=True)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
