"""`dsr audit verify|export`, `dsr register export` and `dsr purge`: accountability."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.audit_export import AUDIT_COLUMNS, audit_rows
from bot.csv_cells import safe_row
from bot.retention import REGISTER_COLUMNS, purge, register_rows
from handlers.cli.common import actor, desk, fail, parse_moment, print_json
from handlers.mail.maildir import old_mail_remover
from handlers.runtime import utcnow
from storage.audit import ChainHead, read_head, verify_chain
from storage.engine import engine_audit


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="audit trail / audittrail")
    sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = sub.add_parser("verify", help="check the hash chain / hashketen controleren")
    verify.add_argument(
        "--head",
        help="'ID HASH' from a daily digest: the chain must still reach it "
        "/ 'ID HASH' uit een dagoverzicht",
    )
    verify.set_defaults(func=run_verify)
    export = sub.add_parser("export", help="write CSV / als CSV exporteren")
    export.add_argument("--case", dest="reference")
    export.add_argument("--from", dest="start", help="ISO 8601 moment (inclusive)")
    export.add_argument("--to", dest="end", help="ISO 8601 moment (exclusive)")
    export.add_argument("--output", type=Path, help="file to write; default standard output")
    export.set_defaults(func=run_export)

    reg = commands.add_parser("register", help="register of requests / register van verzoeken")
    reg_sub = reg.add_subparsers(dest="register_command", required=True, metavar="ACTION")
    reg_export = reg_sub.add_parser("export", help="write CSV / als CSV exporteren")
    reg_export.add_argument("--output", type=Path)
    reg_export.set_defaults(func=run_register)

    cleanup = commands.add_parser(
        "purge", help="remove content past DSR_RETENTION_DAYS / verlopen inhoud verwijderen"
    )
    cleanup.add_argument("--dry-run", action="store_true")
    cleanup.add_argument("--json", action="store_true")
    cleanup.set_defaults(func=run_purge)


def run_verify(args: argparse.Namespace) -> int:
    """Walk the chain with the audit key, and check that it still reaches the head recorded
    outside the database: the head file, or the head given from a digest."""
    the_desk = desk()
    head_file = engine_audit(the_desk.engine).head_file
    try:
        head = ChainHead.parse(args.head) if args.head else None
        source = "the given head"
        if head is None and head_file is not None:
            head, source = read_head(head_file), str(head_file)
    except ValueError as exc:
        return fail(f"{exc}; give the head as 'ID HASH', as the digest shows it", 2)
    with the_desk.reading() as session:
        count, broken = verify_chain(session=session, head=head)
    if broken is None:
        reach = f"; reaches event {head.event_id} of {source}" if head else "; no recorded head"
        print(f"audit trail intact: {count} event(s){reach}")
        return 0
    when = f" ({broken.at.isoformat()})" if broken.at else ""
    print(
        f"audit trail BROKEN at event {broken.event_id}{when}: "
        f"{broken.problem}; rows from there on cannot be trusted"
    )
    return 1


def _write_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], output: TextIO) -> int:
    writer = csv.DictWriter(output, fieldnames=columns)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(safe_row(row))
        count += 1
    return count


def _to(path: Path | None, rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> int:
    if path is None:
        return _write_csv(rows, columns, sys.stdout)
    with path.open("w", newline="", encoding="utf-8") as handle:
        count = _write_csv(rows, columns, handle)
    print(f"{count} row(s) written to {path}", file=sys.stderr)
    return count


def run_export(args: argparse.Namespace) -> int:
    try:
        start = parse_moment(args.start) if args.start else None
        end = parse_moment(args.end) if args.end else None
    except ValueError as exc:
        return fail(str(exc), 2)
    rows = audit_rows(
        desk(), reference=args.reference, start=start, end=end, actor=actor(), now=utcnow()
    )
    _to(args.output, rows, AUDIT_COLUMNS)
    return 0


def run_register(args: argparse.Namespace) -> int:
    _to(args.output, register_rows(desk()), REGISTER_COLUMNS)
    return 0


def run_purge(args: argparse.Namespace) -> int:
    the_desk = desk()
    remover = old_mail_remover(the_desk.settings.outbox_dir)
    report = purge(the_desk, now=utcnow(), dry_run=args.dry_run, actor=actor(), old_files=remover)
    summary = {
        "cases": list(report.cases),
        "breaches": list(report.breaches),
        "loose_messages": report.loose_messages,
        "files": report.files,
        "dry_run": report.dry_run,
    }
    if args.json:
        print_json(summary)
    else:
        verb = "would purge" if report.dry_run else "purged"
        print(
            f"{verb} {len(report.cases)} case(s), {len(report.breaches)} breach(es), "
            f"{report.loose_messages} mail(s) without a case "
            f"and {report.files} sent copy(ies) in {the_desk.settings.outbox_dir}"
        )
    return 0
