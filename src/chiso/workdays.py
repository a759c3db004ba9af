"""Vietnam's working days, for the limits the index counts in working days (5.2).

Public holidays, Tết and the days off the government moves (with the Saturdays worked in
exchange) come from the `holidays` library, which follows the official announcements;
nothing is typed by hand here. `ref.working_days` holds one row per day with a running count
of working days, so "N working days after reception" is one join in SQL.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

FIRST_YEAR, LAST_YEAR = 2015, 2035


def version() -> str:
    import holidays

    return f"holidays {holidays.__version__}, {FIRST_YEAR}-{LAST_YEAR}"


def working_days_csv(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> io.StringIO:
    """day, is_working_day, working_day_no (working days up to and including the day), holiday."""
    import holidays

    days_off = holidays.country_holidays("VN", years=range(first, last + 1))
    # The library names a moved day off "Day off (substituted from MM/DD/YYYY)": that
    # Saturday is worked instead.
    worked_saturdays = set()
    for name in days_off.values():
        for part in str(name).split(";"):
            if "substituted from" in part:
                month, day, year = part.rsplit(" ", 1)[-1].strip(")").split("/")
                worked_saturdays.add(date(int(year), int(month), int(day)))
    out = io.StringIO()
    count = 0
    day = date(first, 1, 1)
    while day.year <= last:
        holiday = days_off.get(day)
        working = (day.weekday() < 5 or day in worked_saturdays) and holiday is None
        count += working
        out.write(f"{day.isoformat()},{'true' if working else 'false'},{count},"
                  f"\"{(holiday or '').replace(chr(34), '')}\"\n")
        day += timedelta(days=1)
    out.seek(0)
    return out
