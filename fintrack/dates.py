"""Dates: strict ISO parsing and installment schedules that step from the first due date."""

import re
from datetime import date

from fintrack.errors import InputError
from fintrack.vocab import Period

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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

    def due(i: int) -> date:
        if every is Period.WEEK:
            return first_due + relativedelta(weeks=i)
        return first_due + relativedelta(months=_MONTHS[every] * i)

    try:  # the last date first: a schedule past year 9999 is refused before it is built
        due(count - 1)
    except (OverflowError, ValueError):
        raise InputError(
            "--installments",
            f"{count} installments every {every.value} from {first_due.isoformat()} would run "
            f"past {date.max.isoformat()}, the last date fintrack can store; give fewer "
            "installments or an earlier --first-due",
        ) from None
    return [due(i) for i in range(count)]


_MONTHS = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}
