"""The final grade of each submission: what grades.csv, the exports, the feedback pages,
the class report, the console, Gradescope and nbgrader all show.

    core         = points of the core questions (hidden checks); the maximum is their sum
    extra credit = bonus questions (hidden checks) + free response (staff, manual.csv)
    total        = core - late penalty                 (extra_credit = "separate", the default)
                   core + extra credit - late penalty  (extra_credit = "added")

The assignment file's ``extra_credit`` chooses: ``separate`` keeps extra credit in a
column of its own, so the total never exceeds the core and a notebook that fails a
core check never reads as full marks; ``added`` counts it in the total. Every view
opens with the same :func:`headline` ("Core 90 / 100 · extra credit +10"). The late
penalty (``autograder/staff/late.py``) never takes more than what it is taken from, so a
total is never negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.results import SubmissionResult
from autograder.staff import manual, timestamps, wording
from autograder.staff.late import ON_TIME, Lateness, LatePolicy, applied_penalty


@dataclass
class FinalGrade:
    """One submission's points, staff score, penalty and total."""

    submission: str
    status: str
    points: dict[str, float]
    """Question id -> points from the hidden checks (missing: not graded)."""
    checks_total: float
    free_response: float | None
    """The staff score of the free response; None until staff score it."""
    late_penalty: float
    late_message: str
    total: float
    message: str
    maximum: float = 0.0
    not_accepted: bool = False
    core: float = 0.0
    """Points of the core questions."""
    bonus: float = 0.0
    """Points of the bonus questions."""
    extra_credit: float = 0.0
    """Bonus points plus the staff's free-response score."""
    extra_credit_maximum: float = 0.0
    extra_credit_added: bool = False
    """Whether extra credit is part of ``total`` (else it is a column of its own)."""
    containment: str = ""
    """How the submission was contained (``limits["containment"]``), e.g. ``unconfined``."""

    @property
    def headline(self) -> str:
        """The one line every view opens with (see :func:`headline`)."""
        return headline(self)


def _pts(value: float) -> str:
    return f"{round(float(value), 3):g}"


def headline(grade: FinalGrade) -> str:
    """``Core 90 / 100 · extra credit +10``; with the late penalty (``late −7 → 83 / 100``)
    and, when extra credit counts in the total, ``· total 100``."""
    parts = [f"Core {_pts(grade.core)} / {_pts(grade.maximum)}"]
    if grade.late_penalty > 0 and not grade.extra_credit_added:
        parts.append(
            f"late −{_pts(grade.late_penalty)} → {_pts(grade.total)} / {_pts(grade.maximum)}"
        )
    if grade.extra_credit_maximum > 0:
        parts.append(f"extra credit +{_pts(grade.extra_credit)}")
    if grade.extra_credit_added:
        if grade.late_penalty > 0:
            parts.append(f"late −{_pts(grade.late_penalty)}")
        parts.append(f"total {_pts(grade.total)}")
    return " · ".join(parts)


def final_grade(
    result: SubmissionResult,
    assignment: Assignment,
    free_response: float | None = None,
    lateness: Lateness = ON_TIME,
) -> FinalGrade:
    """The final grade of one result of ``assignment``."""
    bonus = sum(result.questions[q].points for q in assignment.bonus_ids if q in result.questions)
    core = result.total - bonus
    extra = bonus + (free_response or 0.0)
    added = assignment.extra_credit == "added"
    earned = core + extra if added else core
    penalty = applied_penalty(lateness, earned)
    return FinalGrade(
        submission=result.submission,
        status=result.status,
        points={
            q: result.questions[q].points for q in assignment.question_ids if q in result.questions
        },
        maximum=float(assignment.core_points),
        checks_total=result.total,
        free_response=free_response,
        late_penalty=round(penalty, 6),
        late_message=lateness.message,
        total=round(earned - penalty, 6),
        message=result.message,
        not_accepted=lateness.not_accepted,
        core=round(core, 6),
        bonus=round(bonus, 6),
        extra_credit=round(extra, 6),
        extra_credit_maximum=assignment.extra_credit_points,
        extra_credit_added=added,
        containment=str(result.limits.get("containment", "")),
    )


def with_penalty(result: SubmissionResult, grade: FinalGrade) -> SubmissionResult:
    """``result`` carrying the grade's late penalty, for its feedback page."""
    result.late_penalty, result.late_message = grade.late_penalty, grade.late_message
    return result


@dataclass
class Inputs:
    """What the final grades are computed from, as read from a grades folder."""

    scores: dict[str, float]
    lateness: dict[str, Lateness]
    warnings: list[str] = field(default_factory=list)


def read_inputs(
    out: Path, results: Sequence[SubmissionResult], policy: LatePolicy, assignment: Assignment
) -> Inputs:
    """Staff scores (``manual.csv``) and lateness (``submission_times.csv`` under the
    policy) for ``results`` of ``assignment``."""
    known = {r.submission for r in results}
    scores, warnings = manual.load_scores(
        out / manual.FILE_NAME, assignment.free_response_points, known
    )
    try:
        times = timestamps.read_times(out / timestamps.TIMES_FILE)
    except (OSError, ValueError) as exc:
        times = {}
        warnings.append(f"{timestamps.TIMES_FILE} unreadable ({exc}); no late penalties")
    lateness = {name: policy.assess(times.get(name)) for name in known}
    if policy.deadline is not None:
        unknown = sorted(n for n in known if n not in times)
        if unknown:
            warnings.append(
                f"no submission time in {out / timestamps.TIMES_FILE} for "
                f"{wording.count(len(unknown), 'submission')} (counted as on "
                f"time): {wording.names(unknown, 20)}"
            )
    return Inputs(scores, lateness, warnings)


def final_grades(
    results: Sequence[SubmissionResult], inputs: Inputs, assignment: Assignment
) -> list[FinalGrade]:
    """The final grade of every result, in the order given."""
    return [
        final_grade(
            r,
            assignment,
            inputs.scores.get(r.submission),
            inputs.lateness.get(r.submission, ON_TIME),
        )
        for r in results
    ]
