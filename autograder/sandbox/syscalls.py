"""Thin wrappers over the Linux system calls the sandbox needs (through libc, via ctypes).

Python 3.11 has no ``os.unshare``, ``mount`` or ``pivot_root``; these raise
:class:`OSError` with the errno and a message that names the call and its
arguments, so a failed set-up says exactly what the kernel refused.
"""

from __future__ import annotations

import ctypes
import os
import platform

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_RELATIME = 1 << 21

PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAP_LAST = 63
"""Beyond the last capability any kernel defines (dropping an unknown one fails harmlessly)."""

KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_CLEAR = 7
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5

_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}
_KEYCTL = {"x86_64": 250, "aarch64": 219, "arm64": 219}
_CAPSET = {"x86_64": 126, "aarch64": 91, "arm64": 91}
_CAP_VERSION_3 = 0x20080522

_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    """The process's C library (loaded once)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def unshare(flags: int) -> None:
    """``unshare(2)``: move this process into new namespaces (``CLONE_NEW*`` flags)."""
    _check(libc().unshare(flags), f"unshare({flags:#x})")


def mount(
    source: str | None,
    target: str,
    fstype: str | None = None,
    flags: int = 0,
    data: str | None = None,
) -> None:
    """``mount(2)``."""
    _check(
        libc().mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)),
        f"mount {source} on {target} ({fstype or 'bind'}, flags {flags:#x})",
    )


def umount2(target: str, flags: int = 0) -> None:
    """``umount2(2)``."""
    _check(libc().umount2(_b(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    """``pivot_root(2)`` (no libc wrapper exists: a raw system call)."""
    _check(
        libc().syscall(
            ctypes.c_long(_number(_PIVOT_ROOT, "pivot_root")), _b(new_root), _b(put_old)
        ),
        f"pivot_root({new_root}, {put_old})",
    )


def _number(table: dict[str, int], name: str) -> int:
    number = table.get(platform.machine())
    if number is None:
        raise OSError(0, f"{name}: unknown system call number on {platform.machine()}")
    return number


def keyctl(operation: int, arg: int) -> None:
    """``keyctl(2)`` with one argument (no libc wrapper exists: a raw system call)."""
    _check(
        libc().syscall(
            ctypes.c_long(_number(_KEYCTL, "keyctl")), ctypes.c_long(operation), ctypes.c_long(arg)
        ),
        f"keyctl({operation}, {arg})",
    )


def drop_capabilities() -> None:
    """Clear every capability: the bounding and ambient sets, then effective, permitted and
    inheritable (``capset(2)``)."""
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in range(CAP_LAST + 1):
        if libc().prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            if ctypes.get_errno() == 22:  # EINVAL: past the last capability of this kernel
                break
            _check(-1, f"prctl(PR_CAPBSET_DROP, {cap})")
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc().syscall(ctypes.c_long(_number(_CAPSET, "capset")), header, data), "capset")


def mount_flags(path: str) -> int:
    """The ``MS_*`` flags of the mount ``path`` lies on (those a user namespace must keep when
    it remounts a bind of it)."""
    flags = os.statvfs(path).f_flag
    out = 0
    for st, ms in (
        (os.ST_RDONLY, MS_RDONLY),
        (os.ST_NOSUID, MS_NOSUID),
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
        (os.ST_NODIRATIME, MS_NODIRATIME),
        (os.ST_RELATIME, MS_RELATIME),
    ):
        if flags & st:
            out |= ms
    return out


def prctl(option: int, arg: int = 0) -> None:
    """``prctl(2)`` with one argument."""
    _check(libc().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option}, {arg})")
