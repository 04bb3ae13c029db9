"""Start and stop the Oxigraph server (the ``oxigraph`` CLI from the ``oxigraph`` package).

``oxigraph serve-read-only`` (default) or ``oxigraph serve`` (``read_write=True``) on a store
directory, bound to ``127.0.0.1:7878`` unless told otherwise, with the union of the named
graphs as the default graph (``--union-default-graph``) so canned queries work unchanged.
The server has the SPARQL 1.1 Protocol at ``/query`` and ``/update``, the Graph Store Protocol
at ``/store`` and a browser query UI at ``/``.

The Oxigraph server listens on a private loopback address; the address the user binds is
served by :class:`imr_graph.views.httpguard.GuardServer`, which checks the ``Host`` header and
refuses ``SERVICE``/``LOAD`` (no outbound requests unless ``allow_service``) before it
forwards a request.

A store that another process is writing (an ``imr-graph ingest`` holds its RocksDB ``LOCK``)
is refused with a one-line :class:`~imr_graph.errors.StoreInUseError`: Oxigraph calls opening
such a store read-only "undefined behaviour", and read-write would fail on the lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from ..errors import StoreError, StoreInUseError, UsageError
from ..graph.workers import die_with_parent
from .httpguard import GuardServer

DEFAULT_BIND = "127.0.0.1:7878"


def oxigraph_binary() -> str:
    """Path of the ``oxigraph`` executable (next to this Python first, then on ``PATH``)."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise UsageError("the `oxigraph` server is not installed; run `pip install oxigraph`")
    return found


def store_in_use(path: Path) -> bool:
    """True when another process holds the store's write lock (an ingest is writing it)."""
    lock = path / "LOCK"
    if not lock.is_file():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def parse_bind(bind: str) -> tuple[str, int]:
    """``host:port`` -> (host, port)."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--bind must be HOST:PORT (e.g. {DEFAULT_BIND}), not {bind!r}")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    """True for 127.x.x.x, ::1 and localhost."""
    return host in ("localhost", "::1") or host.startswith("127.")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def private_loopback() -> str:
    """A random loopback address (``127.x.y.z``, Linux routes all of 127/8 to ``lo``) for
    the Oxigraph server behind the guard: nothing outside this machine reaches it, and a page
    in a browser would have to guess the address and the port. ``127.0.0.1`` elsewhere."""
    import secrets

    host = "127.{}.{}.{}".format(*(1 + secrets.randbelow(254) for _ in range(3)))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, 0))
        except OSError:
            return "127.0.0.1"
    return host


def serve_command(store: Path, bind: str = DEFAULT_BIND, *, read_write: bool = False) -> list[str]:
    """The ``oxigraph`` command line that serves ``store``."""
    mode = "serve" if read_write else "serve-read-only"
    return [oxigraph_binary(), mode, "--location", str(store), "--bind", bind,
            "--union-default-graph"]


def _die_with_parent() -> None:
    """In the child: the server gets SIGTERM when its parent dies (no orphans)."""
    import signal

    die_with_parent(sig=signal.SIGTERM)


class OxigraphServer:
    """An ``oxigraph serve`` child process; a context manager that always stops it.

    ::

        with OxigraphServer(Path("build/demo-store"), "127.0.0.1:7878") as server:
            print(server.url)
    """

    def __init__(
        self,
        store: Path,
        bind: str = DEFAULT_BIND,
        *,
        read_write: bool = False,
        log: Path | None = None,
        allow_service: bool = False,
        allow_hosts: tuple[str, ...] = (),
    ) -> None:
        self.store = Path(store).expanduser()
        self.host, self.port = parse_bind(bind)
        self.bind = bind
        self.read_write = read_write
        self.log = log
        self.allow_service = allow_service
        self.allow_hosts = allow_hosts
        self.process: subprocess.Popen[bytes] | None = None
        self.guard: GuardServer | None = None

    @property
    def url(self) -> str:
        """Base URL of the server (``/query``, ``/update``, ``/store`` hang off it)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def check_store(self) -> None:
        """Refuse a missing store (read-only) or one an ingest is writing."""
        if not self.read_write and not self.store.is_dir():
            raise StoreError("no store here; run `imr-graph ingest` first or pass --store",
                             path=self.store)
        if self.store.is_dir() and store_in_use(self.store):
            raise StoreInUseError(
                "store is being written by another process (an ingest running?); "
                "wait for it to finish, or serve with --read-write and ingest through "
                "--endpoint", path=self.store)

    def start(self, timeout: float = 30.0) -> OxigraphServer:
        """Start the server and wait (at most ``timeout`` s) until it answers queries."""
        self.check_store()
        if self.read_write:
            self.store.mkdir(parents=True, exist_ok=True)
        inner = private_loopback()
        inner_port = free_port(inner)
        try:
            self.guard = GuardServer((self.host, self.port), (inner, inner_port),
                                     allow_service=self.allow_service,
                                     allow_hosts=self.allow_hosts)
        except OSError as exc:
            raise UsageError(f"cannot listen on {self.bind}: {exc.strerror or exc}") from None
        self.guard.start()
        cmd = serve_command(self.store, f"{inner}:{inner_port}", read_write=self.read_write)
        out = self.log.open("ab") if self.log is not None else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT
                                            if self.log is not None else subprocess.PIPE,
                                            preexec_fn=_die_with_parent)
        except BaseException:
            self._stop_guard()
            raise
        finally:
            if self.log is not None:
                out.close()  # type: ignore[union-attr]
        self.wait_ready(timeout)
        return self

    def _stop_guard(self) -> None:
        if self.guard is not None:
            self.guard.stop()
            self.guard = None

    def wait_ready(self, timeout: float) -> None:
        """Poll ``/query`` until it answers; raise StoreError if the server exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                err = self.process.stderr.read().decode("utf-8", "replace") \
                    if self.process.stderr else ""
                self.process = None
                self._stop_guard()
                reason = " ".join(err.split())[-300:] or f"exit code {code}"
                raise StoreError(f"oxigraph server did not start: {reason}", path=self.store)
            try:
                req = urllib.request.Request(f"{self.url}/query", data=b"ASK {}",
                                             headers={"Content-Type":
                                                      "application/sparql-query"})
                with urllib.request.urlopen(req, timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise StoreError(f"oxigraph server did not answer within {timeout:.0f} s",
                         path=self.store)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        self._stop_guard()
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` s)."""
        self._stop_guard()
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
        self.process = None

    def __enter__(self) -> OxigraphServer:
        if self.process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
