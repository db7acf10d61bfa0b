"""Gradescope: grade ``/autograder/submission`` in the kit's sandbox, write ``results.json``.

Gradescope runs the zip's ``run_autograder`` as root in ``/autograder``; it calls
``python -m autograder gradescope``, which grades the submitted notebook with
:func:`autograder.engine.grade_one` (the full sandbox: student code never runs
outside it) and writes ``/autograder/results/results.json`` in Gradescope's
schema (see :func:`results_json`). ``otter run -a`` with the same zip gets the
same JSON through :mod:`autograder.integrations.otter_plugin`.

One setting, the ``visibility`` of the results, lives in the zip's
``otter_config.json`` (the plugin's configuration), written by
``python -m autograder.integrations.otter_build --visibility ...``. The default, ``visible``,
shows a student every question's score and the diagnosis of each failed check
as soon as the submission is graded: the diagnoses are written for students
and never hold a hidden input, the inputs are drawn fresh for every
submission, and the same per-question feedback is what ``make grade`` mails
out, so there is nothing to hold back and a student who sees it can fix the
code before the deadline.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from autograder.assignment.model import LIMIT_NAMES, Assignment, current, select
from autograder.results import QuestionResult, SubmissionResult

VISIBILITIES = ("visible", "after_published", "after_due_date", "hidden")
DEFAULT_VISIBILITY = "visible"
PLUGIN = "autograder.integrations.otter_plugin.SandboxPlugin"
"""The otter plugin's import path (its entry in ``otter_config.json``)."""


def question_output(question: QuestionResult) -> str:
    """What a student reads under one question: its failed checks' diagnoses, or that all
    passed. A question nothing of which is written says so once."""
    if not question.checks:
        return question.note or "No check ran for this question."
    failed = [c for c in question.checks if not c.passed]
    if not failed:
        n = len(question.checks)
        return f"All {n} checks passed." if n > 1 else "The check passed."
    lines = []
    not_written = [c for c in failed if "not implemented yet" in c.message
                   or "is not defined in your notebook" in c.message]
    if len(not_written) == len(question.checks):
        return "Not implemented yet: the functions of this question still raise " \
               "NotImplementedError or are missing (0 points)."
    for check in failed:
        lost = check.max_points - check.points
        lines.append(f"✘ {check.message.strip() or check.name + ' failed'} "
                     f"(−{lost:g} point{'s' if lost != 1 else ''})")
    if question.note:
        lines.append(question.note)
    return "\n".join(lines)


