"""Export's fast path (plain tuples, Core rows, integer amounts) writes the very bytes of the
plain path (`export_rows`' dicts through `write_rows`), on awkward records."""

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

import fintrack
from fintrack import Money
from fintrack.formats import file_columns, write_plain, write_rows
from fintrack.interchange import Kind, export_rows
from fintrack.interchange.export import export_plain
from fintrack.models import Pledge

# Cells a spreadsheet would run, separators after which it may begin a cell, a carriage
# return (the row is then quoted whole), quotes and text beyond ASCII.
AWKWARD = [
    "=SUM(A1)",
    "+1",
    "-x",
    "@now",
    "\tTab",
    "  =spaced",
    "'=quoted",
    "a, =b",
    "x; -y",
    'say "=hi"',
    "Ministère — Syrie",
    "Qatar Fund",
    "a\u2028b",
]
# Long text (a purpose, a summary) may hold line breaks too.
LONG = [*AWKWARD, "line\r\nbreak", "lone\rreturn"]


def _build(url: str) -> None:
    today = date.today()
    with fintrack.open(url) as tracker:
        with tracker.change(reason="awkward", analyst="ana") as ch:
            sources = [
                ch.add_source(url=f"https://example.org/{i}", title=text).id
                for i, text in enumerate(AWKWARD)
            ]
            pledges = []
            for i, text in enumerate(AWKWARD):
                currency = ("USD", "JPY", "KWD")[i % 3]
                pledge = ch.add_pledge(
                    donor=text,
                    recipient=AWKWARD[-1 - i],
                    each=Money.parse(f"{1000 + i}.5" if currency != "JPY" else "1001", currency),
                    installments=3,
                    every="month",
                    first_due=today - timedelta(days=40 - 3 * i),
                    on=None if i % 4 == 0 else date(2025, 1, 1 + i),
                    purpose=None if i % 2 else LONG[(i + 14) % len(LONG)],
                    ref=None if i % 3 == 0 else f"{text}-ref{i}",
                    sources=[sources[i]] if i % 2 else [],
                    confidence=("confirmed", "reported", "denied")[i % 3],
                )
                pledges.append(pledge.id)
                if i % 3 == 1:  # part paid
                    ch.pay(
                        pledge.id,
                        Money.parse("10", currency),
                        on=today,
                        installment=3,
                        sources=[sources[i]],
                    )
                elif i % 3 == 2:  # over paid, into the second installment and beyond
                    ch.pay(pledge.id, Money.parse("5000", currency), on=today, force=True)
            ch.add_sanction(
                authority=AWKWARD[0],
                target=AWKWARD[1],
                action="extend",
                program=AWKWARD[7],
                measures=["asset freeze", "=evil", "@x, y"],
                effective=date(2025, 5, 28),
                summary=LONG[-1],
                sources=[sources[0]],
            )
            ch.add_sanction(authority="EU", target="SY", action="impose", deadline_label=None)
            ch.add_rate("USD", "EUR", "0.9123", date(2025, 1, 2), source=AWKWARD[2])
            replaced = pledges[6]
            ch.add_pledge(
                donor="Oman",
                recipient="Syria",
                amount=Money.parse("7", "KWD"),
                on=date(2025, 3, 3),
                replaces=replaced,
            )
            ch.edit_pledge(pledges[4], purpose="edited once", sources=[sources[3]])
        with tracker.change(reason="entered in error") as ch:
            ch.void("pledge", replaced)  # the pledge replacing it now replaces none
            ch.void("payment", 1)
            ch.void("pledge", pledges[7])
    # What only an import from another system (OCHA FTS) sets, and text that input cleans
    # (a lone carriage return, a line separator) but an older database may hold.
    with fintrack.open(url) as tracker, tracker._db.session() as session:
        session.execute(
            update(Pledge)
            .where(Pledge.id == pledges[1])
            .values(
                original_amount=Decimal("-12.50"),
                original_currency="EUR",
                exchange_rate=Decimal("1.0842"),
                value_on=date(2025, 2, 2),
                version="=v2",
                part_of_id=pledges[2],
                boundary="shared",
                purpose="lone\rreturn; =x\u2028y",
            )
        )
        session.commit()


def _plain_path(url: str, kind: str, fmt: str) -> str:
    """The file as the dict rows of `export_rows`, written by `write_rows`."""
    out = io.StringIO()
    with fintrack.open(url) as tracker, tracker._db.session() as session:
        rows = export_rows(session, Kind(kind), date.today())
        write_rows(rows, file_columns(kind), fmt, out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_every_kind_is_written_as_the_plain_path_writes_it(
    db_url: str, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(db_url)
    # Batches of a few rows, so that rows cross the batches' ends (and the quoted rows' too).
    monkeypatch.setattr("fintrack.formats.PLAIN_BATCH", 2)
    monkeypatch.setattr("fintrack.interchange.export.YIELD_PER", 3)
    with fintrack.open(db_url) as tracker:
        for kind in Kind:
            out = io.StringIO()
            count = tracker.export(kind.value, out, fmt)
            expected = _plain_path(db_url, kind.value, fmt)
            assert out.getvalue() == expected, (kind, fmt)
            assert count > 0, kind
            # Every kind's plain tuples too (the export writes the small ones from dicts).
            plain = io.StringIO()
            with tracker._db.session() as session:
                rows = export_plain(session, kind, date.today())
                write_plain(rows, file_columns(kind), fmt, plain)
            assert plain.getvalue() == expected, (kind, fmt)
    # The data is as awkward as meant: formulas neutralised, a row quoted whole, every
    # state, amounts without and with three minor digits, an outstanding below zero.
    installments = _plain_path(db_url, "installments", "csv")
    assert {"paid", "overdue", "part paid", "due"} <= {
        line.split(",")[-2] for line in installments.splitlines()[1:] if "\r" not in line
    }
    assert ",JPY,1001,0,1001," in installments and ",KWD,1002.500," in installments
    assert ",-" in installments
    pledges = _plain_path(db_url, "pledges", "csv")
    assert (
        "'=SUM(A1)" in pledges and '"lone\rreturn; \'=x\u2028y"' in pledges and '"-12.5"' in pledges
    )


def test_json_export_keeps_a_line_separator_inside_text(db_url: str) -> None:
    """Text holding U+2028 (a line break to str.splitlines, not to JSON) reads back as it is
    stored: the JSON array's rows were indented at it, inside the text."""
    _build(db_url)
    with fintrack.open(db_url) as tracker:
        out = io.StringIO()
        tracker.export("pledges", out, "json")
    purposes = [row["purpose"] for row in json.loads(out.getvalue())]
    assert "lone\rreturn; =x\u2028y" in purposes


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "BHD", "CLF"])
def test_exact_formatter_is_format_amount(currency: str) -> None:
    from fintrack.money import exact_formatter, format_amount

    write = exact_formatter(currency)
    for minor in [0, 1, 9, 10, 99, 100, 101, 999, 1000, 10**18 + 7, 2**63 - 1]:
        for value in (minor, -minor):
            assert write(value) == format_amount(value, currency, grouping=False)
