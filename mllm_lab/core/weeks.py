"""Dates and ISO weeks from user input. Weeks are named by ISO year (`%G-W%V`)."""

from __future__ import annotations

import re
from datetime import date

from mllm_lab.errors import BadInput
from mllm_lab.models import Week
from mllm_lab.patterns import pattern

_WEEK_RE = pattern(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


FIRST, LAST = date(1900, 1, 1), date(2999, 12, 31)  # dates a study lab can hold


def parse_date(text: str, what: str = "--date") -> date:
    """A date typed by the user; `what` names the option or variable it came from."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput("error.bad_date", what=what, value=repr(text)) from None
    if not FIRST <= day <= LAST:
        raise BadInput("error.date_range", what=what, value=repr(text), first=FIRST, last=LAST)
    return day


def parse_week(text: str) -> Week:
    match = _WEEK_RE.match(text.strip())
    if not match:
        raise BadInput("error.bad_week", value=repr(text))
    year, number = int(match[1]), int(match[2])
    if not FIRST.year - 1 <= year <= LAST.year + 1:
        raise BadInput("error.week_range", value=repr(text), first=FIRST, last=LAST)
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        weeks = date(year, 12, 28).isocalendar().week
        raise BadInput("error.week_number", value=repr(text), year=year, weeks=weeks) from None
    week = Week(year, number)
    if week.sunday < FIRST or week.monday > LAST:
        raise BadInput("error.week_range", value=repr(text), first=FIRST, last=LAST)
    return week


def pick_week(week: str | None, day: str | None, today: date) -> Week:
    if week is not None and day is not None:
        raise BadInput("error.week_and_date")
    if week is not None:  # an empty one too: refused by parse_week, not taken for this week
        return parse_week(week)
    return Week.of(parse_date(day) if day is not None else today)


def as_date(value: object) -> date | None:
    """A frontmatter value as a date: YAML gives `date` for 2026-11-25 and `str` when quoted."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"not a date: {value!r}")
