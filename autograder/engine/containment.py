"""How submissions are contained on this machine: one strategy, chosen once per run.

* ``root-namespaces`` (run as root): the allow-list root of :mod:`jail` in mount,
  PID, IPC, UTS and network namespaces, a dedicated uid per slot, a cgroup,
  the syscall filter;
* ``user-namespaces`` (an ordinary user, where the kernel allows unprivileged user
  namespaces): the same tree, built inside a user namespace; the student is uid
  65534 of a nested one, without capabilities; a cgroup where one can be made,
  else rlimits; the syscall filter;
* ``root-degraded`` (root where namespaces cannot be made, e.g. under Docker's
  default profile): the uid drop, a private folder, the kit's folder root-only,
  cgroups, a sweep of what the uid left, the syscall filter;
* ``unconfined`` (neither root nor user namespaces): the student process runs as
  the grader's user, with rlimits and the syscall filter where libseccomp loads.
  The kit refuses it unless asked (``--unconfined``, or ``AUTOGRADER_UNCONFINED=1``
  for the integrations), and every output then says so.

:func:`current` probes once per process; the strategy's :meth:`Containment.prepare`
fills a :class:`~autograder.engine.session.Sandbox` (its jail spec, cgroup and
``limits``) and its ``kill_*`` methods find a submission's processes the way the
mode allows (PID namespace, uid, or a token in the environment).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.results import UNCONFINED
from autograder.sandbox import allowlist, cgroups, isolation, procs, syscall_filter
from autograder.sandbox import jail as jail_module
from autograder.sandbox import syscalls as sc

if TYPE_CHECKING:
    from autograder.engine.process import WorkerProcess
    from autograder.engine.session import Sandbox

UNCONFINED_VAR = "AUTOGRADER_UNCONFINED"
"""Set to 1 to allow grading without any confinement (what ``--unconfined`` sets)."""
NO_USERNS_VAR = "AUTOGRADER_NO_USERNS"
"""Set to 1 to make the probe report no user namespaces (tests; a machine that has them
but should not use them)."""
MAX_PROCESSES = 256
"""Processes and threads of one submission (cgroup ``pids.max``)."""
DEFAULT_CGROUP_MB = 4096
"""The memory cap per submission when none is given (e.g. on cuda, where no rlimit applies)."""


class ContainmentRefused(RuntimeError):
    """No confinement is possible here and grading unconfined was not allowed."""


@dataclass(frozen=True)
class Containment:
    """A way of containing a submission; subclasses per mode."""

    name: str = ""
    why: str = ""
    """Why this mode (what the probe found)."""
    confined: bool = True
    slot_uids: bool = False
    """Each slot runs as its own uid (``UID_BASE + number``): root only."""
    finds: str = "namespace"
    """How a submission's processes are found: ``namespace``, ``uid`` or ``token``."""

    # ------------------------------------------------------------------ set-up
    def prepare(self, box: Sandbox) -> None:
        """Stage the box's files; set its jail spec, cgroup and ``limits_note``."""
        raise NotImplementedError

    def _stage(self, box: Sandbox, files: Path) -> None:
        files.mkdir(exist_ok=True)
        public = box.assignment.public_checks  # the notebook's check(...) cells import it
        if public.is_file():
            shutil.copyfile(public, files / public.name)
        seed_font_cache(files)

    def _cgroup(self, box: Sandbox) -> str:
        memory = (box.memory_mb or DEFAULT_CGROUP_MB) * 1024 * 1024
        box.cgroup, why = cgroups.create(f"s{box.slot.number}", memory, MAX_PROCESSES)
        return why

    def _memory(self, box: Sandbox, no_cgroup: str) -> str:
        if box.cgroup is not None:
            return box.cgroup.describe()
        return (
            f"{box.memory_mb} MiB address space per process (rlimit; no cgroup: {no_cgroup})"
            if box.memory_mb
            else f"none (no cgroup: {no_cgroup})"
        )

    def _note(self, box: Sandbox, sandbox: str, memory: str, disk: str, network: str) -> None:
        box.limits_note = {
            "containment": self.name,
            "sandbox": sandbox,
            "memory": memory,
            "disk": disk,
            "network": network,
            "syscalls": syscall_filter.describe()
            if box.jail is None or box.jail.seccomp
            else "no filter (libseccomp unavailable)",
        }

    # ------------------------------------------------------------------ processes
    def kill_child(self, worker: WorkerProcess) -> None:
        """Kill the serving child and everything the submission started, not its zygote."""
        procs.kill_all(lambda: worker.sandbox_processes(keep_init=True))

    def kill(self, worker: WorkerProcess) -> None:
        """Kill the zygote, the child and everything they started."""
        worker.pump_events()
        if worker.init_pid is not None:
            with contextlib.suppress(OSError):
                os.kill(worker.init_pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            worker.proc.kill()
        procs.kill_all(lambda: worker.sandbox_processes(keep_init=False))

    def close(self, box: Sandbox) -> None:
        """After the sandbox's processes are gone: what the mode must clean up besides."""
        if box.cgroup is not None:
            box.cgroup.remove()


@dataclass(frozen=True)
class RootNamespaces(Containment):
    name: str = "root-namespaces"
    slot_uids: bool = True

    def prepare(self, box: Sandbox) -> None:
        self._stage(box, box.workdir / "files")
        no_cgroup = self._cgroup(box)
        box.jail = _jail_spec(box, uid=box.slot.uid, userns=False)
        self._note(
            box,
            "allow-list root filesystem; PID, IPC, UTS, network and mount "
            f"namespaces; uid {box.slot.uid}",
            self._memory(box, no_cgroup),
            _disk(box.jail),
            "none",
        )
        if box.cgroup is None:
            box.limits_note["processes"] = f"{box.jail.nproc} per uid (rlimit)"

    def close(self, box: Sandbox) -> None:
        super().close(box)
        clear_keyrings(box.slot.uid)


@dataclass(frozen=True)
class UserNamespaces(Containment):
    name: str = "user-namespaces"

    def prepare(self, box: Sandbox) -> None:
        self._stage(box, box.workdir / "files")
        no_cgroup = self._cgroup(box)
        box.jail = _jail_spec(box, uid=0, userns=True)
        self._note(
            box,
            "allow-list root filesystem in a user namespace (not run as root); "
            "PID, IPC, UTS, network and mount namespaces; uid "
            f"{jail_module.USERNS_STUDENT} of a nested user namespace, no "
            "capabilities",
            self._memory(box, no_cgroup),
            _disk(box.jail),
            "none",
        )
        box.limits_note["processes"] = (
            f"{box.jail.nproc} per uid (rlimit)" if box.cgroup is None else box.cgroup.describe()
        )


@dataclass(frozen=True)
class RootDegraded(Containment):
    name: str = "root-degraded"
    slot_uids: bool = True
    finds: str = "uid"

    def prepare(self, box: Sandbox) -> None:
        """The uid drop, a private folder, cgroups or rlimits, the kit's folder made
        root-only (0700), and a sweep of the uid's files and IPC objects afterwards."""
        uid = box.slot.uid
        assert uid is not None
        self._stage(box, box.workdir)
        no_cgroup = self._cgroup(box)
        for path in (box.workdir, *box.workdir.rglob("*")):
            os.chown(path, uid, uid)
        box.workdir.chmod(0o700)
        protect_repository()
        box.jail = jail_module.JailSpec(
            stage=str(box.workdir),
            uid=uid,
            isolate=False,
            workdir=str(box.workdir),
            cgroup_procs=box.cgroup.procs_files if box.cgroup else [],
            memory_mb=box.rlimit_mb() if box.cgroup is None else None,
            seccomp=syscall_filter.available()[0],
        )
        self._note(
            box,
            f"DEGRADED, namespaces unavailable ({self.why}): uid {uid}, a private "
            "folder, the kit's folder root-only; the rest of the host's "
            "world-readable files are visible",
            self._memory(box, no_cgroup),
            f"{box.jail.fsize_mb} MiB per file (rlimit); total not limited",
            "not isolated",
        )

    def kill_child(self, worker: WorkerProcess) -> None:
        procs.kill_all(lambda: procs.find(uid=worker.jail.uid, exclude={worker.proc.pid}))

    def kill(self, worker: WorkerProcess) -> None:
        with contextlib.suppress(OSError):
            worker.proc.kill()
        procs.kill_all(lambda: procs.find(uid=worker.jail.uid))

    def close(self, box: Sandbox) -> None:
        super().close(box)
        if box.jail is not None:
            procs.kill_all(lambda: procs.find(uid=box.jail.uid))
            procs.remove_owned(box.jail.uid)
            clear_keyrings(box.jail.uid)


@dataclass(frozen=True)
class Unconfined(Containment):
    name: str = UNCONFINED
    confined: bool = False
    finds: str = "token"

    def prepare(self, box: Sandbox) -> None:
        self._stage(box, box.workdir)
        filtered = syscall_filter.available()[0]
        box.limits_note = {
            "containment": self.name,
            "sandbox": f"UNCONFINED ({self.why}): the student process runs as the grader's "
            "user, in its own session and folder, and can read and write "
            "whatever that user can",
            "memory": f"{box.memory_mb} MiB address space per process (rlimit)"
            if box.memory_mb
            else "none",
            "disk": "64 MiB per written file (rlimit)",
            "network": "not isolated",
            "syscalls": syscall_filter.describe()
            if filtered
            else "no filter (libseccomp unavailable)",
        }

    def kill_child(self, worker: WorkerProcess) -> None:
        if worker.child_pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(worker.child_pid, signal.SIGKILL)
        token = (isolation.TOKEN_VAR, worker.slot.token)
        procs.kill_all(lambda: procs.find(token=token, exclude={worker.proc.pid}))

    def kill(self, worker: WorkerProcess) -> None:
        token = (isolation.TOKEN_VAR, worker.slot.token)
        procs.kill_all(lambda: procs.find(token=token, session=worker.proc.pid))
        with contextlib.suppress(OSError):
            worker.proc.kill()

    def close(self, box: Sandbox) -> None:
        token = (isolation.TOKEN_VAR, box.slot.token)
        procs.kill_all(lambda: procs.find(token=token))


def _jail_spec(box: Sandbox, uid: int | None, userns: bool) -> jail_module.JailSpec:
    allowed = allowlist.build(box.device)
    assert uid is not None
    return jail_module.JailSpec(
        stage=str(box.workdir),
        uid=uid,
        expose=list(allowed.expose),
        links=dict(allowed.links),
        cover=list(allowed.cover),
        devices=[*jail_module.DEVICES, *allowed.devices],
        cgroup_procs=box.cgroup.procs_files if box.cgroup else [],
        memory_mb=box.rlimit_mb() if box.cgroup is None else None,
        userns=userns,
        seccomp=syscall_filter.available()[0],
    )


def _disk(spec: jail_module.JailSpec) -> str:
    return (
        f"tmpfs: {spec.workdir_mb} MiB work folder, {spec.tmp_mb} MiB /tmp, "
        f"{spec.shm_mb} MiB /dev/shm; {spec.fsize_mb} MiB per file"
    )


def protect_repository() -> None:
    """Without namespaces: make the kit's folder root-only, but for the virtual environment
    the student process imports from when it lies inside (the folder stays traversable)."""
    root = allowlist.REPOSITORY
    venv = Path(os.path.realpath(sys.prefix))
    keep = venv.relative_to(root).parts[0] if venv.is_relative_to(root) else None
    root.chmod(0o711 if keep else 0o700)
    for entry in root.iterdir():
        if entry.name != keep and not entry.is_symlink():
            entry.chmod(0o700 if entry.is_dir() else 0o600)


def clear_keyrings(uid: int | None) -> None:
    """Empty the kernel keyrings of a slot's uid (as root): a short-lived child takes that uid
    and clears its user and user-session keyrings, so no key outlives the submission."""
    if uid is None or os.geteuid() != 0:
        return
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for ring in (sc.KEY_SPEC_USER_KEYRING, sc.KEY_SPEC_USER_SESSION_KEYRING):
                with contextlib.suppress(OSError):
                    sc.keyctl(sc.KEYCTL_CLEAR, ring)
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)


