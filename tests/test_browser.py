"""The HTML viewer and the report in a real headless Chromium, driven by Playwright for Python.

Playwright drives the system's Chromium (Debian's package at ``/usr/bin/chromium``, which
``scripts/ensure-chromium.sh`` installs when missing and root; ``make test`` runs it): no
browser is downloaded. The tests skip, saying why, only when no Chromium is installed.
Every page is opened with network requests recorded and aborted: a page must make none but
its own file, and log no console error. Screenshots go to ``tests/artifacts/``
(git-ignored), the corpus ones included.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from imr_graph.views.export import OUTCOME_COLOURS, project
from imr_graph.views.report import CHARTS, write_report
from imr_graph.views.viewer import viewer_data, viewer_html

from .conftest import CORPUS, corpus_pdfs, example_letters
from .export_fixtures import example_records, examples_store
from .graph_records import handmade_cases

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def find_chromium() -> str | None:
    """The system Chromium: ``$CHROMIUM``, ``/usr/bin/chromium`` or one on ``PATH``."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = find_chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (run scripts/ensure-chromium.sh as root: apt-get "
    "install chromium)",
)


@dataclass
class Watched:
    """A page with what it logged and asked for."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def assert_offline(self) -> None:
        assert self.console_errors == []
        assert [r for r in self.requests if r != self.url] == [], "the page made network requests"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield b
        b.close()


def open_page(browser: Any, path: Path, *, width: int = 1400, height: int = 900,
              ready: bool = True) -> Watched:
    """Open ``path`` with requests recorded (and aborted unless it is the page itself)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watched = Watched(page, path.as_uri())
    page.on("console", lambda m: watched.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.console_errors.append(str(e)))
    page.on("request", lambda r: watched.requests.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url == watched.url
               else route.abort())
    page.goto(watched.url)
    if ready:
        page.wait_for_function("document.body.getAttribute('data-ready') === 'true'",
                               timeout=120_000)
    return watched


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "store"
    examples_store(path).close()
    return path


@pytest.fixture(scope="module")
def handmade_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from imr_graph.graph.store import GraphStore

    path = tmp_path_factory.mktemp("browser-handmade") / "store"
    with GraphStore(path) as gs:
        for record, text in handmade_cases():
            gs.replace_case(record, text)
    return path


def _graph(store_path: Path, case: str | None = None) -> nx.MultiDiGraph:
    from imr_graph.graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        return project(gs.iter_quads(gs.resolve_graph(case) if case else None))


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r},{g},{b})"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _domain_counts(data: dict[str, Any]) -> tuple[int, int]:
    domain = {i for i, n in enumerate(data["nodes"]) if n["layer"] == "domain"}
    return len(domain), sum(1 for e in data["edges"] if e["s"] in domain and e["t"] in domain)


