"""Drawing the brief: Rich renderables for the terminal and HTML, and a Markdown briefing note."""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from html import escape as html_escape
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from fintrack.cli.chart import COMPACT_NOTE, bar_text, totals_charts
from fintrack.cli.output import safe, visible
from fintrack.formats import (
    DEADLINE_COLUMNS,
    SANCTION_COLUMNS,
    TOTALS_COLUMNS,
    Column,
    records,
)
from fintrack.money import compact_amount, format_amount

if TYPE_CHECKING:
    from fintrack.api import BriefReport

# Width of the page exported as HTML, in terminal columns: room for exact figures.
HTML_WIDTH = 110
# The months the brief draws: two before the brief's month to three after it.
MONTHS_BEFORE, MONTHS_AFTER = 2, 3
# Donors drawn per currency; `fintrack totals --by donor --chart` draws them all.
DONORS_DRAWN = 8
MARKDOWN_BAR = 20


@dataclass(frozen=True)
class Section:
    """Some rows of a list, as the renderer reads them, and how many more the listing has."""

    rows: list[dict[str, Any]]
    more: int


@dataclass(frozen=True)
class Brief:
    """The tracker's brief (`fintrack.api.BriefReport`) with its rows as the renderer reads
    them: dicts keyed as the columns, amounts in minor units beside their currency."""

    as_of: date
    donor: str | None
    recipient: str | None
    known_on: date | None
    min_confidence: str | None
    within: int
    donors: list[dict[str, Any]]
    months: list[dict[str, Any]]
    overdue: Section
    overdue_totals: dict[str, int]
    upcoming: Section
    sanctions: Section
    claims: Section


_CLAIM_COLUMNS: list[Column] = []  # a claim has no amounts to turn back into minor units


def plain(report: "BriefReport") -> Brief:
    """The brief to render, from the tracker's."""
    return Brief(
        as_of=report.as_of,
        donor=report.donor,
        recipient=report.recipient,
        known_on=report.known_on,
        min_confidence=report.min_confidence,
        within=report.within,
        donors=records(report.donors, TOTALS_COLUMNS),
        months=records(report.months, TOTALS_COLUMNS),
        overdue=Section(records(report.overdue, DEADLINE_COLUMNS), report.overdue_more),
        overdue_totals={money.currency: money.minor for money in report.overdue_totals},
        upcoming=Section(records(report.upcoming, DEADLINE_COLUMNS), report.upcoming_more),
        sanctions=Section(records(report.sanctions, SANCTION_COLUMNS), report.sanctions_more),
        claims=Section(records(report.claims, _CLAIM_COLUMNS), report.claims_more),
    )


def _month(day: date, shift: int) -> str:
    index = day.year * 12 + day.month - 1 + shift
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _window(brief: Brief) -> tuple[str, str]:
    return _month(brief.as_of, -MONTHS_BEFORE), _month(brief.as_of, MONTHS_AFTER)


def _months_shown(brief: Brief) -> tuple[list[dict[str, Any]], int]:
    """The month rows in the brief's window (no total rows), and how many months fall outside."""
    first, last = _window(brief)
    months = [row for row in brief.months if not row["total"]]
    shown = [row for row in months if first <= row["month"] <= last]
    return shown, len(months) - len(shown)


def _filters(brief: Brief) -> list[str]:
    parts = []
    if brief.donor:
        parts.append(f"donor {brief.donor}")
    if brief.recipient:
        parts.append(f"recipient {brief.recipient}")
    if brief.known_on is not None:
        parts.append(f"as known on {brief.known_on.isoformat()}")
    if brief.min_confidence is not None:
        level = brief.min_confidence
        parts.append(
            "confirmed records" if level == "confirmed" else "confirmed or reported records"
        )
    return parts


def _amount(minor: int | None, currency: str | None, exact: bool) -> str:
    if minor is None or currency is None:
        return ""
    figure = format_amount(minor, currency) if exact else compact_amount(minor, currency)
    return f"{currency} {figure}"


def _more(section: Section, command: str) -> str:
    return f"… and {section.more} more: {command}" if section.more else ""


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _when(days: int, short: bool) -> str:
    """When a deadline falls, from the brief's day: on a screen `12 d`, `today`, `-3 d` (a
    date passed, as a lapsed one); in a note `in 12 days`, `3 days ago`."""
    if days == 0:
        return "today"
    if short:
        return f"{days} d"
    return f"in {_days(days)}" if days > 0 else f"{_days(-days)} ago"