# --------------------------------------------------------------------------- the choice


def userns_available() -> tuple[bool, str]:
    """Whether this (unprivileged) process can make the sandbox's namespaces inside a user
    namespace and mount there; probed in a short-lived child."""
    if os.environ.get(NO_USERNS_VAR) == "1":
        return False, f"user namespaces switched off (${NO_USERNS_VAR}=1)"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            uid, gid = os.getuid(), os.getgid()
            sc.unshare(sc.CLONE_NEWUSER | jail_module.NAMESPACES)
            jail_module.map_ids(0, uid, gid)
            sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
            sc.mount("tmpfs", "/tmp", "tmpfs", sc.MS_NOSUID | sc.MS_NODEV, "size=1m")
            os.write(write, b"ok")
        except BaseException as exc:  # reported to the parent
            os.write(write, str(exc).encode()[:500])
        os._exit(0)
    os.close(write)
    answer = os.read(read, 600).decode(errors="replace")
    os.close(read)
    os.waitpid(pid, 0)
    return answer == "ok", "" if answer == "ok" else f"no user namespaces: {answer}"


def choose() -> Containment:
    """Probe this machine: the strongest mode it allows."""
    if isolation.running_as_root():
        ok, why = jail_module.namespaces_available()
        return RootNamespaces(why="run as root") if ok else RootDegraded(why=why)
    ok, why = userns_available()
    if ok:
        return UserNamespaces(why="not root; unprivileged user namespaces")
    return Unconfined(why=f"not root and {why}")


