"""`fintrack pledge` and `fintrack pay`: record pledges, their installments and payments."""

import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.ask import NoInputOption
from fintrack.cli.common import (
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    MinConfidenceOption,
    ReasonOption,
    SinceOption,
    SourceOption,
    UntilOption,
    change,
    cli_date,
    listing,
    note,
    plural,
    tracker,
)
from fintrack.cli.output import OutputFormat, render, render_one, write_document
from fintrack.formats import (
    CITED_COLUMNS,
    DISBURSEMENT_COLUMNS,
    INSTALLMENT_COLUMNS,
    PLEDGE_COLUMNS,
    SOURCE_SYSTEM_KEYS,
    plain_row,
    plain_rows,
    record,
    records,
    write_csv,
)
from fintrack.vocab import Period, PledgeStatus, choices

if TYPE_CHECKING:
    from fintrack.api import PledgeRow

app = typer.Typer(
    rich_markup_mode="markdown", help="Record, list and show aid pledges.", no_args_is_help=True
)


STATE_STYLES = {"overdue": "red", "paid": "green", "part paid": "yellow"}


@app.command("add")
def pledge_add(
    ctx: typer.Context,
    donor: Annotated[
        str | None, typer.Option(help="Who pledges: a government or organisation. [required]")
    ] = None,
    recipient: Annotated[str | None, typer.Option(help="Who receives. [required]")] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO 4217 code: USD, EUR, QAR, ... [required]")
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option(
            help="The total: 87000000, 87,000,000, 87M, 1.5bn, 87000000.50. [required, or --each]"
        ),
    ] = None,
    each: Annotated[
        str | None, typer.Option(help="The amount of each installment (with --installments).")
    ] = None,
    installments: Annotated[
        int | None, typer.Option(help="Number of installments (default 1).")
    ] = None,
    every: Annotated[
        str | None, typer.Option(help=f"Interval between installments: {choices(Period)}.")
    ] = None,
    first_due: Annotated[
        date | None,
        typer.Option(
            parser=cli_date,
            help="Due date of the first installment (default: --on, marked assumed).",
        ),
    ] = None,
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            parser=cli_date,
            help="Date the pledge was announced. [required, or --first-due]",
        ),
    ] = None,
    status: Annotated[str, typer.Option(help=f"One of: {choices(PledgeStatus)}.")] = "pledge",
    purpose: Annotated[str | None, typer.Option(help="What the money is for.")] = None,
    source: SourceOption = None,
    level: ConfidenceOption = "reported",
    ref: Annotated[
        str | None, typer.Option(help="Your own stable key for the record (must be unique).")
    ] = None,
    replaces: Annotated[
        int | None,
        typer.Option(
            metavar="ID",
            help="The id of an earlier pledge this one replaces (a commitment firming up a "
            "pledge); the earlier one stays on record but no longer counts in totals.",
        ),
    ] = None,
    assumed: Annotated[
        bool | None,
        typer.Option(
            "--assumed/--confirmed",
            help="Mark the due dates as assumed or as given by the source "
            "(default: assumed when --first-due is left out).",
        ),
    ] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Add it even if a pledge with the same donor, recipient, currency, amount "
            "and date is on record (otherwise asked on a terminal, refused elsewhere).",
        ),
    ] = False,
    no_input: NoInputOption = False,
    analyst: AnalystOption = None,
) -> None:
    """Record a pledge with its schedule of installments and print its id.

    Installments add up exactly to the total: an uneven split puts the remainder, to the
    currency's minor unit, on the last one. Each due date steps from --first-due, so a
    schedule starting on 31 January falls due on 28 February and 31 March.

    On a terminal, `fintrack pledge add` without the required options asks for each field
    in turn (known donors and recipients offered); --no-input fails instead.

    Example (Qatar's salary support to Syria, May 2025):

        fintrack pledge add --donor Qatar --recipient Syria --currency USD \\
            --each 29M --installments 3 --every month --on 2025-05-08 \\
            --purpose "public-sector salaries"
    """
    from fintrack.cli.ask import ask_pledge, can_ask, confirm, guided
    from fintrack.errors import DuplicatePledge, Refused

    lacking = (amount is None and each is None) or (on is None and first_due is None)
    if guided(ctx, no_input, lacking=lacking, donor=donor, recipient=recipient, currency=currency):
        answers = ask_pledge(ctx, dict(ctx.params))
        donor, recipient, currency = answers["donor"], answers["recipient"], answers["currency"]
        amount, installments, every = answers["amount"], answers["installments"], answers["every"]
        on, first_due, status = answers["on"], answers["first_due"], answers["status"]
        purpose, source, level = answers["purpose"], answers["source"], answers["level"]
    assert donor is not None and recipient is not None and currency is not None

    def add(allowed: bool) -> "PledgeRow":
        with change(analyst=analyst) as ch:
            return ch.add_pledge(
                donor=donor,
                recipient=recipient,
                currency=currency,
                amount=amount,
                each=each,
                installments=installments,
                every=every,
                first_due=first_due,
                on=on,
                status=status,
                purpose=purpose,
                sources=source or (),
                confidence=level,
                ref=ref,
                replaces=replaces,
                schedule_assumed=assumed,
                allow_duplicate=allowed,
            )

    try:
        row = add(allow_duplicate)
    except DuplicatePledge as exc:
        # Asked outside the transaction, so that no lock is held while the person thinks.
        if not can_ask(no_input):
            raise Refused(
                f"pledge {exc.earlier} has the same donor, recipient, currency, amount and "
                "date; nothing added (use --allow-duplicate to add it anyway)"
            ) from None
        question = (
            f"Pledge {exc.earlier} has the same donor, recipient, currency, amount and date. "
            "Add another?"
        )
        if not confirm(question):
            raise Refused(f"nothing added: pledge {exc.earlier} is already on record") from None
        row = add(True)
    described = f"{row.donor} → {row.recipient}, {row.pledged}"
    note(f"Added pledge {row.id}: {described} in {plural(row.installments, 'installment')}")
    print(row.id)


