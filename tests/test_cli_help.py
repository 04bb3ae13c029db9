"""``--help`` reads at 80 columns: every command's help rendered at width 80 and checked.

Nothing is cut (every option's help text and every command's summary appear whole), no line
is wider than 80 columns, value types are plain words (``PATH``, ``TEXT``, ``INTEGER``)
rather than Typer's ``<str>``/``<bool>``, and no reStructuredText or Rich markup leaks.
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from imr_graph.cli import _plain_type, app

runner = CliRunner()
COMMAND = typer.main.get_command(app)
NAMES = COMMAND.list_commands(None)  # type: ignore[arg-type]


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def _words(text: str) -> str:
    """Text with whitespace collapsed and the line-wrap hyphenation of Click undone."""
    return re.sub(r"\s+", " ", text).replace("- ", "-").strip()


def _check_plain(text: str) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    assert "``" not in text
    assert not re.search(r"<(str|int|float|bool|path|file|directory)( range)?>|<list\[", text)
    assert not re.search(r"[│╭╮╰╯─]", text), "a Rich panel"
    body = [line for line in lines if not line.startswith("Usage:")]
    assert not [line for line in body if line.rstrip().endswith(("…", "..."))], "cut text"


def test_commands_are_listed() -> None:
    assert {"parse", "ingest", "query", "export", "link", "ingest-dmhc"} <= set(NAMES)


def test_top_level_help() -> None:
    text = _help()
    _check_plain(text)
    for name in NAMES:
        command = COMMAND.get_command(None, name)  # type: ignore[arg-type]
        summary = command.get_short_help_str(limit=1000)
        assert _words(summary) in _words(text), f"summary of {name} cut"


@pytest.mark.parametrize("name", NAMES)
def test_command_help_at_80_columns(name: str) -> None:
    text = _help(name)
    _check_plain(text)
    flat = _words(text)
    command = COMMAND.get_command(None, name)  # type: ignore[arg-type]
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text:
            assert _words(help_text) in flat, f"{name}: help of {param.name} cut"
        if param.param_type_name == "option":
            assert all(opt in text for opt in param.opts)
    # options that take a value show its type as a plain word
    for match in re.finditer(r"^\s+(?:-\w, )?(--[\w-]+) ([^\s]+)", text, re.M):
        metavar = match.group(2)
        if not metavar.startswith("/"):
            assert re.fullmatch(r"[A-Z]+|\[[\w|-]+\]", metavar), (match.group(1), metavar)


def test_plain_type_words() -> None:
    assert _plain_type("<int range>") == "INTEGER"
    assert _plain_type("<list[Path]>") == "PATH"
    assert _plain_type("<str>") == "TEXT"
    assert _plain_type("<table|csv>") == "[table|csv]"
