"""Measure every figure of issue 15 beside its baseline, in one run, and write RESULTS.md.

    python benchmarks/run.py [--scale 1.0] [--repeat 3] [--pg URL] [--work DIR] [--out FILE]

Generates the dataset (benchmarks/dataset.py), then on SQLite (and on PostgreSQL with --pg, a
server URL such as postgresql+psycopg://postgres@127.0.0.1:55432/postgres: it creates and drops
databases named fintrack_bench_*) runs each fintrack command in its own process, timed from
start to exit with its peak resident memory, beside a baseline on the same schema in the same
run: the sqlite3 shell's .import + INSERT...SELECT (psql's \\copy on PostgreSQL) for imports,
hand-written SQL from benchmarks/sql/ for the reports and exports, a bare Typer app for startup,
hledger's balance when hledger is installed. Times are medians of --repeat runs; the peak
memory is the largest. Needs the sqlite3 shell (and psql for --pg).
"""

import argparse
import importlib.util
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataset
from common import Step, measure, median_step

HERE = Path(__file__).resolve().parent

SQL = HERE / "sql"
AS_OF = "2026-01-01"  # deadlines count from this day, so the figures do not move with the clock
NOW_AT = "9999-12-31 23:59:59"
GROUPINGS = ["pair", "donor", "recipient", "month", "currency"]
GROUP_SQL = {
    "pair": "donor, recipient,",
    "donor": "donor,",
    "recipient": "recipient,",
    "month": "month,",
    "currency": "",
}
# The records as known at @AT@: current rows added by then, and rows replaced after it.
KNOWN_AT = {
    "pledges": "id, donor, recipient, currency, voided_at, replaces_id",
    "installments": "id, pledge_id, due_on, amount_minor",
    "disbursements": "id, installment_id, amount_minor, voided_at",
}


@dataclass
class Row:
    figure: str
    fintrack: Step | None
    baseline_name: str
    baseline: Step | None
    target: str
    limit: float | None  # the ratio to stay under
    memory_limit: float | None = None  # MB
    rows: str = ""
    note: str = ""

    def ratio(self) -> float | None:
        if self.fintrack is None or self.baseline is None or not self.baseline.seconds:
            return None
        return self.fintrack.seconds / self.baseline.seconds

    def verdict(self) -> str:
        ratio = self.ratio()
        if ratio is None or self.limit is None or self.fintrack is None:
            return "—"
        missed = []
        if ratio > self.limit:
            missed.append(f"ratio {ratio / self.limit:.1f}x over")
        if self.memory_limit is not None and self.fintrack.peak_mb > self.memory_limit:
            missed.append(f"{self.fintrack.peak_mb - self.memory_limit:.0f} MB over")
        return "met" if not missed else "missed (" + ", ".join(missed) + ")"


def known_at(table: str, at: str) -> str:
    columns = KNOWN_AT[table]
    return (
        f"(SELECT {columns} FROM {table} WHERE known_from <= '{at}' UNION ALL "
        f"SELECT {columns} FROM {table}_history "
        f"WHERE known_from <= '{at}' AND known_until > '{at}')"
    )


def fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


class Engine:
    """One database server or file format: fresh databases, fintrack's URL, the SQL shell."""

    name = ""
    import_limit = 2.0
    week_before = ""
    date_literal = ""

    def fresh(self, label: str) -> str:
        raise NotImplementedError

    def sql_command(self, url: str, csv: bool) -> list[str]:
        raise NotImplementedError

    def import_script(self, kind: str, data: Path) -> str:
        raise NotImplementedError

    def drop_all(self) -> None:
        raise NotImplementedError


