"""Letters are read in worker processes under limits: a PDF bomb is one letter's error (also
under a memory limit), a worker that dies is replaced, and workers end with their parent.

Everything heavy runs in subprocesses bounded in memory (``RLIMIT_AS``) and time, and the PDF
bomb is built at test time (about 100 kB, never committed).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from imr_graph.graph.store import GraphStore
from imr_graph.graph.workers import WorkerPool, death_reason

from .safety_letters import cli, env, write_copies

MEMORY_CAP = 3 * 1024**3
"""Address space allowed to a whole CLI run in these tests (the bomb wants about 3 GB)."""


def pdf_bomb(decoded_mb: int) -> bytes:
    """A valid one-page PDF whose page stream inflates to ``decoded_mb`` MB of text-showing
    operators (about 1.5 kB per decoded MB; PDFium needs tens of MB per decoded MB)."""
    comp = zlib.compressobj(9)
    parts = [comp.compress(b"BT /F1 1 Tf 0 0 Td\n")]
    block = b"(A) Tj " * (1024 * 1024 // 7)
    parts.extend(comp.compress(block) for _ in range(decoded_mb))
    parts.append(comp.compress(b"\nET\n") + comp.flush())
    stream = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _capped() -> None:  # in the child: a machine with little memory
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _run(args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    e = env()
    e.update(extra)
    return subprocess.run(["nice", "-n", "10", *cli(), *args], capture_output=True, text=True,
                          env=e, timeout=180, preexec_fn=_capped)


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("limits") / "letters"
    write_copies(folder, 22)
    bomb = pdf_bomb(64)
    assert len(bomb) < 200_000
    (folder / "bomb.pdf").write_bytes(bomb)
    return folder


@pytest.mark.parametrize("jobs", ["2", "1"])
def test_a_pdf_bomb_is_one_error_and_the_batch_goes_on(letters: Path, tmp_path: Path,
                                                      jobs: str) -> None:
    store = tmp_path / "store"
    start = time.monotonic()
    done = _run(["ingest", str(letters), "--jobs", jobs, "--store", str(store)],
                IMR_GRAPH_LETTER_MEMORY_MB="512")
    assert time.monotonic() - start < 120
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "BrokenProcessPool" not in done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("imr-graph: error:")]
    assert len(errors) == 1 and "bomb.pdf" in errors[0] and "512 MiB" in errors[0], errors
    assert "letters: 22 " in done.stdout and "errors: 1 " in done.stdout
    with GraphStore(store, read_only=True) as gs:
        assert gs.case_count() == 22


def test_serial_parse_of_a_bomb_says_so_and_goes_on(letters: Path) -> None:
    good = sorted(letters.glob("copy-*.txt"))[0]
    done = _run(["parse", str(letters / "bomb.pdf"), str(good), "--format", "jsonl"],
                IMR_GRAPH_LETTER_MEMORY_MB="512")
    assert done.returncode == 1, done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("imr-graph: error:")]
    assert len(errors) == 1 and "bomb.pdf" in errors[0] and "died" in errors[0]
    assert len(done.stdout.splitlines()) == 1 and "CM15-9000000" in done.stdout


def _task(path: str) -> str:
    """A worker task: ``die`` kills its worker, ``slow`` outlives the time limit."""
    if path == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if path == "abort":
        os.abort()
    if path == "slow":
        time.sleep(30)
    return path.upper()


def _dead(path: str, reason: str) -> str:
    return f"error {path}: {reason}"


def test_a_dead_worker_is_that_letters_error_and_is_replaced(monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    monkeypatch.setenv("IMR_GRAPH_LETTER_SECONDS", "1")
    paths = ["a", "b", "die", "c", "slow", "d", "abort", *[f"x{i}" for i in range(20)]]
    start = time.monotonic()
    with WorkerPool(2, _task, _dead) as pool:
        out = list(pool.map(paths, chunk=3, ahead=4))
        assert pool.deaths == 3
        assert len(pool.workers) == 2
    assert time.monotonic() - start < 20
    assert [o.split(":")[0] for o in out] == [
        "A", "B", "error die", "C", "error slow", "D", "error abort",
        *[f"X{i}" for i in range(20)]]
    assert "SIGKILL" in out[2] and "longer than 1 s" in out[4] and "SIGABRT" in out[6]
    assert "exit status 3" in death_reason(3)


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of the processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append((int(entry), fields[19]))
    return found


def _alive(pid: int, started: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_end_when_the_parent_is_killed(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    write_copies(letters, 3000)
    proc = subprocess.Popen([*cli(), "ingest", str(letters), "--jobs", "2", "--store",
                             str(tmp_path / "store")], env=env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.01)
        assert len(workers) == 2, "the workers never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(*w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [w for w in workers if _alive(*w)] == []
    finally:  # never leave a process behind, even when the test fails
        for pid, started in workers:
            if _alive(pid, started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_text_and_pages_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from imr_graph.errors import InputError, PdfError
    from imr_graph.letters import reading

    long_text = tmp_path / "long.txt"
    long_text.write_text("IMR letter text " * 200_000)  # 3.2 million characters
    with pytest.raises(InputError, match="more than 2,000,000 characters"):
        reading.read_document(long_text)
    monkeypatch.setattr(reading, "MAX_TEXT_CHARS", 1000)
    bomb = tmp_path / "small-bomb.pdf"
    bomb.write_bytes(pdf_bomb(1))  # 1 MB of "(A) Tj": a page of far more than 1000 characters
    with pytest.raises(PdfError, match="more than 1,000 characters"):
        reading.read_document(bomb)
    monkeypatch.setattr(reading, "MAX_PAGES", 0)
    with pytest.raises(PdfError, match="1 pages, more than the 0"):
        reading.read_document(bomb)
