"""Which work a request means for each system of the inventory, and the planning of that work
as tasks when a case is verified or its kind changes. The rules are pure; `plan_case_tasks`
runs in the caller's transaction with the case locked (bot.cases.record_change calls it)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.desk import Desk
from bot.inventory import ART19_KINDS, Inventory, System
from bot.inventory_source import inventory_source
from bot.states import CLOSED, State
from bot.task_mail import notify_assignee
from storage.audit import append_event
from storage.models import Case, Task
from storage.tasks import DONE, NOT_APPLICABLE, OPEN, add_task, tasks_of_case

logger = logging.getLogger("dsr.tasks")

# GDPR art. 15 and 20: find the data and hand over a copy; art. 16: correct; art. 17: erase;
# art. 18: restrict; art. 21 and 7(3): stop the processing the objection or consent concerns.
ACTION_FOR_KIND: dict[str, str] = {
    "access": "search_export",
    "portability": "search_export",
    "correction": "correct",
    "erasure": "erase",
    "restriction": "restrict",
    "objection": "stop_processing",
    "consent_withdrawal": "stop_processing",
}
NOTIFY = "notify"  # tell a recipient of a correction, erasure or restriction (art. 19)
RESULTS_FOR_ACTION: dict[str, tuple[str, ...]] = {
    "search_export": ("found", "exported", "nothing_found"),
    "correct": ("corrected", "nothing_found"),
    "erase": ("erased", "kept", "nothing_found"),
    "restrict": ("restricted", "kept", "nothing_found"),
    "stop_processing": ("stopped", "nothing_found"),
    NOTIFY: ("told",),
}
RESULTS: tuple[str, ...] = (
    "found",
    "nothing_found",
    "exported",
    "corrected",
    "erased",
    "restricted",
    "kept",
    "stopped",
    "told",
)
# Actions that run on a case's kind when it is verified or changes, in this order.
TRIGGERS = frozenset({"verified", "kind_changed"})


@dataclass(frozen=True)
class PlannedTask:
    system: str
    action: str
    assignee: str


def action_for(system: System, kind: str) -> str | None:
    """The action `kind` asks of `system`, or None. Erasure where a law makes the firm keep
    the data (art. 17(3)(b)) becomes a restriction, explained to the requester; a recipient
    acting on its own account is told (art. 19)."""
    if kind not in system.kinds:
        return None
    if system.kind == "recipient":
        return NOTIFY if kind in ART19_KINDS else None
    action = ACTION_FOR_KIND.get(kind)
    if action == "erase" and system.keep_years is not None:
        return "restrict"
    return action


def plan_tasks(inventory: Inventory, kind: str) -> list[PlannedTask]:
    """One task per system that acts on `kind`, in the inventory's order."""
    planned = []
    for system in inventory.system:
        action = action_for(system, kind)
        if action is not None:
            planned.append(PlannedTask(system.id, action, system.assignee))
    return planned


def check_result(action: str, result: str) -> str:
    """The result, if it fits the action; ValueError naming the ones that do."""
    allowed = RESULTS_FOR_ACTION.get(action, RESULTS)
    if result not in allowed:
        raise ValueError(f"result {result!r} does not fit {action}; use {', '.join(allowed)}")
    return result


@dataclass(frozen=True)
class Planned:
    created: tuple[Task, ...] = ()
    dropped: tuple[Task, ...] = ()


