"""``python -m autograder grade-one NOTEBOOK``: grade one submission, print its JSON result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder grade-one",
        description="Grade one submission notebook in a sandboxed process; print JSON.",
    )
    parser.add_argument("notebook", help="the submission (.ipynb)")
    parser.add_argument("--out", help="write the JSON result here instead of stdout")
    parser.add_argument("--id", dest="submission_id", help="submission id (default: file stem)")
    parser.add_argument("--seed", type=int, help="probe seed (default: random, recorded)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        help="seconds per cell (default: the assignment file's, else 60)",
    )
    parser.add_argument(
        "--call-timeout",
        type=float,
        default=None,
        help="seconds per check call (default: the assignment file's, else 10)",
    )
    parser.add_argument(
        "--total-timeout",
        type=float,
        default=None,
        help="seconds per submission in all (default: the file's, else 300)",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=None,
        help="memory cap of the submission, MiB (default: the file's, else 4096)",
    )
    parser.add_argument(
        "--unconfined",
        action="store_true",
        help="grade even where no sandbox can be built; the result then says UNCONFINED",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 when graded, 1 when the notebook was invalid or the kit failed."""
    args = build_parser().parse_args(argv)
    from autograder.assignment.model import current
    from autograder.engine import containment
    from autograder.engine.grade import grade_one
    from autograder.engine.pool import WarmPool

    if args.unconfined:
        containment.allow_unconfined()
    try:
        containment.require()
    except containment.ContainmentRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    pool = WarmPool(spare=False)
    try:
        result = grade_one(
            args.notebook,
            current(),
            submission_id=args.submission_id,
            seed=args.seed,
            device=args.device,
            cell_timeout=args.cell_timeout,
            call_timeout=args.call_timeout,
            total_timeout=args.total_timeout,
            memory_mb=args.memory_mb,
            pool=pool,
        )
    finally:
        pool.close()
    text = result.to_json()
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0 if result.status == "graded" else 1
