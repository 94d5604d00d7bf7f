"""Tables that fit the terminal: column widths, what gives way first, and fast plain lines."""

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any

from fintrack.formats import KEEP, MAIN

if TYPE_CHECKING:
    from fintrack.formats import Column

# Columns are two spaces apart; a rule under the header. No vertical borders: on an 80-column
# terminal every character of border is a character a figure cannot use.
GAP = 2
# Text columns keep at least this width (or their longest header word, or Column.min_width).
TEXT_MIN = 8
ELLIPSIS = "…"
# A text column is made wide enough for its longest word, up to this, so that words are
# broken only when they are longer (a URL).
LONG_WORD = 16

FIXED_KINDS = ("money", "int", "decimal", "percent", "date", "datetime", "bool")
NUMERIC_KINDS = ("money", "int", "decimal", "percent")


def cell_width(text: str) -> int:
    """Columns a text takes on a terminal (wide East Asian characters take two)."""
    if text.isascii():
        return len(text)
    return _wide_width(text)


@lru_cache(maxsize=4096)
def _wide_width(text: str) -> int:
    # A table repeats the same few texts (a donor and recipient with an arrow) many times.
    from rich.cells import cell_len

    return cell_len(text)


def is_fixed(column: "Column") -> bool:
    """A column whose values are never wrapped or cut: numbers, dates, codes, ids."""
    return column.kind in FIXED_KINDS or not column.wrap


@dataclass
class _Measure:
    """What one pass over the rows learnt of a column."""

    exact: int = 0  # widest cell with exact amounts
    compact: int = 0  # widest cell with compact amounts
    header_word: int = 0  # longest word of the header
    header: int = 0  # the whole header on one line
    word: int = 0  # longest word of a text column's cells, up to LONG_WORD
    texts: list[str] = field(default_factory=list)  # each row's cell, exact amounts


@dataclass
class Layout:
    """How a table is drawn: its columns, their widths, whether amounts are compacted."""

    columns: list["Column"]
    widths: list[int]
    compact: bool = False
    left_out: list["Column"] = field(default_factory=list)
    blocks: bool = False  # too narrow for any row: one block of lines per record
    cut: bool = True  # wrapped text cells take at most their column's max_lines
    # Each shown column's cells as measured, row by row (None: to be made again, as compact
    # amounts are), so that a table's cells are made once.
    texts: list[list[str] | None] = field(default_factory=list)

    @property
    def width(self) -> int:
        return sum(self.widths) + GAP * (len(self.widths) - 1)


# The cells of a column as a table shows them, row by row (with compact amounts or not).
Cell = Callable[["Column", Sequence[dict[str, Any]], bool], list[str]]


def _measure(
    rows: Sequence[dict[str, Any]], columns: Sequence["Column"], cell: Cell
) -> list[_Measure]:
    """One pass over the rows: the widest cell of each column, and of text its longest word."""
    measures = []
    for column in columns:
        words = column.header.split()
        measures.append(
            _Measure(
                header_word=max((cell_width(w) for w in words), default=0),
                header=cell_width(column.header),
            )
        )
    for m, column in zip(measures, columns, strict=True):
        widest = 0
        m.texts = texts = cell(column, rows, False)
        # Both are the largest over the texts, so each distinct text is measured once.
        if is_fixed(column) and "".join(texts).isascii():
            widest = max(map(len, texts), default=0)
        elif is_fixed(column):
            for text in set(texts):
                width = cell_width(text)
                if width > widest:
                    widest = width
        else:
            word = 0
            for text in set(texts):
                width = cell_width(text)
                if width > widest:
                    widest = width
                if word < LONG_WORD and width > word:
                    word = max(word, max((cell_width(w) for w in text.split()), default=0))
            m.word = min(word, LONG_WORD)
        m.exact = m.compact = widest
    return measures


