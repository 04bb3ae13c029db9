"""Answers that don't mislead: the two systems kept apart (summary, stats, report, export),
GROUP_CONCATs that survive unmapped rows, and parameters checked against what exists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.dmhc.ingest import ingest_dmhc
from imr_graph.errors import NotFoundError, QueryError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.queries import resolve_query, run_query
from imr_graph.graph.store import GraphStore
from imr_graph.views.export import Selection, select
from imr_graph.views.report import DMHC_CHARTS, report_data, report_html

from .conftest import EXAMPLES

FIX = Path(__file__).parent / "fixtures" / "dmhc"
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
A = "CM15-0171547"
runner = CliRunner()


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with the two example letters and the DMHC fixture tables."""
    path = tmp_path_factory.mktemp("both") / "store"
    with GraphStore(path) as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
        for name in ("semicolon.csv", "official_comma.csv", "newer_columns.csv"):
            assert ingest_dmhc(gs, FIX / name, ingest_time=WHEN).ok
    return path


def rows(gs: GraphStore, name: str, **params: str) -> list[dict[str, str]]:
    result = run_query(gs, resolve_query(name), params)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [{n: (r[n].value if r[n] is not None else "") for n in names}
            for r in result]  # type: ignore[union-attr]


# -- systems kept apart ---------------------------------------------------------------------


def test_summary_one_row_per_system(both: Path) -> None:
    with GraphStore(both, read_only=True) as gs:
        got = {r["system"]: r for r in rows(gs, "summary")}
        dmhc_cases = gs.system_graphs("dmhc")
    assert set(got) == {"dwc", "dmhc"}
    assert (got["dwc"]["cases"], got["dwc"]["items"], got["dwc"]["overturned"]) == ("2", "2", "0")
    assert got["dmhc"]["cases"] == str(len(dmhc_cases)) == "12"
    assert got["dmhc"]["partial"] == "0"
    for r in got.values():  # each system's own rate, with its interval
        assert float(r["ci_low"]) <= float(r["rate"]) <= float(r["ci_high"])


def test_stats_per_system(both: Path) -> None:
    res = runner.invoke(app, ["stats", "--store", str(both), "--format", "json"])
    assert res.exit_code == 0, res.output
    import json

    counts = json.loads(res.stdout)
    assert counts["dwc_cases"] == 2 and counts["dmhc_cases"] == 12
    assert counts["cases"] == counts["dwc_cases"] + counts["dmhc_cases"]
    assert counts["dwc_items"] + counts["dmhc_items"] == counts["items"]
    assert counts["dwc_overturned"] + counts["dmhc_overturned"] == counts["overturned"]


def test_report_has_a_dmhc_section_apart(both: Path) -> None:
    with GraphStore(both, read_only=True) as gs:
        data = report_data(gs)
    assert data["summary"]["system"] == "dwc" and data["summary"]["cases"] == 2
    assert data["dmhc_summary"]["cases"] == 12
    page = report_html(data)
    assert 'id="system-dwc"' in page and 'id="system-dmhc"' in page
    assert page.index('id="system-dwc"') < page.index('id="system-dmhc"')
    for chart in DMHC_CHARTS:
        assert f'id="{chart.key}" data-query="{chart.query}"' in page
        assert data[chart.key]
    # every row with a rate draws its interval (a line and a dot)
    drawn = sum(1 for key in data if isinstance(data[key], list)
                for r in data[key] if r.get("rate") is not None and r.get("ci_low") is not None)
    assert page.count('<line class="ci"') == page.count('<circle class="rate"') > 0
    assert page.count('<line class="ci"') <= drawn
    # letters only: no DMHC section
    letters = report_html({**data, "dmhc_summary": {}})
    assert 'id="system-dmhc"' not in letters and "dmhc-year" not in letters


