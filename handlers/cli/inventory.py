"""`dsr inventory ...`: check and print the inventory of systems and recipients."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.inventory import InventoryError, InventoryMissing, load_inventory, to_json
from handlers.cli.common import fail, print_json, settings

EX_CONFIG = 78


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "inventory", help="systems and recipients / inventarisatie van systemen"
    )
    sub = parser.add_subparsers(dest="inventory_command", required=True, metavar="ACTION")

    check = sub.add_parser("check", help="validate the file / het bestand controleren")
    check.add_argument("file", nargs="?", type=Path, help="default: DSR_INVENTORY_FILE")
    check.set_defaults(func=run_check)

    show = sub.add_parser("show", help="print the inventory / de inventarisatie tonen")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)


def run_check(args: argparse.Namespace) -> int:
    path: Path = args.file or settings().inventory_file
    try:
        inventory = load_inventory(path)
    except (InventoryError, InventoryMissing) as exc:
        return fail(str(exc), EX_CONFIG)
    print(f"{path}: {len(inventory.system)} system(s), ok")
    return 0


def run_show(args: argparse.Namespace) -> int:
    path = settings().inventory_file
    try:
        inventory = load_inventory(path)
    except InventoryMissing:
        # The inventory is optional: without one the desk runs and creates no tasks.
        if args.json:
            print_json([])
        else:
            print(f"no inventory configured (no file at {path}); no tasks are created")
        return 0
    except InventoryError as exc:
        return fail(str(exc), EX_CONFIG)
    rows = to_json(inventory)
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        keep = f"  keep {row['keep_years']}y ({row['keep_law']})" if row["keep_years"] else ""
        print(f"{row['id']:<14} {row['kind']:<10} {row['assignee']:<32} {row['name']}{keep}")
        print(f"{'':<14} handles: {', '.join(row['handles'])}")
        if row["recipients"]:
            print(f"{'':<14} passes data to: {', '.join(row['recipients'])}")
    print(f"{len(rows)} system(s)")
    return 0