def results_json(result: SubmissionResult, visibility: str = DEFAULT_VISIBILITY,
                 execution_time: float | None = None) -> dict[str, Any]:
    """Gradescope's results for one graded submission: one test per question.

    Core questions have their points as ``max_score`` (100 in all); the bonus
    question has ``max_score`` 0, so its points count as extra credit above the
    maximum, as in ``make grade`` and nbgrader. The free response is collected
    for staff (an informational test without a score).
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tests = []
    assignment = current()
    for number, q in enumerate(assignment.questions, start=1):
        qr = result.questions.get(q.id) or QuestionResult(q.id, 0.0, float(q.points))
        full = qr.points >= qr.max_points - 1e-9
        output = question_output(qr) if result.status == "graded" else result.message
        tests.append({
            "name": q.id + (f" (bonus, up to {q.points} extra points)" if q.bonus else ""),
            "number": str(number),
            "score": round(qr.points, 4),
            "max_score": 0.0 if q.bonus else float(q.points),
            "status": "passed" if full and result.status == "graded" else "failed",
            "output": output,
            "visibility": visibility,
        })
    answer = result.free_response.strip()
    tests.append({
        "name": "free response (scored by course staff)",
        "status": "passed" if answer else "failed",
        "output": (f"Course staff score this answer (up to "
                   f"{assignment.free_response_points:g} extra "
                   "points); the autograder gives it no points.\n\n"
                   + (answer[:4000] if answer else "No answer was found in the free-response "
                                                   "cell.")),
        "visibility": visibility,
    })
    summary = {
        "graded": f"Graded in the kit's sandbox: {_core(result):g} of "
                  f"{assignment.core_points} points"
                  f" + {_bonus(result):g} bonus points (seed {result.seed}).",
        "invalid": f"Your file could not be graded: {result.message}",
        "error": "The grader failed on your notebook. This is not your fault: course staff "
                 f"will regrade it. ({result.message})",
    }.get(result.status, result.message)
    if result.status == "graded" and result.message:
        summary += f" Note: {result.message}."
    out: dict[str, Any] = {
        "score": round(result.total, 4),
        "output": summary,
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"seed": result.seed, "status": result.status,
                       "checks_sha256": result.checks_sha256, "limits": result.limits},
    }
    if execution_time is not None:
        out["execution_time"] = round(execution_time, 2)
    return out


def _bonus(result: SubmissionResult) -> float:
    return sum(result.questions[q.id].points for q in current().questions
               if q.bonus and q.id in result.questions)


def _core(result: SubmissionResult) -> float:
    return round(result.total - _bonus(result), 4)


def find_notebook(folder: Path) -> tuple[Path | None, str]:
    """The submitted notebook in Gradescope's submission folder, or None and why."""
    notebooks = sorted(p for p in folder.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("."))
    name = current().notebook
    if not notebooks:
        return None, f"no notebook was submitted; upload {name}"
    named = [p for p in notebooks if p.name == name]
    if len(notebooks) == 1 or len(named) == 1:
        return (named or notebooks)[0], ""
    names = ", ".join(p.name for p in notebooks[:5])
    return None, f"{len(notebooks)} notebooks were submitted ({names}); upload only {name}"




def plugin_config(source: Path) -> dict[str, Any]:
    """The kit plugin's configuration in the zip's ``otter_config.json`` (``{}`` if none)."""
    try:
        config = json.loads((source / "otter_config.json").read_text())
    except (OSError, ValueError):
        return {}
    for entry in config.get("plugins", []):
        if isinstance(entry, dict) and PLUGIN in entry:
            return dict(entry[PLUGIN] or {})
    return {}


def visibility_of(config: dict[str, Any]) -> str:
    value = config.get("visibility", DEFAULT_VISIBILITY)
    return value if value in VISIBILITIES else DEFAULT_VISIBILITY


def seed_of(config: dict[str, Any]) -> int | None:
    """A fixed probe seed (for reproducing a grade); None: a fresh one per submission."""
    seed = config.get("seed")
    return int(seed) if isinstance(seed, int) and not isinstance(seed, bool) else None


def assignment_of(config: dict[str, Any]) -> Assignment:
    """The assignment the zip was built for (its config names it), made current; the
    current one when it has that id already (an assignment selected by its folder)."""
    wanted = config.get("assignment")
    if not isinstance(wanted, str) or not wanted or current().id == wanted:
        return current()
    return select(wanted)


def limits_of(config: dict[str, Any]) -> dict[str, float]:
    limits = config.get("limits") or {}
    return {k: float(v) for k, v in limits.items() if k in LIMIT_NAMES}


def grade_submission_file(notebook: str | Path, seed: int | None = None,
                          limits: dict[str, float] | None = None) -> SubmissionResult:
    """Grade one submitted notebook in the sandbox, with a fresh seed unless one is given."""
    from autograder.engine.grade import grade_one

    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    kwargs: dict[str, Any] = dict(limits or {})
    if "memory_mb" in kwargs:
        kwargs["memory_mb"] = int(kwargs["memory_mb"])
    return grade_one(notebook, submission_id=Path(notebook).stem, seed=seed, device="auto",
                     **kwargs)


def grade_submission(folder: Path, seed: int | None = None,
                     limits: dict[str, float] | None = None) -> SubmissionResult:
    """Grade the notebook in ``folder`` (an invalid result when there is none)."""
    notebook, why = find_notebook(folder)
    if notebook is None:
        return SubmissionResult.failed("submission", "invalid", why, seed=seed or 0)
    return grade_submission_file(notebook, seed, limits)