def _measure_compact(
    rows: Sequence[dict[str, Any]],
    columns: Sequence["Column"],
    measures: list[_Measure],
    cell: Cell,
) -> None:
    """The widest compact amount of each money column: measured only when exact ones do not fit."""
    for m, column in zip(measures, columns, strict=True):
        if column.kind == "money":
            m.compact = max(map(len, cell(column, rows, True)), default=0)


def _bounds(column: "Column", m: _Measure, compact: bool) -> tuple[int, int]:
    """The narrowest and the widest a column should be drawn."""
    content = m.compact if compact else m.exact
    if is_fixed(column):
        return max(content, m.header_word), max(content, m.header)
    natural = max(content, m.header)
    floor = max(column.min_width, m.header_word, m.word, TEXT_MIN)
    return min(natural, floor), natural


def _widths(bounds: list[tuple[int, int]], fixed: list[bool], room: int) -> list[int]:
    """Share `room` out: every column its minimum, then what is left, first to the headers of
    fixed columns (so they need not wrap), then in proportion to what each column would take."""
    widths = [low for low, _ in bounds]
    spare = room - sum(widths)
    headers = [high - low if f else 0 for (low, high), f in zip(bounds, fixed, strict=True)]
    if 0 < sum(headers) <= spare:
        widths = [w + h for w, h in zip(widths, headers, strict=True)]
        spare -= sum(headers)
    while spare > 0:
        wants = [high - w for (_, high), w in zip(bounds, widths, strict=True)]
        total = sum(wants)
        if total == 0:
            break
        if total <= spare:
            return [high for _, high in bounds]
        given = 0
        for i, want in enumerate(wants):
            share = want * spare // total
            widths[i] += share
            given += share
        if given == 0:  # less spare than columns that want it: one at a time
            i = max(range(len(wants)), key=lambda j: wants[j])
            widths[i] += 1
            given = 1
        spare -= given
    return widths


def plan(
    rows: Sequence[dict[str, Any]], columns: Sequence["Column"], width: int | None, cell: Cell
) -> Layout:
    """Choose what a table shows at `width` columns (None: everything, at full width).

    Exact amounts are kept while every KEEP and MAIN column fits beside them; otherwise
    amounts are compacted. Then columns are left out from the highest priority number (the
    rightmost first among equals) until the rest fits. If even the KEEP columns cannot fit,
    each record is drawn as a block of lines.
    """
    measures = _measure(rows, columns, cell)
    if width is None:
        bounds = [_bounds(c, m, False) for c, m in zip(columns, measures, strict=True)]
        texts: list[list[str] | None] = [m.texts for m in measures]
        return Layout(list(columns), [high for _, high in bounds], cut=False, texts=texts)

    def fit(compact: bool) -> tuple[list[int], list[tuple[int, int]]]:
        shown = list(range(len(columns)))
        while True:
            bounds = [_bounds(columns[i], measures[i], compact) for i in shown]
            if sum(low for low, _ in bounds) + GAP * (len(shown) - 1) <= width:
                return shown, bounds
            droppable = [i for i in shown if columns[i].priority > KEEP]
            if not droppable:
                return [], []
            worst = max(droppable, key=lambda i: (columns[i].priority, i))
            shown.remove(worst)

    for compact in (False, True):
        if compact:
            _measure_compact(rows, columns, measures, cell)
        shown, bounds = fit(compact)
        has_money = any(c.kind == "money" for c in columns)
        essential = all(i in shown for i, c in enumerate(columns) if c.priority <= MAIN)
        if shown and (essential or compact or not has_money):
            room = width - GAP * (len(shown) - 1)
            fixed = [is_fixed(columns[i]) for i in shown]
            compacted = compact and any(columns[i].kind == "money" for i in shown)
            return Layout(
                [columns[i] for i in shown],
                _widths(bounds, fixed, room),
                compact=compacted,
                left_out=[c for i, c in enumerate(columns) if i not in shown],
                texts=[
                    None if compacted and columns[i].kind == "money" else measures[i].texts
                    for i in shown
                ],
            )
    return Layout(list(columns), [], compact=False, blocks=True, cut=False)


