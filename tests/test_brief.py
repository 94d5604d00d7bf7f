"""`fintrack brief` and the bar charts: what they show, at what width, and stored text as data."""

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from fintrack.cli.brief_render import md
from fintrack.cli.chart import bar_text
from fintrack.money import compact_amount
from tests.conftest import QATAR, Run, added, assert_error, skip_unless_ci

AS_OF = ("--as-of", "2025-05-20")
CHROMIUM = Path("/usr/bin/chromium")
EVIL_DONOR = "<script>alert(1)</script>"
MARKUP_DONOR = "[/bold] *x* | _y_ `z`"


def lines_fit(text: str, width: int) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, (width, line)


def seeded(run: Run) -> None:
    assert run("seed").code == 0


def with_strangers(run: Run) -> None:
    """The founding case, a donor whose name is an HTML script and one whose name is markup
    and Markdown, paying to a recipient whose name holds an escape sequence."""
    seeded(run)
    added(run, "pledge", "add", "--donor", EVIL_DONOR, "--recipient", "Syria",
          "--currency", "EUR", "--each", "1.5bn", "--installments", "2", "--every", "month",
          "--on", "2025-04-01")  # fmt: skip
    added(run, "pledge", "add", "--donor", MARKUP_DONOR, "--recipient", "Syr\x1b[2Jia",
          "--currency", "USD", "--amount", "2500000000", "--on", "2025-05-01")  # fmt: skip
    assert run("pay", "2", "1.2bn", "--on", "2025-04-03").code == 0


# --- The pieces


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (0, "USD", "0.00"),
        (99_999, "USD", "999.99"),
        (100_000, "USD", "1.0k"),
        (8_700_000_000, "USD", "87.0M"),
        (99_995_000, "USD", "1.0M"),  # 999,950.00 rounds up to the next unit, not 1000.0k
        (250_000_000_000, "USD", "2.5bn"),
        (1_234_567, "JPY", "1.2M"),
        (12_345, "KWD", "12.345"),
        (10**17, "USD", "1,000.0tn"),
    ],
)
def test_compact_amounts(minor: int, currency: str, text: str) -> None:
    assert compact_amount(minor, currency) == text


def test_bars_have_eighths_of_a_cell_and_never_hide_a_small_amount() -> None:
    assert bar_text(8, 8, 4) == "████"
    assert bar_text(4, 8, 4) == "██"
    assert bar_text(4, 8, 1) == "▌"  # half a cell
    assert bar_text(5, 8, 1) == "▋"  # five eighths
    assert bar_text(1, 10**12, 40) == "▏"  # tiny, but not nothing
    assert bar_text(0, 8, 4) == ""
    assert bar_text(3, 0, 4) == ""
    assert bar_text(9, 8, 4) == "████"  # never past its width


def test_markdown_escape_shows_stored_text_as_typed() -> None:
    assert md("[/bold] *x* | _y_ `z`") == r"\[/bold\] \*x\* \| \_y\_ \`z\`"
    assert md("<script>&amp;") == r"\<script\>\&amp;"
    assert md("a\x1b[2Jb\nc") == "a␛\\[2Jb␊c"


# --- The brief in the terminal


