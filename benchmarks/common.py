"""Process timing and peak memory shared by the benchmark scripts."""

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Step:
    name: str
    seconds: float
    peak_mb: float


def measure(
    name: str,
    command: list[str],
    stdout: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: Path | None = None,
) -> Step:
    """Run a command in its own process, timed from start to exit, with its peak resident
    memory from the operating system (wait4); exits with its errors when it fails."""
    began = time.perf_counter()
    with (
        open(stdout or os.devnull, "wb") as out,
        open(stdin or os.devnull, "rb") as given,
    ):
        process = subprocess.Popen(
            command, stdin=given, stdout=out, stderr=subprocess.PIPE, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        errors = process.stderr.read().decode() if process.stderr else ""
    seconds = time.perf_counter() - began
    if process.returncode != 0:
        sys.exit(f"{name} failed ({process.returncode}): {errors}")
    return Step(name, seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in kB on Linux


def median_step(name: str, steps: list[Step]) -> Step:
    """The median time and the largest peak memory of a few runs."""
    return Step(
        name,
        statistics.median(s.seconds for s in steps),
        max(s.peak_mb for s in steps),
    )
