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
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment.model import current
from autograder.checks.reference_calls import ReferenceCalls
from autograder.checks.student import StudentError
from autograder.engine.process import (
    ReplyTooLarge,
    WorkerDied,
    WorkerProcess,
    WorkerTimeout,
)
from autograder.results import CellRecord
from autograder.sandbox import allowlist, cgroups, isolation, procs
from autograder.sandbox import jail as jail_module
from autograder.sandbox.jail import DEVICES, JailSpec

MAX_RESTARTS = 25
MAX_TIMEOUTS_PER_NAME = 2
CELL_OUTPUT_CAP = 8 * 1024
MAX_PROCESSES = 256
"""Processes and threads of one submission (cgroup ``pids.max``)."""
DEFAULT_CGROUP_MB = 4096
"""The memory cap per submission when none is given (e.g. on cuda, where no rlimit applies)."""


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

    @classmethod
    def of_assignment(cls) -> Limits:
        """The current assignment's limits (``[limits]`` in its file); these defaults for
        any it does not set."""
        given = dict(current().limits)
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

    As root the folder is the sandbox's host-side stage (root only) and the
    student process sees only the allow-list root built by
    :mod:`autograder.sandbox.jail`; without root it is the student's working folder.
    """

    slot: isolation.Slot
    workdir: Path
    memory_mb: int | None
    device: str = "cpu"
    jail: JailSpec | None = None
    cgroup: cgroups.SubmissionCgroup | None = None
    limits_note: dict[str, str] = field(default_factory=dict)
    worker: WorkerProcess | None = None
    closed: bool = False

    @classmethod
    def create(cls, memory_mb: int | None, device: str = "cpu") -> Sandbox:
        """Lock a slot, make its folder (and cgroup) and start a process (it warms up on its
        own)."""
        slot = isolation.acquire_slot()
        try:
            workdir = isolation.make_workdir(slot)
        except BaseException:
            slot.release()
            raise
        box = cls(slot, workdir, memory_mb, device)
        try:
            box._prepare()
            box.worker = box.spawn()
        except BaseException:
            box.close()
            raise
        return box

    def _prepare(self) -> None:
        """Stage the files every submission gets; as root, the cgroup and the jail spec."""
        isolate, why_not = jail_module.namespaces_available() if self.slot.uid is not None \
            else (False, "")
        files = self.workdir / "files" if isolate else self.workdir
        files.mkdir(exist_ok=True)
        public = current().public_checks  # the notebook's check(...) cells import it
        if public.is_file():
            shutil.copyfile(public, files / public.name)
        _seed_font_cache(files)
        if self.slot.uid is None:
            self.limits_note = {
                "sandbox": "none (not run as root): the student process runs as the grader's "
                           "user, in its own session and folder",
                "memory": f"{self.memory_mb} MiB address space per process (rlimit)"
                if self.memory_mb else "none",
                "disk": "64 MiB per written file (rlimit)",
            }
            return
        memory = (self.memory_mb or DEFAULT_CGROUP_MB) * 1024 * 1024
        self.cgroup, why = cgroups.create(f"s{self.slot.number}", memory, MAX_PROCESSES)
        if not isolate:
            self._prepare_degraded(why_not, why)
            return
        allowed = allowlist.build(self.device)
        self.jail = JailSpec(
            stage=str(self.workdir), uid=self.slot.uid, expose=list(allowed.expose),
            links=dict(allowed.links), cover=list(allowed.cover),
            devices=[*DEVICES, *allowed.devices],
            cgroup_procs=self.cgroup.procs_files if self.cgroup else [],
            memory_mb=self._rlimit_mb() if self.cgroup is None else None)
        self.limits_note = {
            "sandbox": "allow-list root filesystem; PID, IPC, UTS, network and mount "
                       f"namespaces; uid {self.slot.uid}",
            "memory": self.cgroup.describe() if self.cgroup else
            f"{self.memory_mb} MiB address space per process (rlimit; no cgroup: {why})",
            "disk": f"tmpfs: {self.jail.workdir_mb} MiB work folder, {self.jail.tmp_mb} MiB "
                    f"/tmp, {self.jail.shm_mb} MiB /dev/shm; {self.jail.fsize_mb} MiB per file",
            "network": "none",
        }
        if self.cgroup is None:
            self.limits_note["processes"] = f"{self.jail.nproc} per uid (rlimit)"

    def _prepare_degraded(self, why_not: str, no_cgroup: str) -> None:
        """Where namespaces cannot be made (a container forbidding ``unshare``): the uid drop,
        a private folder, cgroups or rlimits, the kit's folder made root-only (0700), and a
        sweep of the uid's files and IPC objects afterwards (see :meth:`close`)."""
        assert self.slot.uid is not None
        for path in (self.workdir, *self.workdir.rglob("*")):
            os.chown(path, self.slot.uid, self.slot.uid)
        self.workdir.chmod(0o700)
        _protect_repository()
        self.jail = JailSpec(
            stage=str(self.workdir), uid=self.slot.uid, isolate=False, workdir=str(self.workdir),
            cgroup_procs=self.cgroup.procs_files if self.cgroup else [],
            memory_mb=self._rlimit_mb() if self.cgroup is None else None)
        self.limits_note = {
            "sandbox": f"DEGRADED, namespaces unavailable ({why_not}): uid {self.slot.uid}, a "
                       "private folder, the kit's folder root-only; the rest of the host's "
                       "world-readable files are visible",
            "memory": self.cgroup.describe() if self.cgroup else
            f"{self.memory_mb} MiB address space per process (rlimit; no cgroup: {no_cgroup})",
            "disk": f"{self.jail.fsize_mb} MiB per file (rlimit); total not limited",
            "network": "not isolated",
        }

    def _rlimit_mb(self) -> int | None:
        """The address-space rlimit (never on cuda: its driver maps huge virtual ranges)."""
        return None if self.device == "cuda" else self.memory_mb

    def spawn(self) -> WorkerProcess:
        return WorkerProcess(self.slot, self.workdir, self._rlimit_mb(),
                             output_cap=CELL_OUTPUT_CAP, jail=self.jail)

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
        """Kill everything the submission started, delete its folder and cgroup, free the
        slot."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.worker is not None:
                self.worker.kill()
            if self.cgroup is not None:
                self.cgroup.remove()
            if self.jail is not None and not self.jail.isolate:
                procs.kill_all(lambda: procs.find(uid=self.jail.uid))
                procs.remove_owned(self.jail.uid)
            if self.slot.uid is None:
                token = (isolation.TOKEN_VAR, self.slot.token)
                procs.kill_all(lambda: procs.find(token=token))
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
    """The reference versions of the substituted names, run here in the grader."""
    restarts: int = 0
    oom_kills: int = 0
    """Processes the memory cap has killed so far."""
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
        self.worker.on_callback = self.references.handle if self.references else None

    def install(self, name: str, text: str) -> None:
        """Write a file into the student's work folder (the notebook itself)."""
        self._ensure_ready()
        self.worker.request({"op": "install", "name": name, "text": text},
                            max(self.limits.call_timeout, 10.0))
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
            why = self._death(exc)
            self._recover(f"{label} killed the process")
            return CellRecord(cell.index, "died", time.monotonic() - t0,
                              f"the kernel died while running {label}: {why}; it was skipped",
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

    def _death(self, exc: Exception) -> str:
        """Why the process died: the memory cap when the cgroup counted a new OOM kill."""
        cgroup = self.sandbox.cgroup
        kills = cgroup.oom_kills() if cgroup is not None else 0
        if kills > self.oom_kills:
            self.oom_kills = kills
            return (f"it ran out of memory (the submission's cap is "
                    f"{cgroup.memory_bytes // (1024 * 1024)} MiB for all its processes)")
        return str(exc)

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
        """Put the files back, re-run the good cells (a cell that now fails is dropped) and
        re-bind the substituted names. True when done."""
        for name, text in self.installed.items():
            self.worker.request({"op": "install", "name": name, "text": text},
                                max(self.limits.call_timeout, 10.0))
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
            self.worker.request({"op": "substitute", "names": self.references.names},
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
        module = current().module("references")
        self.references = ReferenceCalls(list(names), source,
                                         getattr(module, "HANDLERS", None))
        payload = self.call({"op": "substitute", "names": list(names)},
                            "the reference substitution", max(self.limits.call_timeout, 5.0))
        try:
            reply = json.loads(payload)
        except (ValueError, RecursionError):
            reply = {}
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise StudentError("raised", "the reference versions could not be substituted")

    def close(self) -> None:
        self.sandbox.close()



def _protect_repository() -> None:
    """Without namespaces: make the kit's folder root-only, but for the virtual environment
    the student process imports from when it lies inside (the folder stays traversable)."""
    root = allowlist.REPOSITORY
    venv = Path(os.path.realpath(sys.prefix))
    keep = venv.relative_to(root).parts[0] if venv.is_relative_to(root) else None
    root.chmod(0o711 if keep else 0o700)
    for entry in root.iterdir():
        if entry.name != keep and not entry.is_symlink():
            entry.chmod(0o700 if entry.is_dir() else 0o600)


_FONT_CACHE: list[Path] | None = None


def _seed_font_cache(folder: Path) -> None:
    """Give the student process matplotlib's font list so it need not rebuild it."""
    global _FONT_CACHE
    if _FONT_CACHE is None:
        try:
            import matplotlib

            _FONT_CACHE = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))
        except Exception:  # only costs start-up time
            _FONT_CACHE = []
    if not _FONT_CACHE:
        return
    dest = folder / ".matplotlib"
    dest.mkdir(exist_ok=True)
    for src in _FONT_CACHE:
        shutil.copyfile(src, dest / src.name)
