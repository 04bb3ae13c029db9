"""Progress on stderr (rich) for long commands: shown on a terminal, silent otherwise."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from imr_graph.cli.progress import is_terminal, progress

from .export_fixtures import examples_store


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    with progress("reading", stream=stream) as steps:
        steps.step("writing", total=3)
        steps.advance(2)
    assert stream.getvalue() == ""
    assert not is_terminal(stream)


def test_progress_on_a_terminal_shows_steps_and_counts() -> None:
    stream = FakeTerminal()
    with progress("reading the store", stream=stream) as steps:
        steps.step("loading cases", total=40)
        steps.advance(30, 40)
        steps.step("writing")
    text = stream.getvalue()
    assert "reading the store" in text and "loading cases" in text
    assert "30/40" in text


def test_progress_leaves_stdout_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), FakeTerminal()
    monkeypatch.setattr(sys, "stdout", out)
    with progress("working", stream=err):
        print("a result line")
    assert out.getvalue() == "a result line\n"
    assert "a result line" not in err.getvalue()


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "store"
    examples_store(path).close()
    return path


def _run(args: list[str], *, tty: bool) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (``tty``) or a pipe."""
    command = [sys.executable, "-c", "from imr_graph.cli import run; run()", *args]
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        return done.returncode, done.stdout, done.stderr
    master, slave = os.openpty()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        # The terminal is read while the command runs: a full pty buffer would block it.
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize(("args", "step"), [
    (["validate"], "validating against the SHACL shapes"),
    (["export", "--format", "json"], "reading the whole graph"),
])
def test_long_commands_show_progress_only_on_a_terminal(
    store_path: Path, args: list[str], step: str
) -> None:
    args = [*args, "--store", str(store_path)]
    code, out, err = _run(args, tty=True)
    assert code == 0 and step in err
    code2, out2, err2 = _run(args, tty=False)
    assert code2 == 0
    assert (json.loads(out2) == json.loads(out)) if "json" in args else out2 == out
    assert step not in err2 and "\x1b[" not in err2