def wrap(text: str, width: int, max_lines: int | None = None) -> list[str]:
    """Lines of at most `width` columns, broken between words; a word longer than a line is
    broken inside it. Past `max_lines`, the last line ends with an ellipsis."""
    if cell_width(text) <= width and "\n" not in text:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split():
        while cell_width(word) > width:  # a URL, say: fold it
            if current:
                lines.append(current)
                current = ""
            head, word = _split_at(word, width)
            lines.append(head)
        if not current:
            current = word
        elif cell_width(current) + 1 + cell_width(word) <= width:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and cell_width(last) + 1 > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + ELLIPSIS]
    return lines


def _split_at(word: str, width: int) -> tuple[str, str]:
    if word.isascii():
        return word[:width], word[width:]
    taken = 0
    for i, char in enumerate(word):
        taken += cell_width(char)
        if taken > width:
            return word[: max(i, 1)], word[max(i, 1) :]
    return word, ""


def pad(text: str, width: int, right: bool) -> str:
    fill = width - cell_width(text)
    if fill <= 0:
        return text
    return " " * fill + text if right else text + " " * fill


class Styler:
    """ANSI codes for named styles as the console would write them (none for a pipe or with
    NO_COLOR's colours removed), computed once per style rather than once per cell."""

    def __init__(self, console: Any) -> None:
        from rich.console import COLOR_SYSTEMS

        name = console.color_system if console.is_terminal else None
        self._system = COLOR_SYSTEMS[name] if name else None
        self._no_color = console.no_color
        self._cache: dict[str, tuple[str, str]] = {}

    @property
    def active(self) -> bool:
        """Whether any style is written (not to a pipe or a file)."""
        return self._system is not None

    def __call__(self, text: str, style: str | None) -> str:
        if not style or self._system is None or not text:
            return text
        codes = self._cache.get(style)
        if codes is None:
            from rich.style import Style

            parsed = Style.parse(style)
            if self._no_color:
                parsed = parsed.without_color
            marked = parsed.render("\0", color_system=self._system)
            before, _, after = marked.partition("\0")
            codes = self._cache[style] = (before, after)
        return f"{codes[0]}{text}{codes[1]}"


def table_lines(
    layout: Layout,
    rows: Sequence[dict[str, Any]],
    cell: Cell,
    styler: Styler,
    row_style: Callable[[dict[str, Any]], str | None] | None,
    rule: str,
) -> Iterator[str]:
    """The header, a rule, then each row: one or more lines, cells padded to their widths."""
    columns, widths = layout.columns, layout.widths
    gap = " " * GAP
    right = [c.kind in NUMERIC_KINDS for c in columns]
    headers = [wrap(c.header, w) for c, w in zip(columns, widths, strict=True)]
    height = max(len(h) for h in headers)
    for n in range(height):
        # Headers sit on the last lines, over their column, as the values do.
        parts = []
        for h, w, r in zip(headers, widths, right, strict=True):
            k = n - (height - len(h))
            parts.append(pad(h[k] if k >= 0 else "", w, r))
        yield styler(gap.join(parts).rstrip(), "bold")
    yield rule * layout.width
    made = layout.texts or [None] * len(columns)
    cells = [
        known if known is not None else cell(c, rows, layout.compact)
        for known, c in zip(made, columns, strict=True)
    ]
    # Each cell padded to its column, a column at a time; None where it does not fit on one
    # line, and then the row is wrapped.
    padded = [
        _padded(texts, width, r) for texts, width, r in zip(cells, widths, right, strict=True)
    ]
    fixed = [is_fixed(c) for c in columns]
    caps = [c.max_lines if layout.cut else None for c in columns]
    blanks = [" " * w for w in widths]
    breaks = ["\n" in "".join(texts) for texts in cells]  # wrap() breaks lines there
    width_count = len(columns)
    styled = row_style is not None and styler.active
    # A cell's lines, wrapped and padded to its column, by its text: a column repeats its
    # texts (a donor and recipient, "installment 2 of 4") from row to row.
    folded: list[dict[str, list[str]]] = [{} for _ in columns]
    for index, line_cells in enumerate(zip(*padded, strict=True)):
        style = row_style(rows[index]) if styled and row_style is not None else None
        if None not in line_cells:
            line = gap.join(line_cells).rstrip()
            yield styler(line, style) if style else line
            continue
        # Only the cells that do not fit (or that hold a line break) are wrapped; the others
        # are one line, padded already.
        head = list(line_cells)
        more: list[tuple[int, list[str]]] = []
        for k in range(width_count):
            if line_cells[k] is not None and not breaks[k]:
                continue
            text = cells[k][index]
            lines = folded[k].get(text)
            if lines is None:
                w, r = widths[k], right[k]
                lines = [
                    pad(line, w, r) for line in ([text] if fixed[k] else wrap(text, w, caps[k]))
                ]
                folded[k][text] = lines
            head[k] = lines[0]
            if len(lines) > 1:
                more.append((k, lines))
        yield styler(gap.join(head).rstrip(), style)
        for n in range(1, max((len(lines) for _, lines in more), default=1)):
            line_parts = list(blanks)
            for k, lines in more:
                if n < len(lines):
                    line_parts[k] = lines[n]
            yield styler(gap.join(line_parts).rstrip(), style)


