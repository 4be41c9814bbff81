"""`dsr cases ...`: the triage actions from a terminal (the same core functions as Slack)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bot import cases as core
from bot.categories import UnknownKind
from bot.consent import consent_word, set_consent
from bot.deadline import ExtensionRefused
from bot.download_offer import ReissueRefused, reissue_link
from bot.download_upkeep import download_line, download_summary
from bot.states import IllegalTransition, State
from bot.views import case_detail, case_summary
from handlers.cli import package
from handlers.cli.common import CASE_LIST, actor, desk, fail, print_json, refusal
from handlers.runtime import utcnow
from storage.cases import get_case_by_reference

REFUSALS = (core.UnknownCase, core.ActionRefused, IllegalTransition, ExtensionRefused, UnknownKind)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "cases", help="list and act on cases / zaken bekijken en behandelen"
    )
    sub = parser.add_subparsers(dest="cases_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="case summaries / overzicht van zaken")
    listing.add_argument("--state", choices=[s.value for s in State])
    listing.add_argument("--overdue", action="store_true", help="only cases past their deadline")
    listing.add_argument("--due-within", type=_days, metavar="DAYS")
    listing.add_argument("--triage", action="store_true", help="only cases that need triage")
    listing.add_argument("--assignee")
    listing.add_argument("--all", action="store_true", help="include closed cases")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)

    show = sub.add_parser("show", help="one case in detail / één zaak in detail")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    _action(sub, "assign", "assign a case / zaak toewijzen", ["assignee"], run_assign)
    _action(sub, "kind", "change the kind / soort verzoek wijzigen", ["kind"], run_kind)
    _action(
        sub,
        "verify",
        "verify identity by hand / identiteit handmatig bevestigen",
        [],
        run_verify,
        note=True,
    )
    _action(
        sub,
        "extend",
        "extend by two months / termijn met twee maanden verlengen",
        [],
        run_extend,
        reasons=True,
    )
    closing = _action(
        sub, "close", "close a case / zaak afsluiten", ["outcome"], run_close, note=True
    )
    closing.add_argument(
        "--force", action="store_true", help="close as done with tasks open (the note says why)"
    )
    package.register(sub)
    consent = _action(
        sub,
        "consent",
        "may the client organisation be told / mag de opdrachtgever het weten",
        [],
        run_consent,
    )
    consent.add_argument("answer", choices=["yes", "no", "unknown"])
    consent.add_argument("--note", help="how the requester said so, for the case file")
    relink = _action(
        sub,
        "relink",
        "mail the requester a new download link / nieuwe downloadlink mailen",
        [],
        run_relink,
        note=True,
    )
    relink.description = (
        "For a case closed as done whose link expired, ran out or locked: every earlier link "
        "ends now and a new one goes to the requester's verified address (never shown here)."
    )


def _days(value: str) -> int:
    days = int(value)
    if not 0 <= days <= 366:
        raise argparse.ArgumentTypeError("DAYS must be between 0 and 366")
    return days


def _action(
    sub: Any,
    name: str,
    text: str,
    positionals: list[str],
    func: Callable[[argparse.Namespace], int],
    *,
    note: bool = False,
    reasons: bool = False,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text)
    parser.add_argument("reference")
    for positional in positionals:
        parser.add_argument(positional)
    if note:
        parser.add_argument("--note", required=True, help="note for the case file")
    if reasons:
        parser.add_argument("--reasons", required=True, help="reasons told to the requester")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=func)
    return parser


def run_list(args: argparse.Namespace) -> int:
    the_desk, now = desk(), utcnow()
    query = core.CaseQuery(
        state=args.state,
        overdue=args.overdue,
        due_within_days=args.due_within,
        triage=args.triage,
        assignee=args.assignee,
        include_closed=args.all,
    )
    rows = [
        case_summary(c, now=now, tz=the_desk.tz)
        for c in core.list_cases(the_desk, query=query, now=now)
    ]
    if args.json:
        print_json(rows)
        return 0
    print_rows(rows)
    return 0


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The terminal rendering of case summaries (also used by `dsr demo`)."""
    for row in rows:
        mark = "!" if row["overdue"] else " "
        print(
            f"{mark} {row['reference']:<15} {row['state']:<18} {row['category']:<18} "
            f"due {row['extended_due'] or row['due']}  {row['requester']}  "
            f"{row['assignee'] or '-'}"
        )
    print(f"{len(rows)} case(s)")


