"""The sandbox's system-call filter (seccomp-bpf through libseccomp), in the spirit of
Docker's default profile: every call is allowed but the ones below, which fail with
``EPERM`` (the notebook goes on; only that call fails).

Denied:

* kernel keyrings (``add_key``, ``keyctl``, ``request_key``): a key outlives the
  sandbox, in the uid's keyring, where the next submission could read it;
* new namespaces (``unshare``, ``clone`` with any ``CLONE_NEW*`` flag, ``setns``):
  a nested user namespace hands out a full capability set, the entry point of
  most container escapes; ``clone3`` passes its flags through memory the filter
  cannot read, so it fails with ``ENOSYS`` and the C library falls back to
  ``clone``, whose flags are checked;
* mounts (``mount``, ``umount2``, ``pivot_root``, ``chroot`` and the new mount API);
* io_uring, ``bpf``, ``perf_event_open``, ``userfaultfd``, ``ptrace``,
  ``process_vm_readv``/``writev``, ``kexec_*``, kernel modules,
  ``open_by_handle_at``/``name_to_handle_at``, ``swapon``/``swapoff``, ``reboot``,
  ``acct``, ``quotactl``, clock setting, ``syslog``, ``vhangup``, ``iopl``/``ioperm``.

The filter is loaded in the sandbox's first process after its privileges are
dropped (with no-new-privileges), so it holds for everything the submission
starts, and no process can remove it.
"""

from __future__ import annotations

import errno

CLONE_NEW_FLAGS = {
    "CLONE_NEWTIME": 0x00000080,
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
"""Namespace flags (``CLONE_NEWTIME`` is one only for ``unshare``; in ``clone`` that bit is
part of the exit signal)."""

DENIED = (
    "add_key",
    "keyctl",
    "request_key",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "vhangup",
    "iopl",
    "ioperm",
)
"""System calls that always fail with EPERM inside the sandbox."""

NO_SUCH_CALL = ("clone3",)
"""System calls that fail with ENOSYS (so the C library falls back to one that is checked)."""


_AVAILABLE: tuple[bool, str] | None = None


def available() -> tuple[bool, str]:
    """Whether the filter can be built here (libseccomp and its binding), and why not
    (probed once per process)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            import pyseccomp

            pyseccomp.SyscallFilter(pyseccomp.ALLOW)
            _AVAILABLE = (True, "")
        except (ImportError, OSError, RuntimeError, AttributeError) as exc:
            _AVAILABLE = (False, f"libseccomp unavailable: {exc}")
    return _AVAILABLE


def build():  # a pyseccomp.SyscallFilter
    """The filter (not loaded yet). Names this kernel's libseccomp does not know are skipped."""
    import pyseccomp as sc

    deny = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED:
        _add(flt, deny, name)
    for name in NO_SUCH_CALL:
        _add(flt, sc.ERRNO(errno.ENOSYS), name)
    for flag in CLONE_NEW_FLAGS.values():
        _add(flt, deny, "unshare", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        if flag != CLONE_NEW_FLAGS["CLONE_NEWTIME"]:
            _add(flt, deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    return flt


def _add(flt, action: int, name: str, *args) -> None:  # pyseccomp objects
    try:
        flt.add_rule(action, name, *args)
    except (ValueError, OSError, RuntimeError) as exc:
        if "unknown" in str(exc).lower() or "resolve" in str(exc).lower():
            return  # a call this architecture does not have
        raise


def install() -> None:
    """Load the filter into this process (and everything it starts from now on)."""
    build().load()


def describe() -> str:
    """The line every result's ``limits`` shows."""
    return (
        "seccomp: EPERM for keyrings, namespaces, mounts, io_uring, bpf, ptrace, "
        "perf_event_open, userfaultfd, kexec, modules, open_by_handle_at; ENOSYS for clone3"
    )
