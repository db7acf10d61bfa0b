"""The final grade of each submission: what grades.csv, the exports, the feedback pages
and the class report all show.

    total = core + bonus (hidden checks) + free response (staff, manual.csv) - late penalty

The maximum is the assignment's core points everywhere; its bonus questions and
the free response (up to the assignment file's ``[free_response] points``) are
extra credit on top of it. The late penalty (``autograder/staff/late.py``) never takes more than the submission
earned, so a total is never negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment.model import current
from autograder.results import SubmissionResult
from autograder.staff import manual, timestamps
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


def final_grade(result: SubmissionResult, free_response: float | None = None,
                lateness: Lateness = ON_TIME) -> FinalGrade:
    """The final grade of one result."""
    earned = result.total + (free_response or 0.0)
    penalty = applied_penalty(lateness, earned)
    assignment = current()
    return FinalGrade(
        submission=result.submission, status=result.status,
        points={q: result.questions[q].points for q in assignment.question_ids
                if q in result.questions},
        maximum=float(assignment.core_points),
        checks_total=result.total, free_response=free_response,
        late_penalty=round(penalty, 6), late_message=lateness.message,
        total=round(earned - penalty, 6), message=result.message,
        not_accepted=lateness.not_accepted)


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


def read_inputs(out: Path, results: Sequence[SubmissionResult],
                policy: LatePolicy) -> Inputs:
    """Staff scores (``manual.csv``) and lateness (``submission_times.csv`` under the
    policy) for ``results``."""
    known = {r.submission for r in results}
    scores, warnings = manual.load_scores(out / manual.FILE_NAME, known)
    try:
        times = timestamps.read_times(out / timestamps.TIMES_FILE)
    except (OSError, ValueError) as exc:
        times = {}
        warnings.append(f"{timestamps.TIMES_FILE} unreadable ({exc}); no late penalties")
    lateness = {name: policy.assess(times.get(name)) for name in known}
    if policy.deadline is not None:
        unknown = sorted(n for n in known if n not in times)
        if unknown:
            warnings.append(f"no submission time for {len(unknown)} submissions (counted as on "
                            f"time): {', '.join(unknown[:20])}" + (" ..." if len(unknown) > 20
                                                                    else ""))
    return Inputs(scores, lateness, warnings)


def final_grades(results: Sequence[SubmissionResult], inputs: Inputs) -> list[FinalGrade]:
    """The final grade of every result, in the order given."""
    return [final_grade(r, inputs.scores.get(r.submission),
                        inputs.lateness.get(r.submission, ON_TIME)) for r in results]
