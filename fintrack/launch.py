"""The `fintrack` program's entry point: `fintrack --version` is answered at once, before the
command line (Typer, Click, the command modules) is loaded, which would take longer than the
answer; every other command goes to `fintrack.cli`."""

import os
import sys


def entry() -> None:
    if sys.argv[1:] == ["--version"]:
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
