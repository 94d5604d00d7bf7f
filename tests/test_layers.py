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
        if path.name == "__main__.py" or "cli" in path.relative_to(PACKAGE).parts:
            continue  # `python -m fintrack` runs the CLI; the CLI may import itself
        bad = {name for name in imported(path) if name.startswith("fintrack.cli")}
        assert not bad, (path.name, bad)


def test_no_command_module_imports_another() -> None:
    for name in COMMANDS:
        others = {f"fintrack.cli.{other}" for other in COMMANDS - {name}}
        bad = imported(PACKAGE / "cli" / f"{name}.py") & others
        assert not bad, (name, bad)
