"""The ledger's consistency: history in each version's currency, one fact per rate pair and
day, standings in SQL, and schedules that shrink past voided payments without losing them."""

from datetime import date, datetime
from typing import Any

from tests.conftest import Run, as_json, assert_error
from tests.test_provenance import at, ok

# A JPY pledge with a voided payment, then edited to KWD: 1000 minor units either way.
JPY_TO_KWD = [
    ("2025-01-01", ["pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "JPY",
                    "--amount", "1000", "--first-due", "2025-02-01", "--on", "2025-01-01"]),
    ("2025-01-02", ["pay", "1", "300", "--on", "2025-01-02"]),
    ("2025-01-03", ["void", "payment", "1", "--reason", "wrong pledge"]),
    ("2025-01-04", ["pledge", "edit", "1", "--currency", "KWD", "--amount", "1",
                    "--reason", "restated in KWD"]),
]  # fmt: skip


def replay(run: Run, steps: list[tuple[str, list[str]]]) -> None:
    for day, args in steps:
        with at(day):
            ok(run, *args)


def changes(history: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(row["what"], row["field"], row["from"], row["to"]) for row in history]


def test_history_shows_each_version_amount_in_that_version_currency(run: Run) -> None:
    replay(run, JPY_TO_KWD)
    history = changes(as_json(run, "history", "pledge", "1"))
    assert history == [
        ("pledge 1", "recorded", "", "donor A, recipient B, currency JPY, amount JPY 1,000, "
         "status pledge, announced 2025-01-01, schedule assumed no"),
        ("installment 1", "added", "", "due 2025-02-01, JPY 1,000"),
        ("payment 1", "added", "", "paid 2025-01-02, JPY 300"),
        ("payment 1", "voided", "", "2025-01-03 10:00:00 UTC"),
        ("pledge 1", "currency", "JPY", "KWD"),
        # The same 1000 minor units, but not the same amount: the history says so.
        ("pledge 1", "amount", "JPY 1,000", "KWD 1.000"),
        ("installment 1", "amount", "JPY 1,000", "KWD 1.000"),
        # The voided payment is kept as it was when voided: JPY, and unchanged.
    ]  # fmt: skip
    payment = changes(as_json(run, "history", "payment", "1"))
    assert payment == [
        ("payment 1", "recorded", "", "pledge 1, installment 1, paid 2025-01-02, amount JPY 300"),
        ("payment 1", "voided", "", "2025-01-03 10:00:00 UTC"),
    ]
    csv = run("history", "pledge", "1", "--format", "csv").out
    assert "KWD 0.300" not in csv and "JPY 300" in csv


def test_views_as_known_before_a_currency_change_use_the_old_currency(run: Run) -> None:
    replay(run, JPY_TO_KWD)
    before = as_json(run, "pledge", "show", "1", "--known-on", "2025-01-02")
    assert (before["currency"], before["pledged"], before["disbursed"]) == ("JPY", "1000", "300")
    assert [(i["currency"], i["amount"]) for i in before["installments"]] == [("JPY", "1000")]
    assert [(p["currency"], p["amount"]) for p in before["disbursements"]] == [("JPY", "300")]
    [total] = [r for r in as_json(run, "totals", "--known-on", "2025-01-03") if r["total"]]
    assert (total["currency"], total["pledged"]) == ("JPY", "1000")
    [total] = [r for r in as_json(run, "totals", "--known-on", "2025-01-04") if r["total"]]
    assert (total["currency"], total["pledged"]) == ("KWD", "1.000")