def test_viewer_in_browser(browser: Any, store_path: Path, tmp_path: Path) -> None:
    graph = _graph(store_path)
    data = viewer_data(graph)
    w = open_page(browser, _write(tmp_path, "viewer.html", viewer_html(graph, title="examples")))
    assert w.evaluate("imrViewer.view()") == "detail"

    # the domain view by default: provenance nodes hidden
    n, m = _domain_counts(data)
    assert 0 < n < graph.number_of_nodes()
    assert w.evaluate("imrViewer.renderedNodes()") == n
    assert w.evaluate("imrViewer.renderedEdges()") == m
    assert w.evaluate("document.getElementById('counts').textContent").startswith(
        f"{n} nodes \u00b7 {m} edges")
    # item edges coloured by outcome; real labels and types in the legend
    colours = w.evaluate("[...new Set(imrViewer.cy.edges('[?outcome]').not('.hidden')"
                         ".map(e => e.style('line-color').replace(/ /g, '')))]")
    outcomes = {i.outcome for r in example_records() for i in r.items}
    assert sorted(colours) == sorted(_rgb(OUTCOME_COLOURS[o]) for o in outcomes)
    legend = w.evaluate("[...document.querySelectorAll('#legend li[data-type]')].map(li => li.textContent)")
    assert any(t.startswith("workers' compensation case") for t in legend)
    assert any(t.startswith("guideline family") for t in legend)  # imr:MTUS, typed from the ontology
    assert not any(t.startswith(("other", "Resource")) for t in legend)
    labels = w.evaluate("imrViewer.cy.nodes().not('.hidden').map(n => n.data('display'))")
    assert "Upheld" in labels and "MTUS" in labels

    # the provenance toggle shows every node
    w.page.check("#provenance-toggle")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")
    assert w.evaluate("imrViewer.renderedNodes()") == graph.number_of_nodes()
    assert w.evaluate("imrViewer.renderedEdges()") == graph.number_of_edges()
    w.page.uncheck("#provenance-toggle")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")

    # search highlights matching nodes
    key = example_records()[0].case_key
    expected = sum(1 for node in data["nodes"] if node["layer"] == "domain" and (
        key.lower() in (node["label"] + node["id"] + node["code"]).lower()))
    w.page.fill("#search", key)
    assert w.evaluate("imrViewer.cy.nodes('.match').length") == expected
    assert w.evaluate("document.getElementById('match-count').textContent") == f"{expected} matches"
    w.page.fill("#search", "")
    assert w.evaluate("imrViewer.cy.nodes('.match').length") == 0

    # a real mouse click on a case node fills the panel, focuses its neighbourhood
    case_iri = next(node["id"] for node in data["nodes"]
                    if node["type"] == "WorkersCompCase" and key in node["id"])
    x, y = w.evaluate("k => imrViewer.nodePoint(k)", case_iri)
    w.page.mouse.click(x, y)
    assert w.evaluate("document.querySelector('#panel h2').textContent") == graph.nodes[case_iri]["label"]
    assert w.evaluate("document.querySelector('#panel a.source').textContent") == (
        "Open the source letter")
    href = w.evaluate("document.querySelector('#panel a.source').href")
    assert href in {p.resolve().as_uri() for p in example_letters()}
    degree = len(set(graph.successors(case_iri)) | set(graph.predecessors(case_iri)))
    focused = w.evaluate("imrViewer.cy.nodes().not('.hidden').not('.faded').length")
    assert 1 < focused <= degree + 1
    ARTIFACTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "viewer-examples.png"))
    assert (ARTIFACTS / "viewer-examples.png").stat().st_size > 5000
    # clicking an item shows its decision sentence
    item = next(node for node in data["nodes"] if node.get("item") is not None)
    x, y = w.evaluate("k => imrViewer.nodePoint(k)", item["id"])
    w.page.mouse.click(x, y)
    assert w.evaluate("document.querySelector('#panel h2').textContent") == item["label"]
    decision = w.evaluate("document.querySelector('#panel .decision').textContent")
    quoted = " ".join(item["attrs"]["textSpan"].split())
    rationale = " ".join(item["attrs"]["rationale"].split())
    assert quoted.startswith(decision) and item["outcome"] in decision
    assert rationale[:40] not in decision and len(decision) < len(quoted)
    w.assert_offline()


def test_viewer_filters(browser: Any, handmade_path: Path, tmp_path: Path) -> None:
    graph = _graph(handmade_path)
    orphan = "https://example.org/vocabulary/unused-diagnosis"  # vocabulary no case uses
    graph.add_node(orphan, iri=orphan, type="Diagnosis", types="Concept Diagnosis",
                   label="unused diagnosis")
    data = viewer_data(graph)
    assert data["facets"]["outcome"] and set(data["facets"]["outcome"]) == {"Upheld", "Overturned"}
    w = open_page(browser, _write(tmp_path, "filters.html", viewer_html(graph, title="handmade")))
    all_nodes = w.evaluate("imrViewer.renderedNodes()")
    assert all_nodes == _domain_counts(data)[0] - 1
    items = [n for n in data["nodes"] if n.get("item") is not None]
    by_id = {n["id"]: n for n in data["nodes"]}

    def shown(iri: str) -> bool:
        return w.evaluate("k => !imrViewer.cy.getElementById('n' + k).hasClass('hidden')",
                          data["nodes"].index(by_id[iri]))

    assert not shown(orphan)
    w.page.check("#provenance-toggle")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")
    assert shown(orphan) and w.evaluate("imrViewer.renderedNodes()") == graph.number_of_nodes()
    w.page.uncheck("#provenance-toggle")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")

    # outcome: only the overturned items (and their cases) stay
    w.page.select_option("#filter-outcome", label="Overturned")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")
    overturned = {n["id"] for n in items if n["outcome"] == "Overturned"}
    assert overturned and all(shown(i) for i in overturned)
    assert not any(shown(n["id"]) for n in items if n["id"] not in overturned)
    assert w.evaluate("imrViewer.renderedNodes()") < all_nodes
    # year: 2017 decisions only (case D has no date: hidden)
    w.page.select_option("#filter-outcome", label="all")
    w.page.select_option("#filter-year", label="2017")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")
    cases = [n for n in data["nodes"] if n.get("case")]
    years = {c["id"]: str(c["attrs"].get("decisionDate", ""))[:4] for c in cases}
    assert {c for c, y in years.items() if y == "2017"} == {c["id"] for c in cases if shown(c["id"])}
    w.page.select_option("#filter-year", label="all")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")
    assert w.evaluate("imrViewer.renderedNodes()") == all_nodes
    w.page.screenshot(path=str(ARTIFACTS / "viewer-handmade.png"))
    w.assert_offline()


