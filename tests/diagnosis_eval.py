"""Scoring diagnosis extraction and ICD-10-CM coding against the hand-labelled letters.

The labels (``tests/fixtures/diagnosis_labels.json``) were written by reading 65 corpus
letters' case summaries before the extraction or coding code was changed (and 30 more
before the second round's changes, part ``heldout2``). This module
parses those letters, pairs each extracted phrase with a labelled one, and computes:

* extraction precision / recall (a phrase pairs with a label when their content words
  mostly agree, see :func:`same_phrase`), and status agreement on the pairs;
* code agreement per labelled condition: exact (7th character aside) and at the
  3-character category, each counted over the conditions the labeller could code;
* exactMatch links whose code is none of the conditions' acceptable codes (a wrong
  exactMatch names another body part, side or condition).

Run ``python -m tests.diagnosis_eval [--part dev|heldout1|heldout2|all] [-v]`` for the figures; the
tests in ``test_diagnosis_labels.py`` assert the targets on the development part.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

LABELS = Path(__file__).parent / "fixtures" / "diagnosis_labels.json"
# Small words and the status markers (the status is scored on its own).
_STOP = frozenset({"a", "an", "the", "of", "and", "or", "with", "to", "in", "at", "for",
                   "possible", "rule", "out", "r", "o", "status", "post", "history"})


def load_labels() -> dict[str, dict]:
    """Case number -> {"part": ..., "diagnoses": [...]}."""
    return json.loads(LABELS.read_text(encoding="utf-8"))["cases"]


def _words(phrase: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", phrase.lower()) if w not in _STOP}


def same_phrase(a: str, b: str) -> bool:
    """Whether two phrases name the same condition: most content words shared."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    return len(wa & wb) / len(wa | wb) >= 0.7


def norm_code(code: str) -> str:
    """A code without its 7th character and placeholder X's ("S33.5XXA" -> "S33.5")."""
    c = code.upper()
    if len(c.replace(".", "")) == 7 and c[-1].isalpha():
        c = c[:-1]
    return c.rstrip("X").rstrip(".")


@dataclass
class Score:
    """Counts behind the figures; ``misses`` lists what went wrong for a verbose run."""

    extracted: int = 0
    labelled: int = 0
    paired: int = 0
    status_ok: int = 0
    conditions: int = 0
    exact: int = 0
    category: int = 0
    exact_links: int = 0
    wrong_exact: int = 0
    misses: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Precision, recall, status and code agreement as fractions."""
        def ratio(a: int, b: int) -> float:
            return a / b if b else 1.0

        return {
            "precision": ratio(self.paired, self.extracted),
            "recall": ratio(self.paired, self.labelled),
            "status": ratio(self.status_ok, self.paired),
            "code_exact": ratio(self.exact, self.conditions),
            "code_category": ratio(self.category, self.conditions),
            "wrong_exact": float(self.wrong_exact),
        }


def score_case(case: str, labels: list[dict], phrases: list[str], statuses: dict[str, str],
               score: Score) -> None:
    """Add one letter's extraction and coding to ``score``."""
    from imr_graph.linking.icd10 import match_diagnoses

    score.extracted += len(phrases)
    score.labelled += len(labels)
    free = list(range(len(labels)))
    for p in phrases:
        j = next((k for k in free if same_phrase(p, labels[k]["phrase"])), None)
        if j is None:
            score.misses.append(f"{case}: extra phrase {p!r}")
            continue
        free.remove(j)
        label = labels[j]
        score.paired += 1
        if statuses.get(p) == label["status"]:
            score.status_ok += 1
        else:
            score.misses.append(f"{case}: status {statuses.get(p)!r} for {p!r}, "
                                f"label {label['status']!r}")
        links = match_diagnoses(p)
        got = [norm_code(m.code) for m in links if m.code]
        acceptable = {norm_code(c) for alts in label["codes"] for c in alts}
        for m in links:
            if m.code and m.predicate == "skos:exactMatch":
                score.exact_links += 1
                if acceptable and norm_code(m.code) not in acceptable:
                    score.wrong_exact += 1
                    score.misses.append(f"{case}: wrong exactMatch {m.code} for {p!r}")
        for alts in label["codes"]:
            want = [norm_code(c) for c in alts]
            score.conditions += 1
            if any(g in want for g in got):
                score.exact += 1
            else:
                score.misses.append(f"{case}: {p!r} coded {got}, label {want}")
            if any(g[:3] in {w[:3] for w in want} for g in got):
                score.category += 1
    for k in free:
        score.misses.append(f"{case}: missed {labels[k]['phrase']!r}")


def evaluate(part: str, corpus: Path) -> Score:
    """Parse the labelled letters of ``part`` ("dev", "heldout1", "heldout2" or "all") and score them."""
    from imr_graph.letters.parsing import parse_file

    score = Score()
    for case, entry in sorted(load_labels().items()):
        if part != "all" and entry["part"] != part:
            continue
        record = parse_file(corpus / f"{case}.pdf")
        statuses = dict(getattr(record, "diagnosis_status", {}))
        score_case(case, entry["diagnoses"], record.diagnoses, statuses, score)
    return score


def main(argv: list[str]) -> int:
    """Print the figures for one part of the labelled set."""
    part = "dev"
    if "--part" in argv:
        part = argv[argv.index("--part") + 1]
    corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "dwc"
    score = evaluate(part, corpus)
    if "-v" in argv:
        print("\n".join(score.misses))
    f = score.figures()
    print(f"part {part}: {score.labelled} labelled phrases, {score.extracted} extracted, "
          f"{score.conditions} coded conditions")
    print(f"precision {f['precision']:.1%}  recall {f['recall']:.1%}  status {f['status']:.1%}")
    print(f"codes exact {f['code_exact']:.1%} ({score.exact}/{score.conditions})  "
          f"category {f['code_category']:.1%} ({score.category}/{score.conditions})  "
          f"wrong exactMatch {score.wrong_exact}/{score.exact_links}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