@app.command("edit")
def pledge_edit(
    pledge_id: Annotated[int, typer.Argument(metavar="ID", help="The pledge's id.")],
    donor: Annotated[str | None, typer.Option(help="Who pledges.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Who receives.")] = None,
    purpose: Annotated[
        str | None, typer.Option(help='What the money is for; "" clears it.')
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="A new currency (needs --amount or --each).")
    ] = None,
    amount: Annotated[str | None, typer.Option(help="The new total, split evenly.")] = None,
    each: Annotated[str | None, typer.Option(help="The new amount of each installment.")] = None,
    installments: Annotated[
        int | None, typer.Option(help="A new number of installments (needs --amount or --each).")
    ] = None,
    every: Annotated[
        str | None, typer.Option(help=f"A new interval between installments: {choices(Period)}.")
    ] = None,
    first_due: Annotated[
        date | None, typer.Option(parser=cli_date, help="A new first due date.")
    ] = None,
    on: Annotated[
        date | None, typer.Option("--on", parser=cli_date, help="The date announced.")
    ] = None,
    status: Annotated[str | None, typer.Option(help=f"One of: {choices(PledgeStatus)}.")] = None,
    assumed: Annotated[
        bool | None,
        typer.Option("--assumed/--confirmed", help="Mark the due dates as assumed or given."),
    ] = None,
    ref: Annotated[str | None, typer.Option(help="Your own stable key.")] = None,
    source: SourceOption = None,
    level: ConfidenceOption = "reported",
    reason: ReasonOption = None,
    analyst: AnalystOption = None,
) -> None:
    """Change a pledge: its amounts, dates, status or schedule. The history keeps the old.

    Give only what changes. --amount or --each keeps the due dates; --first-due, --every
    or --installments lays the schedule out again. Installments keep their numbers, so what
    was paid against one stays on it: a new schedule must keep each paid installment, at
    least as large as what was paid. Reports --known-on a date before the edit still show
    the pledge as it was then.

    Example (Qatar's monthly installments revised from USD 29M to 25M):

        fintrack pledge edit 1 --each 25M --reason "finance ministry revised figure" \
            --source https://example.org/revision --confidence reported
    """
    from fintrack.errors import InputError

    fields = (donor, recipient, purpose, currency, amount, each, installments, every, first_due)
    if all(value is None for value in (*fields, on, status, assumed, ref)) and not source:
        raise InputError("edit", "give at least one field to change (see --help)")
    with change(reason, analyst) as ch:
        ch.edit_pledge(
            pledge_id,
            donor=donor,
            recipient=recipient,
            purpose=purpose,
            currency=currency,
            amount=amount,
            each=each,
            installments=installments,
            every=every,
            first_due=first_due,
            on=on,
            status=status,
            schedule_assumed=assumed,
            ref=ref,
            sources=source or (),
            confidence=level,
        )
    note(
        f"Changed pledge {pledge_id}; see fintrack history pledge {pledge_id}"
        if ch.wrote
        else f"Nothing to change: pledge {pledge_id} already has these values"
    )