def _padded(texts: list[str], width: int, right: bool) -> list[str | None]:
    """Each text padded to `width` (on the left for numbers), or None when it is wider."""
    if "".join(texts).isascii():
        if right:
            return [text.rjust(width) if len(text) <= width else None for text in texts]
        return [text.ljust(width) if len(text) <= width else None for text in texts]
    found: list[str | None] = []
    for text in texts:
        fill = width - cell_width(text)
        if fill < 0:
            found.append(None)
        else:
            found.append(" " * fill + text if right else text + " " * fill)
    return found


def block_lines(
    columns: Sequence["Column"],
    rows: Sequence[dict[str, Any]],
    cell: Cell,
    styler: Styler,
    width: int,
    row_style: Callable[[dict[str, Any]], str | None] | None = None,
    separate: bool = True,
) -> Iterator[str]:
    """Each record as a block: one line per field, `Header  value`, the value wrapped."""
    label = max(cell_width(c.header) for c in columns)
    room = max(width - label - GAP, 10)
    texts = [cell(c, rows, False) for c in columns]
    for n, row in enumerate(rows):
        if separate and n:
            yield ""
        style = row_style(row) if row_style else None
        for column, cells in zip(columns, texts, strict=True):
            text = cells[n]
            lines = wrap(text, room) if text else [""]
            head = styler(pad(column.header, label, False), "bold")
            yield f"{head}{' ' * GAP}{styler(lines[0], style)}".rstrip()
            for more in lines[1:]:
                yield f"{' ' * (label + GAP)}{styler(more, style)}".rstrip()


def pager_command() -> str | None:
    """The pager, as git chooses one: $FINTRACK_PAGER, else $PAGER, else less; empty or `cat`
    means none."""
    for name in ("FINTRACK_PAGER", "PAGER"):
        value = os.environ.get(name)
        if value is not None:
            return None if value.strip() in ("", "cat") else value
    return "less"


@contextmanager
def paged(use: bool) -> Iterator[IO[str]]:
    """stdout, or the pager's input when `use`: less quits by itself when the text fits one
    screen (LESS=FRX unless set), keeps colours and leaves the text on the screen."""
    command = pager_command() if use else None
    if command is None:
        yield sys.stdout
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    try:
        process = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.PIPE,
            env=env,
            text=True,
            encoding=sys.stdout.encoding or "utf-8",
            errors="replace",
        )
    except OSError:  # no such pager: print as if there were none
        yield sys.stdout
        return
    assert process.stdin is not None
    try:
        yield process.stdin
    except BrokenPipeError:
        pass  # the reader quit the pager before the end: that is not an error
    finally:
        with suppress(BrokenPipeError):
            process.stdin.close()
        process.wait()
