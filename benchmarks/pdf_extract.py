"""Time PDF text extraction with one library; prints JSON {seconds, texts} on stdout.

Runs in any Python that has the library (the project venv for pypdf, a throwaway venv or the
``bench`` extra for pypdfium2 / pymupdf), so it imports nothing from imr_graph. Pages are
joined with form feeds, as :mod:`imr_graph.reading` does. Usage::

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


def extract_pypdf(path: str) -> str:
    """Text of every page with pypdf (what imr_graph.reading uses)."""
    import pypdf

    reader = pypdf.PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    return "\f".join(page.extract_text() or "" for page in reader.pages)


EXTRACTORS = {"pypdf": extract_pypdf, "pypdfium2": extract_pypdfium2, "pymupdf": extract_pymupdf}


def main(argv: list[str]) -> None:
    """``pdf_extract.py LIBRARY FILE...``."""
    fn = EXTRACTORS[argv[0]]
    __import__(argv[0])  # import time is not extraction time
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
