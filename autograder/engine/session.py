"""One submission's life in the sandbox: run its cells, survive its crashes.

A :class:`Session` owns the sandbox slot and folder and the current student
process. A cell that raises is recorded and execution goes on. A cell that times
out or kills the process is recorded, the process is replaced by a fresh one in
the same folder, the cells that completed before are replayed, the bad cell is
skipped, and execution goes on. Calls from the checks get the same treatment: a
call that times out or kills the process costs that call only; the process is
restarted, the good cells replayed and the substitutions made so far re-applied.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment.model import Assignment
from autograder.checks.reference_calls import ReferenceCalls
from autograder.checks.student import StudentError
from autograder.engine import cell_code
from autograder.engine import containment as containment_module
from autograder.engine.process import (
    ReplyTooLarge,
    WorkerDied,
    WorkerProcess,
    WorkerTimeout,
)
from autograder.results import CellRecord
from autograder.sandbox import cgroups, isolation, procs
from autograder.sandbox.jail import JailSpec

MAX_RESTARTS = 25
MAX_TIMEOUTS_PER_NAME = 2
CELL_OUTPUT_CAP = 8 * 1024


@dataclass
class Cell:
    """A code cell: its position in the notebook and its source."""

    index: int
    source: str


@dataclass
class Limits:
    """Time and memory limits of one submission (seconds, MiB)."""

    cell_timeout: float = 60.0
    call_timeout: float = 10.0
    total_timeout: float = 300.0
    memory_mb: int | None = 4096
    checks_share: float = 0.5
    """The part of ``total_timeout`` kept for the hidden checks: the cells stop using time
    once they have used the rest."""

    @classmethod
    def of_assignment(cls, assignment: Assignment) -> Limits:
        """The assignment's limits (``[limits]`` in its file); these defaults for any it
        does not set."""
        given = dict(assignment.limits)
        if "memory_mb" in given:
            given["memory_mb"] = int(given["memory_mb"])
        return cls(**given)


def sweep_free_slots() -> int:
    """Remove what crashed or killed graders left in slots nobody holds now: processes of the
    slot's uid, host folders and cgroups. Returns how many slots had something."""
    free = [number for number in range(isolation.MAX_SLOTS) if not isolation.slot_in_use(number)]
    dirty = set()
    for number in free:
        hit = cgroups.remove_stale(f"s{number}") if isolation.running_as_root() else 0
        for stale in isolation.base_dir().glob(f"s{number}-*"):
            isolation.remove_workdir(stale)
            hit += 1
        if hit:
            dirty.add(number)
    if isolation.running_as_root():  # one pass over /proc for every free slot's uid
        uids = {isolation.UID_BASE + number: number for number in free}
        dirty |= {uids[uid] for uid in procs.owned_by(uids)}
        procs.kill_all(lambda: [pid for pids in procs.owned_by(uids).values() for pid in pids])
    return len(dirty)


