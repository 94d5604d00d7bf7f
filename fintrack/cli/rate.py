"""`fintrack rate`: record exchange rates by date, list them, convert an amount."""

from datetime import date
from typing import Annotated

import typer

from fintrack.cli.common import (
    AnalystOption,
    FormatOption,
    KnownOnOption,
    MaxRateAge,
    change,
    cli_date,
    listing,
    note,
    tracker,
)
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import CONVERSION_COLUMNS, RATE_COLUMNS
from fintrack.vocab import MAX_RATE_AGE_DAYS

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record and list exchange rates by date, and convert amounts with them.",
    no_args_is_help=True,
)


# A negative RATE is an argument to refuse with a clear message, not an unknown option.
@app.command("add", context_settings={"ignore_unknown_options": True})
def rate_add(
    base: Annotated[str, typer.Argument(help="The currency priced: EUR in EUR/USD 1.1275.")],
    quote: Annotated[str, typer.Argument(help="The currency it is priced in: USD.")],
    rate: Annotated[str, typer.Argument(help="Units of QUOTE for one BASE, exact: 1.1275.")],
    on: Annotated[
        date, typer.Option("--on", parser=cli_date, help="The date the rate is for (YYYY-MM-DD).")
    ],
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
    with change(analyst=analyst) as ch:
        added = ch.add_rate(base, quote, rate, on, source, replace)
    pair, value, day = f"{added.base}/{added.quote}", added.rate, on.isoformat()
    if added.outcome == "unchanged":
        note(f"{pair} {value:f} on {day} is already recorded; nothing changed")
    elif added.outcome == "inverse":
        given = f"{base.strip().upper()}/{quote.strip().upper()} {rate.strip()}"
        note(
            f"{given} on {day} is already known: {pair} {value:f} is recorded and "
            "serves both directions; nothing changed"
        )
    else:
        done = f"{added.outcome.capitalize()} {pair} {value:f} on {day}"
        before = added.replaced
        if before is not None and not before.startswith(f"{pair} "):
            done += f" (instead of {before}; one rate serves both directions)"
        note(done)


@app.command("list")
@listing()
def rate_list(
    currency: Annotated[
        str | None, typer.Option(help="Only rates with this currency on either side.")
    ] = None,
    since: Annotated[
        date | None, typer.Option("--from", parser=cli_date, help="Only rates from this date.")
    ] = None,
    until: Annotated[
        date | None, typer.Option("--to", parser=cli_date, help="Only rates up to this date.")
    ] = None,
    known_on: KnownOnOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the recorded exchange rates by pair and date.

    Example:

        fintrack rate list --currency EUR --from 2025-01-01
    """
    shown = tracker().rate_listing(currency, since, until, known_on=known_on)
    render(shown.rates, RATE_COLUMNS, fmt, title="Exchange rates", empty="No exchange rates match.")
    for conflict in shown.conflicts:
        counted, ignored = conflict.counted, conflict.ignored
        day = counted.on.isoformat()
        note(
            f"Note: {counted.base}/{counted.quote} {counted.rate} and "
            f"{ignored.base}/{ignored.quote} {ignored.rate} are both recorded for "
            f"{day} and contradict each other; conversions use "
            f"{counted.base}/{counted.quote} {counted.rate}, recorded first (to keep "
            f"the other: fintrack rate add {ignored.base} {ignored.quote} "
            f"{ignored.rate} --on {day} --replace)"
        )


@app.command("convert")
def rate_convert(
    amount: Annotated[str, typer.Argument(help="The amount: 29M, 1.5bn, 29,000,000.")],
    currency: Annotated[str, typer.Argument(help="Its currency.")],
    to: Annotated[str, typer.Option("--to", help="The currency to convert into.")],
    on: Annotated[date, typer.Option("--on", parser=cli_date, help="The value date (YYYY-MM-DD).")],
    max_rate_age: MaxRateAge = MAX_RATE_AGE_DAYS,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Convert an amount at the rate of its value date, showing the rate, its date and route.

    Example:

        fintrack rate convert 29M USD --to EUR --on 2025-05-08
    """
    from fintrack.money import Money

    converted = tracker().convert(Money.parse(amount, currency), to, on, max_rate_age)
    render([converted], CONVERSION_COLUMNS, fmt, title="Conversion")
