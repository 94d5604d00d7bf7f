"""Reading CSV files: one record at a time, regular files only, lines of bounded length."""

import codecs
import csv
import io
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fintrack.errors import InputError
from fintrack.interchange.kinds import HAD_SOURCE, ONE_OF, REQUIRED, Kind
from fintrack.spreadsheet import unneutralise

# The longest line of a file an import reads, and the longest row (with the line breaks in its
# quoted cells), in characters: a longer one is refused before it is held in memory whole, so
# that a file without line breaks cannot exhaust the memory.
MAX_LINE = 1 << 20
# The longest cell, which the csv module reports as a csv.Error. Its limit is one setting for
# the whole process, which other libraries change (followthemoney sets 30 MB when imported), so
# it is set to this for each row read and given back after.
MAX_CELL = 131_072


def _next_row(reader: Iterator[list[str]]) -> list[str]:
    previous = csv.field_size_limit(MAX_CELL)
    try:
        return next(reader)
    finally:
        csv.field_size_limit(previous)


# A column of rejects files; ignored on import, so a corrected rejects file imports as it is.
REASON = "reason"


def open_imported(
    path: Path, label: str, give: str = "a CSV file", save: str = "the rows"
) -> IO[bytes]:
    """A file to import, opened for reading; only a regular file: an import reads it twice
    (it checks everything before it writes anything), which a pipe or a device cannot give.
    It is opened without waiting, so that a pipe without a writer is refused, not waited for.
    `give` says what the import reads, `save` what to save to a file instead of a pipe."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(label, "no such file") from None
    except IsADirectoryError:
        raise InputError(label, f"is a directory; give {give}") from None
    except OSError as exc:
        raise InputError(label, f"cannot be read: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InputError(label, f"is a directory; give {give}")
        raise InputError(
            label,
            "is not a regular file but a pipe or a device; an import reads its file "
            f"twice, so save {save} to a file and import that",
        )
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


@dataclass(frozen=True)
class Record:
    """One row of a CSV file: the line it starts on, its cells by column and as read."""

    line: int
    values: dict[str, str]
    raw: list[str]
    problem: str | None = None


Progress = Callable[[int], None]


class CsvFile:
    """A CSV file read lazily, one record at a time, as spreadsheets write them.

    UTF-8 with or without a byte-order mark; `,` or `;` between cells (whichever the header
    uses); quoted cells may hold line breaks; blank lines are skipped.
    """

    def __init__(self, path: Path, kind: Kind, columns: Sequence[str], label: str) -> None:
        self.path = path
        self.kind = kind
        self.columns = list(columns)
        self.label = label
        self.header: list[str] = []
        self.size = 0

    def fail(self, message: str) -> InputError:
        return InputError(self.label, message)

    def _open(self) -> IO[bytes]:
        return open_imported(self.path, self.label)

    def records(self, progress: Progress | None = None) -> Iterator[Record]:
        binary = self._open()
        with binary:
            self.size = os.fstat(binary.fileno()).st_size
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            lines = _Lines(text)
            line = 0
            try:
                first = next(lines, "")
                line = 1
                self._read_header(first)
                delimiter = self._delimiter
                reader = csv.reader(_chain(first, lines), delimiter=delimiter, strict=True)
                _next_row(reader)
                count = 0
                while True:
                    line = reader.line_num + 1
                    lines.row = 0
                    try:
                        cells = _next_row(reader)
                    except StopIteration:
                        break
                    count += 1
                    if progress is not None and count % 10_000 == 0:
                        progress(binary.tell())
                    if not "".join(cells).strip():  # a blank row: every cell blank
                        continue
                    yield self._record(line, cells)
            except UnicodeDecodeError:
                raise self.fail(
                    f"line {self._undecodable_line()} is not UTF-8 text; save the file as CSV UTF-8"
                ) from None
            except _TooLong as exc:
                if exc.row:
                    raise self.fail(
                        f"line {line}: the row (with the line breaks in its quoted cells) is "
                        f"longer than {MAX_LINE:,} characters; is a quote left open?"
                    ) from None
                raise self.fail(
                    f"line {exc.line} is longer than {MAX_LINE:,} characters; is it a CSV file?"
                ) from None
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise self.fail(
                        f"line {line}: a cell is longer than {MAX_CELL:,} characters; "
                        "is a quote left open?"
                    ) from None
                raise self.fail(f"line {line}: {exc}; is a quote left open?") from None
            if progress is not None:
                progress(self.size)

    _delimiter = ","

    def _undecodable_line(self) -> int:
        """The first line that is not UTF-8 (text is decoded ahead, a chunk at a time), found
        a chunk at a time too, however long the lines."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        number = 1
        with self._open() as binary:
            while chunk := binary.read(1 << 16):
                try:
                    number += decoder.decode(chunk).count("\n")
                except UnicodeDecodeError as exc:
                    return number + exc.object[: exc.start].count(b"\n")
        return number

    def _read_header(self, first: str) -> None:
        if not first.strip():
            raise self.fail(f"is empty; the first line must name the columns: {self._listed()}")
        commas, semicolons = first.count(","), first.count(";")
        if semicolons > commas:
            self._delimiter = ";"
        elif commas == 0 and "\t" in first:
            raise self.fail("separates cells with tabs; save it as CSV, with , or ;")
        else:
            self._delimiter = ","
        header = next(csv.reader([first], delimiter=self._delimiter))
        self.header = [cell.strip().lower() for cell in header]
        known = set(self.columns) | {REASON}
        for name in self.header:
            if name == "source" and self.kind in HAD_SOURCE:
                raise self.fail(
                    f"line 1: 'source' is no longer a column of {self.kind.value}: sources are "
                    "records of their own, in the files of `fintrack export sources` and "
                    "`fintrack export links`; export the file again with this version"
                )
            if name not in known:
                raise self.fail(
                    f"line 1: '{name}' is not a column of {self.kind.value}; "
                    f"the columns are {self._listed()}"
                )
            if self.header.count(name) > 1:
                raise self.fail(f"line 1: column '{name}' appears twice")
        missing = [name for name in REQUIRED[self.kind] if name not in self.header]
        if missing:
            raise self.fail(
                f"line 1: no column {', '.join(missing)}; "
                f"{self.kind.value} need {', '.join(REQUIRED[self.kind])}"
            )
        either = ONE_OF.get(self.kind, ())
        if either and not any(name in self.header for name in either):
            raise self.fail(
                f"line 1: no column {' or '.join(either)}; {self.kind.value} need one of them"
            )

    def _listed(self) -> str:
        return ", ".join(self.columns)

    def _record(self, line: int, cells: list[str]) -> Record:
        problem = None
        if len(cells) != len(self.header):
            problem = f"has {len(cells)} cells; the header has {len(self.header)}"
        if "'" in "".join(cells):  # a quote to undo somewhere; the common row has none
            values = {
                name: unneutralise(cell) for name, cell in zip(self.header, cells, strict=False)
            }
        else:
            values = dict(zip(self.header, cells, strict=False))
        return Record(line, values, cells, problem)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


class _TooLong(Exception):
    def __init__(self, line: int, row: bool) -> None:
        self.line = line
        self.row = row


class _Lines:
    """The lines of a text, each read only up to MAX_LINE characters, so that a line without
    an end is refused rather than read whole; `row` counts the characters of the current row."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.number = 0
        self.row = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_LINE + 2)  # and its \r\n
        if not line:
            raise StopIteration
        self.number += 1
        length = len(line.rstrip("\r\n"))
        if length > MAX_LINE:
            raise _TooLong(self.number, row=False)
        self.row += length
        if self.row > MAX_LINE:
            raise _TooLong(self.number, row=True)
        return line
