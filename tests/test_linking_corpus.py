"""Linking coverage on the DWC corpus (skipped when ../shared/corpus is absent).

Targets (issue 4): at least 90% of diagnosis phrases and 95% of medication mentions get a
code, and every service gets a category. The measured figures are printed (``pytest -s``)
and recorded in docs/linking.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from imr_graph.letters.parsing import parse_file
from imr_graph.linking import classify_service, match_citation, match_drug
from imr_graph.linking.icd10 import match_diagnoses

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def records(request: pytest.FixtureRequest) -> list:
    from .conftest import corpus_pdfs

    pdfs: list[Path] = corpus_pdfs()
    if not pdfs:
        pytest.skip("../shared/corpus/dwc is absent")
    out = []
    for pdf in pdfs:
        try:
            out.append(parse_file(pdf))
        except Exception:
            continue
    assert len(out) >= 0.9 * len(pdfs)
    return out


def test_corpus_coverage(records: list) -> None:
    dx = [d for r in records for d in r.diagnoses if d.strip()]
    dx_linked = sum(1 for d in dx if match_diagnoses(d))
    meds = [m for r in records for m in r.medications if m.strip()]
    requests = [i.request for r in records for i in r.items]
    categories = [classify_service(q) for q in requests]
    med_requests = [s.text for s in categories if s.category == "medication"]
    mentions = meds + med_requests
    meds_linked = sum(1 for m in mentions if match_drug(m).generic)
    counts = Counter(s.category for s in categories)
    citations = [c for r in records for i in r.items
                 for g in (i.claims_admin_guideline, i.reviewer_guideline) if g
                 for c in g.citations if c.family in ("MTUS", "ODG", "ACOEM")]
    cited = sum(1 for c in citations if match_citation(c.family, c.title, c.year).doc)
    print(f"\ndiagnosis phrases linked: {dx_linked}/{len(dx)} = {dx_linked / len(dx):.1%}")
    print(f"medication mentions linked: {meds_linked}/{len(mentions)} = "
          f"{meds_linked / len(mentions):.1%} ({len(meds)} listed, {len(med_requests)} requested)")
    print(f"services categorised: {len(categories)}/{len(requests)}; 'other': {counts['other']}")
    print(f"MTUS/ODG/ACOEM citations on a scheme node: {cited}/{len(citations)} = "
          f"{cited / len(citations):.1%}")
    print("categories: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    assert dx_linked / len(dx) >= 0.90
    assert meds_linked / len(mentions) >= 0.95
    assert len(categories) == len(requests) and all(s.category for s in categories)
    assert counts["other"] <= 0.02 * len(requests)
    assert cited / len(citations) >= 0.9