def test_a_schedule_shrinks_past_a_voided_payment_and_keeps_it(run: Run, db_url: str) -> None:
    from tests.test_provenance import counts

    replay(run, [
        ("2025-01-01", ["pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "USD",
                        "--amount", "300", "--installments", "3", "--every", "month",
                        "--first-due", "2025-02-01", "--on", "2025-01-01"]),
        ("2025-01-02", ["pay", "1", "100", "--on", "2025-01-02", "--installment", "3"]),
        ("2025-01-03", ["void", "payment", "1", "--reason", "wrong pledge"]),
    ])  # fmt: skip
    before = counts(db_url)
    with at("2025-01-04"):
        ok(run, "pledge", "edit", "1", "--installments", "2", "--amount", "300", "--reason", "x")
    after = counts(db_url)
    assert after["disbursements"] == before["disbursements"] == 1  # the voided payment stays
    assert after["installments"] == 2
    assert after["installments_history"] == before["installments_history"] + 3  # 1, 2 and 3
    shown = as_json(run, "pledge", "show", "1")
    assert [(i["seq"], i["amount"], i["paid"]) for i in shown["installments"]] == [
        (1, "150.00", "0.00"),
        (2, "150.00", "0.00"),
    ]
    # Installments by their number, not their row id; the move is in the payment's history.
    assert changes(as_json(run, "history", "payment", "1")) == [
        (
            "payment 1",
            "recorded",
            "",
            "pledge 1, installment 3, paid 2025-01-02, amount USD 100.00",
        ),
        ("payment 1", "voided", "", "2025-01-03 10:00:00 UTC"),
        ("payment 1", "installment", "3", "2"),
    ]
    # The schedule can grow back; a live payment on a removed installment is still refused.
    with at("2025-01-05"):
        ok(run, "pledge", "edit", "1", "--installments", "3", "--amount", "300", "--reason", "y")
        ok(run, "pay", "1", "50", "--on", "2025-01-05", "--installment", "3")
        result = run("pledge", "edit", "1", "--installments", "2", "--amount", "300")
    assert_error(result, "installment 3 of pledge 1 has USD 50.00 paid against it")


def test_dates_at_the_ends_of_the_calendar_are_clean_errors_or_work(run: Run) -> None:
    """Schedules past 9999-12-31 are refused; windows, views and rate ages near the ends of the
    calendar work instead of ending in an unexpected OverflowError."""
    from tests.conftest import row_counts

    ok(run, "pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "USD",
       "--amount", "300", "--installments", "3", "--every", "month", "--first-due", "2025-01-01")  # fmt: skip
    ok(run, "rate", "add", "EUR", "USD", "1.1", "--on", "0001-01-01")
    before = row_counts()
    past_9999 = "would fall due after 9999-12-31, the last date there is"
    for args in (
        ["pledge", "edit", "1", "--installments", "99999", "--amount", "300000"],
        ["pledge", "edit", "1", "--first-due", "9999-12-31"],
        ["pledge", "edit", "1", "--every", "week", "--first-due", "9999-12-20"],
        # Refused before a trillion amounts are laid out (a MemoryError before).
        ["pledge", "edit", "1", "--each", "0.01", "--installments", "1000000000000"],
        ["pledge", "add", "--donor", "A", "--recipient", "C", "--currency", "USD", "--amount",
         "3", "--installments", "3", "--every", "month", "--first-due", "9999-12-31"],
    ):  # fmt: skip
        result = run(*args, "--reason", "r") if args[1] == "edit" else run(*args)
        assert_error(result, "Error: --installments: ", past_9999)
        assert result.code == 1
    assert row_counts() == before
    converted = as_json(run, "rate", "convert", "1", "EUR", "--to", "USD", "--on", "0001-01-01")
    assert converted[0]["converted"] == "1.10"
    deadlines = as_json(run, "deadlines", "--as-of", "9999-12-20", "--within", "365")
    assert [row["detail"] for row in deadlines] == [f"installment {i} of 3" for i in (1, 2, 3)]
    assert as_json(run, "rate", "list", "--known-on", "9999-12-31")[0]["rate"] == "1.1"
    [total] = [r for r in as_json(run, "totals", "--known-on", "9999-12-31") if r["total"]]
    assert total["pledged"] == "300.00"


# --- a rate and its inverse for one day are one fact -----------------------------------------


def converted(run: Run, amount: str, currency: str, to: str) -> str:
    [row] = as_json(run, "rate", "convert", amount, currency, "--to", to, "--on", "2025-05-08")
    return str(row["converted"])


def listed_rates(run: Run, *args: str) -> list[tuple[str, str, str]]:
    return [(r["base"], r["quote"], r["rate"]) for r in as_json(run, "rate", "list", *args)]


