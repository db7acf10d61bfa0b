"""``grade_one``: one submission notebook in, one :class:`SubmissionResult` out.

Phases (each timed in ``result.timings``): read and validate the notebook; take
a sandbox (a warm one from the pool); run the code cells in the student process;
run the hidden checks in this process, which reach the submission only through
:class:`autograder.engine.sandboxed_student.SandboxStudent`; clean up. Nothing a
submission does can raise out of ``grade_one``: an unreadable notebook gives
status ``invalid``, a failure of the kit itself status ``error``.
"""

from __future__ import annotations

import random
import time
import traceback
from pathlib import Path
from typing import Any

from autograder.assignment.model import Assignment
from autograder.checks import broken_cells, suite_guard
from autograder.checks.run_checks import checks_fingerprint, resolve_device
from autograder.checks.run_checks import run_checks as hidden_suite
from autograder.checks.suite_guard import SuiteChanged
from autograder.engine.containment import ContainmentRefused
from autograder.engine.pool import WarmPool, default_pool
from autograder.engine.sandboxed_student import SandboxStudent
from autograder.engine.session import Limits, Session
from autograder.engine.submission import (
    MAX_ANALYSED_CODE_BYTES,
    InvalidSubmission,
    load_submission,
)
from autograder.results import CellRecord, QuestionResult, SubmissionResult

MAX_CELL_LOG_BYTES = 256 * 1024
"""The cells' outputs and messages kept in one result, all cells together."""


