"""Start and stop a private Virtuoso server (Debian's ``virtuoso-opensource``) and bulk-load it.

Used by the cross-engine tests and the benchmark, and usable by hand to try ``--endpoint``
against Virtuoso: :class:`VirtuosoServer` writes its own ``virtuoso.ini`` in a directory of
its own, listens on two loopback ports (SQL and HTTP) and stops its own process only.
The configuration lifts the public-endpoint limits the Debian default sets (10,000 result
rows, 60 s per query) so canned queries return every row, and keeps ``DefaultHost`` at
``localhost:8890`` so Virtuoso's own graphs have the names the profile hides (a server with
another ``DefaultHost`` shows its ``http://HOST/sparql`` and ``/DAV/`` graphs beside the
cases: add the prefix to the profile). ``dba``/``dba`` is the
administrator, which is why the ports are loopback only.

:meth:`VirtuosoServer.bulk_load` runs Virtuoso's own bulk loader (``ld_dir`` +
``rdf_loader_run``) through ``isql-vt`` on an N-Quads file, the fast path for big loads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from ..errors import StoreError, UsageError

BINARY = "virtuoso-t"
ISQL = "isql-vt"
USER = PASSWORD = "dba"

INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
LiteMode                 = 0
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 10
CheckpointInterval       = 60
O_DIRECT                 = 0
CaseMode                 = 2
MaxStaticCursorRows      = 5000
CheckpointAuditTrail     = 0
AllowOSCalls             = 0
SchedulerInterval        = 10
DirsAllowed              = ., {dir}
ThreadCleanupInterval    = 0
ThreadThreshold          = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize        = 100000
SingleCPU                = 0
PrefixResultNames        = 0
RdfFreeTextRulesSize     = 100
IndexTreeMaps            = 64
MaxMemPoolSize           = 200000000
MaxQueryMem              = 1G
VectorSize               = 1000
MaxVectorSize            = 1000000
AdjustVectorSize         = 0
ThreadsPerQuery          = 2
AsyncQueueMaxThreads     = 10
NumberOfBuffers          = {buffers}
MaxDirtyBuffers          = {dirty}

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = {dir}
MaxClientConnections        = 10
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
TempASPXDir                 = 0
ServerThreads               = 10
MaxKeepAlives               = 10
KeepAliveTimeout            = 10
HTTPThreadSize              = 280000
Charset                     = UTF-8
EnabledGzipContent          = 0

[Client]
SQL_PREFETCH_ROWS  = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT  = 0
SQL_TXN_TIMEOUT    = 0

[URIQA]
DynamicLocal = 0
DefaultHost  = localhost:8890

[SPARQL]
ResultSetMaxRows           = 100000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime      = 0
DeferInferenceRulesInit    = 0
"""


def installed() -> bool:
    """True when ``virtuoso-t`` and ``isql-vt`` are on ``PATH``."""
    return shutil.which(BINARY) is not None and shutil.which(ISQL) is not None


class VirtuosoServer:
    """One ``virtuoso-t`` process on a database directory of its own (see module docstring)."""

    def __init__(self, directory: Path, http_port: int, sql_port: int,
                 buffers: int = 20000) -> None:
        if not installed():
            raise UsageError("Virtuoso is not installed (Debian package virtuoso-opensource; "
                             "`bash scripts/ensure-virtuoso.sh` installs it)")
        self.directory = Path(directory).resolve()
        self.http_port, self.sql_port = http_port, sql_port
        self.buffers = buffers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The SPARQL endpoint (``/sparql``; the profile derives the others)."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def start(self, timeout: float = 120.0) -> VirtuosoServer:
        """Write the ini file, start the server and wait until its HTTP endpoint answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        ini = self.directory / "virtuoso.ini"
        ini.write_text(INI.format(dir=self.directory, sql_port=self.sql_port,
                                  http_port=self.http_port, buffers=self.buffers,
                                  dirty=self.buffers * 3 // 4))
        log = (self.directory / "server.out").open("ab")
        self.proc = subprocess.Popen([BINARY, "-c", str(ini), "+foreground"],
                                     cwd=self.directory, stdout=log, stderr=log,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StoreError(f"virtuoso-t exited with {self.proc.returncode}; see "
                                 f"{self.directory / 'virtuoso.log'}", path=self.url)
            try:
                with urllib.request.urlopen(self.url + "?query=ASK%7B%7D", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise StoreError(f"Virtuoso did not answer within {timeout:.0f} s", path=self.url)

    def isql(self, *statements: str, timeout: float = 3600.0) -> str:
        """Run SQL statements with ``isql-vt`` as ``dba``; returns its output."""
        script = "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)
        run = subprocess.run([ISQL, str(self.sql_port), USER, PASSWORD, "VERBOSE=OFF",
                              "BANNER=OFF", "PROMPT=OFF", "ERRORS=STDOUT"],
                             input=script.encode(), capture_output=True, timeout=timeout,
                             check=False)
        out = run.stdout.decode("utf-8", "replace")
        if run.returncode != 0 or "*** Error" in out:
            raise StoreError(f"isql failed: {out.strip()[:300]}", path=self.url)
        return out

    def bulk_load(self, nquads: Path) -> None:
        """Load an N-Quads file with Virtuoso's bulk loader, then checkpoint.

        The file must be in the server's directory (``DirsAllowed``); each quad goes to
        its own graph.
        """
        nquads = Path(nquads).resolve()
        if nquads.parent != self.directory:
            raise UsageError(f"bulk load reads from {self.directory} only")
        self.isql(f"ld_dir('{nquads.parent}', '{nquads.name}', 'urn:imr-graph:unused')",
                  "rdf_loader_run()", "checkpoint")
        failed = self.isql(f"SELECT ll_error FROM DB.DBA.LOAD_LIST WHERE ll_file LIKE "
                           f"'%{nquads.name}' AND ll_error IS NOT NULL")
        if "NULL" not in failed and failed.strip() and "0 Rows" not in failed:
            raise StoreError(f"bulk load failed: {failed.strip()[:300]}", path=self.url)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop our server (SIGTERM, then SIGKILL after ``timeout``)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> VirtuosoServer:
        return self.start() if self.proc is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["VirtuosoServer", "installed"]
