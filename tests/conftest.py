"""Shared test fixtures: repository paths, the examples and the development corpus.

Corpus tests read ``../shared/corpus`` next to the repository and skip when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from imr_graph.graph.store import GraphStore

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
CORPUS = REPO.parent / "shared" / "corpus"
DWC = CORPUS / "dwc"


def example_letters() -> list[Path]:
    """The bundled seed letters (text and Markdown)."""
    return sorted(EXAMPLES.glob("*.txt"))


def corpus_pdfs() -> list[Path]:
    """The DWC corpus PDFs, or an empty list when the corpus is absent."""
    return sorted(DWC.glob("*.pdf")) if DWC.is_dir() else []


@pytest.fixture
def dwc_pdfs() -> list[Path]:
    """All corpus PDFs; skips the test when ../shared/corpus is absent."""
    pdfs = corpus_pdfs()
    if not pdfs:
        pytest.skip("../shared/corpus/dwc is absent")
    return pdfs


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    """A store of the hand-made cases (tests/graph_records.py), one per test module."""
    from imr_graph.graph.store import GraphStore

    from .graph_records import handmade_cases

    with GraphStore(tmp_path_factory.mktemp("hm") / "store") as gs:
        for record, text in handmade_cases():
            gs.replace_case(record, text, ingest_time=datetime(2024, 1, 1, tzinfo=UTC))
        yield gs