def test_a_contradicting_inverse_is_refused_and_an_agreeing_one_is_already_known(
    run: Run,
) -> None:
    from tests.conftest import row_counts

    with at("2025-05-08"):
        ok(run, "rate", "add", "EUR", "USD", "1.3", "--on", "2025-05-08")
    before = row_counts()
    result = run("rate", "add", "USD", "EUR", "0.8", "--on", "2025-05-08")
    assert_error(
        result,
        "the USD/EUR rate for 2025-05-08 is already recorded as its inverse, EUR/USD 1.3 "
        "(= USD/EUR 0.769230769231); use --replace to store USD/EUR 0.8 instead",
    )
    assert result.code == 1
    assert row_counts() == before
    assert (converted(run, "100", "EUR", "USD"), converted(run, "130", "USD", "EUR")) == (
        "130.00",
        "100.00",
    )
    # The inverse, exact or to the places it is given, is the same fact: nothing is stored.
    for inverse in ("0.76923076923076923077", "0.7692", "0.769"):
        same = run("rate", "add", "USD", "EUR", inverse, "--on", "2025-05-08")
        assert (same.code, same.out) == (0, "")
        assert same.err.strip() == (
            f"USD/EUR {inverse} on 2025-05-08 is already known: EUR/USD 1.3 is recorded and "
            "serves both directions; nothing changed"
        )
    assert row_counts() == before
    assert listed_rates(run) == [("EUR", "USD", "1.3")]
    # 0.7693 is not the inverse at four places (1/1.3 = 0.76923...): refused.
    assert_error(run("rate", "add", "USD", "EUR", "0.7693", "--on", "2025-05-08"), "--replace")
    # --replace stores the new fact in place of the old one, which the history keeps.
    with at("2025-05-09"):
        replaced = run("rate", "add", "USD", "EUR", "0.8", "--on", "2025-05-08", "--replace")
    assert replaced.err.strip() == (
        "Replaced USD/EUR 0.8 on 2025-05-08 (instead of EUR/USD 1.3; one rate serves both "
        "directions)"
    )
    assert listed_rates(run) == [("USD", "EUR", "0.8")]
    assert listed_rates(run, "--known-on", "2025-05-08") == [("EUR", "USD", "1.3")]
    assert (converted(run, "100", "EUR", "USD"), converted(run, "125", "USD", "EUR")) == (
        "125.00",
        "100.00",
    )


def test_import_rates_takes_a_rate_and_its_inverse_for_one_day_as_one_fact(
    run: Run, tmp_path: Any
) -> None:
    from tests.conftest import row_counts

    both = tmp_path / "both.csv"
    both.write_text(
        "base,quote,on,rate\nEUR,USD,2025-05-08,1.3\nUSD,EUR,2025-05-08,0.8\n"
        "GBP,USD,2025-05-08,1.25\nUSD,GBP,2025-05-08,0.8\n"
    )
    result = run("import", "rates", str(both))
    assert result.err.splitlines() == [
        f"{both}:3: column rate: '0.8', but line 2 gives its inverse, EUR/USD 1.3 "
        "(= USD/EUR 0.769230769231); a rate and its inverse for one day are one fact: "
        "keep one of the lines",
        "Error: 1 of 4 rows are invalid; nothing was imported",
    ]
    assert listed_rates(run) == []
    both.write_text(
        "base,quote,on,rate\nEUR,USD,2025-05-08,1.3\nGBP,USD,2025-05-08,1.25\n"
        "USD,GBP,2025-05-08,0.8\n"
    )
    assert run("import", "rates", str(both)).code == 0
    assert listed_rates(run) == [("EUR", "USD", "1.3"), ("GBP", "USD", "1.25")]
    before = row_counts()
    against = tmp_path / "against.csv"
    against.write_text("base,quote,on,rate\nUSD,EUR,2025-05-08,0.8\nUSD,CHF,2025-05-08,0.9\n")
    assert run("import", "rates", str(against)).err.splitlines() == [
        f"{against}:2: column rate: '0.8', but the USD/EUR rate for 2025-05-08 is already "
        "recorded as its inverse, EUR/USD 1.3 (= USD/EUR 0.769230769231); change it with "
        "`fintrack rate add --replace`",
        "Error: 1 of 2 rows are invalid; nothing was imported",
    ]
    assert row_counts() == before
    assert len(listed_rates(run)) == 2
    against.write_text("base,quote,on,rate\nUSD,EUR,2025-05-08,0.7692\nUSD,CHF,2025-05-08,0.9\n")
    assert run("import", "rates", str(against)).code == 0
    assert listed_rates(run) == [
        ("EUR", "USD", "1.3"),
        ("GBP", "USD", "1.25"),
        ("USD", "CHF", "0.9"),
    ]


