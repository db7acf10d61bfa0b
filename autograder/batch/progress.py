"""What a batch shows and tells while it runs: the progress line, the run's summary, and
the stop request that Ctrl-C or SIGTERM makes."""

from __future__ import annotations

import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from autograder.checks.broken_cells import cell_problems
from autograder.results import SubmissionResult
from autograder.staff.final_grades import FinalGrade
from autograder.staff.report import submission_seconds
from autograder.staff.roster import RosterMatch
from autograder.staff.similarity import SimilarityReport


class Progress:
    """A one-line progress bar on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream: Any = None):
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.done, self.failures = total, 0, 0
        self.start = time.monotonic()

    def update(self, result: SubmissionResult, grade: FinalGrade) -> None:
        """One line per submission: the final grade's headline (late penalty and staff
        score included), and what kept code from running."""
        self.done += 1
        self.failures += result.status != "graded"
        if result.status == "graded":
            score = grade.headline
            broken = cell_problems(result)
            if broken:
                score += f"; {broken[0]}" + (
                    f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
                )
        else:
            score = f"{result.status}: {result.message}"[:200]
        line = (
            f"graded {self.done}/{self.total} {result.submission}: {score} "
            f"({submission_seconds(result):.1f} s)"
        )
        if not self.tty:
            print(line, file=self.stream, flush=True)
            return
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = max(10, min(30, width - 60))
        filled = int(bar_width * self.done / max(self.total, 1))
        text = (
            f"[{'#' * filled}{'.' * (bar_width - filled)}] {self.done}/{self.total} "
            f"failures {self.failures}  ~{int(left) // 60}:{int(left) % 60:02d} left  "
            f"{result.submission}"
        )
        print("\r" + text[: width - 1].ljust(width - 1), end="", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self.done:
            print(file=self.stream, flush=True)


@dataclass
class BatchSummary:
    """What one run did."""

    graded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    roster: RosterMatch | None = None
    similarity: SimilarityReport | None = None
    late: list[str] = field(default_factory=list)
    """Submissions that lost points to the late policy."""
    memory: dict[str, Any] = field(default_factory=dict)
    """Peak resident memory (MiB): ``workers_peak_mb`` (one per grading process, largest
    first), ``zygote_peak_mb`` (the shared zygote); written to ``logs/memory.json``."""


class StopRequest:
    """While grading, Ctrl-C or SIGTERM asks the batch to stop at the next safe point
    (never in the middle of an import or a file write); a second one stops at once."""

    def __init__(self) -> None:
        self.hits = 0
        self.previous: dict[int, Any] = {}

    def __call__(self, signum: int, frame: Any) -> None:
        self.hits += 1
        if self.hits > 1:
            raise KeyboardInterrupt

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
