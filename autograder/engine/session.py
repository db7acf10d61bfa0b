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
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine import isolation
from autograder.engine.process import (
    ReplyTooLarge,
    WorkerDied,
    WorkerProcess,
    WorkerTimeout,
)
from autograder.results import CellRecord
from autograder.student import StudentError

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


@dataclass
class Sandbox:
    """A slot, its folder and the process currently serving it."""

    slot: isolation.Slot
    workdir: Path
    memory_mb: int | None
    worker: WorkerProcess | None = None
    closed: bool = False

    @classmethod
    def create(cls, memory_mb: int | None) -> Sandbox:
        """Lock a slot, make its folder and start a process (which warms up on its own)."""
        slot = isolation.acquire_slot()
        try:
            workdir = isolation.make_workdir(slot)
        except BaseException:
            slot.release()
            raise
        box = cls(slot, workdir, memory_mb)
        _seed_font_cache(workdir, slot)
        try:
            box.worker = box.spawn()
        except BaseException:
            box.close()
            raise
        return box

    def spawn(self) -> WorkerProcess:
        return WorkerProcess(self.slot, self.workdir, self.memory_mb, output_cap=CELL_OUTPUT_CAP)

    def restart(self) -> WorkerProcess:
        """A fresh serving process: a new fork of the warm zygote, else a new interpreter.

        Either way every process the submission started is killed first.
        """
        if self.worker is not None and self.worker.respawn():
            return self.worker
        if self.worker is not None:
            self.worker.kill()
        self.worker = self.spawn()
        return self.worker

    def close(self) -> None:
        """Kill everything the submission started, delete its folder, free the slot."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.worker is not None:
                self.worker.kill()
            isolation.kill_processes(uid=self.slot.uid, token=self.slot.token)
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
    substitutions: list[tuple[list[str], str]] = field(default_factory=list)
    restarts: int = 0
    broken: str | None = None
    """Why no process can be had any more (then every call fails with ``died``)."""
    log: list[str] = field(default_factory=list)
    timeouts: dict[str, int] = field(default_factory=dict)
    """How often each function/probe timed out; after MAX_TIMEOUTS_PER_NAME it fails fast."""

    # ------------------------------------------------------------------ budget

    def remaining(self) -> float:
        return self.limits.total_timeout - (time.monotonic() - self.started)

    @property
    def worker(self) -> WorkerProcess:
        assert self.sandbox.worker is not None
        return self.sandbox.worker

    def _ensure_ready(self) -> None:
        if self.broken:
            raise WorkerDied(self.broken)
        self.worker.wait_ready(timeout=max(30.0, min(120.0, self.remaining() + 30)))

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
        budget = min(self.limits.cell_timeout, self.remaining())
        if budget <= 0:
            return CellRecord(cell.index, "skipped",
                              message="not run: the submission used up its total time of "
                                      f"{self.limits.total_timeout:g} s")
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
            self._recover(f"{label} timed out")
            why = (f"timed out after {budget:g} s" if budget >= self.limits.cell_timeout
                   else "stopped: the submission used up its total time")
            return CellRecord(cell.index, "timeout", time.monotonic() - t0,
                              f"{label} {why}; it was skipped", out.text())
        except (WorkerDied, ReplyTooLarge) as exc:
            out = self.worker.take_output()
            self._recover(f"{label} killed the process")
            return CellRecord(cell.index, "died", time.monotonic() - t0,
                              f"the kernel died while running {label}: {exc}; it was skipped",
                              out.text())
        seconds = time.monotonic() - t0
        out = self.worker.take_output()
        try:
            reply = json.loads(payload)
            status = reply["status"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return CellRecord(cell.index, "error", seconds, "the cell's result was unreadable",
                              out.text())
        self.good.append(cell)
        if status == "ok":
            state = "output_capped" if out.capped else "ok"
            note = f"output truncated after {out.cap} bytes" if out.capped else ""
            return CellRecord(cell.index, state, seconds, note, out.text())
        ename = str(reply.get("ename", ""))[:100]
        evalue = str(reply.get("evalue", ""))[:300]
        return CellRecord(cell.index, "error", seconds,
                          f"{ename}: {evalue}" if evalue else ename, out.text())

    # ------------------------------------------------------------------ restarts

    def _mark_broken(self, why: str) -> None:
        self.broken = why
        self.log.append(why)

    def _recover(self, why: str) -> None:
        """Replace the process and replay the good cells and substitutions."""
        while not self.broken:
            if self.remaining() <= 0:
                self._mark_broken("the submission used up its total time of "
                                  f"{self.limits.total_timeout:g} s")
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
        """Re-run the good cells; a cell that now fails is dropped. True when done."""
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
        for names, source in self.substitutions:
            self.worker.request({"op": "substitute", "names": names, "source": source},
                                max(self.limits.call_timeout, 5.0))
        return True

    # ------------------------------------------------------------------ calls

    def call(self, message: dict, what: str, timeout: float | None = None,
             key: str | None = None) -> str:
        """Send one check command; on timeout or death, restart and raise StudentError.

        ``key`` names the function or probe: once it has timed out
        ``MAX_TIMEOUTS_PER_NAME`` times, further calls fail at once (an endless
        loop in one function costs its checks, not the whole time budget).
        """
        limit = self.limits.call_timeout if timeout is None else timeout
        key = key or what
        if self.timeouts.get(key, 0) >= MAX_TIMEOUTS_PER_NAME:
            raise StudentError("timeout", f"{what} was not run again: it timed out after "
                                          f"{limit:g} s {self.timeouts[key]} times")
        budget = min(limit, self.remaining())
        if budget <= 0:
            raise StudentError("timeout", "not run: the submission used up its total time of "
                                          f"{self.limits.total_timeout:g} s")
        try:
            self._ensure_ready()
        except (WorkerDied, WorkerTimeout) as exc:
            raise StudentError("died", f"the student process is not available: {exc}") from None
        try:
            payload = self.worker.request(message, budget)
        except WorkerTimeout:
            self.worker.take_output()
            self.timeouts[key] = self.timeouts.get(key, 0) + 1
            self._recover(f"{what} timed out")
            raise StudentError("timeout", f"{what} timed out after {budget:g} s") from None
        except WorkerDied as exc:
            self.worker.take_output()
            self._recover(f"{what} killed the process")
            raise StudentError("died", f"the kernel died while running {what}: {exc}") from None
        except ReplyTooLarge:
            self.worker.take_output()
            self._recover(f"{what} sent an oversized reply")
            raise StudentError("bad_value", f"{what} returned a value too large to read") from None
        self.worker.take_output()
        return payload

    def substitute(self, names: list[str], source: str) -> None:
        """Replace ``names`` by the reference definitions; remembered for restarts."""
        payload = self.call({"op": "substitute", "names": list(names), "source": source},
                            "the reference substitution", max(self.limits.call_timeout, 5.0))
        try:
            reply = json.loads(payload)
        except (ValueError, RecursionError):
            reply = {}
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise StudentError("raised", "the reference definitions could not be installed: "
                                         f"{str(reply.get('message', '')) if isinstance(reply, dict) else ''}")
        self.substitutions.append((list(names), source))

    def close(self) -> None:
        self.sandbox.close()



_FONT_CACHE: list[Path] | None = None


def _seed_font_cache(workdir: Path, slot: isolation.Slot) -> None:
    """Give the student process matplotlib's font list so it need not rebuild it."""
    global _FONT_CACHE
    if _FONT_CACHE is None:
        try:
            import matplotlib

            _FONT_CACHE = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))
        except Exception:  # noqa: BLE001 - only costs start-up time
            _FONT_CACHE = []
    if not _FONT_CACHE:
        return
    dest = workdir / ".matplotlib"
    dest.mkdir(exist_ok=True)
    for src in _FONT_CACHE:
        shutil.copyfile(src, dest / src.name)
    if slot.uid is not None:
        for path in (dest, *dest.iterdir()):
            os.chown(path, slot.uid, slot.uid)
