"""Operating-system isolation of a student process: uids, hidden paths, mounts, cleanup.

Two halves live here:

* grader side (runs as the grader's user): choose a dedicated uid slot, make the
  hidden material unreadable to it, create the sandbox folder, and afterwards
  kill every process the submission started and delete the folder;
* student side (:func:`confine`, called by :mod:`autograder.engine.worker` before it
  imports anything heavy or reads any command): a private mount namespace, rlimits,
  and the drop to the dedicated uid.

Dropping privileges needs root. Without root the student process runs as the
grader's own user: it still gets its own process session, working folder,
rlimits and time limits, but it could read (and write) whatever that user can.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import resource
import shutil
import signal
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
"""The repository root (the folder holding ``autograder/``)."""

UID_BASE = 61000
MAX_SLOTS = 256
TOKEN_VAR = "AUTOGRADER_SANDBOX_TOKEN"

HIDDEN_DIRS = ("autograder/checks", "solutions", "tests")
"""Hidden material made mode 0700 (root-owned) when the grader runs as root."""
HIDDEN_FILES: tuple[str, ...] = ()
"""Single hidden files (none at present); kept so a course can add its own."""
MASKED_DIRS = (*HIDDEN_DIRS, "submissions", "grades")
"""Folders replaced by an empty read-only tmpfs inside the student's mount namespace."""
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
"""World-writable folders replaced by a private tmpfs inside the namespace."""


def running_as_root() -> bool:
    """Whether the grader can drop the student process to a dedicated uid."""
    return os.geteuid() == 0


# --------------------------------------------------------------------------- grader side


def protect_hidden(root: Path = ROOT) -> list[str]:
    """Make the hidden checks, solutions and tests unreadable to other users.

    Git does not record folder permissions, so a fresh clone has them 0755; this
    sets them to 0700 (and the hidden files to 0600). Returns what it changed.
    Only meaningful as root (the student uid is then "other").
    """
    changed = []
    for rel in HIDDEN_DIRS:
        path = root / rel
        if path.is_dir() and stat.S_IMODE(path.stat().st_mode) != 0o700:
            path.chmod(0o700)
            changed.append(rel)
    for rel in HIDDEN_FILES:
        path = root / rel
        if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
            changed.append(rel)
    return changed


@dataclass
class Slot:
    """An exclusive sandbox slot: a uid (as root) and a lock held for its lifetime."""

    number: int
    uid: int | None
    lock_fd: int
    token: str = field(default_factory=lambda: os.urandom(12).hex())

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.lock_fd)
        self.lock_fd = -1


def base_dir() -> Path:
    base = Path(tempfile.gettempdir()) / f"autograder-sandboxes-{os.geteuid()}"
    base.mkdir(mode=0o711, exist_ok=True)
    if base.is_symlink() or base.stat().st_uid != os.geteuid():
        raise RuntimeError(f"{base} is not owned by this user; refusing to use it")
    base.chmod(0o711)
    return base