def run_show(args: argparse.Namespace) -> int:
    the_desk, now = desk(), utcnow()
    with the_desk.reading() as session:
        case = get_case_by_reference(session=session, reference=args.reference)
        if case is None:
            return fail(str(core.UnknownCase(args.reference, listing=CASE_LIST)))
        detail = case_detail(case, session=session, now=now, tz=the_desk.tz)
        detail["download"] = download_summary(session, case_id=case.id, tz=the_desk.tz)
    if args.json:
        print_json(detail)
        return 0
    print_detail(detail)
    return 0


def print_detail(detail: dict[str, Any]) -> None:
    """The terminal rendering of a case: one aligned line per field, then its messages
    (direction, time, subject; never a body) and its audit trail."""
    fields = {k: v for k, v in detail.items() if k not in {"messages", "events"}}
    width = max(map(len, fields))
    for key, value in fields.items():
        print(f"{key:<{width}}  {_shown(key, value)}")
    print(f"messages ({len(detail['messages'])})")
    for message in detail["messages"]:
        print(f"  {message['at']}  {message['direction']:<4} {message['subject'] or '-'}")
    print(f"events ({len(detail['events'])})")
    for event in detail["events"]:
        print(f"  {event['at']}  {event['actor']:<20} {event['action']}")


def _shown(key: str, value: Any) -> str:
    """A field's value for a person: `-` for none, lists comma-joined, yes/no for booleans."""
    if key == "client_may_be_informed":
        return consent_word(value)
    if key == "download":
        return download_line(value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return "-" if value is None or value == "" else str(value)


def _act(args: argparse.Namespace, call: Callable[..., Any], **kwargs: Any) -> int:
    the_desk, now = desk(), utcnow()
    try:
        case = call(the_desk, reference=args.reference, actor=actor(), now=now, **kwargs)
    except REFUSALS as exc:
        return fail(refusal(exc))
    summary = case_summary(case, now=now, tz=the_desk.tz)
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['reference']}: {summary['state']}")
    return 0


def run_assign(args: argparse.Namespace) -> int:
    return _act(args, core.assign, assignee=args.assignee)


def run_kind(args: argparse.Namespace) -> int:
    return _act(args, core.change_kind, kind=args.kind)


def run_verify(args: argparse.Namespace) -> int:
    return _act(args, core.verify_by_hand, note=args.note)


def run_extend(args: argparse.Namespace) -> int:
    return _act(args, core.extend, reasons=args.reasons)


def run_consent(args: argparse.Namespace) -> int:
    return _act(args, set_consent, value=args.answer, note=args.note)


def run_relink(args: argparse.Namespace) -> int:
    the_desk, now = desk(), utcnow()
    try:
        expires = reissue_link(
            the_desk, reference=args.reference, actor=actor(), note=args.note, now=now
        )
    except ReissueRefused as exc:
        return fail(str(exc))
    until = expires.astimezone(the_desk.tz).isoformat(timespec="minutes")
    if args.json:
        print_json({"reference": args.reference, "link_expires_at": expires.isoformat()})
    else:
        print(
            f"{args.reference}: a new download link was mailed to the requester; "
            f"valid until {until}"
        )
    return 0


def run_close(args: argparse.Namespace) -> int:
    return _act(args, core.close, outcome=args.outcome, note=args.note, force=args.force)
