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

from autograder.assignment.model import LIMIT_NAMES, Assignment, select
from autograder.checks.broken_cells import NOT_GRADED, cell_problems
from autograder.inside.probes import NOT_DEFINED, NOT_IMPLEMENTED
from autograder.results import CheckResult, QuestionResult, SubmissionResult, unconfined_banner
from autograder.staff.final_grades import final_grade

VISIBILITIES = ("visible", "after_published", "after_due_date", "hidden")
DEFAULT_VISIBILITY = "visible"
PLUGIN = "autograder.integrations.otter_plugin.SandboxPlugin"
"""The otter plugin's import path (its entry in ``otter_config.json``)."""


def question_output(question: QuestionResult) -> str:
    """What a student reads under one question (Markdown): its failed checks' diagnoses,
    each once, or that all passed. A question nothing of which is written says so once;
    one whose code could not run (a syntax error, a timeout) says which cell and why."""
    if not question.checks:
        return question.note or "No check ran for this question."
    failed = [c for c in question.checks if not c.passed]
    if not failed:
        n = len(question.checks)
        return f"All {n} checks passed." if n > 1 else "The check passed."
    if question.note.startswith(NOT_GRADED):
        return (
            question.note[0].upper()
            + question.note[1:]
            + f" (0 of {question.max_points:g} points)."
        )
    not_written = [c for c in failed if NOT_IMPLEMENTED in c.message or NOT_DEFINED in c.message]
    if len(not_written) == len(question.checks):
        return (
            "Not implemented yet: the functions of this question still raise "
            "NotImplementedError or are missing (0 points)."
        )
    groups: dict[str, list[CheckResult]] = {}
    for check in failed:
        groups.setdefault(check.message.strip() or "A check failed.", []).append(check)
    lines = []
    for message, checks in groups.items():
        lost = sum(c.max_points - c.points for c in checks)
        lines.append(f"- ✘ {message} (−{lost:g} point{'s' if lost != 1 else ''})")
    if question.note:
        lines += ["", question.note]
    return "\n".join(lines)


def summary_output(result: SubmissionResult, assignment: Assignment) -> str:
    """The top of the results page (Markdown): the headline, where extra credit goes,
    cells that did not run, and any note on the run. No seed (that is ``extra_data``)."""
    if result.status == "invalid":
        return f"Your file could not be graded: {result.message}"
    if result.status != "graded":
        return (
            "The grader failed on your notebook. This is not your fault: course staff "
            "will regrade it."
        )
    lines = [f"**{final_grade(result, assignment).headline}**", ""]
    if unconfined_banner(result.limits):
        lines[:0] = [unconfined_banner(result.limits), ""]
    if assignment.extra_credit_points > 0:
        where = (
            "recorded by course staff in a column of its own, beside the score above"
            if assignment.extra_credit == "separate"
            else "included in the score"
        )
        lines.append(
            f"Extra credit (the bonus question and the free response, which "
            f"course staff score later) is {where}."
        )
    problems = cell_problems(result)
    if problems:
        lines += ["", "Some of your code did not run:"]
        lines += [f"- {p[0].upper()}{p[1:]}" for p in problems]
    if result.message:
        lines += ["", f"Note: {result.message}."]
    return "\n".join(lines)


