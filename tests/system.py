"""Real operating-system conditions for tests: a fintrack process that file permissions bind
(even when the tests run as root), and a small file system that fills up."""

import os
import shutil
import subprocess
import sys
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
