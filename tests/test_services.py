"""Service concepts: the same service grouped however the letter words it.

* the hand-labelled corpus items (``tests/fixtures/service_concepts.tsv``): B-cubed precision
  and recall of ``read_service(...).concept`` against the hand grouping, on the development
  part and on the held-out part (skipped when ../shared/corpus is absent);
* wordings written for these tests (not from the corpus): what must meet and what must not;
* the attributes a request adds (side, amounts, contrast, modifiers ...);
* every drug link on the corpus is explained by the alias table or an exact name of the
  drug vocabulary (no fuzzy match can put another drug in the graph);
* robustness: any text reads into a well-formed service.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imr_graph.letters.services import KINDS, read_service
from imr_graph.linking.drugs import _key, _keyed, _package_lookup, find_names, match_drug

from .conftest import corpus_pdfs

FIXTURE = Path(__file__).parent / "fixtures" / "service_concepts.tsv"
CONCEPT = re.compile(r"^[a-z0-9-]+(?:/[a-z0-9+-]+)+$")


def bcubed(gold: dict, pred: dict) -> tuple[float, float]:
    """B-cubed precision and recall of a clustering ``pred`` against ``gold`` (same keys)."""
    p = r = 0.0
    for k in gold:
        same_gold = {x for x in gold if gold[x] == gold[k]}
        same_pred = {x for x in pred if pred[x] == pred[k]}
        both = len(same_gold & same_pred)
        p += both / len(same_pred)
        r += both / len(same_gold)
    return p / len(gold), r / len(gold)


def test_bcubed_scores_a_clustering() -> None:
    gold = {1: "a", 2: "a", 3: "b", 4: "c"}
    assert bcubed(gold, gold) == (1.0, 1.0)
    p, r = bcubed(gold, {1: "x", 2: "y", 3: "z", 4: "w"})  # all split
    assert (p, r) == (1.0, 0.75)
    p, r = bcubed(gold, {1: "x", 2: "x", 3: "x", 4: "x"})  # all merged
    assert p == pytest.approx((2 / 4 + 2 / 4 + 1 / 4 + 1 / 4) / 4) and r == 1.0


def _labels() -> list[tuple[str, int, str, str]]:
    out = []
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        case, index, concept, split = line.split("\t")
        out.append((case, int(index), concept, split))
    return out


def test_labelled_set_is_big_enough() -> None:
    labels = _labels()
    splits = Counter(s for *_x, s in labels)
    assert len(labels) >= 150 and splits["heldout"] >= 40
    assert len({(c, i) for c, i, _k, _s in labels}) == len(labels)


@pytest.fixture(scope="module")
def corpus_records() -> list:
    from imr_graph.letters.parsing import parse_file

    pdfs = corpus_pdfs()
    if not pdfs:
        pytest.skip("../shared/corpus/dwc is absent")
    seeds = sorted((pdfs[0].parent.parent / "seeds").glob("*"))
    return [parse_file(p) for p in [*pdfs, *seeds]]


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_labelled_items_share_concepts(corpus_records: list, split: str) -> None:
    requests = {(r.case_number or "None", i.index): i for r in corpus_records for i in r.items}
    gold = {(c, i): k for c, i, k, s in _labels() if s == split}
    pred = {key: requests[key].service.concept for key in gold}
    precision, recall = bcubed(gold, pred)
    print(f"\n{split}: {len(gold)} items, B-cubed precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95 and recall >= 0.95


# -- wordings written for these tests ------------------------------------------------------------

SAME = [
    ["MRI of the lumbar spine", "MRI Lumbosacral Spine without Contrast",
     "Open MRI of the lumbosacral spine", "Lumbar spine MRI", "MRI L-spine w/o contrast",
     "Repeat MRI of the low back", "Positional MRI of the lumbar spine, 1.5 Tesla"],
    ["Norco 10/325mg #60", "Hydrocodone/APAP 10/325", "Vicodin 5/500 #30",
     "Hydrocodone bitartrate/acetaminophen 7.5/325mg #90", "Post-op Norco 5/325 #40"],
    ["Lidoderm 5% patch #30", "Lidocaine 5% patches", "Lidocaine ointment 5% 50gm"],
    ["Tramadol 37.5/325mg #60", "Ultracet", "Tramadol/APAP 37.5/325"],
    ["Physical therapy 2x4 lumbar spine", "Additional physical therapy 12 sessions",
     "Post-operative physical therapy for the left shoulder x 24",
     "Continued PT three times a week for four weeks for the right knee"],
    ["Acupuncture x 6", "Trial of acupuncture 6 visits", "Electroacupuncture 2 times a week"],
    ["TENS unit purchase", "TENS unit 30 day trial", "Home TENS unit rental"],
    ["Cold therapy unit 7 day rental", "Cryotherapy unit", "Game Ready cold compression unit"],
    ["Lumbar epidural steroid injection at L4-5", "Transforaminal ESI L5-S1 bilateral"],
    ["Right carpal tunnel release", "Open carpal tunnel release, left wrist"],
    ["EMG/NCV bilateral upper extremities", "NCS/EMG RUE", "EMG/NCS of the left upper extremity"],
    ["Functional capacity evaluation", "FCE"],
    ["Pre-operative medical clearance", "Medical clearance", "Pre-op clearance"],
    ["Flexeril 10mg #60", "Cyclobenzaprine 7.5mg #90", "Fexmid 7.5 mg"],
    ["Tylenol #3 #60", "Tylenol with codeine", "APAP/codeine 300/30mg"],
    ["Physical therapy evaluation and treatment 2x6", "Physical therapy 12 visits"],
    ["Soma 350mg", "Carisoprodol 350 mg #30"],
]
DIFFERENT = [
    "MRI of the lumbar spine", "MRI of the right knee", "CT of the lumbar spine",
    "X-ray of the lumbar spine", "MRI of the cervical spine", "Norco 10/325mg #60",
    "Oxycodone 10mg", "Percocet 10/325", "Lidocaine 5% patch", "Diclofenac sodium ER 100mg",
    "Voltaren gel 1%", "Physical therapy 12 sessions", "Occupational therapy 12 sessions",
    "Chiropractic treatment 6 visits", "Acupuncture 6 visits", "Chiropractic evaluation",
    "TENS unit", "Lumbar brace", "Right wrist brace", "Cervical epidural steroid injection",
    "Lumbar epidural steroid injection", "Lumbar facet injections L4-5", "Urine drug screen",
    "Pre-op labs: PT/PTT", "Arthroscopic evaluation of the right knee", "Tylenol 500mg",
    "Physical therapy evaluation",
]


@pytest.mark.parametrize("wordings", SAME, ids=lambda w: w[0])
def test_wordings_of_one_service_meet(wordings: list[str]) -> None:
    concepts = {w: read_service(w).concept for w in wordings}
    assert len(set(concepts.values())) == 1, concepts


def test_other_modality_region_drug_or_therapy_is_another_service() -> None:
    concepts = [read_service(w).concept for w in DIFFERENT]
    assert len(set(concepts)) == len(DIFFERENT), Counter(concepts).most_common(3)


def test_categories_of_the_issue() -> None:
    # A pre-operative PT/PTT is a blood test, a knee arthroscopy is surgery.
    assert read_service("Pre-op labs: PT/PTT").kind == "lab"
    assert read_service("Associated surgical service: Labs - PT/PTT").kind == "lab"
    assert read_service("Arthroscopic evaluation of the right knee").kind == "surgery"
    assert read_service("Labs to include: Chest X-ray").concept == "imaging-radiography/chest"
    assert read_service("Toradol 60mg IM injection").concept == "medication/ketorolac/injection"


def test_attributes_of_a_request() -> None:
    s = read_service("Additional physical therapy 2 times a week for 6 weeks, right knee")
    assert (s.kind, s.regions, s.side, s.per_week, s.weeks, s.sessions) == (
        "therapy", ["knee"], "right", [2, 2], [6, 6], [12, 12])
    assert s.modifiers == ["additional"]
    m = read_service("Two refills of Ibuprofen 600mg #90")
    assert (m.ingredients, m.route, m.strength, m.quantity, m.refills) == (
        ["ibuprofen"], "oral", ["600mg"], 90, 2)
    i = read_service("MRI of the left knee without contrast")
    assert (i.concept, i.side, i.contrast) == ("imaging-mri/knee", "left", "without")
    r = read_service("Retrospective request for Toradol injection 60mg (DOS 10/12/2016)")
    assert r.date_of_service == "2016-10-12" and "retrospective" in r.modifiers
    d = read_service("Associated surgical service: Cold compression therapy 30 day rental")
    assert (d.days, d.modifiers) == ([30, 30], ["rental", "associated surgical service"])


def test_drugs_by_ingredients_and_route() -> None:
    assert read_service("LidoPro lotion 4 oz").ingredients == [
        "capsaicin", "lidocaine", "menthol", "methyl salicylate"]
    assert read_service("Trezix #60").ingredients == ["acetaminophen", "caffeine",
                                                      "dihydrocodeine"]
    assert read_service("Lorzone 750mg").ingredients == ["chlorzoxazone"]
    assert read_service("Arthrotec 75mg").ingredients == ["diclofenac", "misoprostol"]
    assert read_service("diclofenac/misoprostol").ingredients == ["diclofenac", "misoprostol"]
    compound = read_service("Compound cream: gabapentin 10%, amitriptyline 10%, "
                            "dextromethorphan 10%")
    assert (compound.ingredients, compound.route) == (
        ["amitriptyline", "dextromethorphan", "gabapentin"], "topical")
    assert "topical compound" in compound.drug_classes
    cls = read_service("Unknown NSAID")
    assert (cls.concept, cls.ingredients, cls.drug_classes) == (
        "medication/class/nsaid", [], ["NSAID"])


def test_no_fuzzy_drug_matches() -> None:
    # Once linked by a fuzzy matcher to meperidine, aminosalicylic acid and cyclofenil.
    assert "meperidine" not in (match_drug("LidoPro").generic or "")
    assert match_drug("Trezix").generic == "acetaminophen/caffeine/dihydrocodeine"
    assert match_drug("Cyclophene 5%").generic == "cyclobenzaprine"
    for text in ("Lidoprofen", "Tramadolx", "Hydrocodine 10/325", "Gabapentinoid cream"):
        assert match_drug(text).generic is None, text


def _explained(text: str) -> bool:
    """Every drug name found in ``text`` is a row of the alias table or an exact name of the
    package's dictionary, and the drug's ingredients are exactly what those names say (plus
    acetaminophen for an opioid written with an acetaminophen strength)."""
    m = match_drug(text)
    if m.generic is None:
        return True
    words = " ".join(re.findall(r"[a-z][a-z0-9']*|\d+", text.lower()))
    said: set[str] = set()
    for surface, generic, method, _route in find_names(text):
        if surface not in words:
            return False
        if method == "curated-table":
            if _keyed().get(_key(surface)) is None:
                return False
        elif _package_lookup(surface) is None:
            return False
        said.update(generic.split("/"))
    extra = set(m.ingredients) - said
    return extra <= {"acetaminophen"} and said <= set(m.ingredients) | {
        c.lower() for c in m.classes}


def test_every_corpus_drug_link_is_explained(corpus_records: list) -> None:
    texts = [i.request for r in corpus_records for i in r.items if i.service.kind == "drug"]
    texts += [m for r in corpus_records for m in r.medications]
    bad = [t for t in texts if not _explained(t)]
    print(f"\ndrug texts checked: {len(texts)}; unexplained: {bad}")
    assert texts and not bad


def test_corpus_concept_figures(corpus_records: list) -> None:
    """Figures for the closing note (printed with ``pytest -s``)."""
    items = [i for r in corpus_records for i in r.items]
    concepts = Counter(i.service.concept for i in items)
    single = sum(1 for n in concepts.values() if n == 1)
    wordings = Counter(" ".join(i.request.lower().split()) for i in items)
    print(f"\n{len(items)} items, {len(concepts)} service concepts, {single} with one item "
          f"({single / len(concepts):.1%}); by wording: {len(wordings)} services, "
          f"{sum(1 for n in wordings.values() if n == 1)} with one item")
    print("top: " + ", ".join(f"{k} {v}" for k, v in concepts.most_common(8)))
    drug_items = sum(1 for i in items if i.service.kind == "drug")
    print(f"drug requests: {drug_items}, with a drug concept: "
          f"{sum(1 for i in items if i.service.ingredients)}")
    assert concepts["imaging-mri/lumbar-spine"] >= 20
    assert all(CONCEPT.match(k) for k in concepts)


# -- robustness -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_reads_into_a_service(text: str) -> None:
    s = read_service(text)
    assert CONCEPT.match(s.concept), s.concept
    assert s.kind == KINDS[s.category] and s.label
    for rng in (s.sessions, s.per_week, s.weeks, s.days, s.months):
        assert rng is None or (len(rng) == 2 and min(rng) >= 0)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([w for group in SAME for w in group]),
       st.sampled_from(["", " #30", " 2 times a week for 4 weeks", ", right", ", bilateral",
                        " (additional)", " x 12", " - retrospective (DOS 1/2/2016)"]))
def test_amounts_and_sides_never_change_the_concept(wording: str, tail: str) -> None:
    assert read_service(wording + tail).concept == read_service(wording).concept


def test_similar_cases_finds_earlier_cases_on_the_corpus(corpus_records: list,
                                                         tmp_path: Path) -> None:
    """Every case that shares a service concept with a case decided before it gets those
    earlier cases from ``similar-cases`` (figures printed with ``pytest -s``)."""
    from imr_graph.graph.ingest import ingest
    from imr_graph.graph.queries import resolve_query, run_query
    from imr_graph.graph.store import GraphStore

    dated = [r for r in corpus_records if r.decision_date and r.case_number]
    concepts = {r.case_key: {i.service.concept for i in r.items} for r in dated}
    earlier = {
        r.case_key: {o.case_key for o in dated if o.decision_date < r.decision_date
                     and concepts[o.case_key] & concepts[r.case_key]}
        for r in dated
    }
    query = resolve_query("similar-cases")
    found_any = found_service = 0
    with GraphStore(tmp_path / "store") as gs:
        paths = [Path(r.source.path) for r in corpus_records]
        assert all(res.ok for res in ingest(gs, paths))
        for r in dated:
            result = run_query(gs, query, {"case": r.case_key})
            rows = [{v.value: s[v].value for v in result.variables if s[v] is not None}
                    for s in result]
            found_any += bool(rows)
            with_items = {row["other"] for row in rows if int(row["items"]) > 0}
            found_service += bool(with_items)
            top = {row["other"] for row in rows}
            # the query returns at most 20 rows: the best-scoring earlier cases
            assert with_items <= earlier[r.case_key]
            assert bool(with_items) == bool(earlier[r.case_key]), r.case_key
            assert len(top) == 20 or earlier[r.case_key] <= top, r.case_key
    sharing = sum(1 for k in earlier if earlier[k])
    print(f"\n{len(dated)} dated cases; {sharing} share a service with an earlier case, "
          f"similar-cases finds earlier items for {found_service}; "
          f"finds any earlier case for {found_any}")
