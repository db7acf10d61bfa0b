"""``python -m autograder [--assignment ID] <command>``: one entry point, one module per command.

``--assignment ID`` (an id of ``solutions/<id>/``, or a folder; anywhere on the
command line) selects the assignment every command works on, for this process
and the processes it starts; the default is ``$AUTOGRADER_ASSIGNMENT`` (the
Makefile's ``ASSIGNMENT``), else the only assignment under ``solutions/``.
"""

from __future__ import annotations

import importlib
import sys

from autograder.assignment.model import AssignmentError, select

COMMANDS = {
    "new": ("autograder.cli.new", "create solutions/<id>/: a new assignment from an example"),
    "release": ("autograder.cli.release", "generate the student notebook from the solution"),
    "samples": ("autograder.cli.samples", "regenerate the assignment's sample submissions"),
    "grade-one": ("autograder.cli.grade_one", "grade one submission notebook (JSON result)"),
    "grade": ("autograder.cli.grade", "grade a folder of submissions into a grades folder"),
    "gradescope": (
        "autograder.cli.gradescope",
        "grade /autograder/submission (Gradescope's run_autograder)",
    ),
    "sandbox": ("autograder.cli.sandbox", "run a cell in a fresh sandbox and print what it sees"),
    "export": (
        "autograder.cli.export",
        "write a grades folder as an LMS import file (canvas, moodle, csv)",
    ),
    "similarity": ("autograder.cli.similarity", "compare the code of every pair of submissions"),
}


def take_assignment(argv: list[str]) -> tuple[str | None, list[str]]:
    """``--assignment ID`` / ``--assignment=ID`` out of ``argv``: (ID or None, the rest)."""
    rest, chosen = [], None
    args = iter(argv)
    for arg in args:
        if arg == "--assignment":
            chosen = next(args, None)
        elif arg.startswith("--assignment="):
            chosen = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return chosen, rest


def main(argv: list[str] | None = None) -> int:
    chosen, argv = take_assignment(list(sys.argv[1:] if argv is None else argv))
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m autograder [--assignment ID] <command> [options]\n\ncommands:")
        for name, (_, help_text) in COMMANDS.items():
            print(f"  {name:<10} {help_text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    if argv[0] != "new":
        try:
            select(chosen)
        except AssignmentError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
