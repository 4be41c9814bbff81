"""Dutch working-day calendar for legal periods (Regulation 1182/71, Algemene termijnenwet)."""

from __future__ import annotations

import calendar as _gregorian
from datetime import date, timedelta
from typing import Final, Literal, get_args

HolidayProfile = Literal["strict", "atw"]

_PROFILES: Final[tuple[str, ...]] = get_args(HolidayProfile)
_ONE_DAY: Final = timedelta(days=1)
_WEEKEND: Final = frozenset({5, 6})  # Saturday, Sunday (date.weekday())


def add_months(day: date, months: int) -> date:
    """Same date `months` later (or earlier); the month's last day when it has no such date."""
    # Regulation 1182/71 art. 3(2)(c): a period in months ends on the same date, or on the
    # last day of the month when that date does not exist (31 Jan -> 28/29 Feb).
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    last = _gregorian.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the Meeus/Jones/Butcher algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def kings_day(year: int) -> date:
    """Koningsdag (Koninginnedag before 2014) as it is held that year."""
    if year >= 2014:
        # 27 April; on a Sunday it is held on Saturday 26 April.
        held = date(year, 4, 27)
        return held - _ONE_DAY if held.weekday() == 6 else held
    held = date(year, 4, 30)
    if held.weekday() != 6:
        return held
    # From 1980 a Sunday Koninginnedag moved to the Saturday before, earlier to the Monday.
    return held - _ONE_DAY if year >= 1980 else held + _ONE_DAY


def profile_dates(year: int, profile: HolidayProfile) -> frozenset[date]:
    """The dates that count as public holidays in `profile` (before checking the package)."""
    easter = easter_sunday(year)
    dates = {
        date(year, 1, 1),  # Nieuwjaarsdag
        easter,  # Eerste Paasdag
        easter + timedelta(days=1),  # Tweede Paasdag
        kings_day(year),  # Koningsdag
        easter + timedelta(days=39),  # Hemelvaartsdag
        easter + timedelta(days=49),  # Eerste Pinksterdag
        easter + timedelta(days=50),  # Tweede Pinksterdag
        date(year, 12, 25),  # Eerste Kerstdag
        date(year, 12, 26),  # Tweede Kerstdag
    }
    if profile == "atw" or year % 5 == 0:
        # Atw art. 3(1) names 5 May every year; the strict profile only in lustrum years.
        dates.add(date(year, 5, 5))  # Bevrijdingsdag
    if profile == "atw":
        dates.add(easter - timedelta(days=2))  # Goede Vrijdag (Atw art. 3(1))
    return frozenset(dates)


def _package_dates(year: int) -> frozenset[date]:
    """Every date the `holidays` package lists for NL that year, public and optional."""
    # Imported here: the package loads every country's module (about 130 ms), which a
    # one-mail `dsr ingest` only pays when its deadline falls on a candidate holiday.
    import holidays

    listed = holidays.country_holidays(
        "NL", years=year, categories=(holidays.PUBLIC, holidays.OPTIONAL)
    )
    return frozenset(listed.keys())


class DutchCalendar:
    """Working days in the Netherlands under one holiday profile; holidays cached per year."""

    def __init__(self, profile: HolidayProfile = "strict") -> None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown holiday profile {profile!r}; use one of {_PROFILES}")
        self.profile: HolidayProfile = profile
        self._by_year: dict[int, frozenset[date]] = {}
        self._candidates: dict[int, frozenset[date]] = {}

    def holidays_in(self, year: int) -> frozenset[date]:
        """Public holidays of `year` in this profile."""
        cached = self._by_year.get(year)
        if cached is None:
            # Filter by date, not by name (names change across package versions). Keeping
            # only dates the package confirms errs towards an earlier, never a later, deadline.
            cached = profile_dates(year, self.profile) & _package_dates(year)
            self._by_year[year] = cached
        return cached

    def is_working_day(self, day: date) -> bool:
        """Not a Saturday, Sunday or public holiday (Regulation 1182/71 art. 2(2))."""
        if day.weekday() in _WEEKEND:
            return False
        candidates = self._candidates.get(day.year)
        if candidates is None:
            candidates = self._candidates[day.year] = profile_dates(day.year, self.profile)
        # a day the profile does not name is no holiday, whatever the package lists
        return day not in candidates or day not in self.holidays_in(day.year)

    def roll_forward(self, day: date) -> date:
        """`day` itself when it is a working day, else the next working day."""
        # Regulation 1182/71 art. 3(4): a period ending on a holiday, Saturday or Sunday
        # ends with the expiry of the following working day.
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (before it when `count` is negative)."""
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        for _ in range(abs(count)):
            day += step
            while not self.is_working_day(day):
                day += step
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; when end < start, minus those in [end, start).

        So `working_days_between(d, add_working_days(d, n)) == n` for every `d` and `n`.
        """
        if end >= start:
            return self._count(start + _ONE_DAY, end)
        return -self._count(end, start - _ONE_DAY)

    def _count(self, first: date, last: date) -> int:
        """Working days from `first` to `last`, both included."""
        span = (last - first).days + 1
        return sum(self.is_working_day(first + timedelta(days=n)) for n in range(span))
