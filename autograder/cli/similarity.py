"""``python -m autograder similarity DIR [--out FILE]``: compare the code of every pair of
submissions in a folder (what ``make grade`` writes to ``<grades>/similarity.csv``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.assignment.model import current
from autograder.batch.discovery import discover
from autograder.staff import similarity


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograder similarity DIR [--out FILE]``: compare a folder of submissions."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder similarity",
        description="Compare the code of every pair of submissions (MOSS-style winnowing); "
        "make grade writes the same table to <grades>/similarity.csv.",
    )
    parser.add_argument("submissions", help="folder of submissions (as for grade)")
    parser.add_argument("--out", default=None, help="CSV file to write (default: stdout)")
    args = parser.parse_args(argv)
    if not Path(args.submissions).is_dir():
        print(f"error: {args.submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    assignment = current()
    subs, _ = discover(args.submissions, assignment.notebook)
    report = similarity.similarity_report(
        ((s.id, s.path) for s in subs if not s.problem), assignment.released_notebook
    )
    if args.out:
        similarity.write_csv(args.out, report)
    else:
        sys.stdout.write(similarity.csv_text(report))
    for name, why in report.not_compared:
        print(f"warning: {name}: {why}", file=sys.stderr)
    print(
        f"{len(report.documents)} submissions compared in {report.seconds:.1f} s; flagged "
        f"{len(report.flagged)} of {len(report)} pairs",
        file=sys.stderr,
    )
    return 0
