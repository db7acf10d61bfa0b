"""Per-submission cgroups: one memory cap and one process cap for everything a submission starts.

A submission that forks four children each under a per-process rlimit can
still hold four times the memory; a cgroup caps the sum. The grader (root)
creates one group per sandbox below its own, writes the limits, and the
sandbox's first process joins it (:mod:`autograder.sandbox.jail`); every process
started afterwards inherits it and cannot leave (``cgroup.procs`` is root's).

* cgroup v2, where the unified hierarchy has the ``memory`` and ``pids``
  controllers and the grader's own group can delegate them: ``memory.max``,
  ``memory.swap.max`` = 0, ``pids.max``;
* otherwise cgroup v1, where the ``memory`` and ``pids`` hierarchies are
  mounted and writable: ``memory.limit_in_bytes`` (and ``memsw``), ``pids.max``;
* otherwise none: the caller falls back to per-process rlimits and records that.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import procs

MOUNT = Path("/sys/fs/cgroup")
PARENT = "autograder"


@dataclass
class SubmissionCgroup:
    """The cgroup folders of one sandbox and the limits written to them."""

    version: str
    """``v2`` or ``v1``."""
    folders: list[Path]
    memory_bytes: int | None
    pids: int | None
    memory_folder: Path | None = None
    killed: list[int] = field(default_factory=list)

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid to, to join."""
        return [str(f / "cgroup.procs") for f in self.folders]

    def describe(self) -> str:
        parts = []
        if self.memory_bytes:
            parts.append(f"memory {self.memory_bytes // (1024 * 1024)} MiB")
        if self.pids:
            parts.append(f"{self.pids} processes")
        return f"cgroup {self.version}: " + ", ".join(parts) + " per submission"

    def processes(self) -> set[int]:
        """Every process in the group now."""
        found: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError):
                found |= {int(x) for x in (folder / "cgroup.procs").read_text().split()}
        return found

    def kill(self, rounds: int = 100) -> int:
        """SIGKILL every member until none is left (v2: ``cgroup.kill`` too); how many were
        signalled."""

        def members() -> set[int]:
            pids = self.processes()
            if pids and self.version == "v2":
                with contextlib.suppress(OSError):
                    (self.folders[0] / "cgroup.kill").write_text("1")
            return pids

        return procs.kill_all(members, rounds)

    def peak_memory(self) -> int | None:
        """The most memory the group held (bytes), when the kernel reports it."""
        if self.memory_folder is None:
            return None
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            with contextlib.suppress(OSError, ValueError):
                return int((self.memory_folder / name).read_text().split()[0])
        return None

    def oom_kills(self) -> int:
        """How many processes the memory cap killed."""
        if self.memory_folder is None:
            return 0
        for name in ("memory.oom_control", "memory.events"):
            with contextlib.suppress(OSError):
                for line in (self.memory_folder / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        return 0

    def remove(self) -> None:
        """Kill what is left and delete the folders (retrying while the kernel lets go)."""
        self.kill()
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _own_group(controller: str, proc_cgroup: str) -> str | None:
    """This process's group in the v1 hierarchy of ``controller`` ('' for v2), from
    the text of /proc/self/cgroup."""
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _make(folder: Path) -> None:
    """Create ``folder`` (and its parents); a leftover of a crashed grader is emptied first."""
    if folder.is_dir():
        SubmissionCgroup("v1", [folder], None, None).remove()
    folder.mkdir(parents=True, exist_ok=True)


def create_v1(
    name: str,
    memory_bytes: int | None,
    pids: int | None,
    mount: Path = MOUNT,
    proc_cgroup: str | None = None,
) -> SubmissionCgroup:
    """Groups ``<own group>/autograder/<name>`` in the v1 memory and pids hierarchies."""
    text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
    folders: list[Path] = []
    memory_folder = None
    for controller in ("memory", "pids"):
        own = _own_group(controller, text)
        base = mount / controller
        if own is None or not (base / "cgroup.procs").exists():
            raise OSError(f"the v1 {controller} hierarchy is not mounted at {base}")
        folder = base / own.lstrip("/") / PARENT / name
        _make(folder)
        folders.append(folder)
        if controller == "memory":
            memory_folder = folder
            if memory_bytes:
                _write(folder / "memory.limit_in_bytes", str(memory_bytes))
                memsw = folder / "memory.memsw.limit_in_bytes"
                if memsw.exists():
                    _write(memsw, str(memory_bytes))
        elif pids:
            _write(folder / "pids.max", str(pids))
    return SubmissionCgroup("v1", folders, memory_bytes, pids, memory_folder)


def create_v2(
    name: str,
    memory_bytes: int | None,
    pids: int | None,
    mount: Path = MOUNT,
    proc_cgroup: str | None = None,
) -> SubmissionCgroup:
    """Group ``<own group>/autograder/<name>`` in the unified hierarchy."""
    if not (mount / "cgroup.controllers").exists():
        raise OSError(f"no cgroup v2 hierarchy at {mount}")
    available = set((mount / "cgroup.controllers").read_text().split())
    if not {"memory", "pids"} <= available:
        raise OSError("cgroup v2 lacks the memory or pids controller")
    text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
    own = _own_group("", text) or "/"
    parent = mount / own.lstrip("/") / PARENT
    parent.mkdir(parents=True, exist_ok=True)
    for folder in (parent.parent, parent):  # delegate the controllers down to our groups
        control = folder / "cgroup.subtree_control"
        if not {"memory", "pids"} <= set(control.read_text().split()):
            _write(control, "+memory +pids")
    folder = parent / name
    _make(folder)
    if memory_bytes:
        _write(folder / "memory.max", str(memory_bytes))
        with contextlib.suppress(OSError):
            _write(folder / "memory.swap.max", "0")
    if pids:
        _write(folder / "pids.max", str(pids))
    return SubmissionCgroup("v2", [folder], memory_bytes, pids, folder)


def remove_stale(name: str, mount: Path = MOUNT) -> int:
    """Empty and delete the groups called ``name`` a crashed grader left; how many there were."""
    text = Path("/proc/self/cgroup").read_text()
    found = []
    for controller in ("memory", "pids", ""):
        own = _own_group(controller, text)
        base = mount / controller if controller else mount
        if own is not None:
            folder = base / own.lstrip("/") / PARENT / name
            if folder.is_dir():
                found.append(folder)
    if found:
        SubmissionCgroup("v1", found, None, None).remove()
    return len(found)


def create(
    name: str, memory_bytes: int | None, pids: int | None, mount: Path = MOUNT
) -> tuple[SubmissionCgroup | None, str]:
    """The submission's cgroup (v2, else v1), or None and why neither could be made."""
    reasons = []
    for make in (create_v2, create_v1):
        try:
            return make(name, memory_bytes, pids, mount), ""
        except OSError as exc:
            reasons.append(str(exc))
    return None, "; ".join(reasons)