def grade_one(
    notebook: str | Path,
    assignment: Assignment,
    *,
    submission_id: str | None = None,
    seed: int | None = None,
    device: str = "auto",
    cell_timeout: float | None = None,
    call_timeout: float | None = None,
    total_timeout: float | None = None,
    memory_mb: int | None = None,
    pool: WarmPool | None = None,
    run_checks: Any = None,
) -> SubmissionResult:
    """Grade one submission notebook of ``assignment`` in a sandboxed process.

    ``seed`` fixes the random probe inputs (a random one is drawn and recorded
    when None); ``device`` is ``auto``, ``cpu`` or ``cuda``; the timeouts are in
    seconds; ``memory_mb`` caps the memory of the whole submission (its cgroup, as
    root; else each process's address space; on ``cuda`` no address-space cap
    applies, as the driver reserves huge virtual ranges). A limit left None is the
    assignment file's (``[limits]``), else the engine's default. ``run_checks``
    replaces :func:`autograder.checks.run_checks.run_checks` (tests only).
    """
    defaults = Limits.of_assignment(assignment)
    cell_timeout = defaults.cell_timeout if cell_timeout is None else cell_timeout
    call_timeout = defaults.call_timeout if call_timeout is None else call_timeout
    total_timeout = defaults.total_timeout if total_timeout is None else total_timeout
    memory_mb = defaults.memory_mb if memory_mb is None else int(memory_mb)
    path = Path(notebook)
    name = submission_id or path.stem
    t_start = time.monotonic()
    timings: dict[str, float] = {}
    seed = int(seed) if seed is not None else random.SystemRandom().randrange(2**31)
    try:
        sub = load_submission(path, assignment)
    except InvalidSubmission as exc:
        result = SubmissionResult.failed(name, "invalid", str(exc), assignment, seed=seed)
        if path.is_file():
            result.notebook_sha256 = _safe_sha(path)
        result.timings = {"read": round(time.monotonic() - t_start, 4)}
        return result
    except Exception as exc:
        return _kit_error(name, exc, assignment)
    timings["read"] = time.monotonic() - t_start

    result = SubmissionResult(
        submission=name,
        status="graded",
        notebook_sha256=sub.sha256,
        free_response=sub.free_response,
        max_total=float(assignment.core_points),
        assignment=assignment.id,
    )
    session: Session | None = None
    suite = suite_guard.current(assignment)  # the run's private copy of the hidden suite, verified
    try:
        result.seed = seed
        result.device = resolve_device(device)
        result.checks_sha256 = checks_fingerprint(assignment)
        limits = Limits(
            cell_timeout=float(cell_timeout),
            call_timeout=float(call_timeout),
            total_timeout=float(total_timeout),
            memory_mb=int(memory_mb),
            checks_share=defaults.checks_share,
        )
        t0 = time.monotonic()
        box = (pool or default_pool()).acquire(limits.memory_mb, assignment, result.device)
        session = Session(box, limits)
        result.limits = {
            **box.limits_note,
            "time": f"{cell_timeout:g} s per cell, "
            f"{call_timeout:g} s per call, {total_timeout:g} s in all, of which "
            f"{limits.checks_share:.0%} is kept for the checks",
        }
        box.worker.wait_ready()
        session.install(assignment.notebook, sub.text)
        session.started = time.monotonic()  # the budget starts when the process is ready
        timings["start"] = time.monotonic() - t0

        t0 = time.monotonic()
        result.cells = cap_cell_logs(session.run_cells(sub.cells))
        timings["cells"] = time.monotonic() - t0

        t0 = time.monotonic()
        student = SandboxStudent(session)
        questions = (run_checks or hidden_suite)(
            student,
            assignment=assignment,
            seed=result.seed,
            device=result.device,
            source=sub.source if sub.analysed else None,
            artifacts=result.artifacts,
        )
        timings["checks"] = time.monotonic() - t0
        result.questions = {
            q.id: questions[q.id] for q in assignment.questions if q.id in questions
        }
        for qid, q in questions.items():
            result.questions.setdefault(qid, q)
        for q in assignment.questions:
            if q.id not in result.questions:
                result.questions[q.id] = QuestionResult(
                    q.id, 0.0, float(q.points), note="not graded"
                )
        result.recompute_total()
        broken_cells.explain(result, sub.cells, assignment)
        notes = []
        if session.restarts:
            notes.append(f"the student process was restarted {session.restarts} time(s)")
        if session.broken:
            notes.append(session.broken)
        if not sub.analysed:
            notes.append(
                f"the notebook holds {sub.code_bytes / 1024:.0f} KiB of code, more "
                f"than the {MAX_ANALYSED_CODE_BYTES // 1024} KiB the grader reads for "
                "its checks of the code itself (those checks failed)"
            )
        result.usage = {"restarts": float(session.restarts)}
        if session.references is not None and session.references.peak_mb():
            result.usage["reference_peak_mb"] = round(session.references.peak_mb(), 1)
        if box.cgroup is not None:
            result.usage["oom_kills"] = float(box.cgroup.oom_kills())
            peak = box.cgroup.peak_memory()
            if peak is not None:
                result.usage["memory_peak_mb"] = round(peak / 2**20, 1)
            if result.usage["oom_kills"]:
                notes.append(f"the memory cap killed {int(result.usage['oom_kills'])} process(es)")
        result.message = "; ".join(notes)
    except (ContainmentRefused, SuiteChanged):
        raise  # nothing may be graded like this: the whole run stops
    except Exception as exc:  # never let one submission stop the batch
        error = _kit_error(name, exc, assignment)
        error.notebook_sha256 = sub.sha256
        error.cells = result.cells
        error.free_response = result.free_response
        error.seed, error.device = result.seed, result.device
        result = error
    finally:
        t0 = time.monotonic()
        if session is not None:
            try:
                session.close()
            except Exception:
                pass
        timings["cleanup"] = time.monotonic() - t0
        timings["total"] = time.monotonic() - t_start
        result.timings = {k: round(v, 4) for k, v in timings.items()}
    suite.verify()  # nothing of the suite or the kit changed while this submission ran
    return result


def cap_cell_logs(cells: list[CellRecord], budget: int = MAX_CELL_LOG_BYTES) -> list[CellRecord]:
    """Keep the cells' outputs and messages within ``budget`` bytes in all (in order)."""
    left = budget
    for cell in cells:
        for attr in ("message", "output"):
            text = getattr(cell, attr)
            size = len(text.encode("utf-8", errors="replace"))
            if size > left:
                kept = text.encode("utf-8", errors="replace")[: max(left, 0)]
                setattr(
                    cell,
                    attr,
                    kept.decode("utf-8", errors="ignore")
                    + (
                        "\n[... output dropped: the notebook's cell logs exceeded "
                        f"{budget // 1024} KiB]"
                        if attr == "output"
                        else ""
                    ),
                )
                left = 0
            else:
                left -= size
    return cells


def _kit_error(name: str, exc: BaseException, assignment: Assignment) -> SubmissionResult:
    tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return SubmissionResult.failed(
        name, "error", f"the grader failed on this submission: {tb}", assignment
    )


def _safe_sha(path: Path) -> str:
    try:
        from autograder.assignment.notebook import file_sha256

        return file_sha256(path)
    except OSError:
        return ""
