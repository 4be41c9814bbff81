"""Reloading a page cannot fill a case's audit trail: a download link's page and the status
page record a view at most once an hour per link and state (per status access), while codes,
wrong codes, downloads and the lock are still audited every time (both databases; time is
passed in, never slept)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot import download_files, downloads
from bot import requester_status as status
from bot.desk import Desk
from bot.download_upkeep import purge_links
from bot.web_access import token_hash
from storage.models import AuditEvent
from storage.web import find_access
from tests.factories import new_case
from tests.handlers.web.site import LATER, closed_access_case, download_link, latest_code
from tests.handlers.web.work_trace import statements

START = LATER.replace(hour=12)
FLOOD = 1000


def _link(desk: Desk) -> tuple[str, str]:
    """(reference, token) of a closed access case's download link."""
    public = Desk(
        settings=desk.settings.model_copy(update={"public_url": "http://127.0.0.1:8080"}),
        engine=desk.engine,
    )
    reference = closed_access_case(public)
    return reference, download_link(public).rsplit("/", 1)[1]


def _events(desk: Desk, reference: str, action: str) -> list[AuditEvent]:
    with desk.reading() as session:
        statement = (
            select(AuditEvent)
            .where(AuditEvent.reference == reference, AuditEvent.action == action)
            .order_by(col(AuditEvent.id))
        )
        return list(session.exec(statement).all())


def _flood(desk: Desk, token: str, start: datetime, count: int = FLOOD) -> None:
    """`count` views of the link's page, spread over the 59 minutes after `start`."""
    step = timedelta(minutes=59) / count
    for i in range(count):
        view = downloads.view_link(desk, token=token, session_token=None, now=start + step * i)
        assert view.reference


def _packager(desk: Desk, reference: str, *, now: datetime) -> bytes:
    return b"PK-" + reference.encode()


def test_a_thousand_views_within_an_hour_are_one_audit_row(web_desk: Desk) -> None:
    """The bound: one `download_link_viewed` row per link per hour and state; 1,000 views of
    an open link within an hour write one row, the first, and later views take neither the
    audit chain's lock nor write an audit row."""
    reference, token = _link(web_desk)
    before = len(_events(web_desk, reference, "download_link_viewed"))
    _flood(web_desk, token, START)
    viewed = _events(web_desk, reference, "download_link_viewed")
    assert before == 0 and len(viewed) == 1
    assert viewed[0].at == START and viewed[0].details["state"] == "ok"
    with statements(web_desk.engine) as seen:
        downloads.view_link(
            web_desk, token=token, session_token=None, now=START + timedelta(minutes=59)
        )
    assert seen and not any("audit_event" in s or "advisory" in s for s in seen)


