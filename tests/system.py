"""Real operating-system conditions for tests: a fintrack process that file permissions bind
(even when the tests run as root), a small file system that fills up, and processes that wait
for a lock another connection holds."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# Root passes every permission check by these capabilities; a process without them is bound
# by file modes like anyone else (it stays root, so it can still read the Python install).
DAC_CAPABILITIES = "-dac_override,-dac_read_search,-fowner"


@dataclass
class Finished:
    code: int
    out: str
    err: str


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions cannot bind fintrack")
    probe = subprocess.run(
        [setpriv, f"--bounding-set={DAC_CAPABILITIES}", "true"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode().strip()}")
    return [setpriv, f"--bounding-set={DAC_CAPABILITIES}"]


def fintrack_bound_by_permissions(*args: str, env: dict[str, str] | None = None) -> Finished:
    """Run fintrack in a process of its own that file and folder modes apply to."""
    result = subprocess.run(
        [*_unprivileged_prefix(), sys.executable, "-m", "fintrack", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=120,
    )
    return Finished(result.returncode, result.stdout, result.stderr)


@contextmanager
def small_file_system(path: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path`, to fill up; skipped where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> None:
    """Fill the file system of `folder` to the last byte."""
    for name, size in (("filler", 1 << 16), ("filler-tail", 1)):
        try:
            with open(folder / name, "wb", buffering=0) as filler:
                while True:
                    filler.write(b"\0" * size)
        except OSError:
            pass


def start_python(code: str, *args: str, url: str | None = None) -> "subprocess.Popen[str]":
    """Python running `code` with `args` in a process of its own, on the test's database (its
    FINTRACK_DATABASE_URL) or on `url`; stdin, stdout and stderr are pipes."""
    env = dict(os.environ)
    if url is not None:
        env["FINTRACK_DATABASE_URL"] = url
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(*processes: "subprocess.Popen[str] | None") -> None:
    """Kill whichever of `processes` still runs (a test that failed half-way), and reap it."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


# On SQLite a wait for the write lock shows only as a process that has the database open and
# does not end: it must still run this long after opening it.
SQLITE_LOCK_WAIT = 1.0
CLI = "from fintrack.cli import entry; entry()"


def start_blocked(url: str, code: str, *args: str) -> "subprocess.Popen[str]":
    """Start `code` with `args` (as `start_python` does) on the database at `url`, where another
    connection holds a lock, and return once the process waits for that lock.

    On PostgreSQL the process's connection has an application name of its own, and it waits
    when pg_stat_activity says that connection waits for a lock. On SQLite, whose busy wait is
    unseen, it waits when it has opened the database file and still runs SQLITE_LOCK_WAIT
    seconds later (without /proc, a few seconds after it started)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from fintrack.store import Database

    path = Database(url).sqlite_path
    if path is not None:
        process = start_python(code, *args, url=url)
        try:
            _until_opened(process, path)
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(timeout=SQLITE_LOCK_WAIT)
        except BaseException:
            stop(process)
            raise
        return process
    name = f"fintrack-test-{uuid.uuid4().hex[:12]}"
    named = make_url(url).update_query_dict({"application_name": name})
    process = start_python(code, *args, url=named.render_as_string(hide_password=False))
    engine = create_engine(url, poolclass=NullPool)
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = :name AND wait_event_type = 'Lock'"
    )
    try:
        for _ in range(600):
            with engine.connect() as connection:
                if connection.execute(query, {"name": name}).scalar_one():
                    return process
            if process.poll() is not None:
                raise AssertionError(
                    f"it ended without waiting for a lock: {process.communicate()}"
                )
            time.sleep(0.05)
    except BaseException:
        stop(process)
        raise
    finally:
        engine.dispose()
    stop(process)
    raise AssertionError("the process never waited for a lock")


def _until_opened(process: "subprocess.Popen[str]", path: Path) -> None:
    """Wait until `process` has the SQLite file at `path` open (read from /proc)."""
    folder = Path(f"/proc/{process.pid}/fd")
    if not folder.is_dir():  # no /proc: give it time to start and reach the lock
        time.sleep(3)
        return
    target = str(path.resolve())
    for _ in range(1200):
        if process.poll() is not None:
            raise AssertionError(f"it ended without waiting for a lock: {process.communicate()}")
        try:
            if any(os.readlink(fd) == target for fd in folder.iterdir()):
                return
        except OSError:  # a descriptor closed while it was read
            pass
        time.sleep(0.05)
    raise AssertionError(f"the process never opened {path}")