_CURRENT: Containment | None = None
_FOR: tuple[int, str | None] | None = None


def current() -> Containment:
    """This process's containment (probed once; again after a ``fork`` or a change of the
    switch that turns user namespaces off)."""
    global _CURRENT, _FOR
    key = (os.geteuid(), os.environ.get(NO_USERNS_VAR))
    if _CURRENT is None or _FOR != key:
        _CURRENT, _FOR = choose(), key
    return _CURRENT


def unconfined_allowed() -> bool:
    return os.environ.get(UNCONFINED_VAR) == "1"


def allow_unconfined() -> None:
    """Allow grading unconfined in this process and those it starts (``--unconfined``)."""
    os.environ[UNCONFINED_VAR] = "1"


def require() -> Containment:
    """The containment to grade with; raises :class:`ContainmentRefused` when it is
    ``unconfined`` and that was not allowed."""
    mode = current()
    if not mode.confined and not unconfined_allowed():
        raise ContainmentRefused(refusal(mode))
    return mode


def refusal(mode: Containment) -> str:
    return (
        f"refusing to grade: no sandbox can be built here ({mode.why}). A submission "
        "would run as your user and could read the solution and rewrite the hidden "
        "checks. Run as root or where unprivileged user namespaces work, or pass "
        f"--unconfined (integrations: {UNCONFINED_VAR}=1) to grade anyway; every output "
        "then says UNCONFINED."
    )


_FONT_CACHE: list[Path] | None = None


def seed_font_cache(folder: Path) -> None:
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