def _overdue_line(brief: Brief, exact: bool) -> str:
    count = len(brief.overdue.rows) + brief.overdue.more
    if not count:
        return "Nothing overdue."
    money = ", ".join(_amount(m, c, exact) for c, m in brief.overdue_totals.items())
    return f"{money} overdue on {count} installment{'s' if count != 1 else ''}."


def _sanction_date(row: dict[str, Any]) -> date | None:
    value: date | None = row["announced"] or row["effective"]
    return value


# --- Rich: the terminal and HTML


class Clamp:
    """Text wrapped at word boundaries to at most `lines` lines, the last ending in `…` when
    cut, so that one long detail cannot push the rest of the brief off the screen."""

    def __init__(self, text: Text, lines: int | None = 2) -> None:
        self.text = text
        self.lines = lines

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines = list(self.text.wrap(console, width))
        if self.lines is not None and len(lines) > self.lines:
            lines = lines[: self.lines]
            last = lines[-1]
            last.rstrip()
            last.truncate(width - 1)
            last.append("…")
        for line in lines:
            line.rstrip()
            line.no_wrap = True
            yield line


def _table(*headers: tuple[str, dict[str, Any]]) -> Table:
    """A light table: numbers, dates and ids never wrap; text columns give way."""
    table = Table(
        box=None,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold",
        expand=False,
    )
    for header, options in headers:
        table.add_column(header, **options)
    return table


FIXED: dict[str, Any] = {"no_wrap": True}
NUMBER: dict[str, Any] = {"no_wrap": True, "justify": "right"}
TEXT: dict[str, Any] = {"ratio": 1, "overflow": "fold"}


def _heading(title: str) -> Rule:
    return Rule(Text(title, style="bold"), align="left", style="dim")


def _section_rows(section: Section, command: str, table: Table) -> Iterator[RenderableType]:
    if section.rows:
        yield table
    else:
        yield Text("None.", style="dim")
    more = _more(section, command)
    if more:
        yield Text(more, style="dim")


def brief_renderables(brief: Brief, exact: bool) -> list[RenderableType]:
    """The brief as Rich renderables: every stored value goes through `safe`."""
    out: list[RenderableType] = []
    # On a screen long text gives way to the rest; a page for a briefing note shows it all.
    lines = None if exact else 2

    def clamp(text: Text) -> Clamp:
        return Clamp(text, lines)

    title = Text(f"fintrack brief as of {brief.as_of.isoformat()}", style="bold")
    out.append(title)
    filters = _filters(brief)
    if filters:
        out.append(safe("Only " + "; ".join(filters)))

    note = COMPACT_NOTE if not exact else ""
    as_of = brief.as_of.isoformat()
    charts = totals_charts(brief.donors, "donor", exact, DONORS_DRAWN, compact_note="")
    for chart in charts:
        chart.show_title = False
        out += [_heading(f"Pledged vs disbursed per donor, {chart.currency}"), chart]
    if not charts:
        out += [_heading("Pledged vs disbursed per donor"), Text("No pledges match.", "dim")]

    shown, outside = _months_shown(brief)
    first, last = _window(brief)
    charts = totals_charts(shown, "month", exact, compact_note="")
    for chart in charts:
        chart.show_title = False
        out += [_heading(f"Installments due vs paid, {first} to {last}, {chart.currency}"), chart]
    if not charts:
        out += [
            _heading(f"Installments due vs paid, {first} to {last}"),
            Text("No installments fall due in these months.", "dim"),
        ]
    if outside:
        out.append(
            Text(
                f"{outside} other month{'s' if outside != 1 else ''}: "
                "fintrack totals --by month --chart",
                style="dim",
            )
        )

    out.append(_heading("Overdue"))
    out.append(Text(_overdue_line(brief, exact), style="bold red" if brief.overdue.rows else ""))
    table = _table(
        ("Due", FIXED),
        ("Late", NUMBER),
        ("Pledge", TEXT),
        ("Installment", TEXT),
        ("Outstanding", NUMBER),
        ("Record", FIXED),
    )
    for row in brief.overdue.rows:
        table.add_row(
            row["date"].isoformat(),
            f"{-row['days_left']} d",
            clamp(safe(row["subject"])),
            clamp(safe(row["detail"])),
            _amount(row["amount"], row["currency"], exact),
            f"pledge {row['record_id']}",
        )
    if brief.overdue.rows:
        out.append(table)
    more = _more(brief.overdue, f"fintrack deadlines --as-of {as_of}")
    if more:
        out.append(Text(more, style="dim"))

    out.append(_heading(f"Next deadlines, within {brief.within} days"))
    table = _table(
        ("Date", FIXED),
        ("In", NUMBER),
        ("Kind", FIXED),
        ("What", TEXT),
        ("Amount", NUMBER),
        ("Record", FIXED),
    )
    for row in brief.upcoming.rows:
        what = safe(row["subject"])
        what.append(": ")
        what.append_text(safe(row["detail"]))
        table.add_row(
            row["date"].isoformat(),
            _when(row["days_left"], short=True),
            row["kind"],
            clamp(what),
            _amount(row["amount"], row["currency"], exact),
            f"{row['record']} {row['record_id']}",
        )
    out.extend(_section_rows(brief.upcoming, f"fintrack deadlines --as-of {as_of}", table))

    out.append(_heading("Latest sanction actions"))
    table = _table(
        ("Date", FIXED),
        ("Who", TEXT),
        ("Action", FIXED),
        ("Target", TEXT),
        ("Status", FIXED),
        ("Record", FIXED),
    )
    for row in brief.sanctions.rows:
        when = _sanction_date(row)
        who = safe(row["authority"])
        if row["program"]:
            who.append(" ")
            who.append_text(safe(row["program"]))
        table.add_row(
            when.isoformat() if when else "",
            clamp(who),
            safe(row["action"]),
            clamp(safe(row["target"])),
            safe(row["status"]),
            f"sanction {row['id']}",
        )
    out.extend(_section_rows(brief.sanctions, f"fintrack sanction list --until {as_of}", table))

    out.append(_heading("Claims not confirmed"))
    table = _table(("Stated", FIXED), ("Standing", FIXED), ("Subject", TEXT), ("Record", FIXED))
    for row in brief.claims.rows:
        table.add_row(
            row["stated"].isoformat() if row["stated"] else "",
            safe(row["confidence"]),
            clamp(safe(row["subject"])),
            f"claim {row['id']}",
        )
    out.extend(_section_rows(brief.claims, "fintrack claim list", table))

    if note:
        out.append(
            Text(f"{note} Exact figures: --format markdown or html, or fintrack totals.", "dim")
        )
    return out