class SQLite(Engine):
    name = "SQLite"
    week_before = "date(a.day, '-7 days')"
    date_literal = "'{}'"

    def __init__(self, work: Path, fintrack: list[str], shell: str) -> None:
        self.work, self.fintrack, self.shell = work, fintrack, shell
        self.empty = work / "empty.db"
        self.empty.unlink(missing_ok=True)
        subprocess.run(
            [*fintrack, "--db", str(self.empty), "db", "upgrade"], check=True, capture_output=True
        )

    def fresh(self, label: str) -> str:
        path = self.work / f"{label}.db"
        shutil.copyfile(self.empty, path)
        return str(path)

    def sql_command(self, url: str, csv: bool) -> list[str]:
        return [self.shell, "-bail", *(["-csv", "-header"] if csv else []), url]

    def import_script(self, kind: str, data: Path) -> str:
        return fill((SQL / f"sqlite-import-{kind}.sql").read_text(), {"DATA": str(data)})

    def drop_all(self) -> None:
        pass


class PostgreSQL(Engine):
    name = "PostgreSQL"
    import_limit = 3.0
    week_before = "a.day - 7"
    date_literal = "DATE '{}'"

    def __init__(self, url: str, fintrack: list[str], psql: str) -> None:
        import psycopg

        self.url, self.fintrack, self.psql = url, fintrack, psql
        self.plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.server = psycopg.connect(self.plain, autocommit=True)
        self.made: list[str] = []

    def database_url(self, url: str, name: str) -> str:
        head, _, _ = url.rpartition("/")
        return f"{head}/{name}"

    def fresh(self, label: str) -> str:
        name = f"fintrack_bench_{label}"
        self.server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        self.server.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        url = self.database_url(self.url, name)
        subprocess.run(
            [*self.fintrack, "--db", url, "db", "upgrade"], check=True, capture_output=True
        )
        return url

    def sql_command(self, url: str, csv: bool) -> list[str]:
        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        return [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *(["--csv"] if csv else []), plain]

    def import_script(self, kind: str, data: Path) -> str:
        return fill((SQL / f"pg-import-{kind}.sql").read_text(), {"DATA": str(data)})

    def drop_all(self) -> None:
        for name in self.made:
            self.server.execute(f'DROP DATABASE IF EXISTS "{name}"')


def fintrack_command() -> list[str]:
    script = Path(sys.executable).with_name("fintrack")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fintrack"]


