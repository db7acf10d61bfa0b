"""``python -m autograder grade <dir> --out <dir>``: grade a whole class.

Layouts accepted under ``<dir>`` (the student id is the file stem or the folder name):

* ``<student>.ipynb`` (any ``*.ipynb`` directly in ``<dir>``);
* ``<student>/<notebook>`` and ``<student>/<id>/<notebook>``
  (nbgrader's ``submitted/`` layout); a student folder holding exactly one other
  ``.ipynb`` is graded too. Anything else is listed as skipped, with the reason.
  A symbolic link is never followed: a linked notebook or student folder, or one
  with a link on the way to its notebook, is an ``invalid`` result saying so.

Outputs under ``--out`` (see ``autograder/staff/outputs.py``): ``results/<id>.json`` (the
full result, written atomically the moment it is known), ``grades.csv``,
``gradebook.csv``, ``manual.csv``, ``feedback/<id>.html``, ``similarity.csv``,
``submission_times.csv`` and ``report.html``; ``errors/<id>.log`` holds the traceback
when the kit itself failed on a submission, and ``logs/workers.log`` what the
grading processes printed. ``--roster`` and ``--timestamps`` are kept as
``roster.csv`` and ``timestamps.csv`` for later runs. One run at a time works in a
grades folder (``autograder/batch/lock.py``).

Submissions are graded in parallel by ``--jobs`` worker processes (default: every
core). Each worker grades one submission at a time with
``autograder.engine.grade_one`` and keeps the engine's warm state between
submissions. A worker that dies or overruns its hard limit is killed and
replaced; its submission gets status ``error``. A rerun skips every submission
whose notebook bytes, checks fingerprint and seed are unchanged (``--force``
regrades), regrades results that are missing, corrupt or ``error``, and always
rebuilds the CSVs, feedback and report from all results on disk, so a run
killed at any point loses nothing that had finished.

Exit status: 0 when every submission has a result that is not ``error``; 1 when
some are ``error`` (rerun to retry them); 2 for bad arguments, an unusable roster
or timestamps file, a folder without submissions, or no sandbox possible without
``--unconfined``; 3 when another run is grading into the same folder (``--wait``
waits for it); 4 when the hidden suite or the kit changed during the run; 130 when
interrupted (finished results are kept and the outputs rebuilt).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.assignment.model import Assignment
from autograder.assignment.notebook import file_sha256
from autograder.batch.discovery import Submission, discover, exists, is_current
from autograder.batch.lock import grades_lock
from autograder.batch.pool import DEFAULT_GRADE_FN, run_pool
from autograder.batch.progress import BatchSummary, Progress, StopRequest
from autograder.checks import suite_guard
from autograder.checks.run_checks import checks_fingerprint
from autograder.engine.session import Limits
from autograder.results import SubmissionResult
from autograder.staff import manual, timestamps
from autograder.staff.atomic import remove_stale_temps, write_text_atomic
from autograder.staff.feedback import write_feedback
from autograder.staff.file_names import file_stem
from autograder.staff.final_grades import Inputs, final_grade, with_penalty
from autograder.staff.late import ON_TIME, LatePolicy
from autograder.staff.outputs import load_result, rebuild_outputs, result_path
from autograder.staff.roster import KEPT_FILE as ROSTER_FILE
from autograder.staff.roster import RosterError, read_roster

SEED_FILE = "seed.txt"


def _store(
    out: Path,
    result_json: str,
    trace: str,
    summary: BatchSummary,
    progress: Progress | None,
    inputs: Inputs,
    assignment: Assignment,
) -> None:
    """Write a finished result atomically, then its feedback page (while workers go on)."""
    result = SubmissionResult.from_json(result_json)
    try:
        write_text_atomic(result_path(out, result.submission), result_json)
        log = out / "errors" / f"{file_stem(result.submission)}.log"
        if trace:
            write_text_atomic(log, trace)
        elif log.exists():
            log.unlink()
    except OSError as exc:  # this submission's files only: the batch goes on
        summary.errors.append(result.submission)
        summary.warnings.append(
            f"the result of {result.submission!r} could not be stored ({exc}); rerun to regrade it"
        )
        return
    summary.graded.append(result.submission)
    if result.status == "error":
        summary.errors.append(result.submission)
    grade = final_grade(
        result,
        assignment,
        inputs.scores.get(result.submission),
        inputs.lateness.get(result.submission, ON_TIME),
    )
    if progress is not None:
        progress.update(result, grade)
    try:  # the final rebuild finds the page up to date (and retries it if this failed)
        shown = with_penalty(result, grade)
        write_feedback(shown, assignment, out / "feedback", grade.free_response, shown.to_json())
    except Exception as exc:  # a page must not stop the batch
        summary.warnings.append(f"feedback of {result.submission}: {exc}")


class BatchInputError(ValueError):
    """A roster, timestamps file or late policy that cannot be used (the message says why)."""


def _kept_inputs(roster: str | Path | None, timestamps_csv: str | Path | None) -> dict[str, bytes]:
    """The files to keep in the grades folder, after checking that they can be read."""
    kept: dict[str, bytes] = {}
    if roster is not None:
        try:
            found = read_roster(roster)
        except RosterError as exc:
            raise BatchInputError(str(exc)) from None
        if not found.students:
            raise BatchInputError(f"the roster {roster} lists no student")
        kept[ROSTER_FILE] = Path(roster).read_bytes()
    if timestamps_csv is not None:
        try:
            timestamps.read_timestamps_csv(timestamps_csv)
            kept[timestamps.KEPT_CSV] = Path(timestamps_csv).read_bytes()
        except (OSError, ValueError) as exc:
            raise BatchInputError(f"timestamps: {exc}") from None
    return kept


def _late_policy(policy: LatePolicy | None, assignment: Assignment) -> LatePolicy:
    if policy is not None:
        return policy
    try:
        return LatePolicy.from_assignment(assignment.late)
    except ValueError as exc:
        raise BatchInputError(
            f"the late policy of {assignment.folder / 'assignment.toml'}: {exc}"
        ) from None


def _submission_times(
    out: Path, subs: Sequence[Submission], summary: BatchSummary
) -> dict[str, datetime]:
    """Find when each submission was made, write submission_times.csv, return the times."""
    kept = out / timestamps.KEPT_CSV
    csv_times: dict[str, datetime] = {}
    if kept.exists():
        try:
            csv_times = timestamps.read_timestamps_csv(kept)
        except (OSError, ValueError) as exc:
            summary.warnings.append(f"{kept}: {exc}; its times are left out")
    times, warnings = timestamps.collect(
        ((s.id, s.path, s.folder) for s in subs if not s.problem), csv_times
    )
    summary.warnings += warnings
    timestamps.write_times(out / timestamps.TIMES_FILE, times)
    return {t.submission: t.submitted_at for t in times if t.submitted_at is not None}


def run_batch(
    submissions: str | Path,
    out: str | Path,
    assignment: Assignment,
    *,
    jobs: int | None = None,
    timeout: float | None = None,
    force: bool = False,
    device: str = "auto",
    seed: int | None = None,
    grade_fn: str = DEFAULT_GRADE_FN,
    stream: Any = None,
    hard_limit: float | None = None,
    roster: str | Path | None = None,
    timestamps_csv: str | Path | None = None,
    late_policy: LatePolicy | None = None,
    wait: bool = False,
    scheduler: str | None = None,
) -> BatchSummary:
    """Grade every submission of ``assignment`` under ``submissions`` into ``out`` and
    rebuild the outputs.

    ``grade_fn`` names the grading function as ``module:function`` (it is imported
    in each worker process, called as ``grade_fn(path, assignment, submission_id=...,
    seed=..., device=..., total_timeout=...)``) and defaults to
    ``autograder.engine:grade_one``; a local worker is told ``assignment.ref`` when it
    starts, a Dask worker grades the assignment its own environment names.
    ``timeout`` is the engine's limit per submission (default: the assignment file's
    ``total_timeout``, else 300 s); a worker still busy after
    ``hard_limit`` seconds (default ``1.5 * timeout + 120``) is killed and its
    submission gets status ``error``. ``seed`` defaults to the grades folder's
    (see :func:`batch_seed`).

    ``roster`` and ``timestamps_csv`` are kept in ``out`` (``roster.csv``,
    ``timestamps.csv``) for later runs; ``late_policy`` defaults to the one in
    the assignment file. One run at a time works in ``out``: another one
    raises ``GradesFolderBusy``, or is waited for when ``wait``. BatchInputError
    says why a roster, timestamps file or late policy cannot be used.

    ``scheduler`` (``tcp://HOST:PORT``) grades on that Dask cluster instead of local
    workers (:mod:`autograder.batch.cluster`); everything else is the same.
    """
    stream = stream or sys.stdout
    start = time.monotonic()
    submissions, out = Path(submissions), Path(out)
    timeout = float(timeout or Limits.of_assignment(assignment).total_timeout)
    policy = _late_policy(late_policy, assignment)
    kept = _kept_inputs(roster, timestamps_csv)
    with grades_lock(out, wait=wait, stream=stream):
        summary = BatchSummary()
        seed = batch_seed(out, seed)
        jobs = max(1, jobs or default_jobs())
        (out / "results").mkdir(parents=True, exist_ok=True)
        for folder in ("results", "feedback", "errors", "."):
            remove_stale_temps(out / folder)
        for name, data in kept.items():
            (out / name).write_bytes(data)
        subs, summary.skipped = discover(submissions, assignment.notebook, exclude=[out])
        for name, why in summary.skipped:
            print(f"skipped {name}: {why}", file=stream)
        times = _submission_times(out, subs, summary)
        scores, _ = manual.load_scores(out / manual.FILE_NAME, assignment.free_response_points)
        inputs = Inputs(scores, {s.id: policy.assess(times.get(s.id)) for s in subs})
        checks_sha = checks_fingerprint(assignment)
        suite_guard.begin_run(
            assignment
        )  # the hidden suite as it is now: a private copy, a fingerprint
        todo: list[Submission] = []
        for sub in subs:
            stored_path = result_path(out, sub.id)
            stored = load_result(stored_path) if exists(stored_path) else None
            if stored is None and exists(stored_path):
                summary.warnings.append(f"{stored_path} was unreadable; regraded")
            if sub.problem:  # never opened: invalid as it stands
                if (
                    force
                    or stored is None
                    or (stored.status, stored.message) != ("invalid", sub.problem)
                ):
                    _store(
                        out,
                        SubmissionResult.failed(
                            sub.id, "invalid", sub.problem, assignment, seed=seed
                        ).to_json(),
                        "",
                        summary,
                        None,
                        inputs,
                        assignment,
                    )
                else:
                    summary.unchanged.append(sub.id)
                continue
            try:
                nb_sha = file_sha256(sub.path)
            except OSError:  # unreadable: the engine says why
                nb_sha = ""
            if not force and nb_sha and is_current(stored, nb_sha, checks_sha, seed, device):
                summary.unchanged.append(sub.id)
            else:
                todo.append(sub)
        if summary.unchanged:
            print(
                f"{len(summary.unchanged)} submissions unchanged since they were graded "
                "(--force regrades them)",
                file=stream,
            )
        payload = {"seed": seed, "device": device, "timeout": timeout, "checks_sha": checks_sha}
        progress = Progress(len(todo), stream)
        with StopRequest() as stop:
            try:
                limit = hard_limit or timeout * 1.5 + 120.0
                if todo and scheduler:
                    from autograder.batch import cluster

                    cluster.grade_on_cluster(
                        todo,
                        scheduler,
                        assignment,
                        payload=payload,
                        grade_ref=grade_fn,
                        hard_limit=limit,
                        store=lambda result, trace: _store(
                            out, result, trace, summary, progress, inputs, assignment
                        ),
                        summary=summary,
                        stop=stop,
                    )
                elif todo:
                    run_pool(
                        todo,
                        out,
                        assignment,
                        jobs=jobs,
                        payload=payload,
                        grade_ref=grade_fn,
                        hard_limit=limit,
                        memory=summary.memory,
                        stop=stop,
                        store=lambda result, trace: _store(
                            out, result, trace, summary, progress, inputs, assignment
                        ),
                    )
            except KeyboardInterrupt:
                stop.hits += 1
            finally:
                progress.close()
                if summary.memory:
                    write_text_atomic(
                        out / "logs" / "memory.json", json.dumps(summary.memory, indent=1)
                    )
                summary.interrupted = stop.hits > 0
                rebuilt = rebuild_outputs(
                    out,
                    assignment,
                    skipped=summary.skipped,
                    policy=policy,
                    notebooks=[(s.id, s.path) for s in subs if not s.problem],
                )
                summary.warnings += rebuilt.warnings
                summary.roster, summary.similarity = rebuilt.roster, rebuilt.similarity
                summary.late = [
                    g.submission for g in rebuilt.grades if g.late_penalty > 0 or g.not_accepted
                ]
                summary.seconds = time.monotonic() - start
    return summary


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def batch_seed(out: Path, requested: int | None) -> int:
    """The seed of this grades folder: ``requested``, else the recorded one, else a new one.

    The hidden checks draw fresh inputs from it, so each grades folder probes with
    inputs nobody saw before; it is recorded in ``<out>/seed.txt`` (and in every
    result), so reruns skip unchanged submissions and any grade can be reproduced.
    """
    path = out / SEED_FILE
    if requested is None:
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text().strip())
        requested = secrets.randbelow(2**31)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{requested}\n")
    return requested
