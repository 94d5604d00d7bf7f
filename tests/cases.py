"""Records for the import and export tests, entered through the CLI as an analyst would.

A small founding case (sanction actions with measures and sources, Qatar's pledge with its
source), without `fintrack seed`, so these tests depend on nothing but the commands they use.
"""

from tests.conftest import Run, added

QATAR_REF = "qa-sy-salaries-2025-05"
QATAR_URL = "https://www.reuters.com/world/middle-east/qatar-syria-salaries-2025-05-08/"
EU_URL = "https://eur-lex.europa.eu/eli/reg/2025/407/oj"
OFAC_URL = "https://ofac.treasury.gov/recent-actions/20250106"


def source(run: Run, *options: str) -> str:
    """`fintrack source add`; returns the new source's id, for --source."""
    return str(added(run, "source", "add", *options))


def founding_case(run: Run) -> None:
    """Three sanction actions and Qatar's pledge (pledge 1), each with a source.

    Sources: the report of the pledge (1, confirmed), the EU regulation (2, confirmed),
    OFAC's page (3: reported for sanction 2, confirmed for sanction 3) and a statement
    without a URL (4, which denies sanction 3).
    """
    added(
        run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
        "--each", "29M", "--installments", "3", "--every", "month", "--on", "2025-05-08",
        "--purpose", "public-sector salaries", "--ref", QATAR_REF, "--assumed",
        "--source", QATAR_URL, "--confidence", "confirmed",
    )  # fmt: skip
    added(
        run, "sanction", "add", "--authority", "EU", "--program", "EU-SYR", "--target", "SY",
        "--action", "suspend", "--measure", "energy", "--measure", "transport",
        "--effective", "2025-02-24", "--legal-ref", "Regulation (EU) 2025/407",
        "--deadline", "2025-06-01", "--deadline-label", "regime lapses unless renewed",
        "--ref", "eu-2025-406-suspension", "--source", EU_URL, "--confidence", "confirmed",
    )  # fmt: skip
    added(
        run, "sanction", "add", "--authority", "US", "--program", "US-SYR", "--target", "SY",
        "--action", "licence", "--measure", "financial restrictions", "--measure", "energy",
        "--effective", "2025-01-06", "--expires", "2025-07-07",
        "--ref", "us-ofac-gl24-2025-01-06", "--source", OFAC_URL,
    )  # fmt: skip
    statement = source(
        run, "--title", "Statement of the Syrian finance minister on salaries",
        "--publisher", "SANA", "--published", "2025-05-08", "--retrieved", "2025-05-09",
    )  # fmt: skip
    added(
        run, "sanction", "add", "--authority", "UK", "--target", "Commercial Bank of Syria",
        "--action", "delist", "--measure", "asset freeze", "--announced", "2025-03-06",
        "--source", OFAC_URL, "--confidence", "confirmed",
    )  # fmt: skip
    linked = run("source", "link", "sanction", "3", statement, "--confidence", "denied")
    assert linked.code == 0, linked.err
