"""The HTML viewer and the report in a real headless Chromium (Debian's package).

``scripts/ensure-chromium.sh`` (run by ``make test``) installs it when missing and root; the
tests skip with that reason only when no Chromium is installed. The browser is driven over
the DevTools protocol on a pipe (``tests/cdp.py``), with a fresh profile and no network.
Screenshots go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from imr_graph.export import OUTCOME_COLOURS, project, render
from imr_graph.report import CHARTS, write_report

from .cdp import Browser, Page, find_chromium
from .conftest import example_letters
from .export_fixtures import example_records, examples_store

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = find_chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (run scripts/ensure-chromium.sh as root: apt-get "
    "install chromium)",
)


@pytest.fixture(scope="module")
def browser() -> Browser:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as b:
        yield b


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "store"
    examples_store(path).close()
    return path


def _graph(store_path: Path) -> nx.MultiDiGraph:
    from imr_graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        return project(gs.iter_quads())


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _assert_offline(page: Page, url: str) -> None:
    page.pump()
    assert page.console_errors == []
    assert [r for r in page.requests if r != url] == [], "the page made network requests"


def test_viewer_in_browser(browser: Browser, store_path: Path, tmp_path: Path) -> None:
    graph = _graph(store_path)
    html_path = tmp_path / "viewer.html"
    html_path.write_text(render(graph, "html", title="examples"), encoding="utf-8")
    url = html_path.as_uri()
    page = Page(browser)
    page.goto(url)
    page.wait_for("document.body.getAttribute('data-ready') === 'true'", timeout=60)

    n, m = graph.number_of_nodes(), graph.number_of_edges()
    assert page.evaluate("imrViewer.renderedNodes()") == n
    assert page.evaluate("imrViewer.renderedEdges()") == m
    assert page.evaluate("document.getElementById('counts').textContent") == (
        f"{n} nodes \u00b7 {m} edges")
    outcome_edges = page.evaluate("document.querySelectorAll('line.edge.outcome').length")
    assert outcome_edges > 0
    colours = page.evaluate("[...new Set([...document.querySelectorAll('line.edge.outcome')]"
                            ".map(l => getComputedStyle(l).stroke))]")
    outcomes = {i.outcome for r in example_records() for i in r.items}
    assert sorted(colours) == sorted(_rgb(OUTCOME_COLOURS[o]) for o in outcomes)

    # search highlights matching nodes
    case_key = next(d["caseKey"] for _, d in graph.nodes(data=True) if d["type"] == "WorkersCompCase")
    expected = sum(1 for node, d in graph.nodes(data=True)
                   if case_key.lower() in d["label"].lower() or case_key.lower() in node.lower())
    search = ("(q => { const s = document.getElementById('search'); s.value = q;"
              " s.dispatchEvent(new Event('input')); })")
    page.evaluate(f"{search}({json.dumps(case_key)})")
    assert page.evaluate("document.querySelectorAll('circle.node.match').length") == expected
    assert page.evaluate("document.getElementById('match-count').textContent") == f"{expected} matches"
    page.evaluate(f"{search}('')")
    assert page.evaluate("document.querySelectorAll('circle.node.match').length") == 0

    # a real mouse click on a case node opens its properties and the source-letter link
    case_iri = next(node for node, d in graph.nodes(data=True)
                    if d["type"] == "WorkersCompCase" and d["caseKey"] == case_key)
    index = list(graph.nodes).index(case_iri)
    box = page.evaluate(
        f"(() => {{ const r = document.querySelector('circle[data-i=\"{index}\"]')"
        ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    page.click(*box)
    assert page.evaluate("document.querySelector('#panel h2').textContent") == graph.nodes[case_iri]["label"]
    href = page.evaluate("document.querySelector('#panel a.source').href")
    letters = {p.resolve().as_uri() for p in example_letters()}
    assert href in letters
    page.screenshot(ARTIFACTS / "viewer-examples.png")
    _assert_offline(page, url)
    assert (ARTIFACTS / "viewer-examples.png").stat().st_size > 5000


def test_report_in_browser(browser: Browser, store_path: Path, tmp_path: Path) -> None:
    from imr_graph.store import GraphStore

    with GraphStore(store_path, read_only=True) as gs:
        path = write_report(gs, tmp_path / "report")
    url = path.as_uri()
    page = Page(browser)
    page.goto(url)
    figures = page.evaluate("document.querySelectorAll('figure.chart').length")
    assert figures == len(CHARTS) + 1
    bars = page.evaluate("document.querySelectorAll('figure.chart rect.bar').length")
    assert bars > 0
    # every chart with rows drew something of non-zero size
    drawn = page.evaluate(
        "[...document.querySelectorAll('figure.chart')].filter(f => +f.dataset.rows > 0)"
        ".every(f => f.querySelector('svg').getBoundingClientRect().width > 0)")
    assert drawn is True
    page.send("Emulation.setDeviceMetricsOverride",
              {"width": 1200, "height": 2000, "deviceScaleFactor": 1, "mobile": False})
    page.screenshot(ARTIFACTS / "report-examples.png")
    _assert_offline(page, url)


def test_viewer_reports_script_errors(browser: Browser, tmp_path: Path) -> None:
    """The harness itself: a page with a script error and a remote request is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/x.png'>"
                   "<script>console.error('boom'); undefinedThing();</script></body></html>")
    page = Page(browser)
    page.goto(bad.as_uri())
    page.pump()
    assert any("boom" in e for e in page.console_errors)
    assert any("undefinedThing" in e for e in page.console_errors)
    assert any(r.startswith("http://127.0.0.1") for r in page.requests)


