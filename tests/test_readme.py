"""Docs as tests: every command in README.md's shell blocks runs.

``make`` lines are what CI itself runs (``make test``) or the demo, so they are checked for
presence, not re-run here. ``imr-graph`` lines run in a scratch folder that links
``examples/`` so they write nowhere in the repository.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

README = REPO / "README.md"


def _shell_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    lines = [ln.split("  #")[0].strip() for b in blocks for ln in b.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def test_readme_shows_the_two_commands() -> None:
    cmds = _shell_commands()
    assert "make demo" in cmds and "make test" in cmds
    assert "make test" in (REPO / ".ci" / "run").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_every_readme_command_runs(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples")
    (tmp_path / "build").mkdir()
    exe = str(Path(sys.executable).with_name("imr-graph"))
    env = {**os.environ, "IMR_GRAPH_STORE": str(tmp_path / "default-store")}
    cmds = [c for c in _shell_commands() if c.startswith("imr-graph ")]
    assert len(cmds) >= 10
    for cmd in cmds:
        argv = [exe, *shlex.split(cmd)[1:]]
        run = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
        if run.returncode != 0:
            pytest.fail(f"README command failed ({run.returncode}): {cmd}\n{run.stderr}")
