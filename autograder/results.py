"""Plain dataclasses for grading results, and the one object that serialises them.

Modelled on otter-grader's ``GradingResults``: a submission's result holds one
:class:`QuestionResult` per contract question, each holding its
:class:`CheckResult` rows. ``SubmissionResult.to_json``/``from_json`` is the
only (de)serialisation; the batch, the feedback pages and the class report all
read these files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from autograder.assignment.model import Assignment

SCHEMA_VERSION = 1


@dataclass
class CheckResult:
    """One hidden check: its outcome and a student-facing message."""

    name: str
    question: str
    passed: bool
    points: float
    max_points: float
    message: str = ""
    diagnosis: str = ""
    """A short machine-readable label of the recognised mistake ("" when none)."""
    review: str = ""
    """For staff to review: what the check could not decide ("" when nothing); never shown
    to the student, and it changes no points."""


@dataclass
class QuestionResult:
    """All checks of one contract question."""

    id: str
    points: float
    max_points: float
    checks: list[CheckResult] = field(default_factory=list)
    note: str = ""
    """E.g. that it was graded with the reference versions of the functions it builds on."""


@dataclass
class CellRecord:
    """What happened to one code cell of the submission."""

    index: int
    status: str
    """``ok``, ``error``, ``timeout``, ``died``, ``skipped`` or ``output_capped``."""
    seconds: float = 0.0
    message: str = ""
    output: str = ""


@dataclass
class SubmissionResult:
    """The full result of grading one submission."""

    submission: str
    status: str
    """``graded``, ``invalid`` (not a readable notebook) or ``error`` (the kit failed)."""
    total: float = 0.0
    max_total: float = 0.0
    """The assignment's maximum (its core points; bonus and free response count on top)."""
    assignment: str = ""
    """The id of the assignment graded."""
    questions: dict[str, QuestionResult] = field(default_factory=dict)
    message: str = ""
    seed: int = 0
    device: str = "cpu"
    timings: dict[str, float] = field(default_factory=dict)
    cells: list[CellRecord] = field(default_factory=list)
    free_response: str = ""
    notebook_sha256: str = ""
    checks_sha256: str = ""
    artifacts: dict[str, Any] = field(default_factory=dict)
    """Plain data for the feedback plots the assignment declares (its checks record it)."""
    late_penalty: float = 0.0
    """Points the late policy took (set by the batch from the submission time; the engine
    leaves it 0)."""
    late_message: str = ""
    """The late policy's one line about this submission ('' when on time)."""
    limits: dict[str, str] = field(default_factory=dict)
    """The sandbox and the limits that were in force (what, and how they were enforced)."""
    usage: dict[str, float] = field(default_factory=dict)
    """What the submission used: ``memory_peak_mb``, ``oom_kills``, ``restarts``."""
    schema: int = SCHEMA_VERSION

    def recompute_total(self) -> float:
        """Sum the question points (bonus included) into ``total``."""
        self.total = round(sum(q.points for q in self.questions.values()), 6)
        return self.total

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, allow_nan=False, default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> SubmissionResult:
        data = json.loads(text)
        questions = {
            qid: QuestionResult(**{**q, "checks": [CheckResult(**c) for c in q.get("checks", [])]})
            for qid, q in data.pop("questions", {}).items()
        }
        cells = [CellRecord(**c) for c in data.pop("cells", [])]
        return cls(**data, questions=questions, cells=cells)

    @classmethod
    def failed(
        cls, submission: str, status: str, message: str, assignment: Assignment, seed: int = 0
    ) -> SubmissionResult:
        """A result of ``assignment`` with every question at zero, for invalid notebooks
        and kit errors (``seed``: the one the submission would have been graded with)."""
        result = cls(
            submission=submission,
            status=status,
            message=message,
            max_total=float(assignment.core_points),
            assignment=assignment.id,
            seed=seed,
        )
        for q in assignment.questions:
            result.questions[q.id] = QuestionResult(q.id, 0.0, float(q.points), note=message)
        return result


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


UNCONFINED = "unconfined"
"""``limits["containment"]`` of a submission graded without any sandbox."""


def unconfined_banner(limits: dict) -> str:
    """One line for any page or output showing a result: empty unless it was graded
    unconfined."""
    if limits.get("containment") == UNCONFINED:
        return (
            "UNCONFINED: graded without a sandbox; the submission could have read the "
            "solution or changed the hidden checks."
        )
    return ""
