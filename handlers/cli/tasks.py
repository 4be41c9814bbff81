"""`dsr tasks ...`: the work per system of a case, from a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot import tasks as core
from bot.cases import ActionRefused, UnknownCase
from bot.export_check import ExportFile, ExportRefused
from bot.fulfilment import RESULTS
from handlers.cli.common import actor, desk, fail, number_of, print_json, refusal
from handlers.runtime import utcnow

REFUSALS = (core.UnknownTask, UnknownCase, ActionRefused)
EX_DATAERR, EX_NOINPUT = 65, 66


def register(commands: Any) -> None:
    parser = commands.add_parser("tasks", help="the work per system / het werk per systeem")
    sub = parser.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="tasks of a case or of all active cases / taken")
    listing.add_argument("reference", nargs="?", help="a case (default: every active case)")
    listing.add_argument("--open", action="store_true", help="only open tasks")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)

    done = sub.add_parser("done", help="record a task's result / resultaat vastleggen")
    done.add_argument("id", type=number_of("task"))
    done.add_argument("--result", required=True, choices=RESULTS)
    done.add_argument("--note", help="what was done, kept sealed in the case file")
    done.add_argument(
        "--file",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="an export (with --result exported; repeatable), stored sealed / export-bestand",
    )
    done.set_defaults(func=run_done)

    reassign = sub.add_parser("reassign", help="give a task to someone else / taak overdragen")
    reassign.add_argument("id", type=number_of("task"))
    reassign.add_argument("owner", help="slack:U… or a mail address")
    reassign.set_defaults(func=run_reassign)


def run_list(args: argparse.Namespace) -> int:
    try:
        rows = core.list_tasks(desk(), reference=args.reference, open_only=args.open)
    except REFUSALS as exc:
        return fail(refusal(exc))
    items = [core.task_json(row) for row in rows]
    if args.json:
        print_json(items)
        return 0
    for item in items:
        print(
            f"{item['id']:>5}  {item['case']:<15} {item['system']:<14} {item['action']:<16} "
            f"{item['state']:<15} {item['result'] or '-':<14} {item['assignee']}"
            + ("  (reply received / antwoord ontvangen)" if item["reply_received"] else "")
        )
    print(f"{len(items)} task(s)")
    return 0


def run_done(args: argparse.Namespace) -> int:
    files = []
    for path in args.file:
        try:
            files.append(ExportFile(name=path.name, data=path.read_bytes()))
        except OSError as exc:
            return fail(f"cannot read {path}: {exc.strerror}; nothing was stored", EX_NOINPUT)
    try:
        task = core.task_done(
            desk(),
            task_id=args.id,
            result=args.result,
            note=args.note,
            actor=actor(),
            now=utcnow(),
            files=files,
        )
    except ExportRefused as exc:
        return fail(f"{exc}; nothing was stored", EX_DATAERR)
    except REFUSALS as exc:
        return fail(refusal(exc))
    stored = f", {len(files)} file(s) stored sealed" if files else ""
    print(f"task {task.id}: {task.system} {task.action} done ({task.result}){stored}")
    return 0


def run_reassign(args: argparse.Namespace) -> int:
    try:
        task = core.task_reassign(
            desk(), task_id=args.id, assignee=args.owner, actor=actor(), now=utcnow()
        )
    except REFUSALS as exc:
        return fail(refusal(exc))
    print(f"task {task.id}: now with {task.assignee}")
    return 0
