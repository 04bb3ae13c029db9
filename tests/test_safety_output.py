"""Outputs: every file written atomically (a full disk leaves the old file), untrusted text
shown visibly on the terminal, and one exit-code table followed by every command."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.errors import OutputError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.store import GraphStore
from imr_graph.outputs import atomic_output, write_file
from imr_graph.textutil import visible

from .conftest import EXAMPLES
from .safety_letters import cli, env, examples_store

runner = CliRunner()

PRECIOUS = "the old file, which must survive\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return examples_store(tmp_path_factory.mktemp("outputs") / "store")


# -- atomic writes --------------------------------------------------------------------------


def test_atomic_output_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text(PRECIOUS)
    target.chmod(0o640)
    with pytest.raises(RuntimeError), atomic_output(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == PRECIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    write_file(target, "new\n")
    assert target.read_text() == "new\n" and target.stat().st_mode & 0o777 == 0o640
    with pytest.raises(OutputError, match="is a directory"):
        write_file(tmp_path, "x")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot write") as err:
        write_file(tmp_path / "file" / "below.txt", "x")
    assert err.value.exit_code == 2


def _limit_file_size() -> None:  # in the child: a "disk" that is full after 4 kB
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def _run_full_disk(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*cli(), *args], capture_output=True, env=env(), cwd=cwd,
                          timeout=300, preexec_fn=_limit_file_size)


def _full_disk_cases(store: Path, tmp: Path) -> Iterator[tuple[list[str], Path]]:
    yield ["export", "--format", "html", "--out", "precious.html", "--store", str(store)], \
        tmp / "precious.html"
    yield ["dump", "--format", "nq", "--out", "precious.nq", "--store", str(store)], \
        tmp / "precious.nq"
    yield ["report", "--out", "rep", "--store", str(store)], tmp / "rep" / "index.html"
    bad = tmp / "bad"
    bad.mkdir(exist_ok=True)
    for i in range(200):
        (bad / f"not-a-letter-{i:03d}-{'x' * 60}.txt").write_text("hello\n")
    yield ["parse", str(bad), "--errors", "precious.jsonl"], tmp / "precious.jsonl"


def test_a_full_disk_leaves_every_old_output_intact(store: Path, tmp_path: Path) -> None:
    for args, target in _full_disk_cases(store, tmp_path):
        if args[0] == "parse":
            args = ["parse", *sorted(str(p) for p in (tmp_path / "bad").iterdir()),
                    *args[2:]]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(PRECIOUS)
        done = _run_full_disk(args, tmp_path)
        err = done.stderr.decode()
        assert done.returncode == 2, (args[0], done.returncode, err)
        lines = [ln for ln in err.splitlines() if "cannot write" in ln]
        assert len(lines) == 1 and lines[0].startswith("imr-graph: error: "), (args[0], err)
        assert "Traceback" not in err
        assert target.read_text() == PRECIOUS, args[0]
        leftovers = [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], (args[0], leftovers)


def test_mappings_and_errors_files_unwritable_is_exit_2(store: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = runner.invoke(app, ["mappings", "--store", str(store), "-o",
                                 str(blocker / "m.tsv")])
    assert result.exit_code == 2 and "cannot write" in result.stderr
    for cmd in (["parse", str(EXAMPLES / "000_456e8bcd7063d344.txt")],
                ["ingest", str(EXAMPLES), "--store", str(tmp_path / "s")]):
        result = runner.invoke(app, [*cmd, "--errors", str(blocker / "e.jsonl")])
        assert result.exit_code == 2 and "cannot write" in result.stderr, result.output


# -- untrusted text on the terminal ----------------------------------------------------------

EVIL_NAME = "x\nimr-graph: error: forged\x1b]0;pwned\x07\x1b[2J\r\u202egpj.txt"


def test_visible_shows_every_control_character() -> None:
    assert visible("plain é ü 名") == "plain é ü 名"
    shown = visible(EVIL_NAME)
    assert shown == ("x\\nimr-graph: error: forged\\e]0;pwned\\x07\\e[2J\\r\\u202egpj.txt")
    assert all(ch.isprintable() for ch in shown)
    assert visible("\x9b31m\udcff\u200b") == "\\x9b31m\\udcff\\u200b"


def test_file_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    evil = folder / EVIL_NAME
    evil.write_text("not a letter at all\n")
    for args in (["parse", str(evil)], ["ingest", str(folder), "--store",
                                        str(tmp_path / "s"), "-j", "1"]):
        done = subprocess.run([*cli(), *args], capture_output=True, env=env(), timeout=300)
        err = done.stderr.decode()
        assert done.returncode == 1, err
        lines = err.splitlines()
        assert sum(ln.startswith("imr-graph: error:") for ln in lines) == 1, err
        assert not any(ln.startswith("imr-graph: error: forged") for ln in lines), err
        assert "\x1b" not in err and "\r" not in err and "\x07" not in err
        assert "\u202e" not in err and "\\e]0;pwned" in err
    # untrusted data in a table (a literal with escape sequences) is shown escaped, too
    s = tmp_path / "s"
    result = runner.invoke(app, ["update", "INSERT DATA { GRAPH <http://e/g> { <http://e/s> "
                                 "<http://e/p> \"a\\u001b[31mred\\r\" } }", "--store", str(s)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["query", "SELECT ?o { <http://e/s> <http://e/p> ?o }",
                                 "--store", str(s)])
    assert "\x1b" not in result.stdout and "a\\e[31mred" in result.stdout


# -- one exit-code table, every command ------------------------------------------------------


def _holder(store: Path) -> subprocess.Popen[bytes]:
    """Another process holding the store's write lock (as an ingest would)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from imr_graph.graph.store import GraphStore; "
         f"g = GraphStore({str(store)!r}); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"held"
    return proc