def test_instances_viewing_at_once_record_one_view(web_desk: Desk) -> None:
    """Four instances (threads, each with its own connection) reload the page at the same
    instant: the decision is taken under the link's row lock, so one of them records it."""
    reference, token = _link(web_desk)
    start = threading.Barrier(4)

    def reload() -> None:
        start.wait()
        for _ in range(10):
            downloads.view_link(web_desk, token=token, session_token=None, now=START)

    threads = [threading.Thread(target=reload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_events(web_desk, reference, "download_link_viewed")) == 1


def test_views_an_hour_apart_are_each_recorded(web_desk: Desk) -> None:
    reference, token = _link(web_desk)
    for minutes in (0, 30, 59, 60, 61, 120, 185):
        downloads.view_link(
            web_desk, token=token, session_token=None, now=START + timedelta(minutes=minutes)
        )
    recorded = [e.at for e in _events(web_desk, reference, "download_link_viewed")]
    assert recorded == [START + timedelta(minutes=m) for m in (0, 60, 120, 185)]


def test_codes_wrong_codes_and_downloads_are_audited_after_a_flood(web_desk: Desk) -> None:
    reference, token = _link(web_desk)
    _flood(web_desk, token, START, count=200)
    later = START + timedelta(minutes=59, seconds=30)
    assert downloads.send_code(web_desk, token=token, now=later).code_pending
    _, code = latest_code(web_desk)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    view, opened = downloads.check_code(web_desk, token=token, code=wrong, now=later)
    assert opened is None and view.wrong_codes == 1
    view, opened = downloads.check_code(web_desk, token=token, code=code, now=later)
    assert opened is not None
    _flood(web_desk, token, START, count=50)  # a reloaded page between the code and the file
    view, data = download_files.download(
        web_desk, token=token, session_token=opened, now=later, packager=_packager
    )
    assert data == b"PK-" + reference.encode()
    for action in (
        "download_code_sent",
        "download_code_wrong",
        "download_code_accepted",
        "downloaded",
    ):
        assert len(_events(web_desk, reference, action)) == 1, action
    assert len(_events(web_desk, reference, "download_link_viewed")) == 1


def test_a_lock_and_the_expiry_are_audited_and_shown_after_a_flood(web_desk: Desk) -> None:
    """Five wrong codes after a flood: five `download_code_wrong` and the lock; the first view
    of the locked link, and later of the expired one, is a row of its own even within the
    hour of the last recorded view (the state differs)."""
    reference, token = _link(web_desk)
    _flood(web_desk, token, START, count=100)
    at = START + timedelta(minutes=10)
    downloads.send_code(web_desk, token=token, now=at)
    _, code = latest_code(web_desk)
    for _ in range(5):
        downloads.check_code(web_desk, token=token, code=f"{(int(code) + 1) % 10**6:06d}", now=at)
    assert len(_events(web_desk, reference, "download_code_wrong")) == 5
    assert len(_events(web_desk, reference, "download_link_locked")) == 1
    _flood(web_desk, token, at, count=100)
    states = [e.details["state"] for e in _events(web_desk, reference, "download_link_viewed")]
    assert states == ["ok", "locked"]
    assert purge_links(web_desk, now=at) == 1
    assert len(_events(web_desk, reference, "download_package_purged")) == 1


def _opened_access(desk: Desk, reference: str, now: datetime) -> str:
    """The token of a status access whose code was typed right at `now`."""
    token = status.start(desk, reference=reference, address="jan.jansen@example.nl", now=now)
    with desk.reading() as session:
        access = find_access(session=session, token_hash=token_hash(token))
        assert access is not None
        code = access.code
    assert status.check(desk, token=token, code=code, now=now) == "ok"
    return token


def test_the_status_page_records_one_view_per_opened_access(web_desk: Desk) -> None:
    """Reloading the status page during its 30 minutes writes one `status_viewed` row; the
    next access (a fresh code) is recorded again."""
    case = new_case(web_desk)
    first = _opened_access(web_desk, case.reference, START)
    step = timedelta(minutes=29) / FLOOD
    for i in range(FLOOD):
        assert status.view(web_desk, token=first, now=START + step * i) is not None
    assert len(_events(web_desk, case.reference, "status_viewed")) == 1
    second = _opened_access(web_desk, case.reference, START + timedelta(minutes=5))
    assert status.view(web_desk, token=second, now=START + timedelta(minutes=6)) is not None
    assert status.view(web_desk, token=first, now=START + timedelta(minutes=7)) is not None
    recorded = [e.at for e in _events(web_desk, case.reference, "status_viewed")]
    assert recorded == [START, START + timedelta(minutes=6)]


def test_no_oracle_in_the_work_of_a_status_page_not_opened(web_desk: Desk) -> None:
    """The status page for an access whose pair matched but whose code was not typed, and for
    a token nobody was given: the same statements reach the database."""
    case = new_case(web_desk)
    real = status.start(
        web_desk, reference=case.reference, address="jan.jansen@example.nl", now=START
    )
    sent = []
    for token in (real, "x" * 43):
        with statements(web_desk.engine) as seen:
            assert status.view(web_desk, token=token, now=START) is None
        sent.append(seen)
    assert sent[0] == sent[1] and sent[0]
