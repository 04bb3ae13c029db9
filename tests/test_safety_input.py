"""Hostile and odd input at ingest level: one line per bad file, the batch goes on.

Reading-level cases (each encoding, each kind of broken PDF) are in ``test_reading.py``;
here every case goes through ``imr-graph ingest`` with good letters beside it, and the
checks are: one stderr line naming the file and the reason, the good letters stored, exit
status 1 when anything failed, ``--errors`` JSON lines naming the same files.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.graph.mapping import case_graph_iri
from imr_graph.graph.store import GraphStore

from .safety_letters import SEED_CASE, seed_text, variant

runner = CliRunner()


def run_ingest(store: Path, *args: str) -> tuple[int, str, list[str]]:
    """(exit code, stdout, stderr lines) of ``imr-graph ingest``."""
    result = runner.invoke(app, ["ingest", "--store", str(store), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, [x for x in result.stderr.splitlines() if x]


def stored_cases(store: Path) -> set[str]:
    with GraphStore(store, read_only=True) as gs:
        return {g.value.rsplit("/", 1)[-1] for g in gs.case_graphs()}


def decision_date(store: Path, case: str) -> str:
    with GraphStore(store, read_only=True) as gs:
        rows = list(gs.query(  # type: ignore[union-attr]
            "SELECT ?k ?d WHERE { ?c imr:caseKey ?k ; imr:decisionDate ?d }",
            substitutions={"k": __import__("pyoxigraph").Literal(case)},
        ))
    assert len(rows) == 1, rows
    return rows[0]["d"].value


def locked_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_every_bad_file_gets_one_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    d = tmp_path / "batch"
    d.mkdir()
    (d / "good-1.txt").write_text(variant("CM15-0000001"), encoding="utf-8")
    (d / "good-2.txt").write_text(variant("CM15-0000002"), encoding="utf-8")
    lines = seed_text().split("\n")
    cut = lines.index("### IMR ISSUES, DECISIONS AND RATIONALES")
    bad = {
        "empty.txt": (b"", "empty"),
        "junk.pdf": (bytes(range(256)) * 40, ""),
        "locked.pdf": (locked_pdf(), "password"),
        "truncated.pdf": (locked_pdf()[:300], ""),
        "no-issues.txt": ("\n".join(lines[:cut]).encode(), "missing section"),
        "binary.txt": (b"\x00\x01\x02\xff" * 500, ""),
    }
    for name, (data, _) in bad.items():
        (d / name).write_bytes(data)
    errors = tmp_path / "errors.jsonl"
    code, out, err = run_ingest(tmp_path / "store", str(d), "--errors", str(errors))
    assert code == 1
    assert len(err) == len(bad), err
    for name, (_, reason) in bad.items():
        mine = [x for x in err if str(d / name) + ":" in x]
        assert len(mine) == 1, (name, err)
        assert reason in mine[0].lower()
    records = [json.loads(x) for x in errors.read_text().splitlines()]
    assert sorted(Path(r["path"]).name for r in records) == sorted(bad)
    assert all(r["error"] and r["kind"] for r in records)
    assert "letters: 2" in out and "errors: 6" in out
    assert stored_cases(tmp_path / "store") == {"CM15-0000001", "CM15-0000002"}


def test_a_200_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.pdf"
    with big.open("wb") as fh:  # sparse: costs no disk space
        fh.truncate(200 * 1024 * 1024)
    good = tmp_path / "good.txt"
    good.write_text(seed_text(), encoding="utf-8")
    code, _, err = run_ingest(tmp_path / "store", str(big), str(good))
    assert code == 1
    assert len(err) == 1 and str(big) in err[0] and "too large" in err[0]
    assert stored_cases(tmp_path / "store") == {SEED_CASE}


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-8-sig", "cp1252"])
def test_latin1_and_utf16_letters_are_stored(tmp_path: Path, encoding: str) -> None:
    text = variant("CM15-0000003", note="Résumé: naïve café review.")
    f = tmp_path / f"letter-{encoding}.txt"
    f.write_bytes(text.encode(encoding))
    code, _out, err = run_ingest(tmp_path / "store", str(f))
    assert (code, err) == (0, []), err
    assert stored_cases(tmp_path / "store") == {"CM15-0000003"}
    utf8 = tmp_path / "utf8.txt"
    utf8.write_text(text, encoding="utf-8")
    assert run_ingest(tmp_path / "utf8-store", str(utf8))[0] == 0
    graph = case_graph_iri("CM15-0000003")
    sizes = []
    for where in ("store", "utf8-store"):
        with GraphStore(tmp_path / where, read_only=True) as gs:
            sizes.append(gs.graph_size(graph))
    assert sizes[0] == sizes[1] > 50


def test_same_case_newer_decision_wins_whatever_the_order(tmp_path: Path) -> None:
    older = tmp_path / "older.txt"
    newer = tmp_path / "newer.txt"
    older.write_text(variant(decision="10/13/2015", note="First letter."), encoding="utf-8")
    newer.write_text(variant(decision="12/01/2015", note="Second letter."), encoding="utf-8")

    # newer first: the older one must not replace it
    store = tmp_path / "a"
    assert run_ingest(store, str(newer))[0] == 0
    code, _, err = run_ingest(store, str(older))
    assert code == 1
    assert len(err) == 1 and str(older) in err[0] and "later letter" in err[0]
    assert str(newer) in err[0] and "2015-12-01" in err[0]
    assert decision_date(store, SEED_CASE) == "2015-12-01"

    # older first: the newer one replaces it and the conflict is reported
    store = tmp_path / "b"
    assert run_ingest(store, str(older))[0] == 0
    code, _, err = run_ingest(store, str(newer))
    assert code == 0
    assert len(err) == 1 and "conflict" in err[0] and str(older) in err[0]
    assert decision_date(store, SEED_CASE) == "2015-12-01"

    # both in one run, in either order
    for order in ([newer, older], [older, newer]):
        store = tmp_path / f"c-{order[0].stem}"
        code, _, err = run_ingest(store, *map(str, order))
        assert decision_date(store, SEED_CASE) == "2015-12-01"
        assert len(err) == 1
        assert code == (1 if order[0] == newer else 0)


def test_reingesting_the_same_letter_is_no_conflict(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text(seed_text(), encoding="utf-8")
    copy = tmp_path / "same-content.txt"
    copy.write_text(seed_text(), encoding="utf-8")
    store = tmp_path / "store"
    assert run_ingest(store, str(f))[0] == 0
    code, _, err = run_ingest(store, str(f), str(copy))
    assert (code, err) == (0, [])


def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    d = tmp_path / "loops"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "up").symlink_to(d, target_is_directory=True)  # a directory cycle
    (d / "self").symlink_to(d / "self")  # a link to itself
    (d / "a.txt").symlink_to(d / "b.txt")
    (d / "b.txt").symlink_to(d / "a.txt")  # two links pointing at each other
    (d / "letter.txt").write_text(seed_text(), encoding="utf-8")
    code, out, err = run_ingest(tmp_path / "store", str(d))
    assert (code, err) == (0, [])
    assert "letters: 1" in out
    code, out, err = run_ingest(tmp_path / "store", str(d / "a.txt"), str(d / "letter.txt"))
    assert code == 1
    assert len(err) == 1 and str(d / "a.txt") in err[0] and "link" in err[0]
    assert stored_cases(tmp_path / "store") == {SEED_CASE}


def test_paths_with_spaces_and_unicode(tmp_path: Path) -> None:
    d = tmp_path / "lettres d'été" / "ケース 1"
    d.mkdir(parents=True)
    f = d / "décision final — copy (1).txt"
    f.write_text(seed_text(), encoding="utf-8")
    code, out, err = run_ingest(tmp_path / "store dir", str(d.parent), "-v")
    assert (code, err) == (0, [])
    assert str(f) in out
    with GraphStore(tmp_path / "store dir", read_only=True) as gs:
        paths = [q.object.value for q in gs.iter_quads(case_graph_iri(SEED_CASE))
                 if q.predicate.value.endswith("#filePath")]
    assert paths == [str(f)]
