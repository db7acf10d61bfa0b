"""``python -m autograder release [--solution PATH] [--out DIR] [--check]``: generate the
student folder (notebook, public checks, contract) from the solution (``make release``)."""

from __future__ import annotations

import argparse
import sys

from autograder.assignment import release
from autograder.assignment.catalog import CatalogError
from autograder.assignment.model import AssignmentError, current


def main(argv: list[str] | None = None) -> int:
    """Command line: ``release [--solution PATH] [--out DIR] [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder release", description=release.__doc__
    )
    parser.add_argument(
        "--solution", default=None, help="solution notebook (default: the assignment's)"
    )
    parser.add_argument(
        "--out", default=None, help="student folder to write (default: assignments/<id>/)"
    )
    parser.add_argument(
        "--check", action="store_true", help="only report whether the release is stale (exit 1)"
    )
    args = parser.parse_args(argv)
    assignment = current()
    if args.check:
        stale = release.is_stale(assignment, args.solution, args.out)
        where = args.out or assignment.release_dir
        print(f"release in {where} is {'STALE: run make release' if stale else 'up to date'}")
        return 1 if stale else 0
    try:
        paths = release.write_release(assignment, args.solution, args.out)
    except (AssignmentError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    return 0