def test_a_database_holding_both_directions_converts_by_the_rate_recorded_first(
    run: Run, db_url: str
) -> None:
    """Databases of earlier versions may hold EUR/USD 1.3 and USD/EUR 0.8 for one day: the
    first recorded converts both ways, `rate list` says so, and --replace keeps one."""
    from sqlalchemy import update

    from fintrack.models import ExchangeRate
    from fintrack.store import Database

    ok(run, "rate", "add", "EUR", "USD", "1.3", "--on", "2025-05-08")
    ok(run, "rate", "add", "USD", "EUR", "0.5", "--on", "2025-05-08", "--replace")
    ok(run, "rate", "add", "EUR", "USD", "1.3", "--on", "2025-05-07")
    ok(run, "rate", "add", "GBP", "USD", "1.25", "--on", "2025-05-08")
    ok(run, "rate", "add", "USD", "GBP", "0.8", "--on", "2025-05-07")
    with Database(db_url).session(write=True) as session:  # as an older fintrack left them
        session.execute(
            update(ExchangeRate)
            .where(ExchangeRate.rate_on == date(2025, 5, 7))
            .values(rate_on=date(2025, 5, 8))
        )
    # Recorded first (a replaced row keeps its place): USD/EUR 0.5, then EUR/USD 1.3.
    assert (converted(run, "100", "EUR", "USD"), converted(run, "100", "USD", "EUR")) == (
        "200.00",
        "50.00",
    )
    result = run("rate", "list")
    assert result.code == 0
    assert len(run("rate", "list", "--format", "csv").out.splitlines()) == 1 + 4
    # Only the contradiction is noted: GBP/USD 1.25 and USD/GBP 0.8 agree.
    assert result.err.splitlines() == [
        "Note: USD/EUR 0.5 and EUR/USD 1.3 are both recorded for 2025-05-08 and contradict "
        "each other; conversions use USD/EUR 0.5, recorded first (to keep the other: "
        "fintrack rate add EUR USD 1.3 --on 2025-05-08 --replace)"
    ]
    ok(run, "rate", "add", "EUR", "USD", "1.3", "--on", "2025-05-08", "--replace")
    assert listed_rates(run) == [
        ("EUR", "USD", "1.3"),
        ("GBP", "USD", "1.25"),
        ("USD", "GBP", "0.8"),
    ]
    assert run("rate", "list").err == ""
    assert (converted(run, "100", "EUR", "USD"), converted(run, "130", "USD", "EUR")) == (
        "130.00",
        "100.00",
    )


# --- standings in SQL ------------------------------------------------------------------------


def test_deadlines_and_sanction_list_give_each_record_its_best_standing(run: Run) -> None:
    """The standing each listing shows is the best confidence among the record's sources, as
    `show` lists them, now and as known on an earlier day."""
    url = "https://example.org/"
    pledges = {
        "none": [],
        "reported": [("a", "reported")],
        "confirmed": [("b", "reported"), ("c", "confirmed")],
        "denied": [("d", "denied")],
    }
    with at("2025-05-01"):
        for donor in pledges:
            args = ["pledge", "add", "--donor", donor, "--recipient", "R", "--currency", "USD",
                    "--amount", "10", "--first-due", "2025-06-01"]  # fmt: skip
            ok(run, *args)
        for number, links in enumerate(pledges.values(), start=1):
            for name, confidence in links:
                ok(run, "source", "link", "pledge", str(number), url + name,
                   "--confidence", confidence)  # fmt: skip
        for authority in ("EU", "UK"):
            ok(run, "sanction", "add", "--authority", authority, "--target", "T", "--action",
               "impose", "--expires", "2025-06-10")  # fmt: skip
        ok(run, "source", "link", "sanction", "2", url + "uk", "--confidence", "confirmed")
    with at("2025-05-02"):
        ok(run, "source", "link", "pledge", "2", url + "a", "--confidence", "confirmed",
           "--reason", "confirmed")  # fmt: skip

    def best(kind: str, record_id: int, day: str | None) -> str:
        when = ["--known-on", day] if day else []
        sources = as_json(run, kind, "show", str(record_id), *when)["sources"]
        return str(sources[0]["confidence"]) if sources else "unverified"

    for day in (None, "2025-05-01"):
        when = ["--known-on", day] if day else []
        rows = as_json(run, "deadlines", "--as-of", "2025-05-20", "--within", "30", *when)
        shown = {(row["record"], row["record_id"]): row["confidence"] for row in rows}
        assert len(shown) == 6
        assert shown == {key: best(*key, day) for key in shown}
        listed = as_json(run, "sanction", "list", *when)
        assert {row["id"]: row["confidence"] for row in listed} == {
            1: "unverified",
            2: "confirmed",
        }
    assert shown[("pledge", 2)] == "reported"  # as known on 1 May; confirmed since
    now = as_json(run, "deadlines", "--as-of", "2025-05-20", "--within", "30")
    assert [row["confidence"] for row in now if row["record"] == "pledge"] == [
        "unverified",
        "confirmed",
        "confirmed",
        "denied",
    ]


