"""Terminal bar charts drawn with Rich: pledged vs disbursed per group, due vs paid per month."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from fintrack.cli.output import safe
from fintrack.money import compact_amount, format_amount

# A cell split in eighths: a bar ends in the block that is closest below its exact length.
EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
# Narrower than this, a bar says too little: figures are compacted first, then labels go
# on a line of their own.
MIN_BAR = 12
SERIES_STYLES = ("cyan", "green")
COMPACT_NOTE = "Amounts rounded: k thousand, M million, bn billion, tn trillion."

PLURALS = {"donor": "donors", "recipient": "recipients", "pair": "pairs", "month": "months"}


def bar_text(value: int, largest: int, width: int) -> str:
    """A bar of `value` on a scale where `largest` fills `width` cells, to 1/8 of a cell.

    Any amount above zero shows at least a sliver, so it never reads as nothing.
    """
    if value <= 0 or largest <= 0 or width <= 0:
        return ""
    eighths = min(value * width * 8 // largest, width * 8)
    full, part = divmod(max(eighths, 1), 8)
    return FULL * full + (EIGHTHS[part] if part else "")


@dataclass
class Bar:
    series: str
    minor: int
    note: str = ""  # after the figure: a percentage, say
    style: str = ""


@dataclass
class Group:
    label: str  # stored text: made safe when drawn
    bars: list[Bar]


@dataclass
class BarChart:
    """Horizontal bars, one group of bars per label, all on one scale, each with its figure.

    The bars take the width the console gives; figures are exact when they leave a bar of
    at least MIN_BAR cells, else compact (`exact=None`), or as `exact` says. Every bar carries
    its figure in text, so the chart reads without colour.
    """

    title: str
    currency: str
    groups: list[Group]
    # The total line: (name, amount, what follows the amount) and notes after them.
    footer: list[tuple[str, int, str]] = field(default_factory=list)
    footer_note: str = ""
    exact: bool | None = None
    compact_note: str = COMPACT_NOTE
    # False when the caller prints its own heading (the brief's section rules).
    show_title: bool = True

    def _figure(self, minor: int, exact: bool) -> str:
        if exact:
            return format_amount(minor, self.currency)
        return compact_amount(minor, self.currency)

    def _widths(self, width: int, exact: bool, label_width: int) -> tuple[int, int, int, int]:
        """(series, figure, note, bar) widths for a label column of `label_width`."""
        bars = [bar for group in self.groups for bar in group.bars]
        series = max((safe(bar.series).cell_len for bar in bars), default=0)
        figure = max((len(self._figure(bar.minor, exact)) for bar in bars), default=0)
        note = max((cell_len(bar.note) for bar in bars), default=0)
        used = (label_width + 2 if label_width else 0) + series + 1 + 1 + figure
        used += note + 1 if note else 0
        return series, figure, note, width - used

    def _layout(self, width: int) -> tuple[bool, int, tuple[int, int, int, int]]:
        """Whether figures are exact, the label column's width (0: labels above their bars)
        and the other widths, choosing the first that leaves a useful bar."""
        natural = max((safe(group.label).cell_len for group in self.groups), default=0)
        label_width = min(natural, max(8, width // 4))
        tries = [True, False] if self.exact is None else [self.exact]
        for exact in tries:
            widths = self._widths(width, exact, label_width)
            if widths[3] >= MIN_BAR:
                return exact, label_width, widths
        exact = tries[-1]
        return exact, 0, self._widths(width, exact, 0)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.show_title:
            title = Text(self.title, style="bold")
            title.append(f" ({self.currency})")
            yield from _wrapped(console, title, width)
        exact, label_width, (series_w, figure_w, note_w, bar_w) = self._layout(width)
        bar_w = max(bar_w, 1)
        largest = max((bar.minor for group in self.groups for bar in group.bars), default=0)
        for group in self.groups:
            label = safe(group.label)
            if label_width:
                labels = list(label.wrap(console, label_width))
            else:
                yield from _wrapped(console, label, width)
                labels = []
            for index in range(max(len(group.bars), len(labels))):
                line = Text(no_wrap=True, overflow="ignore")
                if label_width:
                    cell = labels[index] if index < len(labels) else Text()
                    cell.align("left", label_width)
                    line.append_text(cell)
                    line.append("  ")
                if index < len(group.bars):
                    bar = group.bars[index]
                    line.append(safe(bar.series).plain.ljust(series_w), style="dim")
                    line.append(" ")
                    drawn = bar_text(bar.minor, largest, bar_w)
                    line.append(drawn, style=bar.style)
                    line.append(" " * (bar_w - len(drawn) + 1))
                    line.append(self._figure(bar.minor, exact).rjust(figure_w))
                    if note_w:
                        line.append(" " + bar.note.ljust(note_w))
                line.rstrip()
                yield line
        if self.footer:
            parts = [
                f"{name} {self._figure(minor, exact)}{after}" for name, minor, after in self.footer
            ]
            yield from _wrapped(console, Text("Total: " + ", ".join(parts), style="bold"), width)
        notes = [self.footer_note] if self.footer_note else []
        if not exact and self.compact_note:
            notes.append(self.compact_note)
        if notes:
            yield from _wrapped(console, Text(" ".join(notes), style="dim"), width)


def _wrapped(console: Console, text: Text, width: int) -> Iterable[Text]:
    """Text wrapped at spaces (so a figure is never split) with no trailing blanks."""
    for line in text.wrap(console, width):
        line.rstrip()
        yield line


def _percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value}%"


def _label(row: dict[str, Any], by: str) -> str:
    if by == "pair":
        return f"{row['donor']} → {row['recipient']}"
    if by == "currency":
        return "all pledges"
    return str(row[by])


def totals_charts(
    rows: Iterable[dict[str, Any]],
    by: str,
    exact: bool | None = None,
    limit: int | None = None,
    compact_note: str = COMPACT_NOTE,
) -> list[BarChart]:
    """One chart per currency from the rows of `totals`: pledged vs disbursed per group, or
    by month the installments due vs paid. `limit` keeps the groups that pledged most (or,
    by month, the months as given) and says how many were left out."""
    month = by == "month"
    names = ("due", "paid") if month else ("pledged", "disbursed")
    title = (
        "Installments due vs paid per month"
        if month
        else f"Pledged vs disbursed per {'donor and recipient' if by == 'pair' else by}"
    )
    per_currency: dict[str, list[dict[str, Any]]] = {}
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["total"] and by != "currency":
            totals[row["currency"]] = row
        else:
            per_currency.setdefault(row["currency"], []).append(row)
    charts = []
    for currency, groups in per_currency.items():
        shown = groups
        if limit is not None and len(groups) > limit and not month:
            shown = sorted(groups, key=lambda row: -row["pledged"])[:limit]
        elif limit is not None:
            shown = groups[:limit]
        chart = BarChart(
            title,
            currency,
            [
                Group(
                    _label(row, by),
                    [
                        Bar(names[0], row["pledged"], style=SERIES_STYLES[0]),
                        Bar(
                            names[1],
                            row["disbursed"],
                            _percent(row["fulfilled_pct"]),
                            SERIES_STYLES[1],
                        ),
                    ],
                )
                for row in shown
            ],
            exact=exact,
            compact_note=compact_note,
        )
        total = totals.get(currency)
        # One group drawn whole is its own total.
        if total is not None and (len(groups) > 1 or len(shown) < len(groups)):
            pct = _percent(total["fulfilled_pct"])
            chart.footer = [
                (names[0], total["pledged"], ""),
                (names[1], total["disbursed"], f" ({pct})" if pct else ""),
                ("outstanding", total["outstanding"], ""),
            ]
            left_out = len(groups) - len(shown)
            if left_out:
                chart.footer_note = (
                    f"{left_out} more {PLURALS.get(by, 'groups')} not drawn: "
                    f"fintrack totals --by {by} --chart"
                )
        charts.append(chart)
    return charts


def print_charts(console: Console, charts: Sequence[BarChart]) -> None:
    for index, chart in enumerate(charts):
        if index:
            console.print()
        console.print(chart)
