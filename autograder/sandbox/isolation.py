"""The grader's side of a sandbox: its slot (a dedicated uid as root), its host folder.

A *slot* is an exclusive lock held for a sandbox's lifetime; as root its number
gives the student process's uid (``UID_BASE + number``), so two sandboxes never
share a uid, and a crashed grader's leftovers (processes, folders) are cleaned
up when the slot is taken again. The sandbox's host folder is root's alone:
as root the student process never sees it (it lives in the allow-list root of
:mod:`autograder.sandbox.jail`, whose work folder is a tmpfs); without root it is
the student process's working folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import procs

UID_BASE = 61000
MAX_SLOTS = 256
TOKEN_VAR = "AUTOGRADER_SANDBOX_TOKEN"
"""An environment variable naming the sandbox (how its processes are found without root)."""


def running_as_root() -> bool:
    """Whether the grader can build the full sandbox (namespaces, cgroups, the uid drop)."""
    return os.geteuid() == 0


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
    """The folder holding every sandbox's host folder (``/tmp/autograder-sandboxes-<uid>``)."""
    base = Path(tempfile.gettempdir()) / f"autograder-sandboxes-{os.geteuid()}"
    base.mkdir(mode=0o711, exist_ok=True)
    if base.is_symlink() or base.stat().st_uid != os.geteuid():
        raise RuntimeError(f"{base} is not owned by this user; refusing to use it")
    base.chmod(0o711)  # no listing; a sandbox without namespaces reaches its own folder only
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
            procs.kill_all(lambda u=uid: procs.find(uid=u))  # leftovers of a crashed grader
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
    found = set(procs.find(token=(TOKEN_VAR, token)))
    if uid is not None and not slot_in_use(number):
        found |= set(procs.find(uid=uid))
    return sorted(found)


def make_workdir(slot: Slot) -> Path:
    """A fresh host folder for one sandbox, mode 0700 (the grader's)."""
    path = Path(tempfile.mkdtemp(prefix=f"s{slot.number}-", dir=base_dir()))
    path.chmod(0o700)
    return path


def remove_workdir(path: Path) -> None:
    """Delete a sandbox folder, whatever permissions the submission left in it."""

    def fix(func, p, _exc):  # shutil callback
        with contextlib.suppress(OSError):
            if os.path.dirname(p).startswith(str(path)):  # never above the folder itself
                os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
        with contextlib.suppress(OSError):
            func(p)

    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=fix)
