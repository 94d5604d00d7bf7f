"""`fintrack rate`: record exchange rates by date, list them, convert an amount."""

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.common import (
    AnalystOption,
    FormatOption,
    KnownOnOption,
    MaxRateAge,
    begin,
    database,
    known,
    listing,
    note,
    optional_date,
)
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import KEEP, MAIN, MORE, RATE_COLUMNS, Column
from fintrack.vocab import MAX_RATE_AGE_DAYS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record and list exchange rates by date, and convert amounts with them.",
    no_args_is_help=True,
)

CONVERSION_COLUMNS = [
    Column("value_date", "Value date", "date", priority=KEEP),
    Column("currency", "Cur", wrap=False, priority=KEEP),
    Column("amount", "Amount", "money", priority=MAIN),
    Column("rate", "Rate", "decimal", priority=MAIN),
    Column("rate_on", "Rate date", "date", priority=MAIN),
    Column("route", "Route", wrap=False, priority=MORE),
    Column("target", "In", wrap=False, priority=KEEP),
    Column("converted", "Converted", "money", currency_key="target", priority=KEEP),
]


# A negative RATE is an argument to refuse with a clear message, not an unknown option.
@app.command("add", context_settings={"ignore_unknown_options": True})
def rate_add(
    base: Annotated[str, typer.Argument(help="The currency priced: EUR in EUR/USD 1.1275.")],
    quote: Annotated[str, typer.Argument(help="The currency it is priced in: USD.")],
    rate: Annotated[str, typer.Argument(help="Units of QUOTE for one BASE, exact: 1.1275.")],
    on: Annotated[str, typer.Option("--on", help="The date the rate is for (YYYY-MM-DD).")],
    source: Annotated[
        str | None, typer.Option(help="Where the rate comes from: ECB, a URL, ...")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            help="Change the rate already recorded for this pair and date, in either "
            "direction (the old one is kept in the history: totals --known-on an earlier "
            "day still use it)."
        ),
    ] = False,
    analyst: AnalystOption = None,
) -> None:
    """Record an exchange rate: one BASE was worth RATE QUOTE on a date.

    The rate also serves the other way round (its inverse) and, where no direct rate is
    known, as one leg of a cross rate through a third currency. A rate and its inverse for
    one day are one fact: QUOTE/BASE for a day whose BASE/QUOTE rate is recorded is already
    known if it is the inverse (exact, or rounded to the places given), else refused;
    --replace stores it instead.

    Example (the ECB reference rate of 8 May 2025):

        fintrack rate add EUR USD 1.1275 --on 2025-05-08 --source ECB
    """
    from fintrack.changes import finish_change
    from fintrack.dates import parse_date
    from fintrack.rates import add_rate

    day = parse_date(on, "--on")

    def record(session: "Session") -> tuple[str, Decimal, str, str | None]:
        begin(session, analyst=analyst)
        row, outcome, before = add_rate(session, base, quote, rate, day, source, replace)
        finish_change(session)
        return f"{row.base}/{row.quote}", row.rate, outcome, before

    pair, value, outcome, before = database().transaction(record)
    if outcome == "unchanged":
        note(f"{pair} {value:f} on {day.isoformat()} is already recorded; nothing changed")
    elif outcome == "inverse":
        given = f"{base.strip().upper()}/{quote.strip().upper()} {rate.strip()}"
        note(
            f"{given} on {day.isoformat()} is already known: {pair} {value:f} is recorded and "
            "serves both directions; nothing changed"
        )
    else:
        done = f"{outcome.capitalize()} {pair} {value:f} on {day.isoformat()}"
        if before is not None and not before.startswith(f"{pair} "):
            done += f" (instead of {before}; one rate serves both directions)"
        note(done)


@app.command("list")
@listing()
def rate_list(
    currency: Annotated[
        str | None, typer.Option(help="Only rates with this currency on either side.")
    ] = None,
    since: Annotated[str | None, typer.Option("--from", help="Only rates from this date.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Only rates up to this date.")] = None,
    known_on: KnownOnOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the recorded exchange rates by pair and date.

    Example:

        fintrack rate list --currency EUR --from 2025-01-01
    """
    from fintrack.rates import RateFilter, doubled_rates, list_rates

    where = RateFilter(currency, optional_date(since, "--from"), optional_date(until, "--to"))
    view = known(known_on)
    with database().session() as session:
        rows = list_rates(session, where, view)
        doubled = doubled_rates(session, view)
    render(rows, RATE_COLUMNS, fmt, title="Exchange rates", empty="No exchange rates match.")
    listed = {(row["base"], row["quote"], row["on"]) for row in rows}
    for pair in doubled:
        counted, ignored = pair.counted, pair.ignored
        if pair.agrees or (counted["base"], counted["quote"], counted["on"]) not in listed:
            continue
        day = counted["on"].isoformat()
        note(
            f"Note: {counted['base']}/{counted['quote']} {counted['rate']} and "
            f"{ignored['base']}/{ignored['quote']} {ignored['rate']} are both recorded for "
            f"{day} and contradict each other; conversions use "
            f"{counted['base']}/{counted['quote']} {counted['rate']}, recorded first (to keep "
            f"the other: fintrack rate add {ignored['base']} {ignored['quote']} "
            f"{ignored['rate']} --on {day} --replace)"
        )


@app.command("convert")
def rate_convert(
    amount: Annotated[str, typer.Argument(help="The amount: 29M, 1.5bn, 29,000,000.")],
    currency: Annotated[str, typer.Argument(help="Its currency.")],
    to: Annotated[str, typer.Option("--to", help="The currency to convert into.")],
    on: Annotated[str, typer.Option("--on", help="The value date (YYYY-MM-DD).")],
    max_rate_age: MaxRateAge = MAX_RATE_AGE_DAYS,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Convert an amount at the rate of its value date, showing the rate, its date and route.

    Example:

        fintrack rate convert 29M USD --to EUR --on 2025-05-08
    """
    from fintrack.dates import parse_date
    from fintrack.money import normalize_currency, parse_amount
    from fintrack.rates import RateBook, to_minor

    code = normalize_currency(currency, "CURRENCY")
    minor = parse_amount(amount, code, "AMOUNT")
    day = parse_date(on, "--on")
    with database().session() as session:
        book = RateBook(session, to, max_rate_age)
    conversion = book.convert(code, day)
    row = {
        "value_date": day,
        "currency": code,
        "amount": minor,
        "rate": conversion.shown_rate,
        "rate_on": conversion.rate_on,
        "route": conversion.route,
        "target": book.target,
        "converted": to_minor(conversion.exact(minor)),
    }
    render([row], CONVERSION_COLUMNS, fmt, title="Conversion")