def add_history(url: str, pledges: int) -> int:
    """Edit one pledge in a hundred (at least one), so --known-on has history to read."""
    count = max(1, pledges // 100)
    code = (
        "import sys, fintrack\n"
        "t = fintrack.open(sys.argv[1])\n"
        "with t.change(reason='benchmark history') as ch:\n"
        f"    for n in range(1, {count} + 1):\n"
        "        ch.edit_pledge(n * 100 - 1, purpose=f'edited {n}')\n"
        "t.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, url], check=True, capture_output=True)
    return count


def run_engine(
    engine: Engine, data: Path, work: Path, repeat: int, fintrack: list[str], env: dict[str, str]
) -> tuple[list[Row], str]:
    """The rows of one engine, and the URL of the database its reports read."""
    rows: list[Row] = []
    e = engine.name
    kinds = [
        (
            "pledges+installments",
            [
                "pledges",
                str(data / "pledges.csv"),
                "--installments",
                str(data / "installments.csv"),
            ],
            "pledges",
        ),
        ("disbursements", ["disbursements", str(data / "disbursements.csv")], "disbursements"),
        ("sanctions", ["sanctions", str(data / "sanctions.csv")], "sanctions"),
    ]
    timed: dict[str, list[Step]] = {k: [] for k, _, _ in kinds}
    base: dict[str, list[Step]] = {k: [] for k, _, _ in kinds}
    url = ""
    for r in range(repeat):
        url = engine.fresh(f"fintrack_{r}")
        for kind, args, _ in kinds:
            command = [*fintrack, "--db", url, "import", *args, "--quiet"]
            timed[kind].append(measure(f"{e} fintrack import {kind}", command, env=env))
        shell_url = engine.fresh(f"shell_{r}")
        for kind, _, script in kinds:
            path = work / f"{engine.name}-import-{script}.sql"
            path.write_text(engine.import_script(script, data))
            command = engine.sql_command(shell_url, csv=False)
            base[kind].append(measure(f"{e} shell import {kind}", command, stdin=path))
    shell = "sqlite3 .import + INSERT…SELECT" if e == "SQLite" else "psql \\copy + INSERT…SELECT"
    for kind, _, _ in kinds:
        rows.append(
            Row(
                f"{e}: import {kind}",
                combine(timed[kind]),
                shell,
                combine(base[kind]),
                f"≤ {engine.import_limit:g}x, ≤ 150 MB",
                engine.import_limit,
                150,
            )
        )

    # The database the reports read: the last import, with rates, sources, links and history.
    for kind in ("rates", "sources", "links"):
        subprocess.run(
            [*fintrack, "--db", url, "import", kind, str(data / f"{kind}.csv"), "--quiet"],
            check=True,
            capture_output=True,
            env=env,
        )
    edits = add_history(url, count_lines(data / "pledges.csv") - 1)
    today = datetime.now(UTC).date().isoformat()
    end_of_today = f"{today} 23:59:59.999999"
    plain = {"PLEDGES": "pledges", "INSTALLMENTS": "installments", "DISBURSEMENTS": "disbursements"}
    as_known = {k.upper(): known_at(k, end_of_today) for k in KNOWN_AT}

    def totals_sql(by: str, at: str = NOW_AT, tables: dict[str, str] = plain, rank: int = 0) -> str:
        nulls = {"pair": "NULL, NULL,", "currency": ""}.get(by, "NULL,")
        values = {"GROUP": GROUP_SQL[by], "NULLS": nulls, "AT": at, "MIN_RANK": str(rank)}
        return fill((SQL / "totals.sql").read_text(), {**tables, **values})

    def deadlines_sql(within: int) -> str:
        end = (date.fromisoformat(AS_OF) + timedelta(days=within)).isoformat()
        return fill((SQL / "deadlines.sql").read_text(), {"ASOF": AS_OF, "END": end})

    reports: list[tuple[str, list[str], str, str, float, float | None]] = []
    for by in GROUPINGS:
        reports.append(
            (f"totals --by {by}", ["totals", "--by", by], totals_sql(by), "≤ 1.3x", 1.3, None)
        )
    reports += [
        ("totals --format csv", ["totals", "-f", "csv"], totals_sql("pair"), "≤ 1.3x", 1.3, None),
        (
            f"totals --known-on {today} (after {edits} pledge edits)",
            ["totals", "--known-on", today],
            totals_sql("pair", end_of_today, as_known),
            "≤ 1.3x",
            1.3,
            None,
        ),
        (
            "totals --min-confidence reported",
            ["totals", "--min-confidence", "reported"],
            totals_sql("pair", rank=3),
            "≤ 1.3x",
            1.3,
            None,
        ),
        (
            f"deadlines --as-of {AS_OF}",
            ["deadlines", "--as-of", AS_OF],
            deadlines_sql(90),
            "≤ 1.3x",
            1.3,
            None,
        ),
        (
            f"deadlines --as-of {AS_OF} --within 60",
            ["deadlines", "--as-of", AS_OF, "--within", "60"],
            deadlines_sql(60),
            "≤ 1.3x",
            1.3,
            None,
        ),
        (
            f"totals --by currency --in USD --rates-on {AS_OF}",
            ["totals", "--by", "currency", "--in", "USD", "--rates-on", AS_OF],
            fill(
                (SQL / "totals-in.sql").read_text(),
                {
                    "RATES_ON": engine.date_literal.format(AS_OF),
                    "WEEK_BEFORE_DAY": engine.week_before,
                },
            ),
            "≤ 2x",
            2.0,
            None,
        ),
        (
            "export pledges",
            ["export", "pledges"],
            fill((SQL / "export-pledges.sql").read_text(), {"TODAY": today}),
            "≤ 3x, ≤ 100 MB",
            3.0,
            100,
        ),
        (
            "export installments",
            ["export", "installments"],
            fill((SQL / "export-installments.sql").read_text(), {"TODAY": today}),
            "≤ 3x, ≤ 100 MB",
            3.0,
            100,
        ),
    ]
    for n, (figure, args, sql, target, limit, memory) in enumerate(reports):
        sql_file = work / f"{e}-report-{n}.sql"
        sql_file.write_text(sql)
        ours, theirs = work / f"{e}-report-{n}.fintrack", work / f"{e}-report-{n}.shell"
        command = [*fintrack, "--db", url, *args]
        mine = median_step(figure, [measure(figure, command, ours, env) for _ in range(repeat)])
        shell_command = engine.sql_command(url, csv=True)
        other = median_step(
            figure, [measure(figure, shell_command, theirs, stdin=sql_file) for _ in range(repeat)]
        )
        rows.append(
            Row(
                f"{e}: fintrack {figure}",
                mine,
                "hand-written SQL (" + ("sqlite3 -csv" if e == "SQLite" else "psql --csv") + ")",
                other,
                target,
                limit,
                memory,
                rows=f"{count_lines(ours)} / {count_lines(theirs)}",
            )
        )
    return rows, url


def combine(steps: list[Step]) -> Step:
    return median_step(steps[0].name, steps)


def startup_rows(repeat: int, fintrack: list[str], env: dict[str, str]) -> list[Row]:
    out = subprocess.run(
        [sys.executable, str(HERE / "startup.py"), "--runs", str(max(repeat, 3))],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    # startup.py prints one line per command: label, fintrack s, bare s, ratio, CPU s, bare CPU
    # s, ratio, MB, bare MB (the label may hold spaces: the nine fields are read from the right).
    rows = []
    for line in out.stdout.splitlines()[2:]:
        words = line.split()
        if len(words) < 9 or not words[-1].replace(".", "").isdigit():
            continue
        label = " ".join(words[:-8])
        seconds, bare_seconds, mb, bare_mb = (float(words[k]) for k in (-8, -7, -2, -1))
        report = label.startswith("totals")
        rows.append(
            Row(
                f"`fintrack {label}`",
                Step(label, seconds, mb),
                "bare Typer app, same command tree (benchmarks/startup.py)",
                Step("bare", bare_seconds, bare_mb),
                "≤ 2x" if report else "≤ 1.1x",
                2.0 if report else 1.1,
            )
        )
    return rows


def hledger_row(
    data: Path, work: Path, repeat: int, fintrack: list[str], env: dict[str, str], url: str
) -> Row:
    hledger = shutil.which("hledger")
    figure = "fintrack totals vs hledger balance (same pledges and disbursements)"
    if hledger is None:
        return Row(
            figure,
            None,
            "hledger -f journal.hledger balance",
            None,
            "< 1x",
            None,
            note="not measured: hledger is not installed on this machine",
        )
    journal = data / "journal.hledger"
    ours = [*fintrack, "--db", url, "totals", "-f", "csv"]
    theirs_command = [hledger, "-f", str(journal), "balance"]
    mine = median_step(figure, [measure(figure, ours, work / "h.csv", env) for _ in range(repeat)])
    theirs = median_step(
        figure, [measure(figure, theirs_command, work / "h.out") for _ in range(repeat)]
    )
    return Row(figure, mine, "hledger balance", theirs, "< 1x", 1.0)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{kb / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"{cpu}, {os.cpu_count()} cores, {ram} ({platform.system()} {platform.release()})"


def versions(pg: PostgreSQL | None) -> str:
    commit = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(HERE), "status", "--porcelain"], capture_output=True, text=True
    ).stdout.strip()
    shell = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()
    parts = [
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version} (Python's), shell {shell[0] if shell else '?'}",
        f"fintrack commit {commit or '?'}{' (with uncommitted changes)' if dirty else ''}",
    ]
    if pg is not None:
        version = pg.server.execute("SHOW server_version").fetchone()
        parts.append(f"PostgreSQL {version[0] if version else '?'}")
    hledger = shutil.which("hledger")
    if hledger:
        out = subprocess.run([hledger, "--version"], capture_output=True, text=True).stdout
        parts.append(out.strip())
    return ", ".join(parts)


def seconds(step: Step | None) -> str:
    return "—" if step is None else f"{step.seconds:.3f}"


def write_results(
    out: Path,
    rows: list[Row],
    scale: float,
    repeat: int,
    counts: dataset.Counts,
    pg: PostgreSQL | None,
) -> None:
    lines = [
        "# Benchmark results (issue 15)",
        "",
        f"- Written by `python benchmarks/run.py --scale {scale:g} --repeat {repeat}"
        f"{' --pg URL' if pg else ''}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"- **Scale {scale:g}**: {counts.pledges:,} pledges, {counts.installments:,} installments, "
        f"{counts.disbursements:,} disbursements, {counts.sanctions:,} sanction actions"
        + (" (the issue's full size)." if scale == 1 else " (the issue's full size is scale 1)."),
        f"- Machine: {machine()}.",
        f"- Versions: {versions(pg)}.",
        f"- Times are medians of {repeat} run(s), each command in its own process from start to "
        "exit; peak RSS is the largest of fintrack's runs. Ratio = fintrack / "
        "baseline; the targets are issue 15's (stated for the full size).",
        "- Rows: lines of output (with header) of fintrack / of the baseline, as a check that "
        "both answer the same question (tables and CSV differ in shape, so only CSV rows compare).",
        "- Below scale 1 each process's fixed start-up cost (importing Python, SQLAlchemy, Typer) "
        "weighs more against the small amount of data, so the ratios are larger than at full size: "
        "only a full-scale run says whether a target is met.",
        "",
        "| Figure | fintrack s | Baseline | Baseline s | Ratio | Peak RSS MB | Rows | Target "
        "| Met |",
        "|---|---:|---|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        ratio = row.ratio()
        peak = "—" if row.fintrack is None else f"{row.fintrack.peak_mb:.0f}"
        verdict = row.note if row.note else row.verdict()
        lines.append(
            f"| {row.figure} | {seconds(row.fintrack)} | {row.baseline_name} | "
            f"{seconds(row.baseline)} | {'—' if ratio is None else f'{ratio:.2f}x'} | {peak} | "
            f"{row.rows} | {row.target} | {verdict} |"
        )
    why = HERE / "WHY.md"  # the reasons for the targets missed, written by hand
    if why.exists():
        lines += ["", why.read_text(encoding="utf-8").rstrip("\n")]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's size")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each figure (median)")
    parser.add_argument("--pg", metavar="URL", help="also measure on this PostgreSQL server")
    parser.add_argument("--work", type=Path, help="a folder to keep the data and databases in")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if args.scale <= 0 or args.repeat < 1:
        sys.exit("--scale must be above 0 and --repeat at least 1")
    shell = shutil.which("sqlite3")
    if shell is None:
        sys.exit("the sqlite3 shell is needed for the baselines (Debian: apt-get install sqlite3)")
    psql = shutil.which("psql")
    if args.pg and psql is None:
        sys.exit("--pg needs psql for the baselines (Debian: apt-get install postgresql-client)")
    if args.pg and importlib.util.find_spec("psycopg") is None:
        sys.exit("--pg needs psycopg in this Python: pip install -e '.[postgres]'")
    work = args.work or Path(tempfile.mkdtemp(prefix="fintrack-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    fintrack = fintrack_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINTRACK_")}
    env.update(COLUMNS="120", FINTRACK_PAGER="cat", FINTRACK_ANALYST="bench")
    pg: PostgreSQL | None = None
    try:
        counts = dataset.generate(data, args.scale, args.seed)
        print(f"dataset: {counts} in {data}", file=sys.stderr)
        engines: list[Engine] = [SQLite(work, fintrack, shell)]
        if args.pg:
            pg = PostgreSQL(args.pg, fintrack, psql or "psql")
            engines.append(pg)
        rows: list[Row] = []
        sqlite_url = ""
        for engine in engines:
            print(f"measuring on {engine.name}", file=sys.stderr)
            engine_rows, url = run_engine(engine, data, work, args.repeat, fintrack, env)
            rows += engine_rows
            sqlite_url = sqlite_url or url
        rows += startup_rows(args.repeat, fintrack, env)
        rows.append(hledger_row(data, work, args.repeat, fintrack, env, sqlite_url))
        write_results(args.out, rows, args.scale, args.repeat, counts, pg)
        print(f"wrote {args.out}", file=sys.stderr)
    finally:
        if pg is not None:
            pg.drop_all()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