def test_every_error_class_gives_its_exit_code_in_every_command(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with GraphStore(store) as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
    s = ["--store", str(store)]
    not_a_store = tmp_path / "not-a-store"
    not_a_store.write_text("a file, not a store")
    ns = ["--store", str(not_a_store)]
    blocked = tmp_path / "blocker"
    blocked.write_text("x")
    unwritable = str(blocked / "out")
    bad_letter = tmp_path / "bad.txt"
    bad_letter.write_text("hello\n")
    dmhc = tmp_path / "dmhc.csv"
    dmhc.write_text("not,a,dmhc\n1,2,3\n")
    letter = str(EXAMPLES / "000_456e8bcd7063d344.txt")
    matrix: dict[str, list[tuple[list[str], int]]] = {
        "usage (bad option)": [([cmd, "--no-such-option"], 2) for cmd in (
            "parse", "schema", "ingest", "query", "queries", "update", "stats", "dump", "drop",
            "validate", "export", "report", "serve", "link", "mappings", "link-report",
            "ingest-dmhc")],
        "unknown case or query": [
            (["drop", "CM00-0000000", *s], 2), (["dump", "--graph", "CM00-0000000", *s], 2),
            (["validate", "--graph", "CM00-0000000", *s], 2),
            (["export", "--case", "CM00-0000000", *s], 2),
            (["query", "no-such-canned-query", *s], 2),
            (["query", "case-items", "--graph", "CM00-0000000", *s], 2)],
        "SPARQL syntax error": [
            (["query", "SELECT WHERE {", *s], 2), (["update", "INSERT DATA {", *s], 2),
            (["export", "--query", "CONSTRUCT WHERE {", *s], 2)],
        "network refused": [
            (["query", "SELECT * { SERVICE<http://127.0.0.1:9/> {?s ?p ?o} }", *s], 2),
            (["update", "LOAD<http://127.0.0.1:9/>", *s], 2),
            (["export", "--query", "CONSTRUCT WHERE { SERVICE<http://127.0.0.1:9/> "
              "{?s ?p ?o} }", *s], 2)],
        "store cannot be opened": [([cmd, *ns], 2) for cmd in (
            "stats", "dump", "validate", "export", "report", "link", "mappings",
            "link-report")] + [
            (["query", "summary", *ns], 2), (["drop", "CM15-0171547", *ns], 2),
            (["update", "CLEAR ALL", *ns], 2), (["ingest", letter, *ns], 2),
            (["ingest-dmhc", str(dmhc), *ns], 2)],
        "output cannot be written": [
            (["export", "--out", unwritable, *s], 2), (["dump", "--out", unwritable, *s], 2),
            (["report", "--out", unwritable, *s], 2), (["mappings", "-o", unwritable, *s], 2),
            (["parse", letter, "--errors", unwritable], 2),
            (["ingest", letter, "--errors", unwritable, "--store", str(tmp_path / "s2")], 2)],
        "some inputs failed": [
            (["parse", str(bad_letter)], 1),
            (["ingest", str(bad_letter), "--store", str(tmp_path / "s3")], 1)],
        "query time-out": [
            (["query", "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
              "--timeout", "0.5", *s], 2),
            (["export", "--query", "CONSTRUCT { ?a ?b ?l } WHERE { ?a ?b ?c . ?d ?e ?f . "
              "?g ?h ?i . ?j ?k ?l }", "--timeout", "0.5", *s], 2)],
    }
    wrong = []
    for kind, cases in matrix.items():
        for args, code in cases:
            result = runner.invoke(app, args)
            # (Click's usage errors become one line in the console entry point, not here)
            errors = [ln for ln in result.stderr.splitlines() if ln.startswith("imr-graph:")
                      or kind.startswith("usage")]
            if kind == "query time-out" and "stopped after the --timeout" not in result.stderr:
                errors = []
            if result.exit_code != code or not errors or "Traceback" in result.output:
                wrong.append((kind, args[:2], result.exit_code, result.stderr[-300:]))
    # writers on a store another process is writing: "in use", exit 2
    holder = _holder(store)
    try:
        for args in (["ingest", letter, *s], ["update", "CLEAR ALL", *s],
                     ["drop", "CM15-0171547", *s], ["link", *s], ["ingest-dmhc", str(dmhc), *s]):
            result = runner.invoke(app, args)
            if result.exit_code != 2 or "in use" not in result.stderr:
                wrong.append(("store in use", args[:2], result.exit_code, result.stderr[-300:]))
    finally:
        holder.communicate(b"", timeout=30)
    # data that does not conform: validate says 1
    with GraphStore(store) as gs:
        gs.update("DELETE WHERE { GRAPH ?g { ?i imr:outcome ?o } }")
    result = runner.invoke(app, ["validate", *s])
    if result.exit_code != 1:
        wrong.append(("does not conform", ["validate"], result.exit_code, result.output[-300:]))
    assert wrong == [], '\n'.join(map(str, wrong))
    assert os.path.exists(store)


# -- results streamed, or capped -------------------------------------------------------------

CARTESIAN = "SELECT ?a ?b ?c ?d WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w }"


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_query_rows_are_written_as_they_come(store: Path) -> None:
    proc = subprocess.Popen([*cli(), "query", CARTESIAN, "--format", "csv", "--limit", "0",
                             "--timeout", "60", "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    received = 0
    peak = 0.0
    try:
        assert proc.stdout is not None
        start = time.monotonic()
        while received < 64 * 1024 * 1024 and time.monotonic() - start < 50:
            chunk = proc.stdout.read1(1 << 20)
            if not chunk:
                break
            received += len(chunk)
            peak = max(peak, _rss_mib(proc.pid))
        assert proc.poll() is None, "the query ended before its rows were read"
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    # 64 MB of rows arrived while the query still ran, and the process stayed small
    assert received >= 64 * 1024 * 1024
    assert 0 < peak < 400, peak


def test_a_table_is_capped_with_a_clear_error(store: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from imr_graph.graph import queries

    monkeypatch.setattr(queries, "TABLE_ROW_CAP", 50)
    result = runner.invoke(app, ["query", CARTESIAN, "--limit", "0", "--store", str(store)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imr-graph: error: more than 50 rows for "
                                                   "a table"), lines
    assert "--format csv" in lines[0]
    result = runner.invoke(app, ["query", CARTESIAN, "--limit", "40", "--store", str(store)])
    assert result.exit_code == 0 and "(40 rows)" in result.stdout
