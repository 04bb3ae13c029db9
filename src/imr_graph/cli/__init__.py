"""The ``imr-graph`` command line: argument parsing and output formatting only.

This package holds the Typer ``app`` and the shared error helpers; each area of the
CLI lives in its own module (``parse``, ``graph``, ...) that registers its commands.

Every command calls the library and formats what it returns. Heavy imports happen inside
the commands so that ``imr-graph --help`` stays instant. Errors derived from
:class:`~imr_graph.errors.ImrGraphError` become one line on stderr; ``--debug`` shows the
traceback instead. Exit codes: 0 ok, 1 some inputs failed or data does not conform,
2 usage or configuration error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from ..errors import ImrGraphError
from ..textutil import visible

#: Typer's value types (``<str>``, ``<int range>``, ``<list[Path]>``) as plain words.
_PLAIN_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH",
                "file": "FILE", "directory": "DIR", "datetime": "DATE", "bool": "BOOLEAN"}


def _plain_type(label: str) -> str:
    """``<int range>`` -> ``INTEGER``, ``<list[Path]>`` -> ``PATH``, ``<a|b>`` -> ``[a|b]``."""
    label = label.strip().strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        return _plain_type(label[5:-1])
    if "|" in label:
        return f"[{label}]"
    word = label.split()[0] if label.split() else "value"
    return _PLAIN_TYPES.get(word.lower(), word.upper())


def _plain_params(command: Any, ctx: Any) -> None:
    """Give a command's parameters plain metavars (``--store PATH``, ``FILE...``), where
    Typer would show ``<path>`` or ``<bool>``. Typers without ``display_type`` (older ones,
    on Click) already print Click's plain metavars and are left alone."""
    for param in getattr(command, "params", []):
        display = getattr(param, "display_type", None)
        if display is None:
            continue
        if getattr(param, "param_type_name", "") == "argument":
            param.metavar = param.metavar or param.name.upper()
            param.display_type_rich = lambda ctx: None  # the name says it
        elif param.metavar is None and not (
            getattr(param, "is_flag", False) or getattr(param, "count", False)
        ):
            param.metavar = _plain_type(display(ctx))


class HelpGroup(TyperGroup):
    """The command group, with help that reads at 80 columns: plain value types, and command
    summaries wrapped instead of cut with "..."."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_params(command, ctx)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="imr-graph",
    cls=HelpGroup,
    help="A knowledge graph of California workers' compensation IMR decisions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"imr-graph {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """imr-graph: IMR determination letters -> records -> RDF graph -> SPARQL and exports."""
    _state["debug"] = debug


def error_line(exc: BaseException) -> tuple[str, int]:
    """The one line printed for ``exc`` (control characters shown visibly) and the exit
    status it calls for: an ImrGraphError's own, 2 for an operating-system error (a file
    that cannot be read or written), 1 for anything else."""
    if isinstance(exc, ImrGraphError):
        message, code = str(exc), exc.exit_code
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        message, code = f"{where}{exc.strerror or exc}", 2
    else:
        message, code = f"{type(exc).__name__}: {exc}", 1
    return f"imr-graph: error: {visible(message)}", code


def fail(exc: BaseException, code: int | None = None) -> NoReturn:
    """Print one line for ``exc`` on stderr (traceback with --debug) and exit."""
    if _state["debug"]:
        raise exc
    line, default = error_line(exc)
    typer.echo(line, err=True)
    raise typer.Exit(default if code is None else code)


def say(message: str, *, err: bool = False) -> None:
    """Print one line that may contain file names or other untrusted text (shown with
    :func:`~imr_graph.textutil.visible`)."""
    typer.echo(visible(message), err=err)


class RawStdout:
    """Standard output for results written as they come: each write goes straight to file
    descriptor 1 (``os.write``), so a thread left writing after ``--timeout`` holds no lock
    of ``sys.stdout`` when the process exits. Under a test runner (no real descriptor) it
    writes to ``sys.stdout.buffer``."""

    def __init__(self) -> None:
        import sys

        sys.stdout.flush()
        try:
            self.fd: int | None = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.buffer = sys.stdout.buffer

    def write(self, data: bytes) -> int:
        import os

        if self.fd is None:
            return self.buffer.write(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        return len(data)

    def flush(self) -> None:
        if self.fd is None:
            self.buffer.flush()


def write_failures(path: Path | None, rows: list[dict[str, Any]]) -> None:
    """``--errors FILE``: the failures as JSON lines, written atomically (nothing when
    ``path`` is None)."""
    if path is None:
        return
    import json

    from ..outputs import atomic_output

    with atomic_output(path, text=True) as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def warn(message: str) -> None:
    """Print one line on stderr (control characters shown visibly)."""
    typer.echo(f"imr-graph: {visible(message)}", err=True)


def run() -> None:
    """The console entry point: :data:`app`, with one line instead of a traceback for I/O
    errors no command caught (an unwritable ``--out`` or ``--errors`` file, a full disk), and
    one line for usage errors (instead of Click's boxed panel).

    A closed stdout (``imr-graph query … | head``) ends quietly.
    """
    import os
    import sys

    try:
        code = app(standalone_mode=False)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except OSError as exc:
        if _state["debug"]:
            raise
        line, code = error_line(exc)
        typer.echo(line, err=True)
        sys.exit(code)
    except Exception as exc:
        # Click's usage errors (bad option, bad --format value, missing argument): one line.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `imr-graph`: the help
            typer.echo(exc.format_message())
            sys.exit(0)
        command = getattr(getattr(exc, "ctx", None), "command_path", "imr-graph")
        typer.echo(f"imr-graph: error: {visible(exc.format_message())} (see `{command} --help`)",
                   err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


# Command modules register themselves on ``app`` when imported. Each area owns one module;
# the import order is the order of ``--help``, so it is kept by hand.
# isort: off
from . import parse as _parse  # noqa: E402,F401
from . import graph as _graph  # noqa: E402,F401
from . import export as _export  # noqa: E402,F401
from . import serve as _serve  # noqa: E402,F401
from . import vocab as _vocab  # noqa: E402,F401
from . import dmhc as _dmhc  # noqa: E402,F401
from . import cases as _cases  # noqa: E402,F401
# isort: on