def _overview_expectation(data: dict[str, Any]) -> int:
    """Nodes the overview draws: the outcomes, and per concept type its most used concepts
    (at most max(5, 90 // types) each; provenance types left out)."""
    layer = {t["name"]: t["layer"] for t in data["types"]}
    used = Counter(c for row in data["items"] for c in row[7])
    per_type = Counter(data["concepts"][c][1] for c in used if layer.get(data["concepts"][c][1]) == "domain")
    keep = max(5, 90 // max(1, len(per_type)))
    outcomes = {row[2] for row in data["items"]}
    return len(outcomes) + sum(min(keep, n) for n in per_type.values())


def test_viewer_overview(browser: Any, handmade_path: Path, tmp_path: Path) -> None:
    """Above the detail limit the page aggregates: concepts and outcomes with counts."""
    graph = _graph(handmade_path)
    data = viewer_data(graph, detail_limit=10)
    assert data["mode"] == "overview" and data["nodes"] == []
    page = viewer_html(graph, title="overview", detail_limit=10)
    w = open_page(browser, _write(tmp_path, "overview.html", page))
    assert w.evaluate("imrViewer.view()") == "overview"
    assert w.evaluate("imrViewer.renderedNodes()") == _overview_expectation(data)
    mri = next(c[0] for c in data["concepts"] if c[1] == "Service" and "mri" in c[0])
    x, y = w.evaluate("k => imrViewer.nodePoint(k)", mri)
    w.page.mouse.click(x, y)
    assert w.evaluate("document.querySelector('#panel h2').textContent") == mri
    cells = w.evaluate("Object.fromEntries([...document.querySelectorAll('#panel tr')]"
                       ".map(r => [r.cells[0].textContent, r.cells[1].textContent]))")
    mri_items = [i for r, _ in handmade_cases() for i in r.items if "mri" in i.request.lower()]
    assert cells["disputed items"] == str(len(mri_items))
    assert cells["Upheld"] == str(sum(i.outcome == "Upheld" for i in mri_items))
    w.page.select_option("#filter-outcome", label="Overturned")
    w.page.wait_for_function("document.body.getAttribute('data-ready') === 'true'")
    assert w.evaluate("document.getElementById('counts').textContent").endswith(
        f"{sum(i.outcome == 'Overturned' for r, _ in handmade_cases() for i in r.items)} of "
        f"{len(data['items'])} items")
    w.assert_offline()


@pytest.mark.corpus
@pytest.mark.slow
def test_viewer_corpus_screenshots(browser: Any, tmp_path: Path) -> None:
    """The 120 corpus letters: the corpus-wide view (aggregated) and one case, as screenshots."""
    pdfs = corpus_pdfs()
    if not pdfs:
        pytest.skip(f"{CORPUS} is absent")
    from imr_graph.graph.ingest import ingest
    from imr_graph.graph.store import GraphStore

    store = tmp_path / "store"
    with GraphStore(store) as gs:
        assert all(r.ok for r in ingest(gs, [CORPUS / "dwc"]))
    graph = _graph(store)
    w = open_page(browser, _write(tmp_path, "corpus.html", viewer_html(graph, title="corpus")),
                  width=1600, height=1000)
    assert w.evaluate("imrViewer.view()") == ("overview" if graph.number_of_nodes() > 2500
                                              else "detail")
    w.page.screenshot(path=str(ARTIFACTS / "viewer-corpus.png"))
    w.assert_offline()

    key = sorted(p.stem for p in pdfs)[0]
    case = _graph(store, key) if key.startswith("CM") else None
    if case is None:
        pytest.skip("corpus file names are not case numbers")
    w = open_page(browser, _write(tmp_path, "case.html", viewer_html(case, title=f"case {key}")))
    assert w.evaluate("imrViewer.view()") == "detail"
    w.page.screenshot(path=str(ARTIFACTS / "viewer-corpus-case.png"))
    w.assert_offline()


def test_report_in_browser(browser: Any, store_path: Path, tmp_path: Path) -> None:
    from imr_graph.graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        path = write_report(gs, tmp_path / "report")
    w = open_page(browser, path, width=1200, height=2000, ready=False)
    assert w.evaluate("document.querySelectorAll('figure.chart').length") == len(CHARTS) + 1
    assert w.evaluate("document.querySelectorAll('figure.chart rect.bar').length") > 0
    # every chart with rows drew something of non-zero size
    drawn = w.evaluate(
        "[...document.querySelectorAll('figure.chart')].filter(f => +f.dataset.rows > 0)"
        ".every(f => f.querySelector('svg').getBoundingClientRect().width > 0)")
    assert drawn is True
    ARTIFACTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "report-examples.png"), full_page=True)
    w.assert_offline()