def acquire_slot() -> Slot:
    """Lock a free slot; as root its uid is ``UID_BASE + number``.

    Locks are ``flock``s on files under the sandbox base folder, so concurrent
    grader processes (the batch's workers) never share a uid.
    """
    locks = base_dir() / "slots"
    locks.mkdir(mode=0o700, exist_ok=True)
    for number in range(MAX_SLOTS):
        fd = os.open(locks / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        uid = UID_BASE + number if running_as_root() else None
        slot = Slot(number, uid, fd)
        if uid is not None:
            kill_processes(uid=uid)  # leftovers of a grader that crashed
        for stale in base_dir().glob(f"s{number}-*"):  # ... and its folders
            remove_workdir(stale)
        return slot
    raise RuntimeError(f"all {MAX_SLOTS} sandbox slots are in use")


def slot_in_use(number: int) -> bool:
    """Whether some grader process holds slot ``number`` right now."""
    path = base_dir() / "slots" / f"{number}.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def leftovers(number: int, uid: int | None, token: str) -> list[int]:
    """Live processes of a finished sandbox: those carrying its token, and, while no
    other sandbox holds the slot, those running as its uid."""
    found = set(find_processes(token=token))
    if uid is not None and not slot_in_use(number):
        found |= set(find_processes(uid=uid))
    return sorted(found)


def make_workdir(slot: Slot) -> Path:
    """A fresh folder for one submission, owned by the slot's uid, mode 0700."""
    path = Path(tempfile.mkdtemp(prefix=f"s{slot.number}-", dir=base_dir()))
    if slot.uid is not None:
        os.chown(path, slot.uid, slot.uid)
    path.chmod(0o700)
    return path


def install_file(src: Path, workdir: Path, name: str, slot: Slot) -> Path:
    """Copy ``src`` into the sandbox folder as ``name``, owned by the slot's uid."""
    dest = workdir / name
    shutil.copyfile(src, dest)
    if slot.uid is not None:
        os.chown(dest, slot.uid, slot.uid)
    dest.chmod(0o600)
    return dest


def remove_workdir(path: Path) -> None:
    """Delete a sandbox folder, whatever permissions the submission left in it."""

    def fix(func, p, _exc):  # noqa: ANN001 - shutil callback
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
        with contextlib.suppress(OSError):
            func(p)

    if path.exists():
        shutil.rmtree(path, onerror=fix)


def _proc_owner_and_state(pid: str) -> tuple[int, str]:
    """(real uid, state letter) of /proc/<pid>, or raise OSError."""
    uid, state = -1, "?"
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid = int(line.split()[1])
    return uid, state


def _has_token(pid: str, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return f"{TOKEN_VAR}={token}".encode() in fh.read()
    except OSError:
        return False


def find_processes(uid: int | None = None, token: str | None = None,
                   session: int | None = None, exclude: set[int] | None = None) -> list[int]:
    """Live (non-zombie) processes owned by ``uid``, in ``session``, or carrying ``token``."""
    found = []
    skip = {os.getpid(), *(exclude or ())}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in skip:
            continue
        try:
            owner, state = _proc_owner_and_state(pid)
            if state in ("Z", "X"):
                continue
            hit = uid is not None and owner == uid
            if not hit and session is not None:
                with contextlib.suppress(OSError):
                    hit = os.getsid(int(pid)) == session
            if not hit and token is not None:
                hit = _has_token(pid, token)
        except (OSError, ValueError, IndexError):
            continue
        if hit:
            found.append(int(pid))
    return found


def kill_processes(uid: int | None = None, token: str | None = None,
                   session: int | None = None, rounds: int = 50,
                   exclude: set[int] | None = None) -> int:
    """SIGKILL every process of the sandbox until none is left; return how many were hit.

    ``exclude``: pids to spare (the zygote during a restart).
    """
    if session is not None:
        with contextlib.suppress(OSError):
            os.killpg(session, signal.SIGKILL)
    hit = 0
    for _ in range(rounds):
        pids = find_processes(uid=uid, token=token, session=session, exclude=exclude)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        hit += len(pids)
        time.sleep(0.01)
    return hit


# --------------------------------------------------------------------------- student side

_libc = None


def _libc_fn():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    libc = _libc_fn()
    rc = libc.mount(source.encode(), target.encode(),
                    fstype.encode() if fstype else None, flags,
                    data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _world_traversable(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & stat.S_IXOTH)
    except OSError:
        return False


def _blocked_ancestor(path: str) -> str | None:
    """The highest ancestor of ``path`` that other users cannot traverse."""
    parts = Path(path).parts
    for i in range(2, len(parts) + 1):
        candidate = str(Path(*parts[:i]))
        if not _world_traversable(candidate):
            return candidate
    return None


def _reopen_paths(ancestor: str, needed: list[str]) -> None:
    """Cover ``ancestor`` with a tmpfs that exposes only ``needed`` (bind-mounted back)."""
    inside = [p for p in needed if p == ancestor or p.startswith(ancestor + "/")]
    fds = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in inside]
    _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for path, fd in fds:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        os.close(fd)


def _make_namespace(workdir: str, needed: list[str], masked: list[str]) -> list[str]:
    """A private mount (and, where allowed, network) namespace for the student.

    Inside it: private empty tmpfs on /tmp, /var/tmp and /dev/shm (with the sandbox
    folder bound back in), empty read-only tmpfs over the hidden folders, and the
    interpreter's folders reachable even when they live under a private home.
    Returns notes on what could not be done.
    """
    libc = _libc_fn()
    notes = []
    if libc.unshare(CLONE_NEWNS) != 0:
        return [f"no mount namespace ({os.strerror(ctypes.get_errno())})"]
    if libc.unshare(CLONE_NEWNET) != 0:
        notes.append("network not isolated")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    # the sandbox folder (and the repo or venv, if they live in /tmp) survive the private tmpfs
    keep = sorted({workdir, *needed}, key=len)
    fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep if os.path.isdir(p)}
    covered = []
    for tmp in PRIVATE_TMP:
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            try:
                _mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
                covered.append(tmp)
            except OSError as exc:
                notes.append(str(exc))
    for path, fd in fds.items():
        if any(path == tmp or path.startswith(tmp + "/") for tmp in covered):
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        os.close(fd)
    done: set[str] = set()
    for path in needed:
        ancestor = _blocked_ancestor(path)
        if ancestor and ancestor not in done:
            _reopen_paths(ancestor, needed)
            done.add(ancestor)
    for path in masked:
        try:
            if os.path.isdir(path):
                _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                       "mode=0755,size=4k")
            elif os.path.isfile(path):
                _mount("/dev/null", path, None, MS_BIND, None)
        except OSError as exc:
            notes.append(str(exc))
    return notes


def set_limits(memory_mb: int | None, nproc: int | None, fsize_mb: int = 64) -> None:
    """rlimits of the student process (inherited by everything it starts)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = fsize_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def confine(workdir: str, uid: int | None, memory_mb: int | None,
            needed: list[str], masked: list[str]) -> list[str]:
    """Confine the current (student) process; called before any student input is read.

    As root: a private mount namespace, the rlimits, no new privileges, then
    ``setgroups([]); setgid(uid); setuid(uid)``. Otherwise: the rlimits only.
    Returns notes for the staff log.
    """
    notes: list[str] = []
    libc = _libc_fn()
    if uid is not None:
        try:
            notes += _make_namespace(workdir, needed, masked)
        except OSError as exc:
            notes.append(f"mount namespace incomplete: {exc}")
        set_limits(memory_mb, nproc=256)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise RuntimeError("could not drop privileges")
    else:
        set_limits(memory_mb, nproc=None)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.chdir(workdir)
    return notes
