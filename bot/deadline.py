"""The legal deadline of a data-subject request (GDPR art. 12(3), Regulation 1182/71).

Pure functions: the clock and the timezone come in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.calendar_nl import DutchCalendar, add_months

IdentityClock = Literal["no_wait", "edpb"]

# EDPB reading (Guidelines 01/2022, right of access): the clock waits for identity only when
# the controller asked for it without undue delay; the desk's rule is 3 working days.
IDENTITY_REQUEST_WORKING_DAYS = 3


@dataclass(frozen=True)
class Deadline:
    """When an answer is due; dates are the last day on which it is on time (local)."""

    received: datetime
    received_on: date
    due: date
    extended_due: date


class ExtensionRefused(Exception):
    """An extension was asked for after the original deadline had passed."""

    def __init__(self, *, reference: str, due: date) -> None:
        self.reference = reference
        self.due = due
        super().__init__(
            f"cannot extend {reference}: the deadline of {due.isoformat()} has passed; "
            "an extension must be announced before it ends"
        )


def local_date(moment: datetime, *, tz: ZoneInfo, name: str) -> date:
    """The calendar date of an aware `moment` in `tz`; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware, got naive {moment.isoformat()}; "
            "attach a timezone (e.g. UTC) at the edge"
        )
    return moment.astimezone(tz).date()


def compute_deadline(
    *,
    received: datetime,
    tz: ZoneInfo,
    calendar: DutchCalendar,
    identity_clock: IdentityClock = "no_wait",
    identity_requested: datetime | None = None,
    identity_verified: datetime | None = None,
) -> Deadline:
    """The due date and the extended due date of a request received at `received`."""
    # Receipt is the local day the mail arrived (00:30 CEST is that day, not the UTC one).
    received_on = local_date(received, tz=tz, name="received")
    # Regulation 1182/71 art. 3(1)-(2)(c): one month, same date or the month's last day.
    unrolled = add_months(received_on, 1)
    pause = _identity_pause(
        received_on=received_on,
        tz=tz,
        calendar=calendar,
        identity_clock=identity_clock,
        requested=identity_requested,
        verified=identity_verified,
    )
    # GDPR art. 12(3): two further months, never beyond three months from receipt.
    extended = min(add_months(received_on, 3), add_months(unrolled, 2))
    return Deadline(
        received=received,
        received_on=received_on,
        # Regulation 1182/71 art. 3(4): a period ending on a non-working day rolls forward.
        due=calendar.roll_forward(unrolled + pause),
        extended_due=calendar.roll_forward(extended + pause),
    )


def _identity_pause(
    *,
    received_on: date,
    tz: ZoneInfo,
    calendar: DutchCalendar,
    identity_clock: IdentityClock,
    requested: datetime | None,
    verified: datetime | None,
) -> timedelta:
    """Calendar days the clock waited for identity (EDPB reading); zero by default."""
    if identity_clock == "no_wait" or requested is None or verified is None:
        return timedelta(0)
    requested_on = local_date(requested, tz=tz, name="identity_requested")
    verified_on = local_date(verified, tz=tz, name="identity_verified")
    if requested_on < received_on or verified_on < requested_on:
        raise ValueError(
            f"identity dates out of order: received {received_on}, requested {requested_on}, "
            f"verified {verified_on}; check the case's audit trail"
        )
    latest = calendar.add_working_days(received_on, IDENTITY_REQUEST_WORKING_DAYS)
    if requested_on > latest:
        # Asked too late: the controller's delay does not stop the clock.
        return timedelta(0)
    return verified_on - requested_on


def ensure_extension_allowed(*, reference: str, due: date, now: datetime, tz: ZoneInfo) -> None:
    """Refuse an extension once the original deadline day has ended in `tz`."""
    # GDPR art. 12(3): the requester must be told of the extension within the first month.
    if local_date(now, tz=tz, name="now") > due:
        raise ExtensionRefused(reference=reference, due=due)


def days_left(*, due: date, now: datetime, tz: ZoneInfo) -> int:
    """Calendar days from the local date of `now` to `due`; negative when overdue."""
    return (due - local_date(now, tz=tz, name="now")).days


def is_overdue(*, due: date, now: datetime, tz: ZoneInfo) -> bool:
    """True once the local date is after the due date."""
    return local_date(now, tz=tz, name="now") > due