def bulk_records(db_url: str, count: int) -> None:
    """`count` pledges of one installment each and `count` sanction actions expiring, every
    seventh of each with a confirming source, written by the database itself (a recursive
    query), so that a test with many records takes little time."""
    from sqlalchemy import insert, literal, select

    from fintrack.models import Change, Installment, Pledge, SanctionAction, Source, SourceLink
    from fintrack.store import Database

    db = Database(db_url)
    db.upgrade()
    now = datetime(2025, 1, 1)
    with db.engine.begin() as connection:
        change = connection.execute(
            insert(Change).values(at=now, analyst="bulk", command="bulk").returning(Change.id)
        ).scalar_one()
        source = connection.execute(
            insert(Source).values(title="s", change_id=change, created_at=now).returning(Source.id)
        ).scalar_one()
        seq = select(literal(1).label("i")).cte("seq", recursive=True)
        seq = seq.union_all(select(seq.c.i + 1).where(seq.c.i < count))
        stamp = {"known_from": literal(now), "change_id": literal(change)}
        tables: dict[Any, dict[str, Any]] = {
            Pledge: {"id": seq.c.i, "donor": literal("D"), "recipient": literal("R"),
                     "currency": literal("USD"), "amount_minor": literal(100),
                     "status": literal("pledge"), "schedule_assumed": literal(False),
                     "created_at": literal(now)},
            Installment: {"pledge_id": seq.c.i, "seq": literal(1),
                          "due_on": literal(date(2025, 6, 1)), "amount_minor": literal(100)},
            SanctionAction: {"id": seq.c.i, "authority": literal("EU"), "target": literal("T"),
                             "action": literal("impose"), "status": literal("in-force"),
                             "expires_on": literal(date(2025, 6, 2)), "created_at": literal(now)},
            SourceLink: {"source_id": literal(source), "pledge_id": seq.c.i,
                         "confidence": literal("confirmed")},
        }  # fmt: skip
        for model, values in tables.items():
            columns = {**values, **stamp}
            rows = select(*columns.values()).select_from(seq)
            if model is SourceLink:
                rows = rows.where(seq.c.i % 7 == 0)
            connection.execute(insert(model).from_select(list(columns), rows))
        sanction_links = {**tables[SourceLink], **stamp, "sanction_id": seq.c.i}
        sanction_links["pledge_id"] = literal(None)
        rows = select(*sanction_links.values()).select_from(seq).where(seq.c.i % 7 == 0)
        connection.execute(insert(SourceLink).from_select(list(sanction_links), rows))


def test_listings_ask_for_standings_in_sql_not_by_a_list_of_ids(run: Run, db_url: str) -> None:
    """No statement takes a parameter per record: an id list in `IN (...)` fails past
    PostgreSQL's 65,535 parameters (`deadlines --within 365` at 250,000 pledges did)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    count = 500
    bulk_records(db_url, count)
    most = 0

    def parameters(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        nonlocal most
        if not isinstance(params, list):  # an executemany is a list of rows
            most = max(most, len(params or ()))

    event.listen(Engine, "before_cursor_execute", parameters)
    try:
        result = run("deadlines", "--as-of", "2025-05-20", "--within", "365", "--format", "csv")
        listed = run("sanction", "list", "--format", "csv")
    finally:
        event.remove(Engine, "before_cursor_execute", parameters)
    assert result.code == 0, result.err
    assert listed.code == 0, listed.err
    assert most < 50, most
    lines = result.out.splitlines()
    assert len(lines) == 1 + 2 * count
    assert sum(line.endswith(",confirmed") for line in lines) == 2 * (count // 7)
    assert sum(",confirmed," in line for line in listed.out.splitlines()) == count // 7
