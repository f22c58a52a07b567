"""Dates and ISO weeks from user input. Weeks are named by ISO year (`%G-W%V`)."""

from __future__ import annotations

import re
from datetime import date

from mllm_lab.errors import BadInput
from mllm_lab.models import Week

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


FIRST, LAST = date(1900, 1, 1), date(2999, 12, 31)  # dates a study lab can hold


def parse_date(text: str, what: str = "date") -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"invalid {what} {text!r}: expected YYYY-MM-DD, e.g. 2026-11-25") from None
    if not FIRST <= day <= LAST:
        raise BadInput(f"invalid {what} {text!r}: expected a date from {FIRST} to {LAST}")
    return day


def parse_week(text: str) -> Week:
    match = _WEEK_RE.match(text.strip())
    if match:
        year, number = int(match[1]), int(match[2])
        if not FIRST.year <= year <= LAST.year:
            raise BadInput(
                f"invalid week {text!r}: expected a year from {FIRST.year} to {LAST.year}"
            )
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            pass
        else:
            return Week(year, number)
        weeks = date(year, 12, 28).isocalendar().week if 1 <= year <= 9999 else 52
        raise BadInput(f"invalid week {text!r}: ISO year {year} has weeks 01-{weeks}")
    raise BadInput(f"invalid week {text!r}: expected YYYY-WXX, e.g. 2026-W48")


def pick_week(week: str | None, day: str | None, today: date) -> Week:
    if week and day:
        raise BadInput("give --week or --date, not both")
    if week:
        return parse_week(week)
    return Week.of(parse_date(day) if day else today)


def as_date(value: object) -> date | None:
    """A frontmatter value as a date: YAML gives `date` for 2026-11-25 and `str` when quoted."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"not a date: {value!r}")