@app.command("list")
@listing()
def pledge_list(
    donor: Annotated[str | None, typer.Option(help="Only this donor.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Only this recipient.")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of: {choices(PledgeStatus)}.")] = None,
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List pledges with what was disbursed, what is outstanding and what falls due next.

    --since and --until keep the pledges dated in that range (both days included): the day
    a pledge was announced (--on), or its first installment's due date when it has none.

    Examples:

        fintrack pledge list --recipient Syria --format json

        fintrack pledge list --since 2025-05-01 --until 2025-05-31
    """
    rows = tracker().pledges(
        donor=donor,
        recipient=recipient,
        status=status,
        currency=currency,
        since=since,
        until=until,
        known_on=known_on,
        min_confidence=min_confidence,
    )
    render(rows, PLEDGE_COLUMNS, fmt, title="Pledges", empty="No pledges match.")


@app.command("show")
def pledge_show(
    pledge_id: Annotated[int, typer.Argument(metavar="ID", help="The pledge's id.")],
    known_on: KnownOnOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show a pledge: its installments, what was paid against each, what is outstanding,
    and its sources.

    With --format csv the installments are printed; --format json (or jsonl, on one line)
    gives the pledge with its installments and disbursements.

    Example:

        fintrack pledge show 1
    """
    shown = tracker().pledge_detail(pledge_id, known_on=known_on)
    row, schedule, payments, cited = shown.pledge, shown.installments, shown.payments, shown.sources
    if fmt is OutputFormat.CSV:
        write_csv(records(schedule, INSTALLMENT_COLUMNS), INSTALLMENT_COLUMNS, sys.stdout)
        return
    if fmt in (OutputFormat.JSON, OutputFormat.JSONL):
        data = plain_row(record(row, PLEDGE_COLUMNS), PLEDGE_COLUMNS)
        data["installments"] = plain_rows(
            records(schedule, INSTALLMENT_COLUMNS), INSTALLMENT_COLUMNS
        )
        data["disbursements"] = plain_rows(
            records(payments, DISBURSEMENT_COLUMNS), DISBURSEMENT_COLUMNS
        )
        data["sources"] = plain_rows(records(cited, CITED_COLUMNS), CITED_COLUMNS)
        write_document(data, fmt)
        return
    # A pledge entered here has none of another system's fields: they are not shown empty.
    shown_columns = [
        c
        for c in PLEDGE_COLUMNS
        if c.key not in SOURCE_SYSTEM_KEYS or getattr(row, c.key) is not None
    ]
    render_one(row, shown_columns, fmt, title=f"Pledge {pledge_id}")
    print()
    render(
        schedule,
        INSTALLMENT_COLUMNS[1:],
        fmt,
        title="Installments",
        style=lambda r: STATE_STYLES.get(r["state"]),
    )
    print()
    render(
        payments,
        DISBURSEMENT_COLUMNS[:1] + DISBURSEMENT_COLUMNS[2:],
        fmt,
        title="Disbursements",
        empty="No disbursements yet.",
    )
    print()
    render(cited, CITED_COLUMNS, fmt, title="Sources", empty="No sources: unverified.")


def pay(
    ctx: typer.Context,
    pledge_id: Annotated[
        int | None,
        typer.Argument(metavar="PLEDGE_ID", help="The pledge paid against. [required]"),
    ] = None,
    amount: Annotated[
        str | None,
        typer.Argument(
            help="The amount paid, in the pledge's currency: 29000000, 29M, ... [required]"
        ),
    ] = None,
    on: Annotated[
        date | None,
        typer.Option(
            "--on", parser=cli_date, help="Date the money was paid (YYYY-MM-DD). [required]"
        ),
    ] = None,
    installment: Annotated[
        int | None,
        typer.Option(help="The installment paid (default: the earliest not paid in full)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Record a payment beyond the pledge's total.")
    ] = False,
    source: SourceOption = None,
    level: ConfidenceOption = "reported",
    no_input: NoInputOption = False,
    analyst: AnalystOption = None,
) -> None:
    """Record a disbursement against a pledge and print the new disbursement ids.

    The payment goes to the named installment or to the earliest one not paid in full; what
    exceeds it goes on to the next unpaid installments. A payment that would take the pledge
    past its total is refused unless --force is given. A pledge paid in full gets status paid.

    On a terminal, `fintrack pay` without its arguments lists the open pledges and asks
    which, how much (the next installment's outstanding amount by default) and when
    (today by default); --no-input fails instead.

    Example:

        fintrack pay 1 29M --on 2025-06-10
    """
    from fintrack.cli.ask import ask_payment, guided

    if guided(ctx, no_input, lacking=False, pledge_id=pledge_id, amount=amount, on=on):
        answers = ask_payment(ctx, dict(ctx.params))
        pledge_id, amount, on = answers["pledge_id"], answers["amount"], answers["on"]
        source, level = answers["source"], answers["level"]
    assert pledge_id is not None and amount is not None and on is not None
    with change(analyst=analyst) as ch:
        written = ch.pay(
            pledge_id,
            amount,
            on,
            installment,
            force=force,
            sources=source or (),
            confidence=level,
        )
    currency = written[0].amount.currency
    pieces = ", ".join(f"installment {row.installment}: {row.amount.format()}" for row in written)
    note(f"Recorded payment on pledge {pledge_id} ({currency}): {pieces}")
    for row in written:
        print(row.id)
