"""``python -m autograder gradescope [--root /autograder]``: grade ``/autograder/submission``
in the sandbox and write ``results/results.json`` (Gradescope's ``run_autograder``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from autograder.assignment.model import current
from autograder.engine.containment import ContainmentRefused
from autograder.integrations import gradescope
from autograder.staff.final_grades import final_grade


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder gradescope [--root /autograder]``; writes results/results.json."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder gradescope", description=gradescope.__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--root",
        default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
        help="Gradescope's folder (default: /autograder)",
    )
    parser.add_argument("--seed", type=int, help="probe seed (default: a fresh one)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    start = time.monotonic()
    config = gradescope.plugin_config(root / "source")
    assignment = gradescope.assignment_of(config, current())
    seed = args.seed if args.seed is not None else gradescope.seed_of(config)
    try:
        result = gradescope.grade_submission(
            root / "submission", assignment, seed, gradescope.limits_of(config)
        )
    except ContainmentRefused as exc:  # no sandbox and AUTOGRADER_UNCONFINED not set
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = gradescope.results_json(
        result, assignment, gradescope.visibility_of(config), time.monotonic() - start
    )
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(data, indent=1))
    print(
        f"{assignment.id}: {result.status}, {final_grade(result, assignment).headline} "
        f"({time.monotonic() - start:.1f} s)"
    )
    return 0
