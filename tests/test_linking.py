"""Pure matchers: diagnosis -> ICD-10-CM, medication -> drug, request -> service category,
citation -> guideline scheme; and the hand-checked sample of links."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imr_graph.linking import classify_service, match_citation, match_diagnosis, match_drug
from imr_graph.linking.drugs import parse_medication
from imr_graph.linking.icd10 import index, match_diagnoses
from imr_graph.linking.services import parse_frequency, parse_regions

FIXTURE = Path(__file__).parent / "fixtures" / "links_sample.tsv"


# -- ICD-10-CM ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "code"),
    [
        ("post lumbar laminectomy syndrome", "M96.1"),
        ("chronic pain syndrome", "G89.4"),
        ("lumbar radiculopathy", "M54.16"),
        ("cervical radiculopathy", "M54.12"),
        ("Radiculopathy, lumbar region", "M54.16"),
        ("radiculopathy lumbar", "M54.16"),  # word order
        ("L/S HNP", "M51.26"),  # abbreviations
        ("C/S DDD", "M50.30"),  # a header category is never the answer when a child fits
        ("right CTS", "G56.01"),
        ("bilateral carpal tunnel syndrome", "G56.03"),
        ("carpal tunnel syndrome, left upper limb", "G56.02"),
        ("right shoulder pain", "M25.511"),
        ("left knee pain", "M25.562"),
        ("pain in unspecified knee", "M25.569"),
        ("neck pain", "M54.2"),
        ("low back pain", "M54.50"),  # M54.5 was split after the letters were written
        ("lumbar sprain", "S33.5"),
        ("sprain of ligaments of lumbar spine, subsequent encounter", "S33.5XXD"),
        ("lumbar strain", "S39.012"),
        ("right elbow lateral epicondylitis", "M77.11"),
        ("concussion without loss of consciousness", "S06.0X0"),
        ("post-concussion syndrome", "F07.81"),
        ("other intervertebral disc displacement, lumbosacral region", "M51.27"),
        ("sciatica of left side", "M54.32"),
    ],
)
def test_diagnosis_codes(phrase: str, code: str) -> None:
    m = match_diagnosis(phrase)
    assert m.code == code, (phrase, m)
    assert m.predicate in ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch")
    assert 0 < m.confidence <= 1
    assert m.label == index().label(code)


def test_laterality_is_never_swapped() -> None:
    for phrase in ("right shoulder contusion", "right knee contusion", "right hip sprain"):
        m = match_diagnosis(phrase)
        assert m.code is not None and "left" not in (m.label or "").lower(), m
    m = match_diagnosis("contusion of left knee")
    assert m.code == "S80.02" and "left" in (m.label or "").lower()


def test_predicates_say_how_close() -> None:
    assert match_diagnosis("chronic pain syndrome").predicate == "skos:exactMatch"
    # the code is broader than the phrase: it has no site
    assert match_diagnosis("post lumbar laminectomy syndrome").predicate == "skos:broadMatch"
    # sprain/strain names two things; the strain code is only close
    assert match_diagnosis("lumbar sprain/strain").predicate == "skos:closeMatch"


@pytest.mark.parametrize(
    "phrase",
    ["repair on 10-22-16", "ligaments in the neck", "sprain of joints", "", "   ", "lumbar spine",
     "scapulothoracic syndrome"],
)
def test_unsure_instead_of_guessing(phrase: str) -> None:
    m = match_diagnosis(phrase)
    assert m.code is None and m.predicate is None and m.method == "unsure"
    assert match_diagnoses(phrase) == []


def test_compound_phrase_is_split() -> None:
    codes = {m.code for m in match_diagnoses("neck and shoulder strain")}
    assert codes == {"S16.1", "S46.919"}
    ms = match_diagnoses("right hand contusion/laceration")
    assert {m.code for m in ms} == {"S60.221", "S61.411"}
    assert all(m.predicate == "skos:narrowMatch" for m in ms)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_matcher_never_crashes(text: str) -> None:
    m = match_diagnosis(text)
    assert (m.code is None) == (m.predicate is None)
    if m.code is not None:
        assert index().is_valid(m.code)


# -- Drugs ---------------------------------------------------------------------------------------


def test_brand_to_generic_with_strength_form_quantity() -> None:
    m = match_drug("Norco 10/325mg #120")
    assert m.generic == "acetaminophen/hydrocodone" and m.route == "oral"
    assert "opioid" in m.classes
    assert m.medication is not None
    assert m.medication.strengths == ("10/325mg",) and m.medication.quantity == 120
    curies = {e.curie for e in m.external}
    assert {"DRUGBANK:DB00956", "DRUGBANK:DB00316"} <= curies

    f = match_drug("Flector patch 1.3% #30")
    assert (f.generic, f.route) == ("diclofenac", "topical")
    assert set(f.classes) >= {"NSAID", "topical analgesic"}
    assert f.medication is not None
    assert (f.medication.strengths, f.medication.form, f.medication.quantity) == (("1.3%",), "patch", 30)

    assert match_drug("Soma").generic == "carisoprodol"
    assert "muscle relaxant" in match_drug("Soma").classes


def test_single_ingredient_ids_are_exact_and_mesh_is_a_class() -> None:
    m = match_drug("Gabapentin 600mg")
    ext = {e.curie: e.predicate for e in m.external}
    assert ext["DRUGBANK:DB00996"] == "skos:exactMatch"
    assert ext["MEDLINEPLUS:a694007"] == "skos:exactMatch"
    o = match_drug("omeprazole")
    assert {e.curie: e.predicate for e in o.external}["MESH:D054328"] == "skos:broadMatch"


def test_compound_cream_is_a_topical_compound() -> None:
    m = match_drug("Flurbiprofen 20%, Baclofen 5%, Dexamethasone 2%, Menthol 2%, "
                   "Capsaicin 0.025% in cream base")
    assert set(m.ingredients) == {"flurbiprofen", "baclofen", "dexamethasone", "menthol",
                                  "capsaicin"}
    assert "topical compound" in m.classes and "NSAID" in m.classes


def test_misspelling_and_non_drugs() -> None:
    assert match_drug("ophenadrine").generic == "orphenadrine"
    assert match_drug("Hydrocodne 10mg").generic == "hydrocodone"  # an alias row, not fuzzy
    for text in ("MRI of the lumbar spine", "Physical therapy 2 times a week", "TENS unit"):
        assert match_drug(text).generic is None, text


def test_parse_medication_release_and_prefix() -> None:
    med = parse_medication("Post-op Oxycodone HCL ER 20mg #60 day supply: 30")
    assert med.release == "ER" and med.strengths == ("20mg",) and med.quantity == 60
    assert med.name.lower().startswith("oxycodone")


# -- Services ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("MRI of the lumbar spine", "imaging-mri"),
        ("X-rays of the left shoulder", "imaging-radiography"),
        ("EMG/NCV of the upper extremities", "electrodiagnostic-testing"),
        ("Physical therapy 2-3 times a week for 6 weeks", "physical-therapy"),
        ("Chiropractic care to the low back two times a week for four weeks", "chiropractic"),
        ("Acupuncture 3 times a week for 2 weeks, neck, right hand and head", "acupuncture"),
        ("Lumbar epidural steroid injection", "injection"),
        ("Right shoulder arthroscopy with rotator cuff repair", "surgery"),
        ("TENS unit", "durable-medical-equipment"),
        ("Norco 10/325mg #120", "medication"),
        ("Flector 1.3% transdermal patch", "medication"),
        ("Comprehensive psychological testing", "psychological-care"),
        ("Home health care 4 hours a day", "home-health"),
        ("Urine drug testing", "laboratory-testing"),
        ("Transportation to medical appointments", "transportation"),
        ("Associated surgical service: Medical clearance", "perioperative-care"),
        ("Something nobody has asked for", "other"),
    ],
)
def test_service_categories(text: str, category: str) -> None:
    s = classify_service(text)
    assert s.category == category, (text, s)
    assert s.iri.endswith("/" + category)


def test_frequency_and_regions() -> None:
    f = parse_frequency("Acupuncture 3 times a week for 2 weeks")
    assert (f.per_week, f.weeks, f.total) == ((3, 3), (2, 2), (6, 6))
    f = parse_frequency("Physical therapy 2-3 times a week for 6 weeks")
    assert f.total == (12, 18)
    assert parse_frequency("Chiropractic treatment for the lumbar spine, 12 visits").sessions == (12, 12)
    assert parse_frequency("Electro acupuncture two times a week times six weeks").total == (12, 12)
    assert parse_regions("Acupuncture 3 times a week for 2 weeks, neck, right hand and head") == (
        "cervical spine", "head", "right hand")
    assert classify_service("MRI of the right knee").modality == "MRI"
    assert classify_service("MRI of the right knee").regions == ("right knee",)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_every_service_gets_a_category(text: str) -> None:
    s = classify_service(text)
    assert s.category and s.label


# -- Guidelines ----------------------------------------------------------------------------------


def test_citations_meet_at_the_same_scheme_node() -> None:
    a = match_citation("ODG", "Low Back Chapter", None)
    b = match_citation("ODG", "Low Back - Lumbar & Thoracic (Acute & Chronic)", None)
    c = match_citation("ODG", "Low back", None)
    assert a.doc is not None and a.doc == b.doc == c.doc
    assert a.doc.iri.endswith("/odg/low-back")
    m9 = match_citation("MTUS", "Chronic Pain Medical Treatment", 2009)
    m16 = match_citation("MTUS", "Chronic Pain Medical Treatment", 2016)
    assert m9.doc is not None and m16.doc is not None and m9.doc != m16.doc
    assert (m9.doc.year, m16.doc.year) == (2009, 2016)
    assert match_citation("OTHER", "www.mdguidelines.com", None).doc is None


# -- The hand-checked sample ----------------------------------------------------------------------


def _sample() -> list[tuple[str, str, set[str]]]:
    rows = []
    with FIXTURE.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            expected = set() if row[2] == "-" else set(row[2].split("|"))
            rows.append((row[0], row[1], expected))
    return rows


def _produced(kind: str, text: str) -> set[str]:
    if kind == "diagnosis":
        return {m.code for m in match_diagnoses(text) if m.code}
    if kind == "medication":
        g = match_drug(text).generic
        return {g} if g else set()
    if kind == "service":
        return {classify_service(text).category}
    if kind == "drugbank":
        return {e.curie for e in match_drug(text).external if e.curie.startswith("DRUGBANK:")}
    raise AssertionError(kind)


def test_hand_checked_sample_is_at_least_95_percent_correct() -> None:
    rows = _sample()
    links = correct = 0
    wrong: list[tuple[str, str, set[str], set[str]]] = []
    for kind, text, expected in rows:
        produced = _produced(kind, text)
        if not produced and not expected:
            continue  # rightly unsure
        for value in produced or {"<none>"}:
            links += 1
            if value in expected:
                correct += 1
            else:
                wrong.append((kind, text, expected, produced))
    assert links >= 100
    assert correct / links >= 0.95, wrong


# -- Offline ---------------------------------------------------------------------------------------


def test_linking_never_opens_a_network_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert match_drug("Norco 10/325mg #120").external
    assert match_drug("Hydrocodne").generic == "hydrocodone"
    assert match_diagnosis("lumbar radiculopathy").code == "M54.16"
    assert classify_service("MRI of the lumbar spine").category == "imaging-mri"
