"""The layers: the library never imports the CLI, and no CLI command module imports another
(shared CLI pieces live in cli/common.py, cli/output.py and the other helper modules)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fintrack"
# The modules of `fintrack.cli` that hold commands; the rest are helpers they share.
COMMANDS = {
    "brief",
    "claim",
    "data",
    "db",
    "pledge",
    "rate",
    "record",
    "report",
    "sanction",
    "source",
}
HELPERS = {"ask", "brief_render", "chart", "common", "output", "table"}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function, as a dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_cli_module_is_a_command_module_or_a_helper() -> None:
    modules = {path.stem for path in (PACKAGE / "cli").glob("*.py")} - {"__init__"}
    assert modules == COMMANDS | HELPERS


def test_the_library_never_imports_the_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("__main__.py", "launch.py") or "cli" in path.relative_to(PACKAGE).parts:
            continue  # the program's entry points run the CLI; the CLI may import itself
        bad = {name for name in imported(path) if name.startswith("fintrack.cli")}
        assert not bad, (path.name, bad)


def test_no_command_module_imports_another() -> None:
    for name in COMMANDS:
        others = {f"fintrack.cli.{other}" for other in COMMANDS - {name}}
        bad = imported(PACKAGE / "cli" / f"{name}.py") & others
        assert not bad, (name, bad)


# What a command may not reach past the tracker for: the domain modules and the database.
# `db` is about the database file itself (its path, its schema version), and keeps the store.
DOMAIN = (
    "sqlalchemy",
    "fintrack.changes",
    "fintrack.claims",
    "fintrack.history",
    "fintrack.interchange",
    "fintrack.known",
    "fintrack.models",
    "fintrack.pledges",
    "fintrack.rates",
    "fintrack.reports",
    "fintrack.sanctions",
    "fintrack.seed",
    "fintrack.sources",
    "fintrack.store",
)


def test_commands_read_and_write_through_the_tracker() -> None:
    """The CLI is a thin layer: its commands and their helpers call `fintrack.api`'s tracker,
    never a domain module or the database (the one `Tracker` of a run is `common.tracker()`)."""
    for name in (COMMANDS | HELPERS) - {"db", "common"}:
        names = imported(PACKAGE / "cli" / f"{name}.py")
        bad = {found for found in names if found.startswith(DOMAIN)}
        assert not bad, (name, bad)
    # common opens the run's database for the tracker, and nothing more of the store.
    common = imported(PACKAGE / "cli" / "common.py")
    assert {found for found in common if found.startswith(DOMAIN)} <= {
        "fintrack.store",
        "fintrack.store.Database",
        "fintrack.store.default_url",
        "fintrack.store.mask_command",
    }
