"""``python -m autograder new <id> [--title T]``: create ``solutions/<id>/``, a new assignment
from an example."""

from __future__ import annotations

import argparse

from autograder.assignment import scaffold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder new", description=scaffold.__doc__.splitlines()[0]
    )
    parser.add_argument("id", help="the new assignment's id (a Python identifier)")
    parser.add_argument("--title", default="", help="its title (default: from the id)")
    args = parser.parse_args(argv)
    try:
        folder = scaffold.create(args.id, args.title)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}")
        return 2
    print(f"created {folder}; next: make release ASSIGNMENT={args.id}")
    return 0
