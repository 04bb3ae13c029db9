"""ICD-10-CM coding rules of the second round of issue 20: psychiatric wordings, insomnia
and F54 by their cause, sites and sides carried across a list, spelling slips.

The phrases are written for these tests (common workers' comp wordings); each expected code
was looked up in the ICD-10-CM 2026 tabular list and index, not taken from the program.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imr_graph.linking.icd10 import index, match_diagnoses
from imr_graph.linking.spelling import MINIMUM


def _codes(phrase: str) -> set[str]:
    return {m.code for m in match_diagnoses(phrase) if m.code}


@pytest.mark.parametrize(
    ("phrase", "codes"),
    [
        # the index: Disorder, depressive, major -> F32.9; recurrent only when said
        ("major depressive disorder", {"F32.9"}),
        ("MDD", {"F32.9"}),
        ("recurrent major depressive disorder", {"F33.9"}),
        ("depressive disorder", {"F32.A"}),
        ("general anxiety disorder", {"F41.1"}),
        ("generalized anxiety disorder", {"F41.1"}),
        ("generalize anxiety disorder", {"F41.1"}),
        # insomnia is coded by its cause (F51.05 mental disorder, G47.01 medical), cause beside
        ("insomnia related to generalized anxiety disorder", {"F51.05", "F41.1"}),
        ("chronic insomnia secondary to depression", {"F51.05", "F32.A"}),
        ("insomnia due to chronic pain", {"G47.01", "G89.29"}),
        ("insomnia", {"G47.00"}),
        # DSM wordings of F54
        ("psychological factors affecting medical condition", {"F54"}),
        ("stress related physiological response affecting gastrointestinal disturbances",
         {"F54"}),
        # every site of a list, each with its own code
        ("cervical, thoracic and lumbar myoligamentous injury", {"S16.1", "S29.012", "S39.012"}),
        ("strains and sprains injuries sustained cervical spine and shoulders",
         {"S13.4", "S16.1", "S43.401", "S43.402", "S46.911", "S46.912"}),
        # a plural paired part is both sides
        ("strain of both knees", {"S86.911", "S86.912"}),
        ("shoulders pain", {"M25.511", "M25.512"}),
        # limb weakness is muscle weakness (R53.1 excludes it)
        ("weakness of upper extremities", {"M62.81"}),
        ("numbness and weakness bilateral upper extremities", {"R20.0", "M62.81"}),
        # two conditions sharing a head word, each coded
        ("fleeting homicidal and suicidal thoughts", {"R45.850", "R45.851"}),
        ("homicidal and suicidal ideation", {"R45.850", "R45.851"}),
        ("nausea and vomiting", {"R11.2"}),
        # found after the heldout2 scoring (general bugs, not tuned): "bilateral" never
        # stops at an unspecified-side leaf; the uncomplicated child of a NOS phrase
        ("bilateral elbow lateral epicondylitis", {"M77.11", "M77.12"}),
        ("migraine", {"G43.909"}),
        ("myocardial infarct", {"I21.9"}),
        # spelling slips
        ("stain of neck muscle", {"S16.1"}),
        ("lumber strain", {"S39.012"}),
        ("right carpel tunnel syndrome", {"G56.01"}),
    ],
)
def test_second_round_codes(phrase: str, codes: set[str]) -> None:
    assert _codes(phrase) == codes


def test_compound_codes_are_narrow_and_myoligamentous_is_close() -> None:
    ms = match_diagnoses("insomnia related to generalized anxiety disorder")
    assert ms and all(m.predicate == "skos:narrowMatch" for m in ms)
    (m,) = match_diagnoses("lumbar myoligamentous injury")
    assert (m.code, m.predicate) == ("S39.012", "skos:closeMatch")


@pytest.mark.parametrize(
    "word", ["trapezius", "resection", "paraspinal", "myoligamentous", "parascapular",
             "radicul-opathy", "sprainstrain", "cervicalgia", "lumbago"],
)
def test_spelling_leaves_real_words_alone(word: str) -> None:
    assert index().correct_spelling(word) == word


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz -", max_size=40))
def test_spelling_only_ever_gives_code_set_words(text: str) -> None:
    idx = index()
    fixed = idx.correct_spelling(text)
    assert len(fixed.split()) == len(text.split())
    for old, new in zip(text.split(), fixed.split(), strict=True):
        assert new == old or idx.words[new] >= MINIMUM
