"""Output files (-o, --rejects): written whole or not at all, as the shell's `>` would name them."""

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from fintrack.errors import InputError

DESCRIPTORS = ("/dev/fd", "/proc/self/fd", f"/proc/{os.getpid()}/fd")
NEW_FILE_MODE = 0o666  # less the umask, as for any new file
# Where O_TMPFILE is missing or the file system does not take it, the new file has a name.
NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS})


def _why(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


@contextmanager
def text_file(target: Path, field: str) -> Iterator[IO[str]]:
    """A text file to write to `target`, which appears there only once it is complete.

    A symlink is followed and its target written. A special file (a terminal, /dev/null, a
    FIFO) is written directly, as it cannot be replaced. A regular file is written beside the
    one it replaces and takes its place when complete, with that file's mode and owner; a new
    one gets the umask's mode. On Linux the new file has no name until it is complete
    (O_TMPFILE), so a fintrack killed while writing, even with kill -9, leaves nothing
    behind. Any failure (a read-only folder, a full disk) is one error, and the file that was
    at `target` is left as it was.
    """
    try:
        found = os.stat(target)  # follows symlinks
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise InputError(field, f"cannot write '{target}': {_why(exc)}") from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise InputError(field, f"'{target}' is a directory; give a file name")
    if found is not None and (not stat.S_ISREG(found.st_mode) or _descriptor(target)):
        with _writing(target, field), open(target, "w", encoding="utf-8", newline="") as handle:
            yield handle
        return
    path = Path(os.path.realpath(target))
    folder = path.parent
    if not folder.is_dir():
        raise InputError(field, f"folder '{folder}' does not exist")
    if found is not None and not os.access(path, os.W_OK):
        raise InputError(field, f"cannot write '{target}': permission denied")
    with _writing(target, field):
        fd, name = _new_file(folder, path.name)
        try:
            with open(fd, "w", encoding="utf-8", newline="", closefd=False) as handle:
                yield handle
            os.fsync(fd)
            if found is None:
                _put(fd, name, path, found)
            elif _keep_owner(fd, found):
                os.fchmod(fd, stat.S_IMODE(found.st_mode))
                _put(fd, name, path, found)
            else:
                _copy_over(fd, path)
        finally:
            os.close(fd)
            if name is not None:
                Path(name).unlink(missing_ok=True)


def _descriptor(target: Path) -> bool:
    """Whether `target` names one of fintrack's own open files (/dev/stdout, /dev/fd/3), which
    are written as they are, as the shell does, not replaced."""
    text = os.path.abspath(target)
    return text in ("/dev/stdout", "/dev/stderr") or os.path.dirname(text) in DESCRIPTORS


@contextmanager
def _writing(target: Path, field: str) -> Iterator[None]:
    """Turn the system's refusals while writing into one error naming the file."""
    try:
        yield
    except OSError as exc:
        raise InputError(field, f"cannot write '{target}': {_why(exc)}") from None


def _new_file(folder: Path, name: str) -> tuple[int, str | None]:
    """An open file in `folder` for the new content, and its name (None: it has none yet)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if flag and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(folder, flag | os.O_RDWR | os.O_CLOEXEC, NEW_FILE_MODE), None
        except OSError as exc:
            if exc.errno not in NO_TMPFILE:
                raise
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, NEW_FILE_MODE & ~umask)
    return fd, temporary


def _put(fd: int, name: str | None, path: Path, found: os.stat_result | None) -> None:
    """Give the complete file the name `path`, in one step."""
    if name is not None:
        os.replace(name, path)
        return
    # A nameless file (O_TMPFILE) gets a name by a hard link to it.
    if found is None:
        try:
            _link(fd, path)
            return
        except FileExistsError:
            pass  # made meanwhile by someone else: replaced, as an existing file is
    # A link cannot replace a file, so it gets a passing name, at once renamed.
    passing = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    passing.unlink(missing_ok=True)
    _link(fd, passing)
    try:
        os.replace(passing, path)
    except BaseException:
        passing.unlink(missing_ok=True)
        raise


def _link(fd: int, path: Path) -> None:
    """Link the open file `fd` at `path`: linkat(2) following /proc/self/fd/FD, as open(2)
    describes for O_TMPFILE (os.link calls linkat only when given a folder descriptor)."""
    folder = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(str(fd), path, src_dir_fd=folder, follow_symlinks=True)
    finally:
        os.close(folder)


def _keep_owner(fd: int, found: os.stat_result) -> bool:
    """Give the new file the owner and group of the one it replaces; False when only root
    could (the old file then has to be written over in place to keep them)."""
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (found.st_uid, found.st_gid):
        return True
    try:
        os.fchown(fd, found.st_uid, found.st_gid)
    except PermissionError:
        return False
    return True


def _copy_over(fd: int, path: Path) -> None:
    """Write the complete new content over the old file, which keeps its owner and mode."""
    os.lseek(fd, 0, os.SEEK_SET)
    with open(path, "r+b") as old, open(os.dup(fd), "rb") as new:
        old.truncate(0)
        while chunk := new.read(1 << 20):
            old.write(chunk)
        old.flush()
        os.fsync(old.fileno())