def test_export_by_system(both: Path) -> None:
    with GraphStore(both, read_only=True) as gs:
        def types(system: str | None) -> set[str]:
            g = select(gs, Selection(system=system))
            return {t for _, d in g.nodes(data=True) for t in str(d.get("types", "")).split()}

        dwc, dmhc, every = types("dwc"), types("dmhc"), types(None)
    assert "WorkersCompCase" in dwc and "HealthPlanCase" not in dwc
    assert "HealthPlanCase" in dmhc and "WorkersCompCase" not in dmhc
    assert {"WorkersCompCase", "HealthPlanCase"} <= every
    res = runner.invoke(app, ["export", "--store", str(both), "--system", "dmhc", "--format",
                              "json", "--out", "/dev/null"])
    assert res.exit_code == 0, res.output
    assert "whole graph (dmhc cases)" in res.stderr


# -- GROUP_CONCAT over unmapped rows ------------------------------------------------------------


def test_comparable_survives_unmapped_items(both: Path) -> None:
    """An independent recount: each treatment category's comparable service categories from
    one row per item (no GROUP_CONCAT), against the canned query's list."""
    with GraphStore(both, read_only=True) as gs:
        expected: dict[str, set[str]] = {}
        for r in gs.query(
            "SELECT ?label ?svc WHERE { ?c a imr:HealthPlanCase ; imr:item ?i . "
            "OPTIONAL { ?i imr:treatmentCategory/skos:prefLabel ?label } "
            "OPTIONAL { ?i imr:comparableServiceCategory ?svc } }"
        ):  # type: ignore[union-attr]
            label = r["label"].value if r["label"] is not None else "(none)"
            cats = expected.setdefault(label, set())
            if r["svc"] is not None:
                cats.add(r["svc"].value.rsplit("/", 1)[1])
        got = {r["treatment"]: set(filter(None, r["comparable"].split(", ")))
               for r in rows(gs, "dmhc-overturn-by-treatment-category")}
    assert got == expected


# -- checked parameters -------------------------------------------------------------------------


def test_review_type_is_checked(both: Path) -> None:
    with GraphStore(both, read_only=True) as gs:
        with pytest.raises(QueryError, match=r"unknown review_type 'urgent'; one of: all, "
                           r"medical-necessity, experimental-investigational, urgent-care; "
                           r"did you mean urgent-care\?"):
            run_query(gs, resolve_query("dmhc-overturn-by-year"), {"review_type": "urgent"})
        upper = rows(gs, "dmhc-overturn-by-year", review_type="Urgent-Care")
        assert upper == rows(gs, "dmhc-overturn-by-year", review_type="urgent-care") != []
    res = runner.invoke(app, ["query", "dmhc-overturn-by-year", "--param", "review_type=x",
                              "--store", str(both)])
    assert res.exit_code == 2 and "one of: all" in res.stderr


def test_case_numbers_are_case_insensitive_and_checked(both: Path) -> None:
    with GraphStore(both, read_only=True) as gs:
        assert rows(gs, "case-items", case=A.lower()) == rows(gs, "case-items", case=A) != []
        assert gs.resolve_graph(A.lower()) == gs.resolve_graph(A)
        with pytest.raises(NotFoundError, match=rf"no case CM15-017154: .*; nearest: {A}"):
            run_query(gs, resolve_query("case-items"), {"case": "CM15-017154"})
    res = runner.invoke(app, ["query", "case-items", "--param", "case=CM99-0000000",
                              "--store", str(both)])
    assert res.exit_code == 2 and "no case CM99-0000000" in res.stderr
    res = runner.invoke(app, ["export", "--store", str(both), "--case", A.lower(),
                              "--format", "json", "--out", "/dev/null"])
    assert res.exit_code == 0, res.output


def test_missing_input_path_leaves_no_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    res = runner.invoke(app, ["ingest", str(tmp_path / "nope"), str(EXAMPLES), "--store",
                              str(store)])
    assert res.exit_code == 2
    assert re.search(r"error: .*nope: no such file or directory", res.stderr)
    assert not store.exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_skipped_files_are_named(tmp_path: Path, jobs: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    letter = next(EXAMPLES.glob("*.txt"))
    (folder / letter.name).write_bytes(letter.read_bytes())
    (folder / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK")
    res = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "s"), "-j", jobs])
    assert res.exit_code == 0, res.output
    assert f"skipped {folder / 'table.csv'}: a table in a folder is not read" in res.stderr
    assert f"skipped {folder / 'notes.docx'}: not a letter file" in res.stderr
    assert "letters: 1" in res.stdout
