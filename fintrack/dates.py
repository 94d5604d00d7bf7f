"""Dates: strict ISO parsing, windows that stop at the calendar's ends, and installment
schedules that step from the first due date."""

import re
from datetime import date, timedelta

from fintrack.errors import InputError
from fintrack.vocab import Period

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(text: str, field: str) -> date:
    """Parse an ISO date (`2025-06-01`) or `today`."""
    value = text.strip()
    if _ISO_DATE.fullmatch(value):  # the common cell first
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    elif value.lower() == "today":
        return date.today()
    raise InputError(field, f"'{text}' is not a date; use YYYY-MM-DD, such as 2025-06-01")


def shift(day: date, days: int) -> date:
    """`day` moved by `days`, stopping at the first or last date there is (0001-01-01,
    9999-12-31): a window that would reach past the calendar ends where it does."""
    if days >= (date.max - day).days:
        return date.max
    if -days >= (day - date.min).days:
        return date.min
    return day + timedelta(days=days)


# More installments than there are weeks in the calendar can never be laid out.
MAX_INSTALLMENTS = (date.max - date.min).days // 7 + 1


def check_count(count: int) -> int:
    """A number of installments: at least 1, and few enough for a schedule to fit the calendar
    (checked before amounts are split or dates laid out, so a huge count fails at once)."""
    if count < 1:
        raise InputError("installments", f"'{count}' must be at least 1")
    if count > MAX_INSTALLMENTS:
        raise InputError(
            "installments",
            f"'{count}' installments would fall due after {date.max.isoformat()}, the last "
            f"date there is (at most {MAX_INSTALLMENTS:,}, weekly from 0001-01-01)",
        )
    return count


def schedule(first_due: date, count: int, every: Period) -> list[date]:
    """Due dates of `count` installments, each computed from `first_due`, not from the one before.

    Stepping from the first date keeps a schedule on its day of the month: 31 January is
    followed by 28 (or 29) February and then 31 March, never by 28 March. A schedule that
    would fall due after 9999-12-31 is refused (InputError), not cut short.
    """
    from dateutil.relativedelta import relativedelta

    if every is Period.WEEK:
        step = relativedelta(weeks=1)
    else:
        step = relativedelta(months={Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[every])
    try:
        first_due + step * (count - 1)  # the last due date, before the whole list is built
        return [first_due + step * i for i in range(count)]
    except (ValueError, OverflowError):
        raise InputError(
            "installments",
            f"{count} installments every {every.value} from {first_due.isoformat()} would fall "
            f"due after {date.max.isoformat()}, the last date there is; give fewer "
            "installments or an earlier first due date",
        ) from None