@dataclass
class Sandbox:
    """A slot, its folder, its cgroup and the process currently serving it.

    What the folder is and how the student process is confined is the run's
    :class:`~autograder.engine.containment.Containment`'s business: with namespaces
    the folder is the sandbox's host-side stage (the grader's alone) and the
    student process sees only the allow-list root built by
    :mod:`autograder.sandbox.jail`; without, it is the student's working folder.
    """

    slot: isolation.Slot
    workdir: Path
    memory_mb: int | None
    assignment: Assignment
    """The assignment graded (what is staged, which modules the student process loads)."""
    device: str = "cpu"
    containment: containment_module.Containment = field(default_factory=containment_module.current)
    jail: JailSpec | None = None
    cgroup: cgroups.SubmissionCgroup | None = None
    limits_note: dict[str, str] = field(default_factory=dict)
    worker: WorkerProcess | None = None
    closed: bool = False

    @classmethod
    def create(cls, memory_mb: int | None, assignment: Assignment, device: str = "cpu") -> Sandbox:
        """Lock a slot, make its folder (and cgroup) and start a process for a submission of
        ``assignment`` (it warms up on its own). Raises ContainmentRefused where nothing can
        confine it and that was not allowed."""
        mode = containment_module.require()
        slot = isolation.acquire_slot()
        try:
            workdir = isolation.make_workdir(slot)
        except BaseException:
            slot.release()
            raise
        box = cls(slot, workdir, memory_mb, assignment, device, mode)
        try:
            mode.prepare(box)
            box.worker = box.spawn()
        except BaseException:
            box.close()
            raise
        return box

    def rlimit_mb(self) -> int | None:
        """The address-space rlimit (never on cuda: its driver maps huge virtual ranges)."""
        return None if self.device == "cuda" else self.memory_mb

    def spawn(self) -> WorkerProcess:
        return WorkerProcess(
            self.slot,
            self.workdir,
            self.rlimit_mb(),
            self.assignment.student_side_spec(),
            output_cap=CELL_OUTPUT_CAP,
            jail=self.jail,
            containment=self.containment,
        )

    def restart(self) -> WorkerProcess:
        """A fresh serving process: a new fork of the per-submission zygote, else a whole new
        sandbox process. Either way every process the submission started is killed first.
        """
        if self.worker is not None and self.worker.respawn():
            return self.worker
        if self.worker is not None:
            self.worker.kill()
        if self.cgroup is not None:
            self.cgroup.kill()
        self.worker = self.spawn()
        return self.worker

    def close(self) -> None:
        """Kill everything the submission started, delete its folder and cgroup, clear its
        uid's keyrings, free the slot."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.worker is not None:
                self.worker.kill()
            self.containment.close(self)
        finally:
            isolation.remove_workdir(self.workdir)
            self.slot.release()


@dataclass
class Session:
    """Cells and calls of one submission, with restarts and replay."""

    sandbox: Sandbox
    limits: Limits
    started: float = field(default_factory=time.monotonic)
    cells: list[CellRecord] = field(default_factory=list)
    good: list[Cell] = field(default_factory=list)
    installed: dict[str, str] = field(default_factory=dict)
    """Files handed to the student process (name -> text), put back after a restart."""
    references: ReferenceCalls | None = None
    """The reference versions of the substituted names (run in the grader's confined
    reference process, each call within the deadline of the student's call that made it)."""
    restarts: int = 0
    oom_kills: int = 0
    """Processes the memory cap has killed so far."""
    broken: str | None = None
    """Why no process can be had any more (then every call fails with ``died``)."""
    log: list[str] = field(default_factory=list)
    timeouts: dict[str, int] = field(default_factory=dict)
    """How often each function/probe timed out; after MAX_TIMEOUTS_PER_NAME it fails fast."""
    reach: cell_code.Reach = field(init=False)
    """The notebook functions each cell reaches (read from the cells' text)."""
    hanging: set[str] = field(default_factory=set)
    """Notebook functions reached by a cell that timed out: later cells reaching one of them
    get the call limit instead of the cell limit."""
    question_share: float | None = None
    """Seconds guaranteed to each question's checks (set when the first question starts)."""
    question: str = ""
    """The question whose checks run now."""
    question_deadline: float | None = None
    """When the current question's checks must stop once one of its calls timed out (they
    may use what earlier questions left, never the share of the questions still to come)."""
    hung_questions: set[str] = field(default_factory=set)
    """Questions with a call that timed out: only their calls are held to the deadline."""

    def __post_init__(self) -> None:
        self.reach = cell_code.Reach(_question_names(self.sandbox.assignment))

    # ------------------------------------------------------------------ budget

    def remaining(self) -> float:
        return self.limits.total_timeout - (time.monotonic() - self.started)

    def cells_remaining(self) -> float:
        """What the cells may still use: the total less the checks' share."""
        return self.remaining() - self.limits.total_timeout * self.limits.checks_share

    def enter_question(self, question: str, later: list[str]) -> None:
        """The checks of ``question`` start (or resume); ``later`` are the questions with
        checks still to come. Each question is guaranteed an equal share of the time the
        checks had when the first one started: a question one of whose calls timed out may
        use what earlier questions left, never the shares of the questions still to come (a
        question whose calls all finish is held only to the call limit)."""
        waiting = len(set(later) - {question})
        if self.question_share is None:
            self.question_share = max(self.remaining(), 0.0) / (waiting + 1)
        allowed = self.remaining() - waiting * self.question_share
        self.question = question
        self.question_deadline = time.monotonic() + max(allowed, 0.0)

    @property
    def worker(self) -> WorkerProcess:
        assert self.sandbox.worker is not None
        return self.sandbox.worker

    def _ensure_ready(self) -> None:
        if self.broken:
            raise WorkerDied(self.broken)
        self.worker.wait_ready(timeout=max(30.0, min(120.0, self.remaining() + 30)))
        self.worker.on_callback = self.references.handle if self.references else None

    def install(self, name: str, text: str) -> None:
        """Write a file into the student's work folder (the notebook itself)."""
        self._ensure_ready()
        self.worker.request(
            {"op": "install", "name": name, "text": text}, max(self.limits.call_timeout, 10.0)
        )
        self.worker.take_output()
        self.installed[name] = text

    # ------------------------------------------------------------------ cells

    def run_cells(self, cells: list[Cell]) -> list[CellRecord]:
        """Run every code cell in order, recording each outcome."""
        for cell in cells:
            self.cells.append(self._run_one(cell))
        return self.cells

    def _run_one(self, cell: Cell) -> CellRecord:
        label = f"cell {cell.index + 1}"
        if self.broken:
            return CellRecord(cell.index, "skipped", message=f"not run: {self.broken}")
        reached = self.reach.cell(cell.source)
        if self.cells_remaining() <= 0:
            return self._definitions_only(cell)
        limit, why_short = self.limits.cell_timeout, ""
        if reached & self.hanging:
            limit = min(limit, self.limits.call_timeout)
            why_short = (
                f" (the limit for a cell that reaches "
                f"{_names(reached & self.hanging)}, which an earlier cell that timed "
                "out reached too)"
            )
        budget = min(limit, self.cells_remaining())
        try:
            self._ensure_ready()
        except (WorkerDied, WorkerTimeout) as exc:
            self._mark_broken(f"the student process could not start ({exc})")
            return CellRecord(cell.index, "skipped", message=f"not run: {self.broken}")
        self.worker.take_output()
        t0 = time.monotonic()
        try:
            payload = self.worker.request({"op": "run_cell", "source": cell.source}, budget)
        except WorkerTimeout:
            out = self.worker.take_output()
            self.hanging |= reached
            kept = self._keep_definitions(cell)
            self._recover(f"{label} timed out")
            why = (
                f"timed out after {budget:g} s{why_short}"
                if budget >= limit
                else "stopped: the cells used up their share of the time "
                f"({self._cells_share():g} s)"
            )
            return CellRecord(
                cell.index, "timeout", time.monotonic() - t0, f"{label} {why}; {kept}", out.text()
            )
        except (WorkerDied, ReplyTooLarge) as exc:
            out = self.worker.take_output()
            why = self._death(exc)
            kept = self._keep_definitions(cell)
            self._recover(f"{label} killed the process")
            return CellRecord(
                cell.index,
                "died",
                time.monotonic() - t0,
                f"the kernel died while running {label}: {why}; {kept}",
                out.text(),
            )
        seconds = time.monotonic() - t0
        out = self.worker.take_output()
        try:
            reply = json.loads(payload)
            status = reply["status"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return CellRecord(
                cell.index, "error", seconds, "the cell's result was unreadable", out.text()
            )
        self.good.append(cell)
        if status == "ok":
            state = "output_capped" if out.capped else "ok"
            note = f"output truncated after {out.cap} bytes" if out.capped else ""
            return CellRecord(cell.index, state, seconds, note, out.text())
        ename = str(reply.get("ename", ""))[:100]
        evalue = str(reply.get("evalue", ""))[:300]
        return CellRecord(
            cell.index, "error", seconds, f"{ename}: {evalue}" if evalue else ename, out.text()
        )

    def _cells_share(self) -> float:
        return self.limits.total_timeout * (1 - self.limits.checks_share)

    def _keep_definitions(self, cell: Cell) -> str:
        """Replay the cell's definitions from now on (the process is replaced next)."""
        definitions = cell_code.definitions_only(cell.source)
        if not definitions:
            return "it was skipped"
        self.good.append(Cell(cell.index, definitions))
        return "its definitions were kept, the rest was skipped"

    def _definitions_only(self, cell: Cell) -> CellRecord:
        """Once the cells have used their share: run only the cell's definitions."""
        share = (
            f"the cells used up their share of the time ({self._cells_share():g} s of "
            f"{self.limits.total_timeout:g} s; the rest is kept for the checks)"
        )
        definitions = cell_code.definitions_only(cell.source)
        if not definitions:
            return CellRecord(cell.index, "skipped", message=f"not run: {share}")
        budget = min(self.limits.call_timeout, self.remaining())
        t0 = time.monotonic()
        try:
            self._ensure_ready()
            self.worker.request({"op": "run_cell", "source": definitions}, budget)
        except (WorkerDied, WorkerTimeout, ReplyTooLarge):
            self.worker.take_output()
            self._recover(f"the definitions of cell {cell.index + 1} failed")
            return CellRecord(
                cell.index,
                "skipped",
                time.monotonic() - t0,
                f"not run: {share}; its definitions failed too",
            )
        self.worker.take_output()
        self.good.append(Cell(cell.index, definitions))
        return CellRecord(
            cell.index, "skipped", time.monotonic() - t0, f"only its definitions were run: {share}"
        )

    # ------------------------------------------------------------------ restarts

    def _death(self, exc: Exception) -> str:
        """Why the process died: the memory cap when the cgroup counted a new OOM kill."""
        cgroup = self.sandbox.cgroup
        kills = cgroup.oom_kills() if cgroup is not None else 0
        if kills > self.oom_kills:
            self.oom_kills = kills
            return (
                f"it ran out of memory (the submission's cap is "
                f"{cgroup.memory_bytes // (1024 * 1024)} MiB for all its processes)"
            )
        return str(exc)

    def _mark_broken(self, why: str) -> None:
        self.broken = why
        self.log.append(why)

    def _recover(self, why: str) -> None:
        """Replace the process and replay the good cells and substitutions."""
        while not self.broken:
            if self.remaining() <= 0:
                self._mark_broken(
                    f"the submission used up its total time of {self.limits.total_timeout:g} s"
                )
                return
            self.restarts += 1
            self.log.append(f"restart {self.restarts}: {why}")
            if self.restarts > MAX_RESTARTS:
                self._mark_broken("too many restarts of the student process")
                return
            self.sandbox.restart()
            try:
                self._ensure_ready()
                if self._replay():
                    return
            except (WorkerDied, WorkerTimeout, ReplyTooLarge) as exc:
                why = f"the fresh process failed to start: {exc}"
                if self.remaining() <= 0:
                    self._mark_broken("the submission used up its total time")
                    return

    def _replay(self) -> bool:
        """Put the files back, re-run the good cells (a cell that now fails is dropped) and
        re-bind the substituted names. True when done."""
        for name, text in self.installed.items():
            self.worker.request(
                {"op": "install", "name": name, "text": text}, max(self.limits.call_timeout, 10.0)
            )
        for cell in list(self.good):
            budget = min(self.limits.cell_timeout, max(self.remaining(), 1.0))
            try:
                self.worker.request({"op": "run_cell", "source": cell.source}, budget)
            except (WorkerTimeout, WorkerDied, ReplyTooLarge):
                self.good.remove(cell)
                self.log.append(f"cell {cell.index + 1} failed on replay and was dropped")
                return False
            finally:
                self.worker.take_output()
        if self.references is not None:
            self.worker.request(
                {"op": "substitute", "names": self.references.names},
                max(self.limits.call_timeout, 5.0),
            )
        return True

    # ------------------------------------------------------------------ calls

    def call(
        self,
        message: dict,
        what: str,
        timeout: float | None = None,
        key: str | None = None,
        own_question: bool = True,
    ) -> str:
        """Send one check command; on timeout or death, restart and raise StudentError.

        ``key`` names the function or probe: once it has timed out
        ``MAX_TIMEOUTS_PER_NAME`` times, further calls fail at once (an endless
        loop in one function costs its checks, not the whole time budget). A call is
        limited to what is left of the current question's time unless not ``own_question``.
        """
        limit = self.limits.call_timeout if timeout is None else timeout
        key = key or what
        if self.timeouts.get(key, 0) >= MAX_TIMEOUTS_PER_NAME:
            raise StudentError(
                "timeout",
                f"{what} was not run again: it timed out after "
                f"{limit:g} s {self.timeouts[key]} times",
            )
        budget = min(limit, self.remaining())
        if budget <= 0:
            raise StudentError(
                "timeout",
                "not run: the submission used up its total time of "
                f"{self.limits.total_timeout:g} s",
            )
        if (
            own_question
            and self.question in self.hung_questions
            and self.question_deadline is not None
        ):
            budget = min(budget, self.question_deadline - time.monotonic())
            if budget <= 0:
                raise StudentError(
                    "timeout",
                    f"{what} was not run: this question's checks "
                    "used up their share of the time "
                    f"({self.question_share:g} s)",
                )
        try:
            self._ensure_ready()
        except (WorkerDied, WorkerTimeout) as exc:
            raise StudentError("died", f"the student process is not available: {exc}") from None
        try:
            payload = self.worker.request(message, budget)
        except WorkerTimeout:
            self.worker.take_output()
            self.timeouts[key] = self.timeouts.get(key, 0) + 1
            if own_question and self.question:
                self.hung_questions.add(self.question)
            self._recover(f"{what} timed out")
            raise StudentError("timeout", f"{what} timed out after {budget:g} s") from None
        except WorkerDied as exc:
            self.worker.take_output()
            why = self._death(exc)
            self._recover(f"{what} killed the process")
            raise StudentError("died", f"the kernel died while running {what}: {why}") from None
        except ReplyTooLarge:
            self.worker.take_output()
            self._recover(f"{what} sent an oversized reply")
            raise StudentError("bad_value", f"{what} returned a value too large to read") from None
        self.worker.take_output()
        return payload

    def substitute(self, names: list[str], source: str) -> None:
        """Grade from now on with the reference versions of ``names``.

        ``source`` (the reference definitions) runs here, in the grader; the student
        process only gets stand-ins that call it (:mod:`autograder.inside.remote`).
        Remembered for restarts.
        """
        module = self.sandbox.assignment.module("references")
        self.references = ReferenceCalls(
            list(names),
            source,
            getattr(module, "HANDLERS", None),
            getattr(module, "ARGUMENTS", None),
        )
        payload = self.call(
            {"op": "substitute", "names": list(names)},
            "the reference substitution",
            max(self.limits.call_timeout, 5.0),
            own_question=False,
        )
        try:
            reply = json.loads(payload)
        except (ValueError, RecursionError):
            reply = {}
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise StudentError("raised", "the reference versions could not be substituted")

    def close(self) -> None:
        self.sandbox.close()


def _question_names(assignment: Assignment) -> dict[str, frozenset[str]]:
    """Question id -> the names it defines (a cell calling ``check("<id>")`` reaches them)."""
    return {q.id: frozenset(q.names) for q in assignment.questions}


def _names(names: set[str]) -> str:
    shown = sorted(names)[:3]
    return ", ".join(f"`{n}`" for n in shown) + (" ..." if len(names) > 3 else "")
