"""Time fintrack's startup beside a bare Typer app with the same command tree, in one run.

    python benchmarks/startup.py [--runs 15] [--keep DIR]

The baseline is generated from fintrack's own Click command tree: a Typer app with the same
groups, commands, arguments and options (names, help texts, metavars, defaults, the same app
settings), whose commands do no work. Its `--version` prints a fixed string; its `totals`
opens the same SQLite file with the standard sqlite3 module and runs the SQL statements that
fintrack's `totals` runs on it (captured once, with their parameters, before timing), then
prints "No pledges match." when the report's query returned no row, as fintrack does.

Each command runs in its own process, N times, fintrack and baseline alternately (after one
untimed run of each, which also compiles their bytecode); the figures are the medians of the
wall time from start to exit, of the CPU time (user + system, steadier on a busy machine) and
of the peak resident memory (wait4). The database is an empty one:
fintrack's schema at its newest revision, no records.
"""

import argparse
import keyword
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

CASES = (
    ("--help", ["--help"]),
    ("--version", ["--version"]),
    ("pledge add --help", ["pledge", "add", "--help"]),
    ("totals (empty database)", ["totals"]),
)
# Typer adds these itself (add_completion=True) to the root of both apps.
COMPLETION = ("install_completion", "show_completion")


@dataclass
class Figure:
    seconds: float
    cpu: float  # user + system time: steadier than wall time on a busy machine
    peak_mb: float


def _default(value: Any) -> Any:
    """An option's default as the bare app declares it: plain values kept, the rest shown."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return None
    return str(value)


def _parameter(param: Any, index: int) -> str:
    """One parameter of a bare command: `name: type = typer.Option(...)`."""
    from typer.core import TyperArgument, TyperOption

    name = param.name or f"value{index}"
    name = name + "_" if keyword.iskeyword(name) else name
    settings = [f"help={getattr(param, 'help', None)!r}", f"hidden={param.hidden!r}"]
    if param.metavar is not None:
        settings.append(f"metavar={param.metavar!r}")
    if isinstance(param, TyperArgument):
        many = param.nargs != 1
        kind = "list[str]" if many else "str"
        kind = kind if param.required else f"{kind} | None"
        default = "..." if param.required else "None"
        return f"{name}: {kind} = typer.Argument({default}, {', '.join(settings)})"
    assert isinstance(param, TyperOption)
    opts = list(param.opts)
    if param.is_flag and param.secondary_opts:
        opts = [f"{'/'.join(param.opts)}/{'/'.join(param.secondary_opts)}"]
    names = ", ".join(repr(opt) for opt in opts)
    if param.is_eager:
        settings.append("is_eager=True")
    if "--version" in opts:
        settings.append("callback=_version")
    if param.is_flag:
        return (
            f"{name}: bool = typer.Option({bool(param.default)!r}, {names}, {', '.join(settings)})"
        )
    kind = "list[str] | None" if param.multiple else "str | None"
    default = None if param.multiple else _default(param.default)
    return f"{name}: {kind} = typer.Option({default!r}, {names}, {', '.join(settings)})"


def bare_app(tree: Any, version: str, statements: list[tuple[str, Any]]) -> str:
    """The source of the baseline: a Typer app with fintrack's command tree and no work."""
    from typer.core import TyperGroup

    lines = [
        '"""A bare Typer app with fintrack\'s command tree (made by benchmarks/startup.py)."""',
        "",
        "import sys",
        "",
        "import typer",
        "",
        f"STATEMENTS = {statements!r}",
        "DB = {}",
        "",
        "",
        "def _version(value: bool) -> None:",
        "    if value:",
        f"        print({f'fintrack {version}'!r})",
        "        raise typer.Exit()",
        "",
        "",
        "def _totals() -> None:",
        "    import sqlite3",
        "",
        "    connection = sqlite3.connect(DB['path'], isolation_level=None)",
        "    rows = []",
        "    for statement, parameters in STATEMENTS:",
        "        rows = connection.execute(statement, parameters).fetchall()",
        "    connection.close()",
        "    for row in rows:",
        "        print(','.join(map(str, row)))",
        "    if not rows:",
        "        print('No pledges match.', file=sys.stderr)",
        "",
        "",
        "app = typer.Typer(",
        f"    name={tree.name!r},",
        f"    help={tree.help!r},",
        "    no_args_is_help=True,",
        "    rich_markup_mode='markdown',",
        "    pretty_exceptions_show_locals=False,",
        "    context_settings={'help_option_names': ['-h', '--help']},",
        ")",
    ]
    counter = iter(range(1, 10_000))

    def command(group: str, name: str, cmd: Any, path: list[str]) -> None:
        function = f"command_{next(counter)}"
        params = [p for p in cmd.params if p.name not in COMPLETION]
        signature = ",\n".join(f"    {_parameter(p, i)}" for i, p in enumerate(params))
        decorator = f"@{group}.callback(" if not name else f"@{group}.command({name!r}, "
        lines.extend(["", ""])
        lines.append(
            f"{decorator}help={cmd.help!r}, short_help={cmd.short_help!r}, "
            f"hidden={cmd.hidden!r}, epilog={cmd.epilog!r})"
        )
        lines.append(
            f"def {function}(\n{signature}\n) -> None:" if params else f"def {function}() -> None:"
        )
        if not path:  # the root: --db is where `totals` reads
            lines.append("    DB['path'] = db_url")
        elif path == ["totals"]:
            lines.append("    _totals()")
        else:
            lines.append("    pass")

    def walk(group: str, cmd: Any, path: list[str]) -> None:
        command(group, "", cmd, path)
        for name, sub in cmd.commands.items():
            if isinstance(sub, TyperGroup):
                variable = f"group_{next(counter)}"
                lines.extend(
                    [
                        "",
                        f"{variable} = typer.Typer(rich_markup_mode='markdown', "
                        "no_args_is_help=True)",
                        f"{group}.add_typer({variable}, name={name!r})",
                    ]
                )
                walk(variable, sub, [*path, name])
            else:
                command(group, name, sub, [*path, name])

    walk("app", tree, [])
    return "\n".join(lines) + "\n"


