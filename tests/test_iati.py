"""`fintrack import iati FILE`: IATI activity XML as pledges, installments and payments,
checked in full before anything is written, idempotent, and safe against hostile XML."""

import csv
import io
import os
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import fintrack
from fintrack import InvalidElements
from tests.conftest import EMPTY, Run, as_json, assert_error, row_counts

DATA = Path(__file__).resolve().parent / "data" / "iati"
ACTIVITIES = DATA / "activities.xml"
SARC = ("Example Humanitarian Fund", "Syrian Arab Red Crescent", "USD")


def imported(run: Run, path: Path = ACTIVITIES, *options: str) -> str:
    result = run("import", "iati", str(path), *options)
    assert result.code == 0, result.err
    assert result.out == ""
    return result.err


def pledges(run: Run) -> dict[tuple[str, str, str], dict[str, str]]:
    """The pledges stored, by (donor, recipient, currency)."""
    rows = csv.DictReader(io.StringIO(run("export", "pledges").out))
    return {(r["donor"], r["recipient"], r["currency"]): r for r in rows}


def installments(run: Run, ref_part: str) -> list[tuple[str, str]]:
    rows = csv.DictReader(io.StringIO(run("export", "installments").out))
    return [(r["due"], r["amount"]) for r in rows if ref_part in r["pledge_ref"]]


def payments(url: str) -> dict[str, tuple[date, date | None, int]]:
    """The payments stored with a ref, read with SQL: ref -> (paid_on, value_on, minor)."""
    from sqlalchemy import select

    from fintrack.models import Disbursement
    from fintrack.store import Database

    database = Database(url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(
                    Disbursement.ref,
                    Disbursement.paid_on,
                    Disbursement.value_on,
                    Disbursement.amount_minor,
                ).where(Disbursement.voided_at.is_(None))
            )
            return {str(ref): (paid, value, minor) for ref, paid, value, minor in rows}
    finally:
        database.close()


def write(tmp_path: Path, text: str, name: str = "file.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def activity(
    body: str, identifier: str = "XM-T-1", default: str = ' default-currency="USD"'
) -> str:
    return f"""
  <iati-activity{default}>
    <iati-identifier>{identifier}</iati-identifier>
    <reporting-org ref="XM-T"><narrative>Reporter</narrative></reporting-org>
    {body}
  </iati-activity>"""


def document(*activities: str) -> str:
    return f'<?xml version="1.0"?>\n<iati-activities version="2.03">{"".join(activities)}\n</iati-activities>\n'


def transaction(
    code: str, amount: str, on: str = "2025-05-01", extra: str = "", org: str = ""
) -> str:
    counterpart = org or (
        '<provider-org ref="XM-D"><narrative>Donor</narrative></provider-org>'
        if code in ("1", "11", "13")
        else '<receiver-org ref="XM-R"><narrative>Receiver</narrative></receiver-org>'
    )
    return f"""<transaction>
      <transaction-type code="{code}"/>
      <transaction-date iso-date="{on}"/>
      <value value-date="{on}"{extra}>{amount}</value>
      {counterpart}
    </transaction>"""


# --- mapping -------------------------------------------------------------------------------


def test_each_transaction_type_maps_to_its_donor_recipient_and_status(run: Run) -> None:
    summary = imported(run)
    assert summary == (
        f"Imported {ACTIVITIES} into {fintrack.open().display}: 6 pledges, 8 installments, "
        "6 disbursements added, nothing already present; left out: 1 transaction of another type\n"
    )
    stored = pledges(run)
    by_key = {key: (r["pledged"], r["disbursed"], r["status"]) for key, r in stored.items()}
    fund = "Example Humanitarian Fund"
    assert by_key == {
        # 11 incoming commitment, 1 incoming funds: the provider-org gives to the reporter.
        ("Government of Qatar", fund, "USD"): ("3000000.00", "1000000.00", "commitment"),
        # 2 outgoing commitment, 3 disbursements (one a reversal): the reporter gives.
        (fund, "Syrian Arab Red Crescent", "USD"): ("2000000.00", "1100000.00", "commitment"),
        # 13 incoming pledge; 12 outgoing pledges, two of them summed.
        ("European Union", fund, "EUR"): ("5000000.00", "0.00", "pledge"),
        (fund, "UNICEF", "GBP"): ("1500000.50", "0.00", "pledge"),
        # 2 outgoing commitments, one negative; the receiver-org has only a @ref.
        (fund, "XM-WHO", "EUR"): ("250000.00", "0.00", "commitment"),
        # 3 disbursements with no commitment: what was paid is the pledge, paid.
        (fund, "World Food Programme", "USD"): ("375000.25", "375000.25", "paid"),
    }
    sarc = stored[SARC]
    assert sarc["ref"] == "iati:XM-EXAMPLE-1-SYR-001:out:Syrian Arab Red Crescent:USD"
    assert sarc["purpose"] == "Salaries of health workers in Syria"
    assert sarc["announced"] == "2025-05-25"  # the commitment's transaction-date


