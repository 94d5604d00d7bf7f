"""Dates: strict ISO parsing and installment schedules that step from the first due date."""

import re
from datetime import date

from fintrack.errors import InputError
from fintrack.vocab import Period

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(text: str, field: str) -> date:
    """Parse an ISO date (`2025-06-01`) or `today`."""
    value = text.strip()
    if value.lower() == "today":
        return date.today()
    if _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(field, f"'{text}' is not a date; use YYYY-MM-DD, such as 2025-06-01")


def schedule(first_due: date, count: int, every: Period) -> list[date]:
    """Due dates of `count` installments, each computed from `first_due`, not from the one before.

    Stepping from the first date keeps a schedule on its day of the month: 31 January is
    followed by 28 (or 29) February and then 31 March, never by 28 March.
    """
    from dateutil.relativedelta import relativedelta

    if every is Period.WEEK:
        return [first_due + relativedelta(weeks=i) for i in range(count)]
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[every]
    return [first_due + relativedelta(months=months * i) for i in range(count)]
