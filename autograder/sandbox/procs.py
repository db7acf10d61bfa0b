"""Finding and killing a submission's processes from the grader's side, through /proc.

A sandbox built as root has its own PID namespace: its processes are exactly
those whose ``/proc/<pid>/ns/pid`` is the namespace of its first process, and
killing that first process makes the kernel kill the rest. Without root the
grader finds them by session, uid or a token in their environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Collection

STOPPED = ("T", "t")
"""Process states of a stopped (SIGSTOP, SIGTSTP) or traced process."""


def owner_and_state(pid: int | str) -> tuple[int, str]:
    """(real uid, state letter) of a process, or raise OSError."""
    uid, state = -1, "?"
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid = int(line.split()[1])
    return uid, state


def state(pid: int) -> str | None:
    """The state letter of a live process (``R``, ``S``, ``T``, ``Z``, ...), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    cut = data.rfind(b")")
    return data[cut + 2 : cut + 3].decode() if cut > 0 else None


def is_stopped(pid: int) -> bool:
    return state(pid) in STOPPED


def pid_namespace(pid: int) -> str | None:
    """The identity of a process's PID namespace (``pid:[4026532...]``), None if gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def namespace_members(init: int) -> list[int]:
    """Live processes in the PID namespace whose first process is ``init`` (itself included)."""
    target = pid_namespace(init)
    if target is None:
        return []
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and pid_namespace(int(name)) == target:
            with contextlib.suppress(OSError):
                if owner_and_state(name)[1] not in ("Z", "X"):
                    found.append(int(name))
    return found


def ns_to_host(init: int, ns_pid: int) -> int | None:
    """The host pid of the process that is ``ns_pid`` inside ``init``'s namespace."""
    if ns_pid == 1:
        return init
    for pid in namespace_members(init):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    if len(ids) >= 2 and int(ids[-1]) == ns_pid:
                        return pid
                    break
    return None


def _has_token(pid: str, variable: str, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return f"{variable}={token}".encode() in fh.read()
    except OSError:
        return False


def find(
    uid: int | None = None,
    token: tuple[str, str] | None = None,
    session: int | None = None,
    exclude: set[int] | None = None,
) -> list[int]:
    """Live (non-zombie) processes owned by ``uid``, in ``session``, or whose environment
    holds ``token`` (variable, value)."""
    found = []
    skip = {os.getpid(), *(exclude or ())}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in skip:
            continue
        try:
            owner, letter = owner_and_state(pid)
            if letter in ("Z", "X"):
                continue
            hit = uid is not None and owner == uid
            if not hit and session is not None:
                with contextlib.suppress(OSError):
                    hit = os.getsid(int(pid)) == session
            if not hit and token is not None:
                hit = _has_token(pid, *token)
        except (OSError, ValueError, IndexError):
            continue
        if hit:
            found.append(int(pid))
    return found


def owned_by(uids: Collection[int]) -> dict[int, list[int]]:
    """Live (non-zombie) processes of each of ``uids`` that has any, in one pass over /proc."""
    found: dict[int, list[int]] = {}
    wanted, me = set(uids), os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            owner, letter = owner_and_state(pid)
        except (OSError, ValueError, IndexError):
            continue
        if owner in wanted and letter not in ("Z", "X"):
            found.setdefault(owner, []).append(int(pid))
    return found


def kill_all(pids_now: Callable[[], Collection[int]], rounds: int = 100) -> int:
    """SIGKILL what ``pids_now()`` returns until it returns nothing; how many were hit."""
    hit = 0
    for _ in range(rounds):
        pids = pids_now()
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        hit += len(pids)
        time.sleep(0.005)
    return hit


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")
"""World-writable places a process without namespaces of its own can leave files in."""


def remove_owned(uid: int, folders: tuple[str, ...] = SHARED_FOLDERS) -> int:
    """Delete the files and SysV IPC objects ``uid`` owns in the shared places; how many.

    What a submission run without namespaces could leave for the next one."""
    import shutil

    removed = 0
    for top in folders:
        if not os.path.isdir(top) or os.path.islink(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top, topdown=True):
            for name in [*dirnames, *filenames]:
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_uid != uid:
                        continue
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                        dirnames.remove(name)
                    else:
                        os.unlink(path)
                    removed += 1
                except (OSError, ValueError):
                    continue
    for kind, flag in (("shm", "-m"), ("sem", "-s"), ("msg", "-q")):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                header = fh.readline().split()
                rows = [line.split() for line in fh]
        except OSError:
            continue
        ident, owner = (
            header.index({"shm": "shmid", "sem": "semid", "msg": "msqid"}[kind]),
            header.index("uid"),
        )
        for row in rows:
            if int(row[owner]) == uid:
                removed += (
                    subprocess.run(
                        ["ipcrm", flag, row[ident]], capture_output=True, check=False
                    ).returncode
                    == 0
                )
    return removed