def test_a_long_title_is_the_purpose_and_a_long_name_an_error(run: Run, tmp_path: Path) -> None:
    title = "Water " * 60
    path = write(tmp_path, document(activity(f"<title><narrative>{title}</narrative></title>")))
    imported(run, path)  # an activity without transactions gives no pledge
    body = f"<title><narrative>{title}</narrative></title>" + transaction(
        "2", "5", org=f"<receiver-org><narrative>{'R' * 201}</narrative></receiver-org>"
    )
    long_name = write(tmp_path, document(activity(body)), "long.xml")
    result = run("import", "iati", str(long_name))
    assert result.err.splitlines()[0] == (
        f"{long_name}:/iati-activities/iati-activity[1]/transaction[1]/receiver-org: "
        "at most 200 characters (got 201)"
    )
    short = write(tmp_path, document(activity(body.replace("R" * 201, "R"))), "short.xml")
    imported(run, short)
    assert pledges(run)[("Reporter", "R", "USD")]["purpose"] == title.strip()


def test_a_value_without_currency_takes_the_activitys_default_currency(
    run: Run, tmp_path: Path
) -> None:
    imported(run)
    currencies = {(donor, recipient): cur for donor, recipient, cur in pledges(run)}
    assert currencies[("European Union", "Example Humanitarian Fund")] == "EUR"  # default
    assert currencies[("Example Humanitarian Fund", "UNICEF")] == "GBP"  # its own @currency
    neither = write(tmp_path, document(activity(transaction("2", "10", extra=""), default="")))
    result = run("import", "iati", str(neither))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{neither}:/iati-activities/iati-activity[1]/transaction[1]/value: has no @currency "
        "and the activity no @default-currency",
        "Error: 1 of 1 activities are invalid; nothing was imported",
    ]


def test_a_revised_planned_disbursement_replaces_the_original_of_its_period(run: Run) -> None:
    imported(run)
    # Original 1,000,000 and revised 800,000 for June; original 1,200,000 for Q3: never both.
    assert installments(run, "SYR-001:out") == [
        ("2025-06-30", "800000.00"),
        ("2025-09-30", "1200000.00"),
    ]
    assert pledges(run)[SARC]["schedule_assumed"] == "false"  # the plans add up exactly


def test_plans_that_fall_short_get_a_balancing_installment(run: Run, tmp_path: Path) -> None:
    imported(run)
    # WHO: committed 400,000 - 150,000; one plan of 100,000; the rest due with it, assumed.
    assert installments(run, ":XM-WHO:") == [
        ("2025-06-01", "100000.00"),
        ("2025-06-01", "150000.00"),
    ]
    assert (
        pledges(run)[("Example Humanitarian Fund", "XM-WHO", "EUR")]["schedule_assumed"] == "true"
    )
    # No plans: one installment due on the first counted transaction's date, assumed.
    assert installments(run, "SYR-002:in") == [("2025-03-17", "5000000.00")]
    # Plans beyond the pledge are cut where they reach it.
    plans = "".join(
        f'<planned-disbursement type="1"><period-start iso-date="2025-0{m}-01"/>'
        f'<value currency="USD" value-date="2025-01-01">60</value></planned-disbursement>'
        for m in (6, 7, 8)
    )
    over = write(tmp_path, document(activity(transaction("2", "100") + plans)))
    imported(run, over)
    assert installments(run, "XM-T-1") == [("2025-06-01", "60.00"), ("2025-07-01", "40.00")]


