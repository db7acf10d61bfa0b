"""``python -m autograder <command>``: one entry point, one module per command."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "release": ("autograder.release", "generate the student notebook from the solution"),
    "grade-one": ("autograder.engine.cli", "grade one submission notebook (JSON result)"),
    "grade": ("autograder.batch", "grade a folder of submissions into a grades folder"),
    "gradescope": ("autograder.gradescope", "grade /autograder/submission (Gradescope's run_autograder)"),
    "sandbox": ("autograder.engine.show", "run a cell in a fresh sandbox and print what it sees"),
    "export": ("autograder.export", "write a grades folder as an LMS import file (canvas, moodle, csv)"),
    "similarity": ("autograder.similarity", "compare the code of every pair of submissions"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m autograder <command> [options]\n\ncommands:")
        for name, (_, help_text) in COMMANDS.items():
            print(f"  {name:<10} {help_text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
