"""``python -m autograder export [GRADES] --format canvas|moodle|csv``: write a grades folder's
final grades as a file an LMS imports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.assignment.model import current
from autograder.staff import export
from autograder.staff.atomic import write_text_atomic


def main(argv: Sequence[str] | None = None) -> int:
    """The ``export`` command; exit status 0, or 2 for bad arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder export",
        description="Write a grades folder's final grades as a file an LMS imports.",
    )
    parser.add_argument("grades", nargs="?", default="grades", help="grades folder")
    parser.add_argument("--format", choices=export.FORMATS, required=True)
    parser.add_argument(
        "--out", default=None, help="file to write (default: <grades>/export-<format>.csv)"
    )
    parser.add_argument(
        "--column",
        default=None,
        help="name of the grade column (default: the assignment's id); for "
        "Canvas, 'Name (id)' updates an existing assignment",
    )
    parser.add_argument(
        "--key",
        choices=sorted(export.MOODLE_KEYS),
        default="email",
        help="moodle: the column Moodle finds students by (default: email)",
    )
    args = parser.parse_args(argv)
    try:
        text, warnings = export.export(args.grades, args.format, current(), args.column, args.key)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    target = Path(args.out) if args.out else Path(args.grades) / f"export-{args.format}.csv"
    write_text_atomic(target, text, newline="")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.format} export -> {target}")
    return 0
