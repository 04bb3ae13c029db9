"""Shared test fixtures: repository paths, the examples and the development corpus.

Corpus tests read ``../shared/corpus`` next to the repository and skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
