"""A warm spare: the next submission's student process, started ahead of time.

Starting an interpreter and importing numpy, torch, matplotlib and IPython takes
a couple of seconds (as root only once per grader process: each submission's
process is then a fork of :mod:`autograder.sandbox.zygote`). The pool keeps one sandbox (slot, folder, process) already
warming up, so ``grade_one`` can start running cells at once; each sandbox serves
exactly one submission and is then destroyed. A pool belongs to the process that
made it: after a ``fork`` the child starts its own spares.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.engine import containment
from autograder.engine.session import Limits, Sandbox


class WarmPool:
    """Hands out fresh sandboxes, keeping ``spare`` of them pre-started."""

    def __init__(self, spare: bool = True):
        self.spare = spare
        self._box: Sandbox | None = None
        self._box_for = ""
        """The assignment the spare was started for (its zygote loaded that one's modules)."""
        self._owner = os.getpid()
        self._lock = threading.Lock()
        self.history: list[tuple[int, int | None, str]] = []
        """(slot number, uid, token) of the sandboxes handed out, newest last (at most 100)."""
        self.last_workdir: Path | None = None

    def acquire(
        self, memory_mb: int | None, assignment: Assignment, device: str = "cpu"
    ) -> Sandbox:
        """A sandbox for one submission of ``assignment`` (the warm spare when it fits). Raises
        :class:`~autograder.engine.containment.ContainmentRefused` where nothing can confine
        it and that was not allowed, even when a spare is waiting."""
        with self._lock:
            mode = containment.require()
            box = self._take(memory_mb, device, mode, assignment)
            if box is None:
                box = Sandbox.create(memory_mb, assignment, device)
            self.history = [*self.history[-99:], (box.slot.number, box.slot.uid, box.slot.token)]
            self.last_workdir = box.workdir
            if self.spare:
                try:
                    self._box = Sandbox.create(memory_mb, assignment, device)
                    self._box_for = assignment.ref
                except Exception:  # a missing spare only costs time
                    self._box = None
            return box

    def prewarm(self, assignment: Assignment, memory_mb: int | None = 4096) -> None:
        """Start the spare for ``assignment`` now (e.g. when a batch worker starts), if there
        is none."""
        with self._lock:
            if self._owner != os.getpid():
                self._owner, self._box = os.getpid(), None
            if self.spare and self._box is None:
                self._box = Sandbox.create(memory_mb, assignment)
                self._box_for = assignment.ref

    def _take(
        self,
        memory_mb: int | None,
        device: str,
        mode: containment.Containment,
        assignment: Assignment,
    ) -> Sandbox | None:
        if self._owner != os.getpid():  # forked: the spare belongs to the parent
            self._owner = os.getpid()
            self._box = None
            return None
        box, self._box = self._box, None
        if box is None:
            return None
        if (
            box.memory_mb == memory_mb
            and box.device == device
            and box.worker is not None
            and box.containment == mode
            and self._box_for == assignment.ref
            and box.worker.alive()
        ):
            return box
        box.close()
        return None

    def spare_token(self) -> str | None:
        """The token of the waiting spare's processes (tests use it to tell them apart)."""
        box = self._box
        return box.slot.token if box is not None and self._owner == os.getpid() else None

    def spare_uid(self) -> int | None:
        box = self._box
        return box.slot.uid if box is not None and self._owner == os.getpid() else None

    def close(self) -> None:
        """Destroy the spare."""
        with self._lock:
            if self._box is not None and self._owner == os.getpid():
                with contextlib.suppress(Exception):
                    self._box.close()
            self._box = None


_default: WarmPool | None = None


def default_pool() -> WarmPool:
    """The module-level pool ``grade_one`` uses when given none."""
    global _default
    if _default is None or _default._owner != os.getpid():
        _default = WarmPool(spare=True)
    return _default


def warm_grader(assignment: Assignment) -> None:
    """Load, in the grader, what the first submission's checks would load: torch (with
    ``torch._dynamo``, which the first optimizer imports), matplotlib (the font cache
    the sandbox is given), IPython's input transformer (which cells parse), every module
    of the hidden suite, the assignment's reference handlers and the solution's
    definitions (the source of the reference substitution).

    Run while the zygote starts, this takes those seconds off the first submission.
    """
    import matplotlib  # noqa: F401
    import torch._dynamo  # noqa: F401
    from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

    from autograder.checks import run_checks
    from autograder.checks.reference_source import reference_source

    run_checks.suite_table(assignment)
    for role in ("probes", "references"):
        assignment.module(role)
    with contextlib.suppress(KeyError, OSError):
        reference_source([], assignment.solution_notebook)


def prewarm(assignment: Assignment) -> None:
    """Warm the grader (:func:`warm_grader`), then start the default pool's spare student
    process with the assignment's memory cap (the batch calls this once per worker,
    before its first submission)."""
    warm_grader(assignment)
    default_pool().prewarm(assignment, Limits.of_assignment(assignment).memory_mb)


@atexit.register
def _close_default() -> None:
    if _default is not None:
        _default.close()