def test_negative_values_reduce_the_totals(run: Run, tmp_path: Path, db_url: str) -> None:
    imported(run)
    stored = payments(db_url)
    # SARC: 500,000 on 10 June, -100,000 on 15 June (a reversal), 700,000 on 5 July: the
    # reversal nets against the payment before it; the July one spills over two installments.
    assert {ref: minor for ref, (_, _, minor) in stored.items() if "SARC" in ref} == {
        "iati:XM-EXAMPLE-1-SYR-001:tx:SARC-D-1": 40_000_000,
        "iati:XM-EXAMPLE-1-SYR-001:tx:SARC-D-3": 40_000_000,
        "iati:XM-EXAMPLE-1-SYR-001:tx:SARC-D-3/2": 30_000_000,
    }
    # A reversal before any payment reduces the next one; beyond every payment it is an error.
    early = write(
        tmp_path,
        document(
            activity(
                transaction("3", "-30", on="2025-01-01") + transaction("3", "100", on="2025-02-01")
            )
        ),
    )
    imported(run, early)
    assert pledges(run)[("Reporter", "Receiver", "USD")]["pledged"] == "70.00"
    beyond = write(
        tmp_path,
        document(activity(transaction("3", "50") + transaction("3", "-80")), "XM-T-2"),
        "beyond.xml",
    )
    before = row_counts()
    result = run("import", "iati", str(beyond))
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"{beyond}:/iati-activities/iati-activity[1]: its payments from Reporter to Receiver "
        "in USD sum to USD -30.00: a negative disbursement exceeds the payments it reverses"
    )
    negative = write(
        tmp_path,
        document(activity(transaction("11", "50") + transaction("11", "-80"), "XM-T-3")),
        "neg.xml",
    )
    result = run("import", "iati", str(negative))
    assert result.err.splitlines()[0] == (
        f"{negative}:/iati-activities/iati-activity[1]: its commitment transactions from "
        "Donor in USD sum to USD -30.00"
    )
    assert row_counts() == before


def test_the_value_date_is_kept_apart_and_converts_the_payment(run: Run, db_url: str) -> None:
    imported(run)
    paid_on, value_on, _ = payments(db_url)["iati:XM-EXAMPLE-1-SYR-001:tx:SARC-D-1"]
    assert (paid_on, value_on) == (date(2025, 6, 10), date(2025, 6, 2))
    # Rates that differ on the two days: the payment converts at its value date's.
    rates = {"2025-05-25": "1", "2025-06-02": "0.9", "2025-06-10": "0.5", "2025-07-01": "1"}
    for day, rate in {**rates, "2025-09-30": "1"}.items():
        assert run("rate", "add", "USD", "EUR", rate, "--on", day).code == 0
    working = as_json(
        run, "totals", "--in", "EUR", "--working", "--recipient", "Syrian Arab Red Crescent"
    )
    june = [w for w in working if w["figure"] == "disbursed" and w["value_date"] < "2025-07-01"]
    assert [(w["value_date"], w["rate_on"], w["amount"], w["converted"]) for w in june] == [
        ("2025-06-02", "2025-06-02", "400000.00", "360000.00")
    ]


# --- idempotence and edits -------------------------------------------------------------------


def test_importing_the_same_file_again_adds_nothing(run: Run) -> None:
    imported(run)
    once = row_counts()
    changes = as_json(run, "totals")
    summary = imported(run)
    assert "nothing added, 6 pledges already present" in summary
    assert row_counts() == once
    assert as_json(run, "totals") == changes


def test_a_changed_value_on_reimport_is_an_edit_with_history(run: Run, tmp_path: Path) -> None:
    imported(run)
    sarc_id = int(pledges(run)[SARC]["id"])
    text = ACTIVITIES.read_text(encoding="utf-8")
    changed = text.replace(
        '<value currency="USD" value-date="2025-05-25">2000000</value>',
        '<value currency="USD" value-date="2025-05-25">2400000</value>',
    ).replace(
        '<value currency="USD" value-date="2025-07-01">700000</value>',
        '<value currency="USD" value-date="2025-07-01">600000</value>',
    )
    assert changed.count("2400000") == 1 and changed.count(">600000<") == 1
    newer = write(tmp_path, changed, "activities.xml")
    dry = run("import", "iati", str(newer), "--dry-run")
    assert "would edit" in dry.err and "1 pledge" in dry.err
    summary = imported(run, newer)
    assert (
        "nothing added, 5 pledges already present; 1 pledge edited to what the file says" in summary
    )
    sarc = pledges(run)[SARC]
    assert (sarc["id"], sarc["pledged"], sarc["disbursed"]) == (
        str(sarc_id),
        "2400000.00",
        "1000000.00",
    )
    # The plans now fall short by 400,000: a balancing installment, assumed.
    assert installments(run, "SYR-001:out") == [
        ("2025-06-30", "800000.00"),
        ("2025-09-30", "1200000.00"),
        ("2025-09-30", "400000.00"),
    ]
    history = as_json(run, "history", "pledge", str(sarc_id))
    edits = [(h["what"], h["field"], h["from"], h["to"]) for h in history if h["change"] == 2]
    assert (f"pledge {sarc_id}", "amount", "USD 2,000,000.00", "USD 2,400,000.00") in edits
    assert ("payment 4", "amount", "USD 300,000.00", "USD 200,000.00") in edits, edits
    assert "nothing added, 6 pledges already present" in imported(run, newer)


