"""Progress on stderr for the commands that can take more than a few seconds (rich).

:func:`progress` shows a spinner with the current step, a bar when the library reports a
count, and the elapsed time, on stderr, only when stderr is a terminal: in a pipe, a log
file, CI or a test nothing is printed, so output and logs read as before. The display is
transient: it is gone when the command prints its own summary. Lines the command writes on
stderr meanwhile (a failed file) appear above it; stdout is never touched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


class Steps:
    """What a command tells the display: a new step, or a count within it."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def step(self, description: str, total: int | None = None) -> None:
        """Start a step (``total``: how many units it has, when known)."""
        if self._bar is not None:
            self._bar.update(self._task, visible=False)
            self._task = self._bar.add_task(description, total=total)
            self._bar.refresh()

    def advance(self, done: int, total: int | None = None) -> None:
        """``done`` units of the current step are finished (of ``total``, when known)."""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)
            self._bar.refresh()


def is_terminal(stream: IO[str] | None = None) -> bool:
    """Whether ``stream`` (default: stderr) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress(description: str, *, stream: IO[str] | None = None) -> Iterator[Steps]:
    """Show progress for the block on ``stream`` (default stderr) when it is a terminal."""
    stream = sys.stderr if stream is None else stream
    if not is_terminal(stream):
        yield Steps()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Count(ProgressColumn):
        """``done/total`` when the step has a total, else nothing."""

        def render(self, task: Any) -> Text:
            return Text(f"{task.completed:,.0f}/{task.total:,.0f}" if task.total else "")

    console = Console(file=stream, force_terminal=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), Count(),
        TimeElapsedColumn(), console=console, transient=True, redirect_stdout=False,
    ) as bar:
        task = bar.add_task(description, total=None)
        bar.refresh()
        yield Steps(bar, task)
