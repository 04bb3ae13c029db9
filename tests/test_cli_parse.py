"""CLI tests for ``parse`` and ``schema``: CliRunner plus one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from imr_graph.cli import app

from .conftest import example_letters

runner = CliRunner()


def test_parse_prints_a_json_array() -> None:
    result = runner.invoke(app, ["parse", *map(str, example_letters())])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["items"][0]["outcome"] for r in records] == ["Upheld", "Upheld"]


def test_parse_jsonl_is_one_record_a_line() -> None:
    result = runner.invoke(app, ["parse", "--format", "jsonl", *map(str, example_letters())])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["case_number"] == "CM15-0171547"


def test_parse_text_prints_what_spans_point_into() -> None:
    letter = example_letters()[0]
    text = runner.invoke(app, ["parse", "--text", str(letter)]).stdout
    record = json.loads(runner.invoke(app, ["parse", "-f", "jsonl", str(letter)]).stdout)
    s, e = record["items"][0]["span"]
    assert text[s:e].startswith("IT Pain Pump Trial: Upheld")


def test_bad_files_fail_one_line_each_and_the_rest_still_parse(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.4\n\x00\x01 not really")
    errors = tmp_path / "errors.jsonl"
    result = runner.invoke(
        app, ["parse", "-f", "jsonl", "--errors", str(errors), str(empty), str(example_letters()[0]),
              str(junk)]
    )
    assert result.exit_code == 1
    assert len(result.stdout.strip().splitlines()) == 1
    err_lines = result.stderr.strip().splitlines()
    assert len(err_lines) == 2
    assert "empty.txt: empty file" in err_lines[0] and "junk.pdf: broken PDF" in err_lines[1]
    failures = [json.loads(x) for x in errors.read_text().splitlines()]
    assert [f["kind"] for f in failures] == ["InputError", "PdfError"]


def test_schema_command_prints_the_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0 and json.loads(result.stdout)["title"].startswith("imr-graph")


def test_console_script_runs_in_a_subprocess() -> None:
    exe = Path(sys.executable).with_name("imr-graph")
    help_run = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "parse" in help_run.stdout
    run = subprocess.run([str(exe), "parse", "-f", "jsonl", str(example_letters()[1])],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["items"][0]["request"].startswith("Pump refill")
    bad = subprocess.run([str(exe), "parse", "/nonexistent/letter.pdf"], capture_output=True,
                         text=True)
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "imr-graph: error: /nonexistent/letter.pdf: cannot read file (No such file or directory)"
    )
    assert "Traceback" not in bad.stderr


def test_io_errors_are_one_line_and_a_closed_pipe_is_quiet() -> None:
    exe = Path(sys.executable).with_name("imr-graph")
    letter = str(example_letters()[0])
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            run = subprocess.run([str(exe), "parse", letter], stdout=full, stderr=subprocess.PIPE,
                                 text=True)
        assert run.returncode == 2
        assert run.stderr.strip() == "imr-graph: error: No space left on device"
    head = subprocess.run(f"'{exe}' parse --text {letter} | head -c 10", shell=True,
                          capture_output=True, text=True)
    assert len(head.stdout) == 10 and "Traceback" not in head.stderr


def test_wrong_result_format_is_exactly_one_line(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("imr-graph"))
    store = str(tmp_path / "store")
    subprocess.run([exe, "ingest", str(example_letters()[0]), "--store", store],
                   capture_output=True, check=True)
    run = subprocess.run([exe, "query", "summary", "--format", "ttl", "--store", store],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "imr-graph: error: SELECT/ASK results are tables: use --format table, csv, tsv, json, "
        "xml, not ttl"]


def test_usage_errors_are_one_line_with_exit_2() -> None:
    exe = str(Path(sys.executable).with_name("imr-graph"))
    for argv, needle in [(["parse"], "Missing argument"), (["bogus"], "No such command"),
                         (["parse", "--format", "xml", "x"], "Invalid value for '--format'")]:
        run = subprocess.run([exe, *argv], capture_output=True, text=True)
        assert run.returncode == 2, argv
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("imr-graph: error: ") and needle in lines[0]
    plain = subprocess.run([exe], capture_output=True, text=True)
    assert plain.returncode == 0 and "Usage" in plain.stdout