# --- independent figures ----------------------------------------------------------------------

INCOMING = {"11": "commitment", "13": "pledge", "1": "paid"}
OUTGOING = {"2": "commitment", "12": "pledge", "3": "paid"}


def _name(org: ET.Element) -> str:
    narrative = org.find("narrative")
    return (
        narrative.text.strip() if narrative is not None and narrative.text else org.get("ref", "")
    )


def figures_from_xml(path: Path) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """(donor, recipient, currency) -> (pledged, disbursed), read from the XML here, by the
    rule the README states: commitments, else pledges, else what was paid; paid money apart."""
    sums: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for act in ET.parse(path).getroot().iter("iati-activity"):
        reporter = _name(act.find("reporting-org"))  # type: ignore[arg-type]
        for tx in act.iter("transaction"):
            code = tx.find("transaction-type").get("code")  # type: ignore[union-attr]
            value = tx.find("value")
            assert value is not None and value.text is not None
            currency = value.get("currency") or act.get("default-currency")
            assert currency is not None
            if code in INCOMING:
                key = (_name(tx.find("provider-org")), reporter, currency)  # type: ignore[arg-type]
                kind = INCOMING[code]
            elif code in OUTGOING:
                key = (reporter, _name(tx.find("receiver-org")), currency)  # type: ignore[arg-type]
                kind = OUTGOING[code]
            else:
                continue
            sums[key][kind] += Decimal(value.text)
    figures = {}
    for key, kinds in sums.items():
        pledged = next(kinds[k] for k in ("commitment", "pledge", "paid") if k in kinds)
        figures[key] = (pledged, kinds.get("paid", Decimal(0)))
    return figures


def test_totals_equal_the_figures_computed_from_the_xml(run: Run) -> None:
    imported(run)
    rows = csv.DictReader(io.StringIO(run("totals", "--format", "csv").out))
    totals = {
        (r["donor"], r["recipient"], r["currency"]): (
            Decimal(r["pledged"]),
            Decimal(r["disbursed"]),
        )
        for r in rows
        if r["total"] == "false"
    }
    assert totals == figures_from_xml(ACTIVITIES)


