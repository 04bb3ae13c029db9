"""precedents, show: the library and the CLI, on the seed examples and on the corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.graph.precedents import (
    COLUMNS,
    case_page,
    find_precedents,
    icd10_categories,
    service_id,
)
from imr_graph.graph.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "dwc"
runner = CliRunner()

#: The letters of the corpus deciding an MRI of the lumbar spine (read by hand).
LUMBAR_MRI = sorted(["CM16-0230651", "CM16-0234464", "CM16-0236134", "CM16-0239479", "CM16-0240518", "CM16-0240900", "CM16-0242419", "CM16-0243453", "CM16-0245295", "CM16-0248698", "CM17-0003284", "CM17-0003917", "CM17-0004039", "CM17-0005246", "CM17-0006634", "CM17-0008241", "CM17-0008519", "CM17-0010364", "CM17-0012614", "CM17-0017104", "CM17-0018054", "CM17-0020243"])


@pytest.fixture(scope="module")
def examples_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("prec") / "store"
    result = runner.invoke(app, ["ingest", str(ROOT / "examples"), "--store", str(where)])
    assert result.exit_code == 0, result.output
    return where


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip("corpus absent")
    where = tmp_path_factory.mktemp("precc") / "store"
    result = runner.invoke(app, ["ingest", str(CORPUS), "--store", str(where), "-j", "1",
                                 "--link"])
    assert result.exit_code in (0, 1), result.output
    return where


def test_words_become_concepts_and_categories() -> None:
    assert service_id("lumbar MRI") == "imaging-mri/lumbar-spine"
    assert service_id("imaging-mri/Lumbar-Spine") == "imaging-mri/lumbar-spine"
    assert icd10_categories(["M54.16", "lumbar radiculopathy", "m51.26"]) == ["M54", "M51"]


def test_precedents_on_examples_widen_to_category(examples_store: Path) -> None:
    with GraphStore(examples_store, read_only=True) as gs:
        # The refill letter has no decision date, so it is no precedent: the search widens
        # to the surgery category and finds the pump implantation of CM15-0171547.
        found = find_precedents(gs, "intrathecal pump refill", least=1)
        assert found.scope == "category"
        assert [r["case"] for r in found.rows] == ["CM15-0171547"]
        assert found.rows[0]["outcome"] == "Upheld"
        assert found.rows[0]["why"] == "same category"
        same = find_precedents(gs, "surgery/intrathecal-pump", least=1)
        assert same.scope == "service" and same.rows[0]["why"] == "same service"
        assert same.rows[0]["score"] == 3 and same.rate()[:2] == (0.0, 0.0)
        # Nothing was decided before 2000: no rows at any level.
        assert find_precedents(gs, "intrathecal pump", before="2000-01-01").rows == []


def test_precedents_checked_by_hand_on_corpus(corpus_store: Path) -> None:
    """Lumbar MRI in the corpus, checked by hand against the letters (each letter's
    "<request>: Upheld|Overturned" lines naming an MRI of the lumbar / lumbosacral spine):
    22 decisions in 22 letters, one overturned (CM17-0008519, "MRI of the lumbosacral spine
    without contrast, 1.5 Tesla or higher only: Overturned"); with a lumbar radiculopathy
    (M54) the letters whose worker has an M54 diagnosis come first."""
    with GraphStore(corpus_store, read_only=True) as gs:
        found = find_precedents(gs, "MRI of the lumbar spine",
                                diagnoses=["lumbar radiculopathy"])
        assert found.scope == "service" and found.categories == ["M54"]
        assert found.items == 22 and found.overturned == 1
        over = [r for r in found.rows if r["outcome"] == "Overturned"]
        assert [r["case"] for r in over] == ["CM17-0008519"]
        assert sorted(r["case"] for r in found.rows) == LUMBAR_MRI
        scores = [r["score"] for r in found.rows]
        assert scores == sorted(scores, reverse=True)
        assert all(r["concept"] == "imaging-mri/lumbar-spine" for r in found.rows)
        assert all(("M54" in r["why"]) == (r["score"] >= 5) for r in found.rows)
        low, high = found.rate()[1:]
        assert low < 1 / 22 < high
        early = find_precedents(gs, "imaging-mri/lumbar-spine", before="2017-01-01",
                                least=1)
        assert early.rows and all(r["decided"] < "2017-01-01" for r in early.rows)


def test_precedents_cli_formats(examples_store: Path) -> None:
    args = ["precedents", "surgery/intrathecal-pump", "--store", str(examples_store)]
    out = runner.invoke(app, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["service"] == "surgery/intrathecal-pump" and data["items"] == 1
    table = runner.invoke(app, args)
    assert "1 decisions, 0 overturned, rate 0.000" in table.output
    md = runner.invoke(app, [*args, "--format", "md"])
    assert md.output.count("| CM15-0171547 |") == 1
    csv_out = runner.invoke(app, [*args, "--format", "csv"])
    assert csv_out.output.splitlines()[0].startswith("case,decided,outcome,request")
    bad = runner.invoke(app, [*args, "--before", "yesterday"])
    assert bad.exit_code == 2


def test_show_case(examples_store: Path) -> None:
    with GraphStore(examples_store, read_only=True) as gs:
        page = case_page(gs, "SHA256-19C97D9BD2C2569C", excerpt=100)
    assert page["case"] == "sha256-19c97d9bd2c2569c"
    assert page["age"] == 66 and page["sex"] == "Male"
    assert {d["diagnosis"] for d in page["diagnoses"]} >= {"lumbar radiculopathy"}
    item = page["items"][0]
    assert item["outcome"] == "Upheld" and item["service"] == "surgery/intrathecal-pump-refill"
    assert "implantable devices" in item["reviewer"]
    assert len(item["rationale"]) <= 100 and item["rationale"].endswith("…")
    text = runner.invoke(app, ["show", "sha256-19c97d9bd2c2569c", "--store",
                               str(examples_store)])
    assert text.exit_code == 0 and "Item 1: Pump refill" in text.output
    md = runner.invoke(app, ["show", "sha256-19c97d9bd2c2569c", "-f", "md", "--store",
                             str(examples_store)])
    assert md.output.startswith("# sha256-19c97d9bd2c2569c")
    missing = runner.invoke(app, ["show", "CM00-0000000", "--store", str(examples_store)])
    assert missing.exit_code != 0 and "imr-graph: error:" in missing.output


def test_show_corpus_case_codes(corpus_store: Path) -> None:
    with GraphStore(corpus_store, read_only=True) as gs:
        page = case_page(gs, "CM16-0248471")
    assert page["decided"] == "2017-02-02" and len(page["items"]) == 6
    codes = {c for d in page["diagnoses"] for c in d["codes"]}
    assert "M54.50" in codes


def test_precedents_canned_query(handmade: GraphStore) -> None:
    """The canned query "precedents" on the hand-made cases (tests/graph_records.py), and
    the widening: A and B both decided an MRI of the lumbar spine citing Special Studies."""
    from imr_graph.graph.queries import resolve_query, run_query

    got = find_precedents(handmade, "imaging-mri/lumbar-spine", section="special studies")
    # D has no decision date: never a precedent. Widening to the category and kind adds
    # no rows, so the service level is kept.
    assert [(r["case"], r["outcome"], r["score"], r["why"]) for r in got.rows] == [
        ("CM16-0000002", "Overturned", 5, "same service; section special studies"),
        ("CM16-0000001", "Upheld", 5, "same service; section special studies")]
    assert got.scope == "service" and (got.items, got.overturned) == (2, 1)
    norco = find_precedents(handmade, "Norco 10/325mg #60", before="2017-02-01")
    assert [(r["case"], r["outcome"]) for r in norco.rows] == [("CM16-0000001", "Overturned")]
    acu = find_precedents(handmade, "acupuncture", least=2)
    assert acu.scope == "kind"
    assert [(r["case"], r["match"], r["score"]) for r in acu.rows] == [
        ("CM17-0000003", "service", 3), ("CM16-0000001", "kind", 0)]
    # The same rows over a remote endpoint's binding (VALUES in every group).
    import pyoxigraph as ox

    from imr_graph.graph.remote import bind_values

    params = {"service": "imaging-mri/lumbar-spine", "scope": "service", "categories": "-",
              "section": "-", "before": "9999-12-31"}
    text = bind_values(resolve_query("precedents").text,
                       {k: ox.Literal(v) for k, v in params.items() if k != "before"}
                       | {"before": ox.Literal("9999-12-31", datatype=ox.NamedNode(
                           "http://www.w3.org/2001/XMLSchema#date"))})
    assert [s["case"].value for s in handmade.query(text)] == ["CM16-0000002", "CM16-0000001"]
    direct = run_query(handmade, resolve_query("precedents"), params)
    assert [s["case"].value for s in direct] == ["CM16-0000002", "CM16-0000001"]


ASKS = [
    {"service": "imaging-mri/lumbar-spine", "diagnoses": ["M54", "M51.16"]},
    {"service": "imaging-mri/lumbar-spine", "section": "special studies", "scope": "kind"},
    {"service": "Norco 10/325mg #60", "section": "opioids", "before": "2017-02-01"},
    {"service": "physical therapy", "diagnoses": ["M54.5", "cervical strain"], "least": 50},
    {"service": "intrathecal pump refill", "least": 1},
    {"service": "acupuncture", "least": 2},
    {"service": "surgery/intrathecal-pump", "scope": "category"},
    {"service": "no-such/service"},
]


def _comparable(rows: list[dict]) -> list[tuple]:
    """Rows with the sections as a set and the ICD-10 categories of "why" sorted (the
    order GROUP_CONCAT gives them is the engine's)."""
    out = []
    for r in rows:
        why = re.sub(r"ICD-10 ([A-Z0-9 ]+)", lambda m: "ICD-10 " + " ".join(
            sorted(m[1].split())), r["why"])
        out.append((*(r[c] for c in COLUMNS if c not in ("why", "sections")), why,
                    frozenset(filter(None, r["sections"].split("; ")))))
    return out


@pytest.mark.parametrize("where", ["handmade", "examples_store", "corpus_store"])
def test_index_answers_as_the_canned_query(where: str, request: pytest.FixtureRequest) -> None:
    """The index beside the store (milliseconds at 100k letters) and the canned query
    (what runs over --endpoint) give the same scope, counts and ranked rows."""
    given = request.getfixturevalue(where)
    gs = given if isinstance(given, GraphStore) else GraphStore(given, read_only=True)
    try:
        for ask in ASKS:
            fast = find_precedents(gs, **ask, use_index=True)
            slow = find_precedents(gs, **ask, use_index=False)
            assert (fast.scope, fast.total, fast.items, fast.overturned) == (
                slow.scope, slow.total, slow.items, slow.overturned), ask
            assert _comparable(fast.rows) == _comparable(slow.rows), ask
            top = find_precedents(gs, **ask, use_index=True, limit=3)
            assert _comparable(top.rows) == _comparable(slow.rows[:3])
            assert (top.total, top.items) == (slow.total, slow.items)
    finally:
        if gs is not given:
            gs.close()


def test_index_follows_link_and_reingest(tmp_path: Path) -> None:
    """The categories a precedent shares come from `imr-graph link`: the index sees a
    link, a re-ingest and a drop without --reindex."""
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", str(ROOT / "examples"), "--store", str(store)]
                         ).exit_code == 0
    with GraphStore(store, read_only=True) as gs:
        before = find_precedents(gs, "surgery/intrathecal-pump", diagnoses=["G89.4"])
    assert runner.invoke(app, ["link", "--store", str(store)]).exit_code == 0
    with GraphStore(store, read_only=True) as gs:
        after = find_precedents(gs, "surgery/intrathecal-pump", diagnoses=["G89.4"])
        slow = find_precedents(gs, "surgery/intrathecal-pump", diagnoses=["G89.4"],
                               use_index=False)
    assert _comparable(after.rows) == _comparable(slow.rows)
    assert [r["why"] for r in before.rows] != [r["why"] for r in after.rows]
    assert runner.invoke(app, ["drop", "CM15-0171547", "--store", str(store)]).exit_code == 0
    with GraphStore(store, read_only=True) as gs:
        assert find_precedents(gs, "surgery/intrathecal-pump").total == 0
