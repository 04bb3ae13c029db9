"""Output files, written atomically: a temporary file in the same folder, renamed into place.

Every command that writes a file (``export --out``, ``dump --out``, ``report``,
``mappings -o``, ``parse``/``ingest``/``ingest-dmhc --errors``) writes through
:func:`atomic_output` or :func:`write_file`. The data goes to a temporary file beside the
target (``.NAME.XXXX.tmp``), is flushed to disk, and only then renamed over the target
(``os.replace``, atomic on POSIX). A failed or interrupted write (a full disk, an error half
way, Ctrl-C, ``kill -9``) leaves the old file as it was; the temporary file is removed
(after ``kill -9`` it stays behind, under its hidden ``.tmp`` name, never as the target).
A file that cannot be written is an :class:`~imr_graph.errors.OutputError` (exit status 2).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import OutputError


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _mode_for(path: Path) -> int:
    """The permissions the file would get if created normally (or keeps, if it exists)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | Path, *, text: bool = False) -> Iterator[IO[Any]]:
    """Open ``path`` for writing (bytes, or UTF-8 text with ``text=True``); the file appears
    under its name, complete, only when the ``with`` block ends without an error."""
    target = Path(path)
    if target.is_dir():
        raise OutputError("cannot write: is a directory", path=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                   dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write ({_reason(exc)})", path=target) from None
    try:
        with os.fdopen(fd, "w" if text else "wb",
                       **({"encoding": "utf-8", "newline": ""} if text else {})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise OutputError(f"cannot write ({_reason(exc)}); the previous file, if any, "
                              "is unchanged", path=target) from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_file(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns the path."""
    with atomic_output(path, text=isinstance(data, str)) as fh:
        fh.write(data)
    return Path(path)
