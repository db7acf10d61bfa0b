"""The late policy: how many points a late submission loses.

Set in one place, the ``[late]`` table of the assignment file (``deadline``,
``grace_minutes``, ``penalty_points``, ``penalty_unit``, ``penalty_cap``,
``cutoff_hours``). With ``lateness = submitted_at - deadline``:

* ``lateness <= grace``: on time, no penalty;
* past the cut-off (``lateness > cutoff``, when one is set): not accepted, the
  total becomes 0;
* otherwise ``penalty = min(cap, points * ceil(lateness / unit))`` points, one unit
  (hour or day) counted for every started one, from the deadline itself.

The penalty never takes more than the submission earned (the total stays >= 0),
the same clamp nbgrader's ``LateSubmissionPlugin`` applies. A submission whose
time is unknown is treated as on time and listed in the warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from autograder.assignment.model import LateSettings

UNITS = {"hour": 3600.0, "day": 86400.0}


@dataclass(frozen=True)
class Lateness:
    """What the policy says about one submission."""

    seconds_late: float
    """Seconds after the deadline (negative: early); 0 when the time is unknown."""
    penalty: float
    """Points the policy takes, before the clamp to what the submission earned."""
    not_accepted: bool = False
    message: str = ""
    """One line for the student and the report; '' when on time."""


ON_TIME = Lateness(0.0, 0.0)


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours)
    return " ".join(parts + [f"{minutes} min"] * bool(minutes or not parts))


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


@dataclass(frozen=True)
class LatePolicy:
    """Deadline, grace period and penalty (see the module docstring)."""

    deadline: datetime | None
    grace: timedelta = timedelta(minutes=15)
    points: float = 10.0
    unit: str = "day"
    cap: float = 50.0
    cutoff: timedelta | None = None

    def __post_init__(self) -> None:
        if self.deadline is not None and self.deadline.utcoffset() is None:
            raise ValueError(
                f"the deadline {self.deadline.isoformat()} has no UTC offset; "
                "write it like 2026-03-13T23:59:00-05:00"
            )
        if self.unit not in UNITS:
            raise ValueError(f"late penalty unit {self.unit!r}: use 'hour' or 'day'")
        for name in ("points", "cap"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"late penalty {name} {value!r}: use a number >= 0")
        if self.grace < timedelta(0) or (self.cutoff is not None and self.cutoff < self.grace):
            raise ValueError("the grace period must be >= 0 and the cut-off after it")

    @classmethod
    def from_assignment(cls, late: LateSettings) -> LatePolicy:
        """The policy of an assignment file's ``[late]`` table (``Assignment.late``)."""
        deadline = datetime.fromisoformat(late.deadline) if late.deadline else None
        cutoff = late.cutoff_hours
        return cls(
            deadline=deadline,
            grace=timedelta(minutes=late.grace_minutes),
            points=float(late.penalty_points),
            unit=late.penalty_unit,
            cap=float(late.penalty_cap),
            cutoff=None if cutoff is None else timedelta(hours=cutoff),
        )

    def describe(self) -> str:
        """The policy in one sentence."""
        if self.deadline is None:
            return "No deadline is set."
        text = (
            f"Deadline {self.deadline.isoformat(sep=' ', timespec='minutes')}, grace "
            f"{_duration(self.grace.total_seconds())}; {_points(self.points)} points off "
            f"per started {self.unit} late, at most {_points(self.cap)}"
        )
        if self.cutoff is not None:
            text += (
                f"; not accepted more than {_duration(self.cutoff.total_seconds())} "
                "after the deadline"
            )
        return text + "."

    def assess(self, submitted_at: datetime | None) -> Lateness:
        """The lateness of a submission made at ``submitted_at`` (None: unknown, on time)."""
        if self.deadline is None or submitted_at is None:
            return ON_TIME
        late = (submitted_at - self.deadline).total_seconds()
        if late <= self.grace.total_seconds():
            return Lateness(late, 0.0)
        when = f"submitted {_duration(late)} after the deadline"
        if self.cutoff is not None and late > self.cutoff.total_seconds():
            return Lateness(
                late,
                math.inf,
                True,
                f"{when}, past the cut-off of {_duration(self.cutoff.total_seconds())}"
                ": not accepted, the total is 0",
            )
        periods = math.ceil(late / UNITS[self.unit])
        penalty = min(self.cap, self.points * periods)
        return Lateness(
            late,
            penalty,
            False,
            f"{when}: {_points(penalty)} points off ({_points(self.points)} per "
            f"started {self.unit}, at most {_points(self.cap)})",
        )


def applied_penalty(lateness: Lateness, earned: float) -> float:
    """The points actually taken from a submission that earned ``earned`` points."""
    return max(0.0, min(lateness.penalty, earned))
