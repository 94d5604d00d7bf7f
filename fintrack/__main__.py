"""Run fintrack with `python -m fintrack`."""

from fintrack.launch import entry

entry()