def plan_case_tasks(desk: Desk, *, session: Session, case: Case, now: datetime) -> Planned:
    """Bring the case's tasks in line with its kind: add the missing ones, and mark open tasks
    that the kind no longer asks for not_applicable. Idempotent. Nothing is planned before the
    identity is verified, while a person still has to pick the kind, or without an
    inventory."""
    if case.id is None or case.verified_at is None or case.state in CLOSED:
        return Planned()
    if case.state == State.NEEDS_TRIAGE:
        return Planned()
    inventory = inventory_source(desk.settings.inventory_file).current()
    if inventory is None:
        return Planned()
    wanted = {(p.system, p.action): p for p in plan_tasks(inventory, case.category)}
    existing = tasks_of_case(session=session, case_id=case.id)
    have = {(t.system, t.action): t for t in existing}
    created = [
        add_task(session=session, case_id=case.id, now=now, **vars(planned))
        for key, planned in wanted.items()
        if key not in have
    ]
    dropped = []
    for key, task in have.items():
        if key in wanted and task.state == NOT_APPLICABLE:
            task.state, task.assignee = OPEN, wanted[key].assignee
            created.append(task)
        elif key not in wanted and task.state == OPEN:
            task.state = NOT_APPLICABLE
            dropped.append(task)
        else:
            continue
        session.add(task)
    for task in created:
        system = inventory.get(task.system)
        if system is not None:
            notify_assignee(desk, session=session, case=case, task=task, system=system, now=now)
    if created or dropped:
        _audit_plan(session, case, now=now, created=created, dropped=dropped)
    return Planned(tuple(created), tuple(dropped))


def _audit_plan(
    session: Session, case: Case, *, now: datetime, created: Sequence[Task], dropped: Sequence[Task]
) -> None:
    append_event(
        session=session,
        at=now,
        actor="system",
        action="tasks_planned",
        case_id=case.id,
        reference=case.reference,
        details={
            "kind": case.category,
            "open": [f"{t.system}:{t.action}" for t in created],
            "not_applicable": [f"{t.system}:{t.action}" for t in dropped],
        },
    )
    logger.info(
        "case=%s tasks planned: %d open, %d no longer needed",
        case.reference,
        len(created),
        len(dropped),
    )


def open_tasks(tasks: Sequence[Task]) -> list[Task]:
    return [t for t in tasks if t.state == OPEN]


def done_tasks(tasks: Sequence[Task]) -> list[Task]:
    return [t for t in tasks if t.state == DONE]


class TasksOpen(ValueError):
    """A case cannot be closed as done while a system has not answered."""


@dataclass(frozen=True)
class Outcome:
    """What the outcome mail tells the requester: per system what was done (and, for data
    kept, the law that requires it: art. 17(3)(b)), and which recipients were told (art. 19)."""

    work: tuple[dict[str, str], ...] = ()
    told: tuple[str, ...] = ()


def settle_tasks(
    desk: Desk, *, session: Session, case: Case, done: bool, force: bool, now: datetime
) -> Outcome:
    """At closing: refuse `done` while tasks are open unless forced; tasks still open become
    not_applicable (recorded in the audit trail). Returns what the outcome mail reports."""
    tasks = tasks_of_case(session=session, case_id=case.id) if case.id is not None else []
    still_open = open_tasks(tasks)
    if done and still_open and not force:
        listed = ", ".join(f"#{t.id} {t.system} {t.action}" for t in still_open)
        raise TasksOpen(
            f"case {case.reference} has open tasks: {listed}; record their results "
            "(dsr tasks done ID --result R) or close with --force and a note saying why"
        )
    for task in still_open:
        task.state = NOT_APPLICABLE
        session.add(task)
    if still_open:
        append_event(
            session=session,
            at=now,
            actor="system",
            action="tasks_left_open",
            case_id=case.id,
            reference=case.reference,
            details={"tasks": [t.id for t in still_open], "forced": force},
        )
    if not done:
        return Outcome()
    inventory = inventory_source(desk.settings.inventory_file).current()
    return outcome_of(done_tasks(tasks), inventory)


def outcome_of(tasks: Sequence[Task], inventory: Inventory | None) -> Outcome:
    """Pure: the outcome mail's facts from the finished tasks."""
    work: list[dict[str, str]] = []
    told: list[str] = []
    for task in tasks:
        system = inventory.get(task.system) if inventory is not None else None
        name = system.name if system is not None else task.system
        if task.action == NOTIFY:
            told.append(name)
            continue
        law = ""
        if system is not None and system.keep_law and task.result in ("kept", "restricted"):
            law = system.keep_law
        work.append({"system": name, "result": task.result or "", "law": law})
    return Outcome(tuple(work), tuple(told))
