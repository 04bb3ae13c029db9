"""``imr-graph export`` and ``imr-graph report``, the viewer page data and the report data."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.views.export import project
from imr_graph.views.report import CHARTS, report_data, report_html
from imr_graph.views.viewer import path_to_url, viewer_data, viewer_html

from .conftest import example_letters
from .export_fixtures import example_records, examples_store

runner = CliRunner()


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "store"
    examples_store(path).close()
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json", "cytoscape", "dot", "html"])
def test_export_each_format(store_path: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"graph.{fmt}"
    code, _, err = run("export", "--store", str(store_path), "--format", fmt, "--out", str(out))
    assert code == 0, err
    assert re.search(r"exported whole graph: \d+ nodes, \d+ edges as " + fmt, err)
    text = out.read_text(encoding="utf-8")
    nodes = int(re.search(r"(\d+) nodes", err).group(1))
    if fmt == "json":
        assert len(json.loads(text)["nodes"]) == nodes
    elif fmt == "cytoscape":
        assert len(json.loads(text)["elements"]["nodes"]) == nodes
    elif fmt == "graphml":
        assert nx.read_graphml(out).number_of_nodes() == nodes
    elif fmt == "dot":
        assert text.startswith("digraph")
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>")


def test_export_to_stdout_and_case(store_path: Path) -> None:
    key = example_records()[0].case_key
    code, out, err = run("export", "--store", str(store_path), "--case", key, "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    cases = [n for n in data["nodes"] if n["type"] == "WorkersCompCase"]
    assert [c["id"].rsplit("/", 1)[1] for c in cases] == [key]


def test_export_size_guard(store_path: Path) -> None:
    code, _, err = run("export", "--store", str(store_path), "-f", "html", "--max-nodes", "10")
    assert code == 2
    assert "over the --max-nodes limit of 10 for html" in err
    assert "--service" in err and err.count("\n") == 1


def test_export_errors(store_path: Path) -> None:
    code, _, err = run("export", "--store", str(store_path), "--service", "x", "--case", "y")
    assert code == 2 and "at most one" in err
    code, _, err = run("export", "--store", str(store_path), "--query", "SELECT * {?s ?p ?o}")
    assert code == 2 and "CONSTRUCT" in err
    code, _, err = run("export", "--store", str(store_path / "missing"))
    assert code == 2 and "no store" in err


def test_viewer_data_has_source_link_and_outcomes(store_path: Path) -> None:
    from imr_graph.graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        graph = project(gs.iter_quads())
    data = viewer_data(graph)
    cases = [n for n in data["nodes"] if n["type"] == "WorkersCompCase"]
    assert len(cases) == 2
    urls = sorted(c["source"] for c in cases)
    assert urls == sorted(Path(p).resolve().as_uri() for p in example_letters())
    outcomes = {i.outcome for r in example_records() for i in r.items}
    assert {e["outcome"] for e in data["edges"] if e["outcome"]} == outcomes
    assert sum(t["count"] for t in data["types"]) == graph.number_of_nodes()
    page = viewer_html(graph, title="a <b> title")
    assert "a &lt;b&gt; title" in page
    # nothing that loads from elsewhere
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    embedded = re.search(r'<script id="graph-data" type="application/json">(.*?)</script>',
                         page, re.S).group(1)
    assert "</" not in embedded
    assert len(json.loads(embedded)["nodes"]) == graph.number_of_nodes()


def test_path_to_url() -> None:
    assert path_to_url("/data/x.pdf") == "file:///data/x.pdf"
    assert path_to_url("file:///a/b.txt") == "file:///a/b.txt"
    assert path_to_url("https://example.org/x.pdf") is None
    assert path_to_url("not a path") is None


def test_report_data_matches_records(store_path: Path) -> None:
    from imr_graph.graph.store import GraphStore

    records = example_records()
    items = [i for r in records for i in r.items]
    with GraphStore(store_path, read_only=True) as gs:
        data = report_data(gs)
    s = data["summary"]
    assert s["cases"] == len(records) and s["items"] == len(items)
    assert s["upheld"] == sum(i.outcome == "Upheld" for i in items)
    assert s["overturned"] == sum(i.outcome == "Overturned" for i in items)
    assert s["partial"] == sum(i.authorized is not None or i.original_request is not None
                               for i in items)
    from collections import Counter

    from imr_graph.graph.mapping import normalise_label

    services = {r["service"]: r["items"] for r in data["services"]}
    assert services == Counter(normalise_label(i.service.label) for i in items)  # concepts
    months = {r["month"]: r["items"] for r in data["month"]}
    expected: dict[str, int] = {}
    for r in records:
        if r.decision_date:
            from imr_graph.graph.mapping import date_literal

            month = date_literal(r.decision_date).value[:7]
            expected[month] = expected.get(month, 0) + len(r.items)
    assert months == expected
    specialties = {r["specialty"] for r in data["specialty"]}
    assert specialties == {sp.lower() for r in records for sp in r.reviewer.specialties}
    for chart in CHARTS:
        for row in data[chart.key]:
            if "rate" in row:
                assert row["rate"] == pytest.approx(row["overturned"] / row["items"], abs=1e-3)


def test_report_html_and_command(store_path: Path, tmp_path: Path) -> None:
    code, out, err = run("report", "--store", str(store_path), "--out", str(tmp_path / "rep"))
    assert code == 0, err
    path = tmp_path / "rep" / "index.html"
    assert f"report -> {path}" in out
    page = path.read_text(encoding="utf-8")
    for chart in CHARTS:
        assert f'id="{chart.key}" data-query="{chart.query}"' in page
    assert "<script" not in page
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)


def test_report_html_escapes_and_handles_empty() -> None:
    page = report_html({"summary": {}, "services": [
        {"service": "<x> & y", "items": 2, "upheld": 1, "overturned": 1, "cases": 2}]})
    assert "&lt;x&gt; &amp; y" in page and "<x>" not in page
    assert page.count('class="empty"') == len(CHARTS) - 1 + 1  # other charts + partial


def test_viewer_types_labels_and_layers(store_path: Path) -> None:
    """Untyped nodes take their type from the ontology (named individuals) or from the range
    of the property pointing at them; provenance is its own layer; labels are words."""
    from imr_graph.graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        whole = project(gs.iter_quads())
        key = example_records()[0].case_key
        case = project(gs.iter_quads(gs.resolve_graph(key)))
    data = viewer_data(whole)
    by_label = {(n["type"], n["label"]) for n in data["nodes"]}
    assert ("Outcome", "Upheld") in by_label and ("GuidelineFamily", "MTUS") in by_label
    assert not [n for n in data["nodes"] if n["type"] == "Resource"]
    layers = {n["type"]: n["layer"] for n in data["nodes"]}
    assert layers["IngestActivity"] == layers["Citation"] == layers["SourceDocument"] == "provenance"
    assert layers["WorkersCompCase"] == layers["Service"] == layers["Diagnosis"] == "domain"
    type_names = {t["name"]: t["label"] for t in data["types"]}
    assert type_names["WorkersCompCase"] == "workers' compensation case"
    # one case's graph: shared concepts are untyped there; the property's range names them
    case_types = {n["label"]: n["type"] for n in viewer_data(case)["nodes"]}
    record = example_records()[0]
    assert all(case_types[" ".join(d.split()).lower()] == "Diagnosis" for d in record.diagnoses)
    assert not [t for t in case_types.values() if t == "Resource"]


def test_viewer_items_facets_and_overview(store_path: Path) -> None:
    from imr_graph.graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        graph = project(gs.iter_quads())
    records = example_records()
    data = viewer_data(graph)
    items = [i for r in records for i in r.items]
    assert len(data["items"]) == len(items)
    assert sorted(data["facets"]["outcome"]) == sorted({i.outcome for i in items})
    years = {r.decision_date[:4] for r in records if r.decision_date}
    assert set(data["facets"]["year"]) == years
    assert data["facets"]["system"] == ["workers' compensation case"]
    assert set(data["facets"]["family"]) <= {"MTUS", "ODG", "ACOEM", "other"}
    for row in data["items"]:
        node = data["nodes"][row[0]]
        assert node["item"] is not None and data["nodes"][row[1]]["type"] == "WorkersCompCase"
        assert data["facets"]["outcome"][row[2]] == node["outcome"]
        concepts = {data["concepts"][c][1] for c in row[7]}
        assert {"Service", "Diagnosis"} <= concepts
    small = viewer_data(graph, detail_limit=10)
    assert small["mode"] == "overview" and small["nodes"] == [] and small["edges"] == []
    assert small["items"] == [[-1, -1, *row[2:]] for row in data["items"]]


def test_viewer_html_inlines_pinned_libraries(store_path: Path) -> None:
    from imr_graph.graph.store import GraphStore
    from imr_graph.views.viewer import vendored_scripts

    with GraphStore(store_path, read_only=True) as gs:
        graph = project(gs.iter_quads())
    page = viewer_html(graph)
    libs = vendored_scripts()
    assert [name for name, _, _ in libs] == ["cytoscape", "layout-base", "cose-base",
                                             "cytoscape-fcose"]
    for name, version, text in libs:
        assert f"/* {name} {version}, MIT licence" in page
        assert text[:200] in page
        assert (Path(__import__("imr_graph").__file__).parent / "data" / "vendor"
                / f"{name}.LICENSE").is_file()
    vendor = Path(__import__("imr_graph").__file__).parent / "data" / "vendor"
    with (vendor / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            data = (vendor / row["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
            assert row["integrity"].startswith("sha512-") and row["version"].count(".") == 2
    assert "default-src 'none'" in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)
    assert page.count("<script") == page.count("</script>") == len(libs) + 2
    from imr_graph.errors import UsageError
    from imr_graph.views.export import render

    with pytest.raises(UsageError, match="viewer_html"):
        render(graph, "html")


def test_viewer_is_generic_over_new_concepts() -> None:
    """Concept nodes other modules add (a service concept with a kind, a diagnosis with a
    code, a concept in a SKOS scheme) get their kind, code and type without viewer changes."""
    ns = "https://example.org/"
    g = nx.MultiDiGraph()
    nodes = {
        "case": ("WorkersCompCase", {"decisionDate": "2016-12-01"}),
        "item": ("DisputedItem", {"textSpan": "MRI: Upheld"}),
        "upheld": ("Outcome", {}),
        "mri": ("ServiceConcept", {"serviceKind": "imaging"}),
        "dx": ("Diagnosis", {"icd10Code": "M54.5"}),
        "cat": ("Concept", {"notation": "imaging-mri"}),
        "scheme": ("ConceptScheme", {}),
    }
    for key, (t, attrs) in nodes.items():
        g.add_node(ns + key, iri=ns + key, type=t, types=f"Concept {t}",
                   label="Upheld" if key == "upheld" else key, **attrs)
    for u, v, p in [("case", "item", "item"), ("item", "case", "inCase"),
                    ("item", "upheld", "outcome"), ("item", "mri", "serviceConcept"),
                    ("case", "dx", "diagnosis"), ("mri", "cat", "broadMatch"),
                    ("cat", "scheme", "inScheme")]:
        g.add_edge(ns + u, ns + v, key=p, label=p, predicate=ns + p)
    data = viewer_data(g)
    assert data["facets"]["kind"] == ["imaging"]
    assert data["facets"]["year"] == ["2016"]
    by_label = {n["label"]: n for n in data["nodes"]}
    assert by_label["dx"]["code"] == "M54.5" and by_label["cat"]["code"] == "imaging-mri"
    assert by_label["cat"]["type"] == "scheme:scheme"
    row = data["items"][0]
    assert {data["concepts"][c][0] for c in row[7]} == {"mri", "dx"}
