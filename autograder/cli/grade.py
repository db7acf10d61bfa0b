"""``python -m autograder grade <dir> --out <dir>``: grade a whole class (see
:mod:`autograder.batch.run` for the layouts, the outputs and the exit status)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.assignment.catalog import CatalogError
from autograder.assignment.consistency import verify
from autograder.assignment.model import AssignmentError, current
from autograder.batch.cluster import ClusterUnavailable
from autograder.batch.discovery import discover
from autograder.batch.lock import GradesFolderBusy
from autograder.batch.pool import DEFAULT_GRADE_FN, start_workers_server
from autograder.batch.progress import BatchSummary
from autograder.batch.run import SEED_FILE, BatchInputError, default_jobs, run_batch
from autograder.checks.suite_guard import SuiteChanged
from autograder.engine import containment
from autograder.staff import wording
from autograder.staff.outputs import load_all_results


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade a folder of submissions into a grades folder (see make grade).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="outputs under --out: results/<id>.json, grades.csv, gradebook.csv "
        "(student_id,total),\nmanual.csv (staff fill in 'score'; merged into totals "
        "on the next run),\nfeedback/<id>.html, report.html, similarity.csv, "
        "submission_times.csv,\nerrors/<id>.log, logs/workers.log; LMS files: "
        "python -m autograder export\n"
        "exit status: 0 all graded, 1 some kit errors (rerun), 2 bad arguments, no "
        "submissions or no sandbox (see --unconfined),\n3 the grades folder is in use by "
        "another run, 4 the hidden suite or the kit changed during the run, "
        "130 interrupted",
    )
    parser.add_argument(
        "submissions",
        nargs="?",
        default="submissions",
        help="folder of <student>.ipynb or <student>/<the assignment's notebook>",
    )
    parser.add_argument("--out", default="grades", help="grades folder (default: grades)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help=f"parallel workers (default: all cores, here {default_jobs()})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds allowed per submission (default: the assignment file's "
        "total_timeout, else 300)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="regrade submissions that are unchanged since their last grading",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where the PyTorch checks run (default: auto)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the hidden checks' fresh inputs (default: the one recorded "
        f"in <out>/{SEED_FILE}, else a new random seed, recorded there)",
    )
    parser.add_argument(
        "--roster",
        default=None,
        metavar="CSV",
        help="the class roster (an LMS export works; kept as <out>/roster.csv "
        "for later runs); lists missing and unknown submissions",
    )
    parser.add_argument(
        "--timestamps",
        default=None,
        metavar="CSV",
        help="submission times, columns submission,submitted_at (kept as "
        "<out>/timestamps.csv); nbgrader's timestamp.txt and Gradescope's "
        "submission_metadata.json are read without it",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="when another run is grading into --out, wait for it to finish "
        "(default: exit with status 3)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="grade on this Dask cluster instead of local workers (--jobs is "
        "then ignored; see docs/cluster.md)",
    )
    parser.add_argument(
        "--unconfined",
        action="store_true",
        help="grade even where no sandbox can be built (no root, no user "
        "namespaces); every output then says UNCONFINED",
    )
    parser.add_argument("--grade-fn", default=DEFAULT_GRADE_FN, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``grade`` command; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_summary(summary: BatchSummary, out: Path) -> None:
    print(
        f"{len(summary.graded)} graded, {len(summary.unchanged)} unchanged, "
        f"{len(summary.skipped)} skipped, {len(summary.errors)} kit errors "
        f"in {summary.seconds:.1f} s -> {out / 'grades.csv'}, {out / 'report.html'}"
    )
    found = summary.roster
    if found is not None:
        students = len(found.by_submission) + len(found.missing)
        print(f"roster: {len(found.by_submission)} of {students} students have a submission")
        if found.missing:
            print(
                f"  students without a submission ({len(found.missing)}): "
                + wording.names(s.label for s in found.missing)
            )
        if found.unmatched_submissions:
            print(
                f"  submissions matching no student ({len(found.unmatched_submissions)}): "
                + wording.names(found.unmatched_submissions)
            )
    if summary.late:
        print(
            f"late: {wording.count(len(summary.late), 'submission')} lost points to the "
            "late policy: " + wording.names(summary.late)
        )
    if summary.memory.get("workers_peak_mb"):
        peaks = summary.memory["workers_peak_mb"]
        zygote_mb = summary.memory.get("zygote_peak_mb")
        print(
            f"memory: peak {max(peaks):.0f} MiB per grading process ({len(peaks)} processes)"
            + (f", shared zygote {zygote_mb:.0f} MiB" if zygote_mb else "")
            + f" -> {out / 'logs' / 'memory.json'}"
        )
    if summary.similarity is not None:
        flagged = summary.similarity.flagged
        print(
            f"similarity: flagged {len(flagged)} of {len(summary.similarity)} pairs "
            f"-> {out / 'similarity.csv'}"
            + "".join(f"\n  {p.a} ~ {p.b}: {p.similarity:.2f}" for p in flagged[:10])
        )


def _main(args: argparse.Namespace) -> int:
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        print(f"error: {args.submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.scheduler is not None and "://" not in args.scheduler:
        print(
            f"error: --scheduler {args.scheduler!r}: give the scheduler's address, e.g. "
            "tcp://10.0.0.5:8786",
            file=sys.stderr,
        )
        return 2
    if args.unconfined:
        containment.allow_unconfined()
    try:
        mode = containment.require()
    except containment.ContainmentRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"containment: {mode.name} ({mode.why})"
        + (
            " -- UNCONFINED: submissions run as your user, without a sandbox"
            if not mode.confined
            else ""
        ),
        file=sys.stderr,
    )
    if args.scheduler is None:
        start_workers_server(args.grade_fn)
    try:
        assignment = current()
        verify(assignment)
    except (AssignmentError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    found, skipped = discover(submissions, assignment.notebook, exclude=[Path(args.out)])
    if not found:
        print(
            f"error: no submissions in {submissions}: expected <student>.ipynb or "
            f"<student>/{assignment.notebook}"
            + (
                f" ({len(skipped)} other entries: "
                + ", ".join(f"{n} ({why})" for n, why in skipped[:5])
                + ")"
                if skipped
                else ""
            ),
            file=sys.stderr,
        )
        return 2
    try:
        summary = run_batch(
            submissions,
            args.out,
            assignment,
            jobs=args.jobs,
            timeout=args.timeout,
            force=args.force,
            device=args.device,
            seed=args.seed,
            grade_fn=args.grade_fn,
            roster=args.roster,
            timestamps_csv=args.timestamps,
            wait=args.wait,
            scheduler=args.scheduler,
        )
    except BatchInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GradesFolderBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except SuiteChanged as exc:
        print(f"error: grading stopped: {exc}", file=sys.stderr)
        return 4
    except ClusterUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before grading began, or during the final rebuild
        print(
            "interrupted: finished results are kept; run again to grade the rest", file=sys.stderr
        )
        return 130
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = Path(args.out)
    _print_summary(summary, out)
    if summary.interrupted:
        print(
            "interrupted: finished results are kept; run again to grade the rest", file=sys.stderr
        )
        return 130
    results, _ = load_all_results(out)
    return 1 if any(r.status == "error" for r in results) else 0
