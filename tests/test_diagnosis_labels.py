"""The hand-labelled letters (tests/fixtures/diagnosis_labels.json): extraction and coding.

The targets of issue 20 are asserted on the development part; the held-out parts
(heldout1 from the first round, seen since; heldout2 from the second) were each scored
once, at the end of their round, and their figures are in docs/linking.md. ``python -m
tests.diagnosis_eval --part heldout2`` prints them again. Skipped without ../shared/corpus.
"""

from __future__ import annotations

import pytest

from .diagnosis_eval import Score, evaluate, load_labels, norm_code, same_phrase

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def dev() -> Score:
    from .conftest import CORPUS

    if not (CORPUS / "dwc").is_dir():
        pytest.skip("../shared/corpus/dwc is absent")
    return evaluate("dev", CORPUS / "dwc")


def test_the_labelled_set() -> None:
    cases = load_labels()
    parts = [c["part"] for c in cases.values()]
    assert len(cases) >= 90 and set(parts) == {"dev", "heldout1", "heldout2"}
    assert parts.count("heldout1") >= 15 and parts.count("heldout2") >= 25
    for entry in cases.values():
        for d in entry["diagnoses"]:
            assert d["status"] in (None, "possible", "status-post", "history")


def test_scoring_helpers() -> None:
    assert norm_code("S33.5XXA") == "S33.5" and norm_code("S06.0X1D") == "S06.0X1"
    assert norm_code("M54.50") == "M54.50" and norm_code("S83.241A") == "S83.241"
    assert same_phrase("possible rotator cuff tear", "rotator cuff tear")
    assert not same_phrase("lumbar strain", "cervical strain")


def test_extraction_on_the_development_letters(dev: Score) -> None:
    f = dev.figures()
    print(f"\ndev: precision {f['precision']:.1%} recall {f['recall']:.1%} "
          f"status {f['status']:.1%}")
    assert f["precision"] >= 0.95 and f["recall"] >= 0.95
    assert f["status"] >= 0.95


def test_coding_on_the_development_letters(dev: Score) -> None:
    f = dev.figures()
    print(f"\ndev: codes exact {f['code_exact']:.1%} category {f['code_category']:.1%} "
          f"wrong exactMatch {dev.wrong_exact}")
    # issue 20 targets: >= 90 % exact and >= 97 % at the category; after the second round
    # dev reaches 96.5 % and 98.6 % (docs/linking.md), the floor below keeps the targets
    assert f["code_exact"] >= 0.95
    assert f["code_category"] >= 0.97
    assert dev.wrong_exact == 0