def test_harness_catches_script_errors_and_requests(browser: Any, tmp_path: Path) -> None:
    """The harness itself: a page with a script error and a remote request is caught."""
    bad = _write(tmp_path, "bad.html",
                 "<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/x.png'>"
                 "<script>console.error('boom'); undefinedThing();</script></body></html>")
    w = open_page(browser, bad, ready=False)
    w.page.wait_for_load_state("load")
    assert any("boom" in e for e in w.console_errors)
    assert any("undefinedThing" in e for e in w.console_errors)
    assert any(r.startswith("http://127.0.0.1") for r in w.requests)
    with pytest.raises(AssertionError):
        w.assert_offline()


def test_report_keeps_the_systems_apart_with_interval_bars(browser: Any,
                                                           tmp_path: Path) -> None:
    """Letters and DMHC in sections of their own, every rate with its interval drawn."""
    from imr_graph.dmhc.ingest import ingest_dmhc
    from imr_graph.views.report import DMHC_CHARTS

    fixtures = Path(__file__).parent / "fixtures" / "dmhc"
    with examples_store(tmp_path / "store") as gs:
        for name in ("semicolon.csv", "official_comma.csv", "newer_columns.csv"):
            assert ingest_dmhc(gs, fixtures / name).ok
        path = write_report(gs, tmp_path / "report")
    w = open_page(browser, path, width=1200, height=2400, ready=False)
    heads = w.evaluate("[...document.querySelectorAll('h2.system')].map(h => h.textContent)")
    assert heads == ["Workers' compensation letters (DWC IMR)",
                     "Health plans (DMHC IMR open data)"]
    cards = w.evaluate("[...document.querySelectorAll('section.system')].map(s => "
                       "[...s.querySelectorAll('.card b')].map(b => b.textContent)[0])")
    assert cards == ["2", "12"]  # cases: each system its own
    assert w.evaluate("document.querySelectorAll('figure.chart').length") == (
        len(CHARTS) + 1 + len(DMHC_CHARTS))
    # each interval is drawn with a visible extent and its rate dot lies on it
    spans = w.evaluate(
        "[...document.querySelectorAll('line.ci')].map(l => { const b = l.getBoundingClientRect();"
        " return Math.max(b.width, b.height); })")
    assert spans and all(s > 0 for s in spans)
    on_line = w.evaluate(
        "[...document.querySelectorAll('g')].filter(g => g.querySelector('line.ci')).every(g => {"
        " const l = g.querySelector('line.ci').getBoundingClientRect();"
        " const d = g.querySelector('circle.rate').getBoundingClientRect();"
        " const x = d.x + d.width / 2, y = d.y + d.height / 2;"
        " return x >= l.left - 1 && x <= l.right + 1 && y >= l.top - 1 && y <= l.bottom + 1; })")
    assert on_line is True
    assert w.evaluate("document.querySelectorAll('#dmhc-treatment line.ci').length") > 0
    w.evaluate("document.getElementById('system-dmhc').scrollIntoView()")
    ARTIFACTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "report-dmhc.png"))
    w.assert_offline()