def results_json(
    result: SubmissionResult,
    assignment: Assignment,
    visibility: str = DEFAULT_VISIBILITY,
    execution_time: float | None = None,
) -> dict[str, Any]:
    """Gradescope's results for one graded submission of ``assignment``: one test per
    question.

    ``score`` is the assignment's score as the assignment file's ``extra_credit`` says:
    the core alone (``separate``, the default; a notebook that fails a core check never
    reads as full marks) or core + bonus (``added``). Core questions have their points
    as ``max_score`` (100 in all); the bonus question is a test named as extra credit
    with its own points as ``max_score``, so it reads "10 / 10", not "10 / 0" (the
    top-level ``score`` decides the grade, not the sum of the tests). The free response
    is pending staff grading: a test with neither status nor score. ``output`` (the
    page's top) opens with the headline; texts are Markdown (``output_format: md``).
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tests = []
    grade = final_grade(result, assignment)
    for number, q in enumerate(assignment.questions, start=1):
        qr = result.questions.get(q.id) or QuestionResult(q.id, 0.0, float(q.points))
        full = qr.points >= qr.max_points - 1e-9
        output = question_output(qr) if result.status == "graded" else result.message
        tests.append(
            {
                "name": q.id + (f" (extra credit, up to {q.points} points)" if q.bonus else ""),
                "number": str(number),
                "score": round(qr.points, 4),
                "max_score": float(q.points),
                "status": "passed" if full and result.status == "graded" else "failed",
                "output": output,
                "output_format": "md",
                "visibility": visibility,
                **({"tags": ["extra credit"]} if q.bonus else {}),
            }
        )
    answer = result.free_response.strip()
    tests.append(
        {
            "name": f"free response (pending: scored by course staff, up to "
            f"{assignment.free_response_points:g} extra-credit points)",
            "output": (
                "Course staff score this answer later; the autograder gives it no "
                "points.\n\n"
                + (answer[:4000] if answer else "No answer was found in the free-response cell.")
            ),
            "output_format": "text",
            "visibility": visibility,
        }
    )
    out: dict[str, Any] = {
        "score": round(grade.total, 4),
        "output": summary_output(result, assignment),
        "output_format": "md",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "seed": result.seed,
            "status": result.status,
            "core": round(grade.core, 4),
            "extra_credit": round(grade.extra_credit, 4),
            "message": result.message,
            "checks_sha256": result.checks_sha256,
            "limits": result.limits,
        },
    }
    if execution_time is not None:
        out["execution_time"] = round(execution_time, 2)
    return out


def find_notebook(folder: Path, name: str) -> tuple[Path | None, str]:
    """The submitted notebook in Gradescope's submission folder (``name``, the assignment's
    notebook, or the only one), or None and why."""
    notebooks = sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
    )
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


def assignment_of(config: dict[str, Any], selected: Assignment) -> Assignment:
    """The assignment the zip was built for (its config names it), made current;
    ``selected`` (the process's) when it has that id already (an assignment selected by
    its folder) or the config names none."""
    wanted = config.get("assignment")
    if not isinstance(wanted, str) or not wanted or selected.id == wanted:
        return selected
    return select(wanted)


def limits_of(config: dict[str, Any]) -> dict[str, float]:
    limits = config.get("limits") or {}
    return {k: float(v) for k, v in limits.items() if k in LIMIT_NAMES}


def grade_submission_file(
    notebook: str | Path,
    assignment: Assignment,
    seed: int | None = None,
    limits: dict[str, float] | None = None,
) -> SubmissionResult:
    """Grade one submitted notebook of ``assignment`` in the sandbox, with a fresh seed
    unless one is given."""
    from autograder.engine.grade import grade_one

    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    kwargs: dict[str, Any] = dict(limits or {})
    if "memory_mb" in kwargs:
        kwargs["memory_mb"] = int(kwargs["memory_mb"])
    return grade_one(
        notebook, assignment, submission_id=Path(notebook).stem, seed=seed, device="auto", **kwargs
    )


def grade_submission(
    folder: Path,
    assignment: Assignment,
    seed: int | None = None,
    limits: dict[str, float] | None = None,
) -> SubmissionResult:
    """Grade the notebook of ``assignment`` in ``folder`` (an invalid result when there is
    none)."""
    notebook, why = find_notebook(folder, assignment.notebook)
    if notebook is None:
        return SubmissionResult.failed("submission", "invalid", why, assignment, seed=seed or 0)
    return grade_submission_file(notebook, assignment, seed, limits)
