"""Legal deadline: vectors worked out by hand against `python3 -m calendar 2026` etc.

Each vector: receipt -> local date -> same date next month (clamped) -> roll to a working day;
extended = min(receipt + 3 months, unrolled + 2 months), rolled the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar_nl import DutchCalendar, HolidayProfile
from bot.deadline import (
    ExtensionRefused,
    IdentityClock,
    compute_deadline,
    days_left,
    ensure_extension_allowed,
    is_overdue,
)

AMS = ZoneInfo("Europe/Amsterdam")
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
D = date


def at(year: int, month: int, day: int, hour: int, minute: int, tz: timezone) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return at(year, month, day, hour, minute, UTC)


DEADLINE_VECTORS = [
    # --- plain and month ends ---
    # Tue 10 Mar -> Fri 10 Apr (working); ext 10 Jun Wed.
    pytest.param(at(2026, 3, 10, 10, 0, CET), "strict", D(2026, 4, 10), D(2026, 6, 10), id="plain"),
    # 31 Jan 2026 (Sat): no 31 Feb -> Sat 28 Feb -> Mon 2 Mar.
    # ext: min(30 Apr, 28 Feb + 2 months = 28 Apr) = Tue 28 Apr.
    pytest.param(
        at(2026, 1, 31, 12, 0, CET), "strict", D(2026, 3, 2), D(2026, 4, 28), id="31jan-nonleap"
    ),
    # 31 Jan 2028 (leap): Tue 29 Feb. ext: min(30 Apr, 29 Apr Sat) -> Sun -> Mon 1 May.
    pytest.param(
        at(2028, 1, 31, 9, 0, CET), "strict", D(2028, 2, 29), D(2028, 5, 1), id="31jan-leap"
    ),
    # 29 Feb 2028 -> Wed 29 Mar. ext 29 May Mon (Hemelvaart 25 May, Pinksteren 4/5 Jun).
    pytest.param(
        at(2028, 2, 29, 10, 0, CET), "strict", D(2028, 3, 29), D(2028, 5, 29), id="29feb-leap"
    ),
    # 28 Feb 2026 (Sat) -> Sat 28 Mar -> Mon 30 Mar. ext Thu 28 May.
    pytest.param(
        at(2026, 2, 28, 10, 0, CET), "strict", D(2026, 3, 30), D(2026, 5, 28), id="28feb-nonleap"
    ),
    # 31 Mar -> 30 Apr (Thu). ext: min(30 Jun, 30 Jun) = Tue 30 Jun.
    pytest.param(
        at(2026, 3, 31, 10, 0, CEST), "strict", D(2026, 4, 30), D(2026, 6, 30), id="31mar-30apr"
    ),
    # 30 Apr -> Sat 30 May -> Mon 1 Jun. ext Thu 30 Jul.
    pytest.param(
        at(2026, 4, 30, 10, 0, CEST), "strict", D(2026, 6, 1), D(2026, 7, 30), id="30apr-30may"
    ),
    # 31 Aug -> Wed 30 Sep. ext: min(30 Nov, 30 Nov) = Mon 30 Nov.
    pytest.param(
        at(2026, 8, 31, 10, 0, CEST), "strict", D(2026, 9, 30), D(2026, 11, 30), id="31aug-30sep"
    ),
    # 31 Oct (Sat) -> Mon 30 Nov. ext: min(31 Jan, 30 Jan Sat) -> Mon 1 Feb 2027.
    pytest.param(
        at(2026, 10, 31, 10, 0, CET), "strict", D(2026, 11, 30), D(2027, 2, 1), id="31oct-30nov"
    ),
    # --- each strict holiday as the unrolled due date ---
    # 6 Mar -> Mon 6 Apr Tweede Paasdag -> Tue 7 Apr. ext Sat 6 Jun -> Mon 8 Jun.
    pytest.param(
        at(2026, 3, 6, 10, 0, CET), "strict", D(2026, 4, 7), D(2026, 6, 8), id="tweede-paasdag"
    ),
    # 28 Feb 2027 (Sun) -> Sun 28 Mar Eerste Paasdag, Mon 29 Tweede -> Tue 30. ext Fri 28 May.
    pytest.param(
        at(2027, 2, 28, 10, 0, CET), "strict", D(2027, 3, 30), D(2027, 5, 28), id="eerste-paasdag"
    ),
    # 27 Mar -> Mon 27 Apr Koningsdag -> Tue 28 Apr. ext Sat 27 Jun -> Mon 29 Jun.
    pytest.param(
        at(2026, 3, 27, 10, 0, CET), "strict", D(2026, 4, 28), D(2026, 6, 29), id="koningsdag"
    ),
    # 2025: 27 Apr is a Sunday, Koningsdag is Sat 26 Apr -> Sun 27 (no holiday) -> Mon 28 Apr.
    # ext: 26 Jun Thu.
    pytest.param(
        at(2025, 3, 26, 10, 0, CET),
        "strict",
        D(2025, 4, 28),
        D(2025, 6, 26),
        id="koningsdag-2025-on-saturday",
    ),
    # Lustrum year: Mon 5 May 2025 Bevrijdingsdag -> Tue 6 May. ext Sat 5 Jul -> Mon 7 Jul.
    pytest.param(
        at(2025, 4, 5, 10, 0, CEST),
        "strict",
        D(2025, 5, 6),
        D(2025, 7, 7),
        id="bevrijdingsdag-2025-lustrum",
    ),
    # 14 Apr -> Thu 14 May Hemelvaartsdag -> Fri 15 May. ext Tue 14 Jul.
    pytest.param(
        at(2026, 4, 14, 10, 0, CEST), "strict", D(2026, 5, 15), D(2026, 7, 14), id="hemelvaart"
    ),
    # 25 Apr (Sat) -> Mon 25 May Tweede Pinksterdag -> Tue 26 May. ext Sat 25 Jul -> Mon 27 Jul.
    pytest.param(
        at(2026, 4, 25, 10, 0, CEST),
        "strict",
        D(2026, 5, 26),
        D(2026, 7, 27),
        id="tweede-pinksterdag",
    ),
    # 24 Apr 2027 (Sat) -> Mon 24 May: ordinary; ext Sat 24 Jul -> Mon 26 Jul. (control: the
    # week after Pinksteren 2027, 16/17 May, is untouched)
    pytest.param(
        at(2027, 4, 24, 10, 0, CEST),
        "strict",
        D(2027, 5, 24),
        D(2027, 7, 26),
        id="after-pinksteren-2027",
    ),
    # 1 Dec -> Fri 1 Jan 2027 Nieuwjaarsdag, Sat, Sun -> Mon 4 Jan. ext: Mon 1 Mar.
    pytest.param(
        at(2026, 12, 1, 10, 0, CET), "strict", D(2027, 1, 4), D(2027, 3, 1), id="nieuwjaarsdag"
    ),
    # 25 Nov -> Fri 25 Dec Eerste Kerstdag, Sat 26, Sun 27 -> Mon 28 Dec. ext Thu 25 Feb.
    pytest.param(
        at(2026, 11, 25, 10, 0, CET), "strict", D(2026, 12, 28), D(2027, 2, 25), id="kerstdag"
    ),
    # 26 Nov 2025 -> Fri 26 Dec Tweede Kerstdag, Sat, Sun -> Mon 29 Dec. ext Thu 26 Feb 2026.
    pytest.param(
        at(2025, 11, 26, 10, 0, CET),
        "strict",
        D(2025, 12, 29),
        D(2026, 2, 26),
        id="tweede-kerstdag",
    ),
    # --- atw differences ---
    # 3 Mar -> Fri 3 Apr Goede Vrijdag: working in strict; atw: Fri, Sat, Sun, Mon -> Tue 7.
    # ext Wed 3 Jun in both.
    pytest.param(
        at(2026, 3, 3, 10, 0, CET), "strict", D(2026, 4, 3), D(2026, 6, 3), id="gv-strict"
    ),
    pytest.param(at(2026, 3, 3, 10, 0, CET), "atw", D(2026, 4, 7), D(2026, 6, 3), id="gv-atw"),
    # 26 Feb 2027 -> Fri 26 Mar Goede Vrijdag 2027; atw -> Tue 30 Mar. ext Wed 26 May.
    pytest.param(
        at(2027, 2, 26, 10, 0, CET), "strict", D(2027, 3, 26), D(2027, 5, 26), id="gv-2027-strict"
    ),
    pytest.param(
        at(2027, 2, 26, 10, 0, CET), "atw", D(2027, 3, 30), D(2027, 5, 26), id="gv-2027-atw"
    ),
    # 5 Apr 2026 (Easter Sunday receipt) -> Tue 5 May: working in strict (no lustrum);
    # atw -> Wed 6 May. ext Sun 5 Jul -> Mon 6 Jul.
    pytest.param(
        at(2026, 4, 5, 10, 0, CEST), "strict", D(2026, 5, 5), D(2026, 7, 6), id="5mei-2026-strict"
    ),
    pytest.param(
        at(2026, 4, 5, 10, 0, CEST), "atw", D(2026, 5, 6), D(2026, 7, 6), id="5mei-2026-atw"
    ),
    # 5 Apr 2027 -> Wed 5 May: strict working; atw -> Thu 6 Hemelvaart -> Fri 7. ext Mon 5 Jul.
    pytest.param(
        at(2027, 4, 5, 10, 0, CEST), "strict", D(2027, 5, 5), D(2027, 7, 5), id="5mei-2027-strict"
    ),
    pytest.param(
        at(2027, 4, 5, 10, 0, CEST), "atw", D(2027, 5, 7), D(2027, 7, 5), id="5mei-2027-atw"
    ),
    # Lustrum year: same answer in both profiles (Tue 6 May 2025).
    pytest.param(
        at(2025, 4, 5, 10, 0, CEST), "atw", D(2025, 5, 6), D(2025, 7, 7), id="5mei-2025-atw"
    ),
    # --- weekend receipt ---
    # Sun 1 Mar -> Wed 1 Apr. ext Mon 1 Jun.
    pytest.param(
        at(2026, 3, 1, 10, 0, CET), "strict", D(2026, 4, 1), D(2026, 6, 1), id="sunday-receipt"
    ),
    # --- local date of receipt (UTC inputs, after midnight) ---
    # 2026-03-31T22:30Z = 1 Apr 00:30 CEST -> Fri 1 May (not a Dutch holiday). ext Wed 1 Jul.
    pytest.param(
        utc(2026, 3, 31, 22, 30), "strict", D(2026, 5, 1), D(2026, 7, 1), id="utc-is-1-april"
    ),
    # 2026-06-14T22:30Z = Mon 15 Jun 00:30 CEST -> Wed 15 Jul (UTC date would give 14 Jul).
    # ext Tue 15 Sep.
    pytest.param(
        utc(2026, 6, 14, 22, 30), "strict", D(2026, 7, 15), D(2026, 9, 15), id="utc-after-midnight"
    ),
    # Same instant written as 00:30 CEST.
    pytest.param(
        at(2026, 6, 15, 0, 30, CEST),
        "strict",
        D(2026, 7, 15),
        D(2026, 9, 15),
        id="cest-after-midnight",
    ),
    # Winter: 2026-01-14T23:30Z = Thu 15 Jan 00:30 CET -> Sun 15 Feb -> Mon 16 Feb. ext Wed 15 Apr.
    pytest.param(
        utc(2026, 1, 14, 23, 30), "strict", D(2026, 2, 16), D(2026, 4, 15), id="utc-winter"
    ),
    # --- DST change days (2026: 29 Mar and 25 Oct; 2025: 30 Mar) ---
    # 2026-03-28T23:30Z = Sun 29 Mar 00:30 CET -> Wed 29 Apr. ext Mon 29 Jun.
    pytest.param(
        utc(2026, 3, 28, 23, 30), "strict", D(2026, 4, 29), D(2026, 6, 29), id="dst-spring-start"
    ),
    # 2026-03-29T21:59Z = 23:59 CEST, still 29 Mar.
    pytest.param(
        utc(2026, 3, 29, 21, 59), "strict", D(2026, 4, 29), D(2026, 6, 29), id="dst-spring-end"
    ),
    # 2026-03-29T22:30Z = Mon 30 Mar 00:30 CEST -> Thu 30 Apr. ext Tue 30 Jun.
    pytest.param(
        utc(2026, 3, 29, 22, 30), "strict", D(2026, 4, 30), D(2026, 6, 30), id="dst-spring-next"
    ),
    # 2025-03-29T23:30Z = Sun 30 Mar 2025 00:30 CET -> Wed 30 Apr. ext Mon 30 Jun.
    pytest.param(
        utc(2025, 3, 29, 23, 30), "strict", D(2025, 4, 30), D(2025, 6, 30), id="dst-spring-2025"
    ),
    # 2026-10-24T22:30Z = Sun 25 Oct 00:30 CEST -> Wed 25 Nov. ext Mon 25 Jan 2027.
    pytest.param(
        utc(2026, 10, 24, 22, 30), "strict", D(2026, 11, 25), D(2027, 1, 25), id="dst-autumn-start"
    ),
    # 2026-10-25T22:59Z = 23:59 CET, still 25 Oct.
    pytest.param(
        utc(2026, 10, 25, 22, 59), "strict", D(2026, 11, 25), D(2027, 1, 25), id="dst-autumn-end"
    ),
    # 2026-10-25T23:30Z = Mon 26 Oct 00:30 CET -> Thu 26 Nov. ext Tue 26 Jan 2027.
    pytest.param(
        utc(2026, 10, 25, 23, 30), "strict", D(2026, 11, 26), D(2027, 1, 26), id="dst-autumn-next"
    ),
]


@pytest.mark.parametrize(("received", "profile", "due", "extended_due"), DEADLINE_VECTORS)
def test_compute_deadline(
    received: datetime, profile: HolidayProfile, due: date, extended_due: date
) -> None:
    deadline = compute_deadline(received=received, tz=AMS, calendar=DutchCalendar(profile))
    assert (deadline.due, deadline.extended_due) == (due, extended_due)


@pytest.mark.parametrize(
    ("received", "local_day"),
    [
        pytest.param(utc(2026, 3, 31, 22, 30), D(2026, 4, 1), id="utc-22:30-cest"),
        pytest.param(utc(2026, 1, 14, 22, 59), D(2026, 1, 14), id="utc-22:59-cet"),
        pytest.param(utc(2026, 1, 14, 23, 0), D(2026, 1, 15), id="utc-23:00-cet"),
        pytest.param(datetime(2026, 4, 1, 0, 30, tzinfo=AMS), D(2026, 4, 1), id="zoneinfo"),
    ],
)
def test_received_on_is_the_local_date(received: datetime, local_day: date) -> None:
    deadline = compute_deadline(received=received, tz=AMS, calendar=DutchCalendar())
    assert deadline.received_on == local_day
    assert deadline.received == received


def test_naive_receipt_is_refused() -> None:
    with pytest.raises(ValueError, match="received must be timezone-aware"):
        compute_deadline(received=datetime(2026, 4, 1, 9, 0), tz=AMS, calendar=DutchCalendar())  # noqa: DTZ001


# --- EDPB identity clock; receipt Tue 10 Mar 2026 (no_wait: due 10 Apr, ext 10 Jun) ---
RECEIVED = at(2026, 3, 10, 10, 0, CET)
# Receipt Thu 2 Apr 2026: 3 working days later is Wed 8 Apr in strict (Fri 3, Tue 7, Wed 8),
# Thu 9 Apr in atw (Good Friday off). Unrolled Sat 2 May; ext unrolled Thu 2 Jul.
RECEIVED_EASTER = at(2026, 4, 2, 10, 0, CEST)

IDENTITY_VECTORS = [
    # Asked at once, verified 7 days later: 10 Apr + 7 = Fri 17 Apr; ext 10 Jun + 7 = Wed 17 Jun.
    pytest.param(
        RECEIVED,
        "strict",
        "edpb",
        at(2026, 3, 10, 10, 5, CET),
        at(2026, 3, 17, 9, 0, CET),
        D(2026, 4, 17),
        D(2026, 6, 17),
        id="edpb-7-days",
    ),
    # Same dates, default setting: the clock does not wait.
    pytest.param(
        RECEIVED,
        "strict",
        "no_wait",
        at(2026, 3, 10, 10, 5, CET),
        at(2026, 3, 17, 9, 0, CET),
        D(2026, 4, 10),
        D(2026, 6, 10),
        id="no-wait-ignores-identity",
    ),
    # Not yet verified: nothing added (yet).
    pytest.param(
        RECEIVED,
        "strict",
        "edpb",
        at(2026, 3, 10, 10, 5, CET),
        None,
        D(2026, 4, 10),
        D(2026, 6, 10),
        id="edpb-not-verified",
    ),
    # Local dates count: asked 10 Mar 23:30 CET, verified 12 Mar 00:30 CET (11 Mar in UTC)
    # -> 2 days: Sun 12 Apr -> Mon 13 Apr; ext Fri 12 Jun.
    pytest.param(
        RECEIVED,
        "strict",
        "edpb",
        utc(2026, 3, 10, 22, 30),
        utc(2026, 3, 11, 23, 30),
        D(2026, 4, 13),
        D(2026, 6, 12),
        id="edpb-local-dates",
    ),
    # Asked on the 3rd working day (Wed 8 Apr), verified Mon 13 Apr: 5 days.
    # Sat 2 May + 5 = Thu 7 May; ext Thu 2 Jul + 5 = Tue 7 Jul.
    pytest.param(
        RECEIVED_EASTER,
        "strict",
        "edpb",
        at(2026, 4, 8, 16, 0, CEST),
        at(2026, 4, 13, 10, 0, CEST),
        D(2026, 5, 7),
        D(2026, 7, 7),
        id="edpb-3rd-working-day",
    ),
    # Asked on the 4th working day (Thu 9 Apr) in strict: nothing added.
    # Sat 2 May -> Mon 4 May; ext Thu 2 Jul.
    pytest.param(
        RECEIVED_EASTER,
        "strict",
        "edpb",
        at(2026, 4, 9, 9, 0, CEST),
        at(2026, 4, 13, 10, 0, CEST),
        D(2026, 5, 4),
        D(2026, 7, 2),
        id="edpb-asked-too-late",
    ),
    # In atw Thu 9 Apr is still the 3rd working day: 4 days added.
    # Sat 2 May + 4 = Wed 6 May; ext 2 Jul + 4 = Mon 6 Jul.
    pytest.param(
        RECEIVED_EASTER,
        "atw",
        "edpb",
        at(2026, 4, 9, 9, 0, CEST),
        at(2026, 4, 13, 10, 0, CEST),
        D(2026, 5, 6),
        D(2026, 7, 6),
        id="edpb-atw-good-friday",
    ),
]


@pytest.mark.parametrize(
    ("received", "profile", "clock", "requested", "verified", "due", "extended_due"),
    IDENTITY_VECTORS,
)
def test_identity_clock(
    received: datetime,
    profile: HolidayProfile,
    clock: IdentityClock,
    requested: datetime | None,
    verified: datetime | None,
    due: date,
    extended_due: date,
) -> None:
    deadline = compute_deadline(
        received=received,
        tz=AMS,
        calendar=DutchCalendar(profile),
        identity_clock=clock,
        identity_requested=requested,
        identity_verified=verified,
    )
    assert (deadline.due, deadline.extended_due) == (due, extended_due)


def test_identity_verified_before_requested_is_refused() -> None:
    with pytest.raises(ValueError, match="identity dates out of order"):
        compute_deadline(
            received=RECEIVED,
            tz=AMS,
            calendar=DutchCalendar(),
            identity_clock="edpb",
            identity_requested=at(2026, 3, 12, 9, 0, CET),
            identity_verified=at(2026, 3, 11, 9, 0, CET),
        )


def test_naive_identity_time_is_refused() -> None:
    with pytest.raises(ValueError, match="identity_verified must be timezone-aware"):
        compute_deadline(
            received=RECEIVED,
            tz=AMS,
            calendar=DutchCalendar(),
            identity_clock="edpb",
            identity_requested=at(2026, 3, 10, 11, 0, CET),
            identity_verified=datetime(2026, 3, 12, 9, 0),  # noqa: DTZ001
        )


# --- extension: allowed up to the end of the due day, local time ---
@pytest.mark.parametrize(
    ("due", "now"),
    [
        pytest.param(D(2026, 12, 28), at(2026, 12, 28, 23, 59, CET), id="23:59-local"),
        # 22:59:59Z = 23:59:59 CET on the due day.
        pytest.param(
            D(2026, 12, 28),
            datetime(2026, 12, 28, 22, 59, 59, tzinfo=UTC),
            id="23:59:59-cet-as-utc",
        ),
        pytest.param(D(2026, 12, 28), at(2026, 12, 1, 9, 0, CET), id="well-before"),
        # Summer: 21:59Z = 23:59 CEST on 15 Jul.
        pytest.param(D(2026, 7, 15), utc(2026, 7, 15, 21, 59), id="23:59-cest-as-utc"),
    ],
)
def test_extension_allowed_until_end_of_due_day(due: date, now: datetime) -> None:
    ensure_extension_allowed(reference="DSR-2026-0042", due=due, now=now, tz=AMS)


@pytest.mark.parametrize(
    ("due", "now"),
    [
        # 23:00Z = 00:00 CET on 29 Dec: the due day has ended.
        pytest.param(D(2026, 12, 28), utc(2026, 12, 28, 23, 0), id="midnight-cet-as-utc"),
        pytest.param(D(2026, 12, 28), at(2026, 12, 29, 0, 0, CET), id="next-day"),
        # 22:00Z = 00:00 CEST on 16 Jul.
        pytest.param(D(2026, 7, 15), utc(2026, 7, 15, 22, 0), id="midnight-cest-as-utc"),
    ],
)
def test_extension_refused_after_due_day(due: date, now: datetime) -> None:
    with pytest.raises(ExtensionRefused) as refused:
        ensure_extension_allowed(reference="DSR-2026-0042", due=due, now=now, tz=AMS)
    assert refused.value.reference == "DSR-2026-0042"
    assert refused.value.due == due


def test_extension_refused_message() -> None:
    with pytest.raises(ExtensionRefused) as refused:
        ensure_extension_allowed(
            reference="DSR-2026-0042", due=D(2026, 12, 28), now=utc(2026, 12, 29, 8, 0), tz=AMS
        )
    assert str(refused.value) == (
        "cannot extend DSR-2026-0042: the deadline of 2026-12-28 has passed; "
        "an extension must be announced before it ends"
    )


def test_extension_check_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        ensure_extension_allowed(
            reference="DSR-2026-0042",
            due=D(2026, 12, 28),
            now=datetime(2026, 12, 28, 12, 0),  # noqa: DTZ001
            tz=AMS,
        )


# --- days left / overdue, due Fri 10 Apr 2026 (CEST) ---
@pytest.mark.parametrize(
    ("due", "now", "left", "overdue"),
    [
        # 1 Apr -> 10 Apr: 9 days.
        pytest.param(D(2026, 4, 10), at(2026, 4, 1, 12, 0, CEST), 9, False, id="nine-days"),
        pytest.param(D(2026, 4, 10), at(2026, 4, 10, 23, 59, CEST), 0, False, id="due-day"),
        # 22:30Z on 9 Apr is 00:30 CEST on 10 Apr: already the due day.
        pytest.param(D(2026, 4, 10), utc(2026, 4, 9, 22, 30), 0, False, id="due-day-utc"),
        # 22:00Z on 10 Apr is 00:00 CEST on 11 Apr: overdue by one day.
        pytest.param(D(2026, 4, 10), utc(2026, 4, 10, 22, 0), -1, True, id="overdue-utc"),
        pytest.param(D(2026, 4, 10), at(2026, 4, 20, 9, 0, CEST), -10, True, id="ten-overdue"),
        # Across the spring DST change: 23:30Z 28 Mar = 00:30 CET 29 Mar; due Mon 30 Mar.
        pytest.param(D(2026, 3, 30), utc(2026, 3, 28, 23, 30), 1, False, id="over-dst"),
    ],
)
def test_days_left_and_overdue(due: date, now: datetime, left: int, overdue: bool) -> None:
    assert days_left(due=due, now=now, tz=AMS) == left
    assert is_overdue(due=due, now=now, tz=AMS) is overdue


STRICT = DutchCalendar("strict")


@given(
    received=st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001
        max_value=datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_deadline_invariants(received: datetime) -> None:
    deadline = compute_deadline(received=received, tz=AMS, calendar=STRICT)
    assert STRICT.is_working_day(deadline.due)
    assert STRICT.is_working_day(deadline.extended_due)
    # One month is 28 to 31 days; rolling adds at most 5 (Christmas/New Year, Easter).
    assert 28 <= (deadline.due - deadline.received_on).days <= 31 + 5
    assert deadline.extended_due > deadline.due
