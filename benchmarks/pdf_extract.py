"""Time PDF text extraction with one library; prints JSON {seconds, texts} on stdout.

Runs in any Python that has the library (the project venv for pypdf and ``imr-graph``, a
throwaway venv or the ``bench`` extra for pypdfium2 / pymupdf); only the ``imr-graph``
extractor imports the project. Pages are
joined with form feeds, as :mod:`imr_graph.letters.reading` does. Usage::

    python benchmarks/pdf_extract.py pypdfium2 FILE.pdf ...
"""

from __future__ import annotations

import json
import sys
import time


def extract_pypdfium2(path: str) -> str:
    """Text of every page with pypdfium2 (PDFium)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path, password="")
    try:
        return "\f".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def extract_pymupdf(path: str) -> str:
    """Text of every page with PyMuPDF (MuPDF)."""
    import pymupdf

    with pymupdf.open(path) as doc:
        return "\f".join(page.get_text() for page in doc)


def extract_imr_graph(path: str) -> str:
    """What the project uses: :func:`imr_graph.letters.reading.pdf_text` (PDFium, page-break fix)."""
    from pathlib import Path

    from imr_graph.letters.reading import pdf_text

    return pdf_text(Path(path).read_bytes(), path)


def extract_pypdf(path: str) -> str:
    """Text of every page with pypdf (pure Python; the reference for record agreement)."""
    import pypdf

    reader = pypdf.PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    return "\f".join(page.extract_text() or "" for page in reader.pages)


EXTRACTORS = {
    "imr-graph": extract_imr_graph,
    "pypdf": extract_pypdf,
    "pypdfium2": extract_pypdfium2,
    "pymupdf": extract_pymupdf,
}
MODULES = {"imr-graph": "imr_graph.letters.reading"}


def main(argv: list[str]) -> None:
    """``pdf_extract.py LIBRARY FILE...``."""
    fn = EXTRACTORS[argv[0]]
    __import__(MODULES.get(argv[0], argv[0]))  # import time is not extraction time
    texts: dict[str, str | None] = {}
    t0 = time.perf_counter()
    for path in argv[1:]:
        try:
            texts[path] = fn(path).replace("\r\n", "\n").replace("\r", "\n")
        except Exception:
            texts[path] = None
    seconds = time.perf_counter() - t0
    json.dump({"seconds": seconds, "texts": texts}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