def test_report_keeps_the_systems_apart_with_interval_bars(browser: Browser,
                                                           tmp_path: Path) -> None:
    """Letters and DMHC in sections of their own, every rate with its interval drawn."""
    from imr_graph.dmhc_ingest import ingest_dmhc
    from imr_graph.report import DMHC_CHARTS

    fixtures = Path(__file__).parent / "fixtures" / "dmhc"
    with examples_store(tmp_path / "store") as gs:
        for name in ("semicolon.csv", "official_comma.csv", "newer_columns.csv"):
            assert ingest_dmhc(gs, fixtures / name).ok
        path = write_report(gs, tmp_path / "report")
    url = path.as_uri()
    page = Page(browser)
    page.goto(url)
    page.send("Emulation.setDeviceMetricsOverride",
              {"width": 1200, "height": 2400, "deviceScaleFactor": 1, "mobile": False})
    heads = page.evaluate("[...document.querySelectorAll('h2.system')].map(h => h.textContent)")
    assert heads == ["Workers' compensation letters (DWC IMR)",
                     "Health plans (DMHC IMR open data)"]
    cards = page.evaluate("[...document.querySelectorAll('section.system')].map(s => "
                          "[...s.querySelectorAll('.card b')].map(b => b.textContent)[0])")
    assert cards == ["2", "12"]  # cases: each system its own
    assert page.evaluate("document.querySelectorAll('figure.chart').length") == (
        len(CHARTS) + 1 + len(DMHC_CHARTS))
    # each interval is drawn with a visible extent and its rate dot lies on it
    spans = page.evaluate(
        "[...document.querySelectorAll('line.ci')].map(l => { const b = l.getBoundingClientRect();"
        " return Math.max(b.width, b.height); })")
    assert spans and all(s > 0 for s in spans)
    on_line = page.evaluate(
        "[...document.querySelectorAll('g')].filter(g => g.querySelector('line.ci')).every(g => {"
        " const l = g.querySelector('line.ci').getBoundingClientRect();"
        " const d = g.querySelector('circle.rate').getBoundingClientRect();"
        " const x = d.x + d.width / 2, y = d.y + d.height / 2;"
        " return x >= l.left - 1 && x <= l.right + 1 && y >= l.top - 1 && y <= l.bottom + 1; })")
    assert on_line is True
    dmhc_bars = page.evaluate("document.querySelectorAll('#dmhc-treatment line.ci').length")
    assert dmhc_bars > 0
    page.evaluate("document.getElementById('system-dmhc').scrollIntoView()")
    page.screenshot(ARTIFACTS / "report-dmhc.png")
    _assert_offline(page, url)
