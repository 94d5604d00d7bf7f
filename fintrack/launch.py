"""The `fintrack` program's entry point: `fintrack --version` is answered at once, before the
command line (Typer, Click, the command modules) is loaded, which would take longer than the
answer; every other command goes to `fintrack.cli`."""

import os
import sys


def _asks_version(words: list[str]) -> bool:
    """Whether the command line is `--version` among the program's own options only
    (`fintrack --db FILE --version`), which the command line would answer the same way."""
    asked = False
    rest = iter(words)
    for word in rest:
        if word == "--version":
            asked = True
        elif word == "--db":
            if next(rest, None) is None:
                return False  # the command line says what is missing
        elif word != "--no-pager" and not word.startswith("--db="):
            return False
    return asked


def entry() -> None:
    if _asks_version(sys.argv[1:]):
        from fintrack import __version__

        try:
            sys.stdout.write(f"fintrack {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`fintrack --version | true`): stop quietly, as the
            # command line does; stdout now points at /dev/null so the exit flush is a no-op.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        sys.exit(0)
    from fintrack.cli import entry as command_line

    command_line()
