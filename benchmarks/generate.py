"""Generate N letters from real ones, in the real layout, so the parser does real work.

Source letters: the PDFs in ``/work/shared/corpus/dwc`` when present (read with
:func:`imr_graph.letters.reading.read_document`, kept only if :func:`imr_graph.letters.parsing.parse_text`
accepts them), else the seed letters in ``examples/``. Each source text is cut at the
layout's own headings into four parts: the header table, the "how the determination was
made" block with the reviewer's credentials, the clinical case summary, and the disputed
items with their guidelines and rationales. A generated letter takes each part from a
(seeded) random source letter and gets a fresh case number in the header, so diagnoses,
reviewers, items and outcomes recombine across cases the way they do in a real corpus.

Letters are written as ``.txt`` files to a directory you give (a temp dir by default in
``run.py``); they are never committed. Usage::

    .venv/bin/python benchmarks/generate.py 1000 /tmp/letters
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "dwc"


def source_texts(cache: Path | None = None) -> list[str]:
    """Canonical texts of real letters that parse (corpus PDFs, else ``examples/``)."""
    from imr_graph.letters.parsing import parse_text
    from imr_graph.letters.reading import read_document

    if cache is not None and cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    files = sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
    if not files:
        files = sorted((REPO / "examples").glob("*.txt"))
    texts: list[str] = []
    for f in files:
        try:
            doc = read_document(f)
            parse_text(doc.text, path=str(f))
        except Exception:  # a source letter the parser refuses is simply not used
            continue
        texts.append(doc.text)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(texts), encoding="utf-8")
    return texts


def split_parts(text: str) -> tuple[str, str, str, str] | None:
    """(header, how+credentials, summary, items) cut at the layout's headings, or None."""
    from imr_graph.letters.parsing import H_HOW, H_ISSUES, H_SUMMARY

    how, summary, issues = H_HOW.search(text), H_SUMMARY.search(text), H_ISSUES.search(text)
    if not (how and summary and issues and how.start() < summary.start() < issues.start()):
        return None
    return (
        text[: how.start()],
        text[how.start() : summary.start()],
        text[summary.start() : issues.start()],
        text[issues.start() :],
    )


def generate(n: int, out: Path, *, seed: int = 7, cache: Path | None = None) -> list[Path]:
    """Write ``n`` generated letters to ``out`` (``gen-0000001.txt`` ...); returns the paths."""
    from imr_graph.letters.parsing import CASE_NUMBER_RE

    parts = [p for p in (split_parts(t) for t in source_texts(cache)) if p is not None]
    if not parts:
        raise SystemExit("no source letters that parse (corpus and examples/ both unusable)")
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i in range(n):
        header = rng.choice(parts)[0]
        number = f"CM{16 + i // 9_000_000:02d}-{1_000_000 + i % 9_000_000:07d}"
        header = CASE_NUMBER_RE.sub(number, header, count=1)
        text = header + rng.choice(parts)[1] + rng.choice(parts)[2] + rng.choice(parts)[3]
        path = out / f"gen-{i:07d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str]) -> None:
    """``generate.py N OUTDIR``."""
    if len(argv) != 2:
        raise SystemExit("usage: generate.py N OUTDIR")
    paths = generate(int(argv[0]), Path(argv[1]))
    print(f"{len(paths)} letters in {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