@pytest.mark.parametrize("width", [80, 100, 120])
def test_brief_on_the_founding_case_fits_the_terminal(
    run: Run, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    seeded(run)
    monkeypatch.setenv("COLUMNS", str(width))
    result = run("brief", *AS_OF)
    assert result.code == 0, result.err
    out = result.out
    lines_fit(out, width)
    assert "fintrack brief as of 2025-05-20" in out
    assert "Qatar" in out
    assert "87.0M" in out  # pledged, compact
    assert "USD 29.0M overdue on 1 installment" in out
    assert "12 d" in out  # the first installment, 12 days late
    for record in ("sanction 3", "sanction 7", "sanction 1", "pledge 1"):  # next deadlines
        assert record in out
    # Latest sanction actions, newest first: the EU's decision of 20 May, then the US's.
    assert out.index("sanction 9") < out.index("sanction 8")
    assert "denied" in out and "claim 1" in out
    assert "k thousand, M million" in out  # compact amounts are said to be compact
    assert result.err == ""


def test_brief_lists_only_what_is_overdue_and_says_how_many_days(run: Run) -> None:
    seeded(run)
    assert run("pay", "1", "29M", "--on", "2025-05-10").code == 0
    out = run("brief", *AS_OF).out
    assert "Nothing overdue." in out
    out = run("brief", "--as-of", "2025-06-20").out
    assert "USD 29.0M overdue on 1 installment" in out
    assert "2025-06-08" in out and "12 d" in out


def test_brief_keeps_sanction_dates_that_passed(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the deadlines report list a sanction date that lapsed (before the brief's day),
    the brief shows it with the next deadlines rather than dropping it."""
    import fintrack.brief
    from fintrack.reports import deadlines

    def with_lapsed(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = deadlines(*args, **kwargs)
        lapsed = {**next(r for r in rows if r["record"] == "sanction"), "days_left": -3}
        lapsed.update(date=date(2025, 5, 17), state="lapsed", detail="renewal lapsed")
        return [lapsed, *rows]

    seeded(run)
    monkeypatch.setattr(fintrack.brief, "deadlines", with_lapsed)
    out = run("brief", *AS_OF, "--format", "markdown").out
    upcoming = out.split("## Next deadlines")[1].split("## Latest")[0]
    assert "| 2025-05-17 | 3 days ago | deadline | EU EU-SYR | renewal lapsed |" in upcoming
    overdue = out.split("## Overdue")[1].split("## Next")[0]
    assert "renewal lapsed" not in overdue and "1 installment" in overdue
    assert "-3 d" in run("brief", *AS_OF).out


def test_brief_with_nothing_recorded(run: Run) -> None:
    result = run("brief", *AS_OF)
    assert result.code == 0, result.err
    assert "No pledges match." in result.out
    assert "Nothing overdue." in result.out
    assert "None." in result.out


def test_brief_narrows_money_to_a_donor_or_recipient(run: Run) -> None:
    with_strangers(run)
    out = run("brief", *AS_OF, "--donor", "qatar", "--format", "markdown").out
    assert "Qatar" in out and "87,000,000.00" in out
    assert "script" not in out and "bold" not in out  # other donors' money is left out
    assert "USD 29,000,000.00 overdue on 1 installment" in out
    assert "sanction 9" in out  # sanctions are not narrowed by a donor
    out = run("brief", *AS_OF, "--recipient", "Syria", "--format", "markdown").out
    assert "Qatar" in out and r"\<script\>" in out
    assert r"\[/bold\]" not in out  # its recipient is another name


def test_brief_draws_the_largest_donors_and_six_months(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(1, 11):
        added(run, "pledge", "add", "--donor", f"Donor {number:02d}", "--recipient", "Syria",
              "--currency", "USD", "--amount", f"{number}M", "--first-due", f"2025-{number:02d}-15",
              "--on", "2025-01-01")  # fmt: skip
    monkeypatch.setenv("COLUMNS", "80")
    out = run("brief", *AS_OF).out
    lines_fit(out, 80)
    assert "Donor 10" in out and "Donor 03" in out
    assert "Donor 02" not in out.split("Installments due")[0]  # the two smallest give way
    assert "2 more donors not drawn: fintrack totals --by donor --chart" in out
    assert "Total: pledged 55.0M" in out  # the total counts every donor, drawn or not
    months = out.split("Installments due vs paid")[1].split("Overdue")[0]
    assert [m for m in ("2025-02", "2025-03", "2025-08", "2025-09") if m in months] == [
        "2025-03",
        "2025-08",
    ]
    assert "4 other months: fintrack totals --by month --chart" in out


def test_brief_never_adds_currencies(run: Run) -> None:
    with_strangers(run)
    out = run("brief", *AS_OF, "--format", "markdown").out
    assert "| **Total** | EUR | 3,000,000,000.00 | 1,200,000,000.00 | 1,800,000,000.00 |" in out
    assert "| **Total** | USD | 2,587,000,000.00 | 0.00 | 2,587,000,000.00 |" in out
    assert "EUR 1,800,000,000.00, USD 2,529,000,000.00 overdue on 4 installments." in out


def test_brief_follows_known_on_and_min_confidence(run: Run) -> None:
    seeded(run)
    # The founding case's pledge rests on a news report: confirmed-only leaves it out.
    out = run("brief", *AS_OF, "--min-confidence", "confirmed").out
    assert "No pledges match." in out
    assert "Only confirmed records" in out
    # Before anything was recorded, nothing was known.
    out = run("brief", *AS_OF, "--known-on", "2020-01-01").out
    assert "No pledges match." in out and "sanction 9" not in out


def test_brief_claims_are_those_not_confirmed_denials_first(run: Run) -> None:
    seeded(run)
    for subject, level, on in (
        ("Old rumour", "unverified", "2025-01-01"),
        ("Confirmed thing", "confirmed", "2025-05-01"),
        ("Reported thing", "reported", "2025-05-02"),
        ("Later rumour", "unverified", "2025-05-10"),
        ("After the brief", "unverified", "2025-06-01"),
    ):
        added(run, "claim", "add", "--subject", subject, "--statement", "s", "--on", on,
              "--source", f"https://example.org/{level}/{on}", "--confidence", level)  # fmt: skip
    out = run("brief", *AS_OF, "--format", "markdown").out
    claims = out[out.index("## Claims") :]
    order = ["UAE back channel", "Later rumour", "Old rumour", "Reported thing"]
    assert [claims.index(subject) for subject in order] == sorted(
        claims.index(subject) for subject in order
    )
    assert "Confirmed thing" not in claims
    assert "After the brief" not in claims


def test_stored_markup_and_escapes_stay_data_in_the_terminal(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_strangers(run)
    monkeypatch.setenv("COLUMNS", "80")
    result = run("brief", *AS_OF)
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert "␛[2J" in result.out
    assert "[/bold]" in result.out
    assert "<script>alert(1)</s" in result.out
    lines_fit(result.out, 80)


def test_stored_markup_is_escaped_in_markdown(run: Run) -> None:
    with_strangers(run)
    result = run("brief", *AS_OF, "--format", "markdown")
    assert result.code == 0, result.err
    out = result.out
    assert r"\[/bold\] \*x\* \| \_y\_ \`z\`" in out
    assert r"\<script\>alert(1)\</script\>" in out
    assert "<script>" not in out
    assert "\x1b" not in out and "Syr␛\\[2Jia" in out
    # Every table row keeps its columns: an escaped | does not split a cell.
    tables = re.findall(r"(?:^\|.*\n)+", out, flags=re.MULTILINE)
    assert len(tables) == 6
    for table in tables:
        counts = {len(re.split(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(counts) == 1, table


def test_brief_writes_a_file(run: Run, tmp_path: Path) -> None:
    seeded(run)
    target = tmp_path / "brief.md"
    result = run("brief", *AS_OF, "--format", "markdown", "-o", str(target))
    assert result.code == 0, result.err
    assert result.out == ""
    assert "Wrote the brief to" in result.err
    assert target.read_text(encoding="utf-8").startswith("# fintrack brief as of 2025-05-20")
    text = tmp_path / "brief.txt"
    assert run("brief", *AS_OF, "-o", str(text)).code == 0
    assert "87.0M" in text.read_text(encoding="utf-8")


def test_brief_errors_are_one_line(run: Run, tmp_path: Path) -> None:
    assert_error(run("brief", "--as-of", "someday"), "--as-of")
    assert_error(run("brief", "--format", "csv"), "--format")
    assert_error(run("brief", "-o", str(tmp_path)), "directory")
    assert_error(run("brief", "-o", str(tmp_path / "no" / "file.html"), "-f", "html"), "folder")
    assert_error(run("brief", "--min-confidence", "denied"), "--min-confidence")


def test_brief_html_escapes_stored_text(run: Run) -> None:
    with_strangers(run)
    result = run("brief", *AS_OF, "--format", "html")
    assert result.code == 0, result.err
    page = result.out
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert "3,000,000,000.00" in page  # exact figures


# --- totals --chart


def test_totals_chart_per_donor_and_per_month(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    with_strangers(run)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    result = run("totals", "--by", "donor", "--chart")
    assert result.code == 0, result.err
    out = result.out
    lines_fit(out, 80)
    assert "Pledged vs disbursed per donor (EUR)" in out
    assert "Pledged vs disbursed per donor (USD)" in out
    assert "\x1b" not in out
    # Every bar carries its figure: exact where they fit at 80 columns.
    assert "3,000,000,000.00" in out and "1,200,000,000.00 40.0%" in out
    assert "[/bold] *x* |" in out
    assert "Total: pledged 2,587,000,000.00" in out
    result = run("totals", "--by", "month", "--chart")
    assert result.code == 0, result.err
    lines_fit(result.out, 80)
    assert "Installments due vs paid per month (USD)" in result.out
    for month in ("2025-04", "2025-05", "2025-06", "2025-07"):
        assert month in result.out
    assert "paid" in result.out and "80.0%" in result.out  # April's EUR installment


def test_totals_chart_compacts_figures_when_narrow(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_strangers(run)
    monkeypatch.setenv("COLUMNS", "44")
    out = run("totals", "--by", "pair", "--chart").out
    lines_fit(out, 44)
    assert "3.0bn" in out and "Amounts rounded" in out
    # A label is measured as shown: the escape sequence's picture keeps the name whole.
    out = run("totals", "--by", "recipient", "--chart").out
    lines_fit(out, 44)
    assert "Syr␛[2Jia" in out and "\x1b" not in out


def test_totals_chart_refuses_other_formats(run: Run) -> None:
    added(run, *QATAR)
    assert_error(run("totals", "--chart", "--format", "csv"), "--chart")
    assert_error(run("totals", "--chart", "--in", "USD", "--working"), "--chart")
    assert "No pledges match." in run("totals", "--chart", "--donor", "Nobody").err


# --- The HTML page in a browser


def _chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={user_data}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_brief_html_in_headless_chromium(run: Run, tmp_path: Path) -> None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        skip_unless_ci("Debian's chromium is not installed (apt-get install chromium)")
    from PIL import Image

    with_strangers(run)
    page = tmp_path / "brief.html"
    assert run("brief", *AS_OF, "--format", "html", "-o", str(page)).code == 0

    picture = tmp_path / "brief.png"
    shot = _chromium(
        f"--screenshot={picture}",
        "--window-size=1000,1400",
        page.as_uri(),
        user_data=tmp_path / "chromium-shot",
    )
    assert picture.exists(), shot.stderr
    with Image.open(picture) as image:
        assert image.size == (1000, 1400)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10  # text and bars, not a blank page

    dom = _chromium("--dump-dom", page.as_uri(), user_data=tmp_path / "chromium-dom").stdout
    assert "fintrack brief as of 2025-05-20" in dom
    for figure in ("Qatar", "87,000,000.00", "3,000,000,000.00", "1,200,000,000.00 40.0%"):
        assert figure in dom
    # The script donor is text in the page, never an element.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()
    assert "[/bold] *x* | _y_ `z`" in dom
