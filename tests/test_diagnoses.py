"""Diagnosis extraction from the case summary: wordings, phrase splitting, status, worker sex.

The sentences below are written for these tests (they paraphrase wordings seen in letters);
the corpus tests at the end run over the real letters and skip without ../shared/corpus.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imr_graph.letters.summary import diagnosis_status, find_diagnoses, find_worker


def _dx(summary: str) -> list[str]:
    return find_diagnoses(summary, 0, len(summary))[0]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("The injured worker is being treated for lumbar sprain. He was seen on 1-2-16.",
         ["lumbar sprain"]),
        ("The worker is undergoing treatment for low back pain, lumbar radiculopathy and "
         "muscle weakness. Exam was normal.",
         ["low back pain", "lumbar radiculopathy", "muscle weakness"]),
        ("She has been treated for cervical strain and right wrist sprain.",
         ["cervical strain", "right wrist sprain"]),
        ("The injured worker was undergoing treatments for: right shoulder tendinitis.",
         ["right shoulder tendinitis"]),
        ("The applicant has filed a claim for neck and arm pain reportedly associated with "
         "an industrial injury of May 2, 2016.", ["neck and arm pain"]),
        ("He has a comorbid diagnosis of hypertension.", ["hypertension"]),
        # what a psychological factor affects belongs to it (F54), however many things
        ("Diagnoses included depression and psychological factors affecting headaches and "
         "gastric pain.", ["depression", "psychological factors affecting headaches and gastric pain"]),
        # one phrase per condition: site lists and sides stay with their condition
        ("The diagnoses are right and left shoulder joint sprain and right and left elbow "
         "joint sprain.",
         ["right and left shoulder joint sprain", "right and left elbow joint sprain"]),
        ("She is being treated for contusion of face, scalp and neck and acute cervical "
         "sprain.", ["contusion of face, scalp and neck", "acute cervical sprain"]),
        ("Diagnoses include strain in right hip, ankle, and foot.",
         ["strain in right hip, ankle, and foot"]),
        ("The diagnoses are other cervical disc displacement, mid cervical region; and "
         "lumbago and left sciatica.",
         ["other cervical disc displacement, mid cervical region", "lumbago",
          "left sciatica"]),
        ("He is being treated for numbness and weakness bilateral upper extremities.",
         ["numbness and weakness bilateral upper extremities"]),
        ("He is being treated for left foot pain and injury, plantar fasciitis.",
         ["left foot pain and injury", "plantar fasciitis"]),
        ("He is being treated for fleeting homicidal and suicidal thoughts and insomnia.",
         ["fleeting homicidal and suicidal thoughts", "insomnia"]),
        ("The injured worker is being treated for strain of muscle and or tendon of wrist.",
         ["strain of muscle and or tendon of wrist"]),
        # a mechanism, a body part alone, a date, a procedure are not diagnoses
        ("The current diagnoses are documented as work related fall, blunt head trauma and "
         "lumbar spine strain.", ["blunt head trauma", "lumbar spine strain"]),
        ("He is being treated for strain of knee and injury of unknown intent due to fall "
         "from height.", ["strain of knee"]),
        ("He was diagnosed as having open fracture of the left small finger and repair on "
         "10-22-16.", ["open fracture of the left small finger"]),
        # "rule out" and "status post" start phrases of their own
        ("He is being treated for wrist pain rule out carpal tunnel syndrome rule out "
         "cervical radiculopathy.",
         ["wrist pain", "rule out carpal tunnel syndrome", "rule out cervical radiculopathy"]),
        ("She is being treated for right shoulder pain and injury status post-surgery "
         "February 2016, myocardial infarct June 2016.",
         ["right shoulder pain and injury", "status post surgery", "myocardial infarct"]),
        # no condition named: nothing is guessed
        ("The injured worker was not treated for his symptoms. Treatment to date has included "
         "medications.", []),
        ("The patient reported pain in the low back.", []),
    ],
)
def test_diagnosis_wordings(summary: str, expected: list[str]) -> None:
    assert _dx(summary) == expected


def test_one_sentence_is_read_once() -> None:
    text = "He is being treated for the diagnoses of neck strain and lumbar strain."
    assert _dx(text) == ["neck strain", "lumbar strain"]


@pytest.mark.parametrize(
    ("phrase", "status"),
    [("possible rotator cuff tear", "possible"), ("rule out cervical radiculopathy", "possible"),
     ("suspected meniscus tear", "possible"), ("status post lumbar fusion", "status-post"),
     ("s/p carpal tunnel release", "status-post"), ("history of hypertension", "history"),
     ("lumbar strain", None), ("post-traumatic headache", None)],
)
def test_diagnosis_status(phrase: str, status: str | None) -> None:
    assert diagnosis_status(phrase) == status


@pytest.mark.parametrize(
    ("summary", "worker"),
    [
        ("The injured worker is a 48 year old male who sustained an injury.", (48, "male")),
        ("The injured worker is a female who sustained an industrial injury.", (None, "female")),
        ("The applicant is a Hispanic male, who reported pain.", (None, "male")),
        ("This is a 52 year old female with a date of injury on 1-2-16.", (52, "female")),
        ("She reported pain in the neck.", (None, None)),  # never from pronouns
    ],
)
def test_worker_sex_also_without_age(summary: str, worker: tuple) -> None:
    assert find_worker(summary, 0, len(summary)) == worker


_FRAGMENT_END = re.compile(r"\b(?:and|or|right|left|bilateral|of|with|the|to|a|an)$", re.I)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "lumbar strain", "right and left knee sprain", "neck", "left", "and", "of the",
    "contusion of face, scalp and neck", "rule out", "status post", "possible tear",
    "10-22-16", "work related fall", "pain", "right shoulder", ";", ",", "with",
]), min_size=1, max_size=8))
def test_no_fragment_from_any_list(words: list[str]) -> None:
    summary = "The injured worker is being treated for " + " ".join(words) + ". Next."
    for phrase in _dx(summary):
        assert phrase.strip() and not _FRAGMENT_END.search(phrase), phrase


def test_mapping_marks_the_status() -> None:
    from pyoxigraph import Literal

    from imr_graph.graph.mapping import diagnosis_iri, imr, record_to_quads

    from .graph_records import handmade_cases

    record, text = handmade_cases()[0]
    record.diagnoses = [*record.diagnoses, "possible rotator cuff tear"]
    record.diagnosis_status = {"possible rotator cuff tear": "possible"}
    quads = record_to_quads(record, text)
    status = [q for q in quads if q.predicate == imr("diagnosisStatus")]
    assert [(q.subject, q.object) for q in status] == [
        (diagnosis_iri("possible rotator cuff tear"), Literal("possible"))]


# ---------------------------------------------------------------------------------------
# The corpus

# A sentence that names the worker's conditions, found independently of the extractor.
_NAMES_A_CONDITION = re.compile(
    r"diagnos(?:is|es|ed)\b(?!\s+(?:stud|test|imag))|treated\s+for|treatments?\s+for\s"
    r"|claim\s+for\s+(?!\w+\s+compensation)",
    re.I,
)


@pytest.fixture(scope="module")
def corpus_records() -> list:
    from imr_graph.letters.parsing import H_ISSUES, H_SUMMARY, parse_file
    from imr_graph.letters.reading import read_document

    from .conftest import corpus_pdfs

    pdfs: list[Path] = corpus_pdfs()
    if not pdfs:
        pytest.skip("../shared/corpus/dwc is absent")
    out = []
    for pdf in pdfs:
        text = read_document(pdf).text
        s, i = H_SUMMARY.search(text), H_ISSUES.search(text)
        summary = text[s.end() : i.start()] if s and i else ""
        out.append((parse_file(pdf), summary))
    return out


@pytest.mark.corpus
def test_corpus_every_named_condition_gives_a_diagnosis(corpus_records: list) -> None:
    naming = [(r, s) for r, s in corpus_records if _NAMES_A_CONDITION.search(s)]
    empty = [r.case_number for r, _s in naming if not r.diagnoses]
    print(f"\n{len(naming)}/{len(corpus_records)} summaries name a condition; "
          f"{len(empty)} of them without a diagnosis")
    assert len(naming) >= 100
    assert empty == []


@pytest.mark.corpus
def test_corpus_no_fragment_no_mechanism(corpus_records: list) -> None:
    bad = [(r.case_number, d) for r, _s in corpus_records for d in r.diagnoses
           if _FRAGMENT_END.search(d) or re.match(r"(?:work related )?fall$", d, re.I)]
    assert bad == []


@pytest.mark.corpus
def test_corpus_worker_sex(corpus_records: list) -> None:
    missing = [r.case_number for r, s in corpus_records
               if r.worker.sex is None and re.search(r"\b(?:fe)?male\b", s[:600], re.I)]
    assert missing == []


_IMPLIED = {"meniscus": "knee", "hearing": "ear", "patella": "knee", "rotator": "shoulder",
            "epicondylitis": "elbow", "carpal": "wrist"}


@pytest.mark.corpus
def test_corpus_links_keep_side_and_site(corpus_records: list) -> None:
    """Every link keeps the phrase's side; an exactMatch names no site the phrase lacks."""
    from imr_graph.linking.icd10 import _covers, _kind, analyse, index, match_diagnoses

    idx = index()
    bad = []
    for record, _s in corpus_records:
        for phrase in record.diagnoses:
            ptoks, psides = analyse(phrase)
            for m in match_diagnoses(phrase):
                assert m.code and idx.is_billable(m.code), m  # never a header category
                title = idx.label(m.code) or ""
                tsides = analyse(title)[1]
                if psides and tsides and not tsides <= psides | {"bilateral"} and \
                        psides != {"bilateral"}:
                    bad.append((phrase, m.code, "side"))
                if m.predicate == "skos:exactMatch" and not m.method.startswith("curated"):
                    # sites the title names "unspecified", or that the condition implies
                    # (a meniscus is in the knee), are not sites the phrase lacks
                    named = analyse(re.sub(r"unspecified \w+", "", title, flags=re.I))[0]
                    implied = {_IMPLIED[t] for t in ptoks if t in _IMPLIED}
                    extra = [t for t in named if _kind(t) == "site" and t not in ptoks
                             and t not in implied and not _covers(t, set(ptoks))
                             and t not in ("upperlimb", "lowerlimb", "limb")]
                    if extra:
                        bad.append((phrase, m.code, f"site {extra}"))
    assert bad == []


def test_serial_comma_variants_share_one_label() -> None:
    from imr_graph.graph.mapping import diagnosis_iri, record_to_quads, skos

    from .graph_records import handmade_cases

    labels = set()
    for variant in ("strain of muscle, fascia, and tendon at neck level",
                    "strain of muscle, fascia and tendon at neck level"):
        record, text = handmade_cases()[0]
        record.diagnoses = [variant]
        node = diagnosis_iri(variant)
        labels |= {q.object.value for q in record_to_quads(record, text)
                   if q.subject == node and q.predicate == skos("prefLabel")}
    assert labels == {"strain of muscle, fascia and tendon at neck level"}