def shape(command: Any) -> Any:
    """A command tree as names: (options and arguments, {subcommand: shape})."""
    from typer.core import TyperArgument

    names = sorted(
        (isinstance(p, TyperArgument), p.name, tuple(p.opts), tuple(p.secondary_opts))
        for p in command.params
    )
    subs = {name: shape(sub) for name, sub in getattr(command, "commands", {}).items()}
    return names, subs


def report_statements(db: Path) -> list[tuple[str, Any]]:
    """The SQL statements (with their parameters) fintrack's `totals` runs on an existing
    database, as the sqlite3 module takes them, and the ends of its transactions."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    import fintrack

    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, tuple(parameters) if parameters else ()))

    def end(word: str) -> Any:
        return lambda _conn: seen.append((word, ()))

    listeners = [
        ("before_cursor_execute", capture),
        ("commit", end("COMMIT")),
        ("rollback", end("ROLLBACK")),
    ]
    for name, listener in listeners:
        event.listen(Engine, name, listener)
    try:
        with fintrack.open(str(db)) as tracker:
            tracker.totals_report()
    finally:
        for name, listener in listeners:
            event.remove(Engine, name, listener)
    for _, parameters in seen:
        for value in parameters:
            assert value is None or isinstance(value, (str, int, float)), value
    return seen


def measure(command: list[str], env: dict[str, str]) -> Figure:
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    errors = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(command)} failed ({code}): {errors}")
    cpu = usage.ru_utime + usage.ru_stime
    return Figure(seconds, cpu, usage.ru_maxrss / 1024)  # ru_maxrss is in kB on Linux


def median(figures: list[Figure]) -> Figure:
    return Figure(
        statistics.median(f.seconds for f in figures),
        statistics.median(f.cpu for f in figures),
        statistics.median(f.peak_mb for f in figures),
    )


def fintrack_command() -> list[str]:
    """fintrack as a user runs it: the console script beside this Python, else `-m fintrack`."""
    script = Path(sys.executable).parent / "fintrack"
    if script.exists() and os.environ.get("PYTHONPATH") is None:
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "fintrack"]


def prepare(folder: Path, env: dict[str, str]) -> None:
    """Make the empty database and the baseline app in `folder`; print fintrack's version and
    whether the baseline's tree is fintrack's. Runs in a process of its own, so that the
    timing process stays small (a child's peak memory counts its parent's before exec)."""
    import typer.main

    import fintrack
    from fintrack.cli import _command

    db = folder / "empty.db"
    subprocess.run(
        [*fintrack_command(), "--db", str(db), "db", "upgrade"],
        check=True,
        capture_output=True,
        env=env,
    )
    tree = _command("")
    (folder / "bare_fintrack.py").write_text(
        bare_app(tree, fintrack.__version__, report_statements(db)), encoding="utf-8"
    )
    (folder / "bare.py").write_text(
        "from bare_fintrack import app\n\napp(prog_name='fintrack')\n", encoding="utf-8"
    )
    sys.path.insert(0, str(folder))
    import bare_fintrack

    same = shape(typer.main.get_command(bare_fintrack.app)) == shape(tree)
    print(fintrack.__version__, "yes" if same else "no")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (median)")
    parser.add_argument("--keep", type=Path, help="a folder to keep the files in")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    env = {**os.environ, "COLUMNS": "100", "FINTRACK_PAGER": "cat"}
    for name in ("NO_COLOR", "FINTRACK_DATABASE_URL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    if args.prepare:
        prepare(args.prepare, env)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fintrack-startup-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        db = folder / "empty.db"
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            path.unlink(missing_ok=True)
        prepared = subprocess.run(
            [sys.executable, __file__, "--prepare", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        version, same = prepared.stdout.split()
        ours = [*fintrack_command(), "--db", str(db)]
        bare = [sys.executable, str(folder / "bare.py"), "--db", str(db)]
        results = []
        for label, words in CASES:
            measure([*ours, *words], env)  # untimed: bytecode compiled, files cached
            measure([*bare, *words], env)
            mine, base = [], []
            for _ in range(args.runs):
                mine.append(measure([*ours, *words], env))
                base.append(measure([*bare, *words], env))
            results.append((label, median(mine), median(base)))

        print(
            f"fintrack {version} startup beside a bare Typer app with the same tree, "
            f"medians of {args.runs} runs each"
        )
        print(
            f"{'command':<24} {'fintrack s':>10} {'bare s':>7} {'ratio':>5} "
            f"{'CPU s':>6} {'bare':>6} {'ratio':>5} {'MB':>5} {'bare MB':>7}"
        )
        for label, mine_f, base_f in results:
            print(
                f"{label:<24} {mine_f.seconds:>10.3f} {base_f.seconds:>7.3f} "
                f"{mine_f.seconds / base_f.seconds:>5.2f} {mine_f.cpu:>6.3f} {base_f.cpu:>6.3f} "
                f"{mine_f.cpu / base_f.cpu:>5.2f} {mine_f.peak_mb:>5.1f} {base_f.peak_mb:>7.1f}"
            )
        print(f"bare app has fintrack's command tree: {same}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
