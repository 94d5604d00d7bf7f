"""Run fintrack with `python -m fintrack`."""

from fintrack.cli import entry

entry()
