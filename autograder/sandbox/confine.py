"""Confine a preloaded student process, then hand it to :mod:`autograder.inside.worker`.

Run as ``python -I -m autograder.sandbox.confine --cmd-fd R --reply-fd W --ctl-fd C
--event-fd E --dir DIR --student-side JSON [--jail SPEC.json]`` (see
:mod:`autograder.engine.process`), or reached in a fork of the warm zygote
(:mod:`autograder.sandbox.zygote`) through :func:`serve_sandbox`. With a jail (root)
the process enters the sandbox of :mod:`autograder.sandbox.jail` and continues as its
PID 1; without one only rlimits apply.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from typing import Any

from autograder.inside import worker
from autograder.sandbox import jail as jail_module
from autograder.sandbox import syscall_filter, syscalls


def die_with_parent() -> None:
    """This process gets SIGKILL when its parent ends."""
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="autograder.sandbox.confine")
    parser.add_argument("--cmd-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--ctl-fd", type=int, required=True)
    parser.add_argument("--event-fd", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument(
        "--student-side",
        required=True,
        help='the assignment\'s student-side modules (JSON: {"id", "modules"})',
    )
    parser.add_argument("--jail", help="the sandbox spec (JSON file; root only)")
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args(argv)
    syscall_filter.available()  # loads libseccomp now, while the host's libraries are in reach
    worker.preload(json.loads(args.student_side))
    jail = None
    if args.jail:
        with open(args.jail) as fh:
            jail = jail_module.JailSpec.from_dict(json.load(fh))
    serve_sandbox(
        args.cmd_fd,
        args.reply_fd,
        args.ctl_fd,
        args.event_fd,
        jail=jail,
        workdir=args.dir,
        memory_mb=args.memory_mb or None,
    )


def serve_sandbox(
    cmd_fd: int,
    reply_fd: int,
    ctl_fd: int,
    event_fd: int,
    *,
    jail: Any = None,
    workdir: str = "",
    memory_mb: int | None = None,
) -> None:
    """Confine this (already preloaded) process, then serve as the submission's zygote.

    With ``jail`` (a :class:`autograder.sandbox.jail.JailSpec`): enter the sandbox
    (this returns in its PID 1; the keeper never returns). Without: rlimits only,
    in ``workdir``. Never returns.
    """
    if jail is not None:
        jail_module.enter(jail, event_fd)
        workdir = jail.workdir
        if jail.isolate:  # PID 1 must not die of a stray signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        _rlimits(memory_mb)
        die_with_parent()
        if syscall_filter.available()[0]:  # unconfined, yet no keyrings, namespaces, ptrace...
            syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
            syscall_filter.install()
        os.chdir(workdir)
    worker.serve(cmd_fd, reply_fd, ctl_fd, event_fd, workdir, child_setup=die_with_parent)


def _rlimits(memory_mb: int | None) -> None:
    """Without root: no core files, 64 MiB per written file, the address-space cap."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = 64 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


if __name__ == "__main__":
    main()
