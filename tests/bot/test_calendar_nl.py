"""Dutch calendar: vectors worked out by hand against `python3 -m calendar 2026` etc."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar_nl import (
    DutchCalendar,
    HolidayProfile,
    add_months,
    easter_sunday,
    kings_day,
)

D = date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        # 2026 is not a leap year: 31 Jan + 1 month has no 31 Feb -> last day, 28 Feb.
        pytest.param(D(2026, 1, 31), 1, D(2026, 2, 28), id="31jan-nonleap"),
        # 2028 is a leap year: 31 Jan -> 29 Feb.
        pytest.param(D(2028, 1, 31), 1, D(2028, 2, 29), id="31jan-leap"),
        # 29 Feb -> 29 Mar (the date exists).
        pytest.param(D(2028, 2, 29), 1, D(2028, 3, 29), id="29feb-plus1"),
        # 29 Feb 2028 + 12 months: 2029 has no 29 Feb -> 28 Feb.
        pytest.param(D(2028, 2, 29), 12, D(2029, 2, 28), id="29feb-plus12"),
        # April has 30 days: 31 Mar -> 30 Apr.
        pytest.param(D(2026, 3, 31), 1, D(2026, 4, 30), id="31mar-30apr"),
        # 30 Apr -> 30 May (not clamped to May's end: the same date exists).
        pytest.param(D(2026, 4, 30), 1, D(2026, 5, 30), id="30apr-30may"),
        # Year wrap: 15 Dec 2026 -> 15 Jan 2027.
        pytest.param(D(2026, 12, 15), 1, D(2027, 1, 15), id="dec-jan"),
        # 30 Nov + 3 months = Feb 2027, which has 28 days.
        pytest.param(D(2026, 11, 30), 3, D(2027, 2, 28), id="30nov-plus3"),
        # Backwards: 31 Mar - 1 month -> 28 Feb (2026).
        pytest.param(D(2026, 3, 31), -1, D(2026, 2, 28), id="minus1"),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# Easter: 2024-03-31, 2026-04-05, 2038-04-25 (latest possible), 2285-03-22 (earliest).
@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(2024, D(2024, 3, 31), id="2024"),
        pytest.param(2025, D(2025, 4, 20), id="2025"),
        pytest.param(2026, D(2026, 4, 5), id="2026"),
        pytest.param(2027, D(2027, 3, 28), id="2027"),
        pytest.param(2038, D(2038, 4, 25), id="2038-latest"),
        pytest.param(2285, D(2285, 3, 22), id="2285-earliest"),
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


def test_easter_agrees_with_holidays_package() -> None:
    for year in range(1970, 2101):
        listed = holidays.country_holidays("NL", years=year)
        assert easter_sunday(year) in listed, year
        assert easter_sunday(year) + timedelta(days=1) in listed, year


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # 27 April 2025 is a Sunday -> held on Saturday 26 April.
        pytest.param(2025, D(2025, 4, 26), id="2025-sunday-moves"),
        pytest.param(2026, D(2026, 4, 27), id="2026-monday"),
        # 27 April 2014, the first Koningsdag, was a Sunday -> 26 April.
        pytest.param(2014, D(2014, 4, 26), id="2014-first"),
        # Koninginnedag 30 April 2006 was a Sunday -> Saturday 29 April.
        pytest.param(2006, D(2006, 4, 29), id="2006-koninginnedag"),
    ],
)
def test_kings_day(year: int, expected: date) -> None:
    assert kings_day(year) == expected


# Hand-listed from the rules and the 2025-2027 calendars (Easter 20 Apr 2025, 5 Apr 2026,
# 28 Mar 2027; Ascension = Easter + 39, Whit Monday = Easter + 50).
STRICT = {
    2025: {
        D(2025, 1, 1),  # Wed Nieuwjaarsdag
        D(2025, 4, 20),  # Sun Eerste Paasdag
        D(2025, 4, 21),  # Mon Tweede Paasdag
        D(2025, 4, 26),  # Sat Koningsdag (27th is a Sunday)
        D(2025, 5, 5),  # Mon Bevrijdingsdag (2025 is a lustrum year)
        D(2025, 5, 29),  # Thu Hemelvaartsdag
        D(2025, 6, 8),  # Sun Eerste Pinksterdag
        D(2025, 6, 9),  # Mon Tweede Pinksterdag
        D(2025, 12, 25),  # Thu
        D(2025, 12, 26),  # Fri
    },
    2026: {
        D(2026, 1, 1),  # Thu
        D(2026, 4, 5),  # Sun
        D(2026, 4, 6),  # Mon
        D(2026, 4, 27),  # Mon Koningsdag
        D(2026, 5, 14),  # Thu Hemelvaartsdag
        D(2026, 5, 24),  # Sun
        D(2026, 5, 25),  # Mon
        D(2026, 12, 25),  # Fri
        D(2026, 12, 26),  # Sat
    },
    2027: {
        D(2027, 1, 1),  # Fri
        D(2027, 3, 28),  # Sun
        D(2027, 3, 29),  # Mon
        D(2027, 4, 27),  # Tue Koningsdag
        D(2027, 5, 6),  # Thu Hemelvaartsdag
        D(2027, 5, 16),  # Sun
        D(2027, 5, 17),  # Mon
        D(2027, 12, 25),  # Sat
        D(2027, 12, 26),  # Sun
    },
}
# Atw adds Goede Vrijdag (Easter - 2) and 5 May in every year.
ATW_EXTRA = {
    2025: {D(2025, 4, 18)},  # 5 May 2025 is already in the strict set
    2026: {D(2026, 4, 3), D(2026, 5, 5)},
    2027: {D(2027, 3, 26), D(2027, 5, 5)},
}


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_holidays_in_strict(year: int) -> None:
    assert DutchCalendar("strict").holidays_in(year) == frozenset(STRICT[year])


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_holidays_in_atw(year: int) -> None:
    assert DutchCalendar("atw").holidays_in(year) == frozenset(STRICT[year] | ATW_EXTRA[year])


def test_holidays_in_is_cached_per_year() -> None:
    calendar = DutchCalendar()
    assert calendar.holidays_in(2026) is calendar.holidays_in(2026)


@pytest.mark.parametrize("profile", ["strict", "atw"])
def test_working_days_agree_with_the_holiday_set_on_every_day(profile: HolidayProfile) -> None:
    """`is_working_day` asks the package only about the profile's own dates; on every day of
    twenty years it must answer what the full set of holidays says."""
    shortcut, full = DutchCalendar(profile), DutchCalendar(profile)
    day = date(2020, 1, 1)
    while day.year < 2040:
        listed = full.holidays_in(day.year)
        assert shortcut.is_working_day(day) == (day.weekday() < 5 and day not in listed), day
        day += timedelta(days=1)


def test_a_day_the_profile_does_not_name_never_asks_the_package() -> None:
    calendar = DutchCalendar("strict")
    assert calendar.is_working_day(date(2027, 1, 5))  # an ordinary Tuesday
    assert calendar._by_year == {}  # the package was not asked
    assert not calendar.is_working_day(date(2027, 4, 27))  # Koningsdag: now it is
    assert 2027 in calendar._by_year


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown holiday profile 'bogus'"):
        DutchCalendar("bogus")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("profile", "day", "working"),
    [
        pytest.param("strict", D(2026, 1, 1), False, id="nieuwjaarsdag"),
        pytest.param("strict", D(2026, 4, 6), False, id="tweede-paasdag"),
        pytest.param("strict", D(2026, 4, 27), False, id="koningsdag"),
        pytest.param("strict", D(2026, 5, 14), False, id="hemelvaart"),
        pytest.param("strict", D(2026, 5, 25), False, id="tweede-pinksterdag"),
        pytest.param("strict", D(2026, 12, 25), False, id="eerste-kerstdag"),
        pytest.param("strict", D(2025, 12, 26), False, id="tweede-kerstdag-fri"),
        pytest.param("strict", D(2025, 5, 5), False, id="bevrijdingsdag-lustrum"),
        # 5 May 2026 (Tue) counts only in the atw profile (2026 is no lustrum year).
        pytest.param("strict", D(2026, 5, 5), True, id="bevrijdingsdag-2026-strict"),
        pytest.param("atw", D(2026, 5, 5), False, id="bevrijdingsdag-2026-atw"),
        # Goede Vrijdag 3 Apr 2026 only in atw.
        pytest.param("strict", D(2026, 4, 3), True, id="goede-vrijdag-strict"),
        pytest.param("atw", D(2026, 4, 3), False, id="goede-vrijdag-atw"),
        # 27 April 2025 is a Sunday anyway; Monday 28 April 2025 is an ordinary day.
        pytest.param("strict", D(2025, 4, 28), True, id="monday-after-koningsdag-2025"),
        pytest.param("strict", D(2026, 4, 4), False, id="saturday"),
        pytest.param("strict", D(2026, 4, 28), True, id="plain-tuesday"),
    ],
)
def test_is_working_day(profile: HolidayProfile, day: date, working: bool) -> None:
    assert DutchCalendar(profile).is_working_day(day) is working


@pytest.mark.parametrize(
    ("profile", "day", "expected"),
    [
        # Sat 4 Apr 2026 -> Sun 5 (Easter) -> Mon 6 (Tweede Paasdag) -> Tue 7.
        pytest.param("strict", D(2026, 4, 4), D(2026, 4, 7), id="easter-weekend"),
        # Good Friday is a working day in strict, not in atw.
        pytest.param("strict", D(2026, 4, 3), D(2026, 4, 3), id="goede-vrijdag-strict"),
        pytest.param("atw", D(2026, 4, 3), D(2026, 4, 7), id="goede-vrijdag-atw"),
        # Fri 25 Dec, Sat 26, Sun 27 -> Mon 28 Dec 2026.
        pytest.param("strict", D(2026, 12, 25), D(2026, 12, 28), id="christmas"),
        # Thu 31 Dec 2026 is a working day: unchanged.
        pytest.param("strict", D(2026, 12, 31), D(2026, 12, 31), id="working-unchanged"),
        # Fri 1 Jan 2027, Sat 2, Sun 3 -> Mon 4 Jan (crosses the year's holiday cache).
        pytest.param("strict", D(2027, 1, 1), D(2027, 1, 4), id="new-year"),
    ],
)
def test_roll_forward(profile: HolidayProfile, day: date, expected: date) -> None:
    assert DutchCalendar(profile).roll_forward(day) == expected


@pytest.mark.parametrize(
    ("profile", "day", "count", "expected"),
    [
        # Thu 2 Apr 2026 +1: Fri 3 Apr (working in strict).
        pytest.param("strict", D(2026, 4, 2), 1, D(2026, 4, 3), id="plus1-strict"),
        # atw: Fri 3 GF, Sat, Sun, Mon 6 Paasdag -> Tue 7.
        pytest.param("atw", D(2026, 4, 2), 1, D(2026, 4, 7), id="plus1-atw-easter"),
        # strict +2: Fri 3 (1), Tue 7 (2).
        pytest.param("strict", D(2026, 4, 2), 2, D(2026, 4, 7), id="plus2-over-easter"),
        # Wed 13 May +1: Thu 14 Hemelvaart -> Fri 15.
        pytest.param("strict", D(2026, 5, 13), 1, D(2026, 5, 15), id="over-ascension"),
        # Thu 24 Dec +3: 25/26/27 off, Mon 28 (1), Tue 29 (2), Wed 30 (3).
        pytest.param("strict", D(2026, 12, 24), 3, D(2026, 12, 30), id="over-christmas"),
        # Tue 7 Apr -1: Mon 6 Paasdag, Sun, Sat -> Fri 3 (strict) ...
        pytest.param("strict", D(2026, 4, 7), -1, D(2026, 4, 3), id="minus1-strict"),
        # ... but Fri 3 is Goede Vrijdag in atw -> Thu 2.
        pytest.param("atw", D(2026, 4, 7), -1, D(2026, 4, 2), id="minus1-atw"),
        # Mon 4 Jan 2027 -2: Fri 1 Jan off, Thu 31 Dec (1), Wed 30 Dec (2).
        pytest.param("strict", D(2027, 1, 4), -2, D(2026, 12, 30), id="minus2-new-year"),
        # From a Saturday, -1 is the Friday before.
        pytest.param("strict", D(2026, 4, 11), -1, D(2026, 4, 10), id="minus1-from-saturday"),
        # Zero working days: the day itself, even a Saturday.
        pytest.param("strict", D(2026, 4, 4), 0, D(2026, 4, 4), id="zero"),
    ],
)
def test_add_working_days(profile: HolidayProfile, day: date, count: int, expected: date) -> None:
    assert DutchCalendar(profile).add_working_days(day, count) == expected


@pytest.mark.parametrize(
    ("profile", "start", "end", "expected"),
    [
        # (2 Apr, 7 Apr]: Fri 3, Tue 7 -> 2 in strict; Fri 3 is off in atw -> 1.
        pytest.param("strict", D(2026, 4, 2), D(2026, 4, 7), 2, id="easter-strict"),
        pytest.param("atw", D(2026, 4, 2), D(2026, 4, 7), 1, id="easter-atw"),
        # Reversed: [2 Apr, 7 Apr) = Thu 2, Fri 3 -> -2.
        pytest.param("strict", D(2026, 4, 7), D(2026, 4, 2), -2, id="reversed"),
        pytest.param("strict", D(2026, 4, 7), D(2026, 4, 7), 0, id="same-day"),
        # (24 Dec 2026, 4 Jan 2027]: 28, 29, 30, 31 Dec and 4 Jan -> 5.
        pytest.param("strict", D(2026, 12, 24), D(2027, 1, 4), 5, id="over-new-year"),
        # Sat 11 Apr -> Fri 10 Apr: [10, 11) = Fri -> -1 (inverse of add_working_days(-1)).
        pytest.param("strict", D(2026, 4, 11), D(2026, 4, 10), -1, id="saturday-back"),
    ],
)
def test_working_days_between(
    profile: HolidayProfile, start: date, end: date, expected: int
) -> None:
    assert DutchCalendar(profile).working_days_between(start, end) == expected


CALENDARS = {"strict": DutchCalendar("strict"), "atw": DutchCalendar("atw")}


@given(
    day=st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)),
    count=st.integers(min_value=-40, max_value=40),
    profile=st.sampled_from(["strict", "atw"]),
)
def test_working_days_between_inverts_add_working_days(
    day: date, count: int, profile: HolidayProfile
) -> None:
    calendar = CALENDARS[profile]
    assert calendar.working_days_between(day, calendar.add_working_days(day, count)) == count


@given(day=st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)))
def test_roll_forward_lands_on_first_working_day(day: date) -> None:
    calendar = CALENDARS["strict"]
    rolled = calendar.roll_forward(day)
    assert calendar.is_working_day(rolled)
    skipped = (day + timedelta(days=n) for n in range((rolled - day).days))
    assert not any(calendar.is_working_day(d) for d in skipped)
