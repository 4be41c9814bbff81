"""`dsr breaches ...`: the breach track from a terminal (the same core functions as Slack)."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from bot import breaches as core
from bot.breach_facts import ITEMS, LABELS
from bot.breach_mail import draft_notice, draft_request, send_request
from bot.breach_register import REGISTER_COLUMNS, register_rows
from bot.csv_cells import safe_row
from handlers.cli.common import actor, desk, fail, parse_moment, print_json
from handlers.runtime import utcnow

REFUSALS = (core.UnknownBreach, core.BreachRefused)
HELP = "personal data breaches (datalekken) / datalekken"


def _yes_no(value: str) -> bool:
    word = value.strip().lower()
    if word in ("yes", "ja", "y", "j"):
        return True
    if word in ("no", "nee", "n"):
        return False
    raise argparse.ArgumentTypeError(f"{value!r}: answer yes or no (ja/nee)")


def register(commands: Any) -> None:
    parser = commands.add_parser("breaches", help=HELP)
    sub = parser.add_subparsers(dest="breach_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="breaches / datalekken")
    listing.add_argument("--open", action="store_true", help="only those without a decision")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)

    show = sub.add_parser("show", help="one breach with its checklist / één datalek")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    new = sub.add_parser("new", help="record a breach reported by phone / telefonische melding")
    new.add_argument("--reporter", required=True, help="who reported it (mail address or name)")
    new.add_argument("--name", default="", help="the reporter's name")
    new.add_argument("--aware-at", help="when the firm became aware (ISO 8601; default: now)")
    new.add_argument("--reason", help="why aware-at is not now (required with --aware-at)")
    new.add_argument("--language", choices=("nl", "en"), default="nl")
    for item in ITEMS:
        new.add_argument(f"--{item.replace('_', '-')}", dest=item, help=LABELS["en"][item])
    new.set_defaults(func=run_new)

    change = sub.add_parser("update", help="set a checklist item or fact / gegeven aanvullen")
    change.add_argument("reference")
    change.add_argument("--field", required=True, choices=core.FIELDS)
    change.add_argument("--value", required=True)
    change.add_argument("--reason", help="why (required for aware_at)")
    change.set_defaults(func=run_update)

    decide = sub.add_parser("decide", help="notify the AP and the people? / melden of niet")
    decide.add_argument("reference")
    decide.add_argument("--ap", required=True, type=_yes_no, help="notify the AP: yes|no")
    decide.add_argument("--subjects", required=True, type=_yes_no, help="tell the people: yes|no")
    decide.add_argument("--reasons", required=True, help="the risk assessment in words")
    decide.add_argument("--subjects-reasons", help="why the people are (not) told, if different")
    decide.add_argument("--ap-number", help="the AP's meldingsnummer")
    decide.set_defaults(func=run_decide)

    ask = sub.add_parser("send-request", help="ask the reporter for the missing items")
    ask.add_argument("reference")
    ask.add_argument("--confirm", action="store_true", help="send it (without: show the draft)")
    ask.set_defaults(func=run_send_request)

    notice = sub.add_parser("notice", help="the drafted notice to the people concerned")
    notice.add_argument("reference")
    notice.add_argument("--language", choices=("nl", "en"), default="nl")
    notice.set_defaults(func=run_notice)

    export = sub.add_parser("export", help="the breach register as CSV / register datalekken")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(func=run_export)


def run_list(args: argparse.Namespace) -> int:
    the_desk, now = desk(), utcnow()
    rows = [
        core.summary(b, tz=the_desk.tz, now=now)
        for b in core.all_breaches(the_desk, open_only=args.open)
    ]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['reference']}  {row['state']:<8} due {row['due'][:16]} "
            f"({row['hours_left']:+.0f} h)  missing {len(row['missing'])}  {row['reporter']}"
        )
    print(f"{len(rows)} breach(es)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    the_desk, now = desk(), utcnow()
    try:
        breach = core.get(the_desk, reference=args.reference)
    except REFUSALS as exc:
        return fail(str(exc))
    shown = core.detail(the_desk, breach, now=now)
    draft = draft_request(breach)
    shown["request_draft"] = (
        {"to": draft.to, "subject": draft.mail.subject, "text": draft.mail.text} if draft else None
    )
    if args.json:
        print_json(shown)
        return 0
    print(f"{shown['reference']} ({shown['state']}), aware {shown['aware_at']}, due {shown['due']}")
    for item in ITEMS:
        fact = shown["checklist"][item]
        print(f"  {item:<20} {fact['value'] if fact else '-- missing --'}")
    if shown["decision"]:
        print(f"decision: {shown['decision']}")
    if draft is not None:
        print(f"\ndraft to the reporter (dsr breaches send-request {breach.reference} --confirm):")
        print(f"Subject: {draft.mail.subject}\n\n{draft.mail.text}")
    return 0


def run_new(args: argparse.Namespace) -> int:
    try:
        aware_at = parse_moment(args.aware_at) if args.aware_at else None
        reference = core.report_breach(
            desk(),
            reporter=args.reporter,
            reporter_name=args.name,
            items={item: value for item in ITEMS if (value := getattr(args, item, None))},
            language=args.language,
            aware_at=aware_at,
            reason=args.reason,
            actor=actor(),
            now=utcnow(),
        )
    except (ValueError, *REFUSALS) as exc:
        return fail(str(exc))
    print(f"breach {reference} recorded; the 72-hour clock runs from its aware_at")
    return 0


def run_update(args: argparse.Namespace) -> int:
    try:
        breach = core.update_field(
            desk(),
            reference=args.reference,
            field=args.field,
            value=args.value,
            reason=args.reason,
            actor=actor(),
            now=utcnow(),
        )
    except REFUSALS as exc:
        return fail(str(exc))
    print(f"{breach.reference}: {args.field} recorded")
    return 0


def run_decide(args: argparse.Namespace) -> int:
    decision = core.Decision(
        ap=args.ap,
        subjects=args.subjects,
        reasons=args.reasons,
        ap_number=args.ap_number,
        subjects_reasons=args.subjects_reasons,
    )
    try:
        breach = core.decide(
            desk(), reference=args.reference, decision=decision, actor=actor(), now=utcnow()
        )
    except REFUSALS as exc:
        return fail(str(exc))
    ap = "the AP is notified" if breach.ap_notified else "not notified to the AP"
    print(f"{breach.reference}: decision recorded ({ap})")
    if breach.subjects_told:
        print(f"draft notice to the people concerned: dsr breaches notice {breach.reference}")
    return 0


def run_send_request(args: argparse.Namespace) -> int:
    the_desk = desk()
    try:
        if not args.confirm:
            draft = draft_request(core.get(the_desk, reference=args.reference))
            if draft is None:
                return fail(f"nothing to ask for {args.reference.upper()}")
            print(f"To: {draft.to}\nSubject: {draft.mail.subject}\n\n{draft.mail.text}")
            print("not sent; run again with --confirm to send it")
            return 0
        sent = send_request(the_desk, reference=args.reference, actor=actor(), now=utcnow())
    except REFUSALS as exc:
        return fail(str(exc))
    print(f"{args.reference.upper()}: question about {len(sent.items)} item(s) queued")
    return 0


def run_notice(args: argparse.Namespace) -> int:
    try:
        breach = core.get(desk(), reference=args.reference)
    except REFUSALS as exc:
        return fail(str(exc))
    rendered = draft_notice(breach, language=args.language)
    if breach.subjects_told is not True:
        decided = "not to tell them" if breach.subjects_told is False else "nothing yet"
        print(
            f"dsr: note: the decision on telling the people concerned is {decided}; this is a "
            "draft only (dsr breaches decide records the decision)",
            file=sys.stderr,
        )
    print(f"Subject: {rendered.subject}\n\n{rendered.text}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    rows = list(register_rows(desk()))
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=REGISTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(safe_row(row) for row in rows)
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"{len(rows)} breach(es) written to {args.output}", file=sys.stderr)
    return 0