def print_brief(console: Console, brief: Brief) -> None:
    console.print(Group(*brief_renderables(brief, exact=False)))


def brief_text(brief: Brief, width: int) -> str:
    """The terminal brief as plain text, for a file."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    console.print(Group(*brief_renderables(brief, exact=False)))
    return buffer.getvalue()


HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>
body {{ color: {foreground}; background-color: {background}; margin: 2em; }}
pre {{ font-family: 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace;
       font-size: 14px; line-height: 1.3; }}
</style>
</head>
<body>
<pre><code style="font-family:inherit">{code}</code></pre>
</body>
</html>
"""


def brief_html(brief: Brief) -> str:
    """A standalone page: the brief with exact figures, exported by Rich (which escapes every
    character of text, so stored text can never become markup)."""
    console = Console(
        record=True,
        file=io.StringIO(),
        width=HTML_WIDTH,
        color_system="truecolor",
        force_terminal=True,
        highlight=False,
    )
    console.print(Group(*brief_renderables(brief, exact=True)))
    title = html_escape(f"fintrack brief as of {brief.as_of.isoformat()}")
    page = HTML_PAGE.replace("{title}", title)
    return console.export_html(inline_styles=True, code_format=page)


# --- Markdown

# Characters Markdown would read as formatting, links, HTML or table cells.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md(value: object) -> str:
    """Stored text as Markdown that shows it as typed: specials escaped, controls visible."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(str(value)))


def _md_table(headers: list[str], align: str, rows: list[list[str]]) -> list[str]:
    marks = {"l": "---", "r": "--:"}
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _md_bar(part: int, whole: int) -> str:
    drawn = bar_text(part, whole, MARKDOWN_BAR)
    return drawn + "░" * (MARKDOWN_BAR - len(drawn))


def _md_money(rows: list[dict[str, Any]], key: str, names: tuple[str, str]) -> list[str]:
    table = []
    for row in rows:
        label = "**Total**" if row["total"] else md(row[key])
        pct = f"{row['fulfilled_pct']}%" if row["fulfilled_pct"] is not None else ""
        table.append(
            [
                label,
                row["currency"],
                format_amount(row["pledged"], row["currency"]),
                format_amount(row["disbursed"], row["currency"]),
                format_amount(row["outstanding"], row["currency"]),
                f"{_md_bar(row['disbursed'], row['pledged'])} {pct}".strip(),
            ]
        )
    headers = [
        "Donor" if key == "donor" else "Month",
        "Cur",
        names[0].capitalize(),
        names[1].capitalize(),
        "Outstanding",
        f"{names[1].capitalize()} of {names[0]}",
    ]
    return _md_table(headers, "llrrrl", table)


def _md_section(section: Section, command: str, table: list[str]) -> list[str]:
    lines = table if section.rows else ["None."]
    more = _more(section, f"`{command}`")
    return [*lines, "", more] if more else lines


def brief_markdown(brief: Brief) -> str:
    """A briefing note with exact figures; every stored value escaped with `md`."""
    as_of = brief.as_of.isoformat()
    lines = [f"# fintrack brief as of {as_of}", ""]
    filters = _filters(brief)
    if filters:
        lines += [md("Only " + "; ".join(filters)) + ".", ""]

    lines += ["## Money per donor", ""]
    if brief.donors:
        lines += _md_money(brief.donors, "donor", ("pledged", "disbursed"))
        lines += ["", "Amounts in different currencies are never added: each has its total."]
    else:
        lines.append("No pledges match.")

    shown, outside = _months_shown(brief)
    first, last = _window(brief)
    lines += ["", f"## Installments due vs paid, {first} to {last}", ""]
    if shown:
        lines += _md_money(shown, "month", ("due", "paid"))
    else:
        lines.append("No installments fall due in these months.")
    if outside:
        lines += ["", f"{outside} other months: `fintrack totals --by month`."]

    lines += ["", "## Overdue", "", md(_overdue_line(brief, exact=True))]
    if brief.overdue.rows:
        rows = [
            [
                row["date"].isoformat(),
                _days(-row["days_left"]),
                md(row["subject"]),
                md(row["detail"]),
                row["currency"],
                format_amount(row["amount"], row["currency"]),
                f"pledge {row['record_id']}",
            ]
            for row in brief.overdue.rows
        ]
        headers = ["Due", "Late", "Pledge", "Installment", "Cur", "Outstanding", "Record"]
        lines += ["", *_md_table(headers, "lrllllr", rows)]
        more = _more(brief.overdue, f"`fintrack deadlines --as-of {as_of}`")
        lines += ["", more] if more else []

    lines += ["", f"## Next deadlines, within {brief.within} days", ""]
    rows = [
        [
            row["date"].isoformat(),
            _when(row["days_left"], short=False),
            row["kind"],
            md(row["subject"]),
            md(row["detail"]),
            row["currency"] or "",
            format_amount(row["amount"], row["currency"]) if row["currency"] else "",
            f"{row['record']} {row['record_id']}",
        ]
        for row in brief.upcoming.rows
    ]
    headers = ["Date", "When", "Kind", "Subject", "Detail", "Cur", "Amount", "Record"]
    lines += _md_section(
        brief.upcoming,
        f"fintrack deadlines --as-of {as_of}",
        _md_table(headers, "lrllllrl", rows),
    )

    lines += ["", "## Latest sanction actions", ""]
    rows = []
    for row in brief.sanctions.rows:
        when = _sanction_date(row)
        rows.append(
            [
                when.isoformat() if when else "",
                md(row["authority"]),
                md(row["program"] or ""),
                md(row["action"]),
                md(row["target"]),
                md(row["status"]),
                md(row["confidence"]),
                f"sanction {row['id']}",
            ]
        )
    headers = ["Date", "Authority", "Program", "Action", "Target", "Status", "Standing", "Record"]
    lines += _md_section(
        brief.sanctions,
        f"fintrack sanction list --until {as_of}",
        _md_table(headers, "llllllll", rows),
    )

    lines += ["", "## Claims not confirmed", ""]
    rows = [
        [
            row["stated"].isoformat() if row["stated"] else "",
            md(row["confidence"]),
            md(row["subject"]),
            md(row["statement"]),
            f"claim {row['id']}",
        ]
        for row in brief.claims.rows
    ]
    headers = ["Stated", "Standing", "Subject", "Statement", "Record"]
    lines += _md_section(brief.claims, "fintrack claim list", _md_table(headers, "lllll", rows))
    lines += [
        "",
        "Claims listed are those whose standing is denied, unverified or only reported.",
    ]
    return "\n".join(lines) + "\n"
