"""Letters for the safety tests: copies of the seed letter under other case numbers.

Only the bundled examples are copied (into pytest's tmp directories); corpus letters are
read where they are and never copied into the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .conftest import EXAMPLES

SEED = EXAMPLES / "000_456e8bcd7063d344.txt"
SEED_CASE = "CM15-0171547"
SEED_DECISION = "10/13/2015"


def seed_text() -> str:
    """The seed letter (case CM15-0171547, decided 10/13/2015)."""
    return SEED.read_text(encoding="utf-8")


def variant(case: str = SEED_CASE, decision: str = SEED_DECISION, note: str = "") -> str:
    """The seed letter under another case number and decision date (MM/DD/YYYY).

    ``note`` is appended to the clinical summary, to make two letters of one case differ.
    """
    text = seed_text().replace(SEED_CASE, case).replace(
        f"| {SEED_DECISION}   |", f"| {decision}   |"
    )
    if note:
        marker = "The injured worker is a"
        text = text.replace(marker, f"{note} {marker}", 1)
    return text


def write_copies(folder: Path, count: int, start: int = 9000000) -> list[Path]:
    """``count`` copies of the seed letter with case numbers CM15-{start+i}."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        p = folder / f"copy-{i:04d}.txt"
        p.write_text(variant(f"CM15-{start + i:07d}"), encoding="utf-8")
        out.append(p)
    return out


def cli() -> list[str]:
    """The command line that runs ``imr-graph`` from this venv."""
    exe = Path(sys.executable).with_name("imr-graph")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from imr_graph.cli import app; app()"]


def env() -> dict[str, str]:
    """The environment for subprocesses (no $IMR_GRAPH_STORE leaking in)."""
    e = dict(os.environ)
    e.pop("IMR_GRAPH_STORE", None)
    e.pop("IMR_GRAPH_ENDPOINT", None)
    return e


def examples_store(path: Path) -> Path:
    """A store at ``path`` with the two bundled example letters ingested; returns ``path``."""
    from imr_graph.graph.ingest import ingest
    from imr_graph.graph.store import GraphStore

    with GraphStore(path) as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
    return path