# --- bad and hostile files ---------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<iati-activities version="2.03"><iati-activity><iati-identifier>&lol4;</iati-identifier></iati-activity></iati-activities>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<iati-activities version="2.03"><iati-activity><iati-identifier>&secret;</iati-identifier></iati-activity></iati-activities>
"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BILLION_LAUGHS, "is refused"),
        (EXTERNAL, "is refused"),
        ("<iati-activities version='2.03'><iati-activity>", "is not well-formed XML"),
        ("<iati-activities version='2.03'>&undefined;</iati-activities>", "is not well-formed XML"),
        ("<activities/>", "its root is <activities>, not <iati-activities>"),
        ("<iati-activities version='1.05'/>", "fintrack reads version 2.0x"),
        ("", "is not well-formed XML"),
    ],
)
def test_a_hostile_or_broken_file_is_one_error_and_nothing_is_written(
    run: Run, tmp_path: Path, empty_db: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    result = run("import", "iati", str(path))
    assert_error(result, str(path), fragment)
    assert result.code == 1
    assert row_counts(empty_db) == EMPTY


def test_a_missing_file_is_one_error(run: Run, tmp_path: Path) -> None:
    assert_error(run("import", "iati", str(tmp_path / "none.xml")), "no such file")
    assert_error(run("import", "iati", str(tmp_path)), "is a directory")


def test_a_pipe_is_refused_not_waited_for(run: Run, tmp_path: Path, empty_db: Path) -> None:
    # A named pipe with no writer: opening it to read would wait for one for ever.
    fifo = tmp_path / "endless.xml"
    os.mkfifo(fifo)
    assert_error(run("import", "iati", str(fifo)), str(fifo), "is not a regular file")
    assert_error(run("import", "iati", "/dev/zero"), "is not a regular file")
    assert row_counts(empty_db) == EMPTY


def test_bad_elements_are_listed_by_xpath_and_nothing_is_written(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    good = activity(transaction("2", "10"), "XM-OK")
    bad = activity(
        transaction("2", "ten")
        + transaction("3", "1.005")
        + transaction("11", "5", on="2025-13-01")
        + '<transaction><transaction-type code="2"/><transaction-date iso-date="2025-01-01"/>'
        '<value currency="ZZZ">1</value><receiver-org ref="R"/></transaction>'
        + transaction("12", "5", org="<receiver-org/>")
        + '<planned-disbursement type="3"><period-start iso-date="2025-01-01"/>'
        "<value>5</value></planned-disbursement>",
        "XM-BAD",
    )
    path = write(tmp_path, document(good, bad, activity("", "XM-OK")))
    result = run("import", "iati", str(path))
    assert result.code == 1
    where = f"{path}:/iati-activities/iati-activity"
    assert result.err.splitlines() == [
        f"{where}[2]/transaction[1]/value: 'ten' is not a decimal amount such as 29000000.00",
        f"{where}[2]/transaction[2]/value: '1.005' has more decimals than USD allows (2)",
        f"{where}[2]/transaction[3]/value/@value-date: '2025-13-01' is not a date "
        "such as 2025-05-08",
        f"{where}[2]/transaction[3]/transaction-date/@iso-date: '2025-13-01' is not a date "
        "such as 2025-05-08",
        f"{where}[2]/transaction[4]/value/@currency: 'ZZZ' is not an ISO 4217 currency code "
        "(such as USD, EUR or QAR)",
        f"{where}[2]/transaction[5]: has no receiver-org with a narrative or @ref: the "
        "recipient of outgoing money",
        f"{where}[2]/planned-disbursement[1]/@type: '3' is not 1 (original) or 2 (revised)",
        f"{where}[3]/iati-identifier: 'XM-OK' is also the identifier of "
        "/iati-activities/iati-activity[1]",
        "Error: 2 of 3 activities are invalid; nothing was imported",
    ]
    assert row_counts(empty_db) == EMPTY


def test_a_dry_run_says_what_it_would_add_and_writes_nothing(run: Run, empty_db: Path) -> None:
    summary = imported(run, ACTIVITIES, "--dry-run")
    assert summary.startswith(
        f"Dry run of {ACTIVITIES}: would add 6 pledges, 8 installments, 6 disbursements; "
        "nothing already present; nothing written"
    )
    assert row_counts(empty_db) == EMPTY


def test_csv_options_do_not_go_with_iati(run: Run, tmp_path: Path) -> None:
    result = run(
        "import",
        "iati",
        str(ACTIVITIES),
        "--on-error",
        "skip",
        "--rejects",
        str(tmp_path / "r.csv"),
    )
    assert_error(result, "rejects", "IATI")


# --- the library and a large file ---------------------------------------------------------------


def test_the_tracker_imports_iati_as_the_cli_does(db_url: str, tmp_path: Path) -> None:
    with fintrack.open(db_url) as tracker:
        summary = tracker.import_file("iati", ACTIVITIES)
        assert summary.added == {"pledges": 6, "installments": 8, "disbursements": 6}
        assert summary.left_out == {"transaction of another type": 1}
        again = tracker.import_file("iati", ACTIVITIES)
        assert (again.added, again.present) == ({}, {"pledges": 6})
        bad = write(tmp_path, document(activity(transaction("2", "x"))))
        with pytest.raises(InvalidElements) as caught:
            tracker.import_file("iati", bad)
        assert caught.value.listing() == [
            f"{bad}:/iati-activities/iati-activity[1]/transaction[1]/value: "
            "'x' is not a decimal amount such as 29000000.00"
        ]


def test_a_file_of_many_activities_streams_through(run: Run, tmp_path: Path) -> None:
    count = 1500
    body = "".join(
        activity(transaction("2", f"{n}.25") + transaction("3", f"{n}"), f"XM-MANY-{n}")
        for n in range(1, count + 1)
    )
    path = write(tmp_path, document(body))
    summary = imported(run, path)
    assert f"{count:,} pledges, {count:,} installments, {count:,} disbursements added" in summary
    total = next(row for row in as_json(run, "totals") if row["total"])
    whole = sum(range(1, count + 1))
    assert Decimal(total["pledged"]) == whole + Decimal("0.25") * count
    assert Decimal(total["disbursed"]) == whole


def test_the_foreign_kind_lists_are_one_list() -> None:
    from typing import get_args

    from fintrack.api import ExternalKind, ImportKind
    from fintrack.vocab import ExternalFormat, ImportChoice

    assert "iati" in get_args(ExternalKind)
    assert get_args(ExternalKind) == tuple(kind.value for kind in ExternalFormat)
    assert tuple(kind.value for kind in ImportChoice) == (
        *get_args(ImportKind),
        *get_args(ExternalKind),
    )


def test_a_pledge_the_file_no_longer_gives_is_voided_and_its_payments_move(
    run: Run, tmp_path: Path, db_url: str
) -> None:
    imported(run)
    renamed = ACTIVITIES.read_text(encoding="utf-8").replace(
        "<narrative>World Food Programme</narrative>", "<narrative>WFP</narrative>"
    )
    summary = imported(run, write(tmp_path, renamed, "renamed.xml"))
    assert "1 pledge, 1 installment added" in summary
    assert "1 pledge edited to what the file says" in summary
    fund = "Example Humanitarian Fund"
    stored = pledges(run)  # live pledges only
    assert (fund, "World Food Programme", "USD") not in stored
    assert (stored[(fund, "WFP", "USD")]["pledged"], stored[(fund, "WFP", "USD")]["disbursed"]) == (
        "375000.25",
        "375000.25",
    )
    rows = csv.DictReader(io.StringIO(run("totals", "--format", "csv").out))
    usd = next(r for r in rows if r["total"] == "true" and r["currency"] == "USD")
    assert (usd["pledged"], usd["disbursed"]) == ("5375000.25", "2475000.25")  # counted once
    assert len(payments(db_url)) == 6


def test_records_voided_in_this_database_stay_void(run: Run) -> None:
    imported(run)
    sarc = pledges(run)[SARC]["id"]
    assert run("void", "pledge", sarc, "--reason", "test").code == 0
    wfp_payment = next(
        r["id"]
        for r in csv.DictReader(io.StringIO(run("export", "disbursements").out))
        if "SYR-003" in r["pledge_ref"]
    )
    assert run("void", "payment", wfp_payment, "--reason", "test").code == 0
    before = row_counts()
    summary = imported(run)
    assert (
        "nothing added, 5 pledges already present; 1 pledge voided in this database left out"
        in summary
    )
    assert row_counts() == before
    assert SARC not in pledges(run)


def test_a_plan_that_names_no_one_pledge_is_left_out_and_said(run: Run, tmp_path: Path) -> None:
    to = "<receiver-org><narrative>{}</narrative></receiver-org>"
    plan = (
        '<planned-disbursement><period-start iso-date="2025-06-01"/>'
        '<value currency="USD" value-date="2025-06-01">5</value>{}</planned-disbursement>'
    )
    body = (
        transaction("2", "10", org=to.format("A"))
        + transaction("2", "20", org=to.format("B"))
        + plan.format("")  # two outgoing pledges in USD: which one?
        + plan.format(to.format("C"))  # no pledge to C
        + plan.format(to.format("B"))
    )
    summary = imported(run, write(tmp_path, document(activity(body))))
    assert summary.endswith("left out: 2 planned-disbursements matching no one pledge\n")
    assert installments(run, ":out:B:") == [("2025-06-01", "5.00"), ("2025-06-01", "15.00")]


def test_a_ref_too_long_for_its_column_is_a_hash_of_it(run: Run, tmp_path: Path) -> None:
    identifier = "XM-LONG-" + "9" * 250
    path = write(tmp_path, document(activity(transaction("3", "10"), identifier)))
    imported(run, path)
    ref = pledges(run)[("Reporter", "Receiver", "USD")]["ref"]
    assert ref.startswith("iati:sha256:") and len(ref) <= 200
    assert "nothing added, 1 pledge already present" in imported(run, path)
