"""export -o writes what is at the path as the shell's `>` would: through symlinks and special
files, keeping an existing file's mode and owner, whole or not at all, and nothing left behind."""

import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import QATAR, Run, assert_error
from tests.system import fill, fintrack_bound_by_permissions, small_file_system

PLEDGES_HEADER = "id,donor,recipient,"


@pytest.fixture
def one_pledge(run: Run) -> Run:
    assert run(*QATAR).code == 0
    return run


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o027)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_file_gets_the_mode_of_the_umask(
    one_pledge: Run, tmp_path: Path, umask: None
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "pledges.csv"
    assert one_pledge("export", "pledges", "-o", str(target)).code == 0
    assert _mode(target) == 0o640
    os.umask(0o002)
    other = folder / "other.csv"
    assert one_pledge("export", "pledges", "-o", str(other), "-q").code == 0
    assert _mode(other) == 0o664
    assert _names(folder) == ["other.csv", "pledges.csv"]


def test_an_existing_file_keeps_its_mode_and_owner(one_pledge: Run, tmp_path: Path) -> None:
    target = tmp_path / "shared.csv"
    target.write_text("old\n")
    target.chmod(0o664)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        owner = (65534, 65534)  # nobody: root can give the new file any owner
        os.chown(target, *owner)
    assert one_pledge("export", "pledges", "-o", str(target)).code == 0
    assert target.read_text().startswith(PLEDGES_HEADER)
    found = target.stat()
    assert (stat.S_IMODE(found.st_mode), found.st_uid, found.st_gid) == (0o664, *owner)


def test_a_symlink_is_followed_to_its_target(one_pledge: Run, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "pledges.csv"
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    dangling = tmp_path / "next.csv"
    dangling.symlink_to(tmp_path / "real" / "next.csv")
    assert one_pledge("export", "pledges", "-o", str(link)).code == 0
    assert one_pledge("export", "pledges", "-o", str(dangling)).code == 0
    assert link.is_symlink() and dangling.is_symlink()
    assert real.read_text().startswith(PLEDGES_HEADER)
    assert (tmp_path / "real" / "next.csv").read_text() == real.read_text()
    assert _names(tmp_path / "real") == ["next.csv", "pledges.csv"]


def _device(path: Path, major: int, minor: int) -> Path:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return path


def test_a_device_is_written_to_not_replaced(one_pledge: Run, tmp_path: Path) -> None:
    # The test's own /dev/null and /dev/full, so that a fault cannot replace the real ones.
    folder = tmp_path / "dev"
    folder.mkdir()
    null = _device(folder / "null", 1, 3)
    assert one_pledge("export", "pledges", "-o", str(null)).code == 0
    assert stat.S_ISCHR(null.stat().st_mode)
    full = _device(folder / "full", 1, 7)
    result = one_pledge("export", "pledges", "-o", str(full))
    assert_error(result, "--output: cannot write", "no space left on device")
    assert result.code == 1
    assert stat.S_ISCHR(full.stat().st_mode)
    assert _names(folder) == ["full", "null"]


def test_a_fifo_is_written_to_not_replaced(one_pledge: Run, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert one_pledge("export", "pledges", "-o", str(fifo)).code == 0
    reader.join(timeout=30)
    assert received and received[0].decode().startswith(PLEDGES_HEADER)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_read_only_folder_is_one_error_line_and_the_old_file_stays(
    one_pledge: Run, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    old = folder / "pledges.csv"
    old.write_text("old\n")
    folder.chmod(0o555)
    try:
        for target in (old, folder / "new.csv"):
            result = fintrack_bound_by_permissions("export", "pledges", "-o", str(target))
            assert result.code == 1, result
            assert result.err.strip().splitlines() == [
                f"Error: --output: cannot write '{target}': permission denied"
            ]
    finally:
        folder.chmod(0o755)
    assert old.read_text() == "old\n"
    assert _names(folder) == ["pledges.csv"]


def test_a_full_disk_is_one_error_line_and_the_old_file_stays(
    one_pledge: Run, tmp_path: Path
) -> None:
    with small_file_system(tmp_path / "small", "256k") as folder:
        old = folder / "pledges.csv"
        old.write_text("old\n")
        fill(folder)
        result = one_pledge("export", "pledges", "-o", str(old))
        assert_error(result, f"--output: cannot write '{old}': no space left on device")
        assert result.code == 1
        assert old.read_text() == "old\n"
        assert _names(folder) == ["filler", "filler-tail", "pledges.csv"]


KILLED_EXPORT = """
import sys, time
from pathlib import Path
from fintrack.cli.output import atomic_text_file

with atomic_text_file(Path(sys.argv[1]), "--output") as handle:
    handle.write("half of it\\n")
    handle.flush()
    print("writing", flush=True)
    time.sleep(600)
"""


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="Linux O_TMPFILE")
def test_an_export_killed_while_writing_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    old = folder / "pledges.csv"
    old.write_text("old\n")
    for target in (old, folder / "new.csv"):
        writer = subprocess.Popen(
            [sys.executable, "-c", KILLED_EXPORT, str(target)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline() == "writing\n"
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=60)
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
        assert writer.returncode == -signal.SIGKILL
        assert _names(folder) == ["pledges.csv"]
        assert old.read_text() == "old\n"


def test_dev_stdout_is_the_open_file_not_a_path_to_replace(one_pledge: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("")
    inode = out.stat().st_ino
    with open(out, "w") as stdout:
        finished = subprocess.run(
            [sys.executable, "-m", "fintrack", "export", "pledges", "-q", "-o", "/dev/stdout"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert finished.returncode == 0, finished.stderr
    assert out.stat().st_ino == inode
    assert out.read_text().startswith(PLEDGES_HEADER)
