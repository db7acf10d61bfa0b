"""A confined process of the grader's that runs reference calls, each under a deadline.

A stand-in's call (:mod:`autograder.inside.remote`) asks for the reference version of a
name to run on arguments the student chose. That work never runs in the grader
itself: the grader forks, once, a *reference process* after it has executed the
reference definitions, and sends it each request as one line of JSON text. The
child decodes the request, checks the arguments against what the name declares
(:mod:`autograder.checks.argument_kinds`), runs the reference and answers one line.

The child holds the grader's memory as it was at the fork (the kit, the reference
definitions and the hidden suite's modules, never student code: the grader holds
none) and confines itself before serving:

* every descriptor but its two pipes is closed (stdin, stdout, stderr on ``/dev/null``);
* its address space may grow at most ``memory_mb`` beyond what it had at the fork
  (``RLIMIT_AS``); no core files, no file writes (``RLIMIT_FSIZE`` 0);
* as root it drops to ``nobody`` (uid 65534, no groups) with no new privileges;
* it dies with the grader (``PR_SET_PDEATHSIG``) and runs torch on one thread (a
  forked OpenMP pool would hang).

The grader waits for an answer no longer than the deadline of the call that asked
(the student's own call limit, within its total budget) and kills the child past
it; the next request forks a fresh one. One process serves every submission a
grader process grades with the same reference (it keeps nothing of a request).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from pathlib import Path

from autograder import wire

MEMORY_MB = 1024
"""How far a reference process's address space may grow beyond its size at the fork."""
NOBODY = 65534
MAX_REPLY_BYTES = wire.MAX_MESSAGE_BYTES + 4096
CHUNK = 1 << 20


class ReferenceFailed(RuntimeError):
    """The reference process did not answer (time ran out, or it died); ``str()`` says why."""


def _status_mb(pid: int, field: str) -> float:
    """A ``/proc/<pid>/status`` size field (``VmHWM``, ``VmSize``) in MiB; 0 when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class ReferenceProcess:
    """A forked child that answers requests with ``serve`` (request text -> reply text)."""

    def __init__(self, serve: Callable[[str], str], memory_mb: int = MEMORY_MB):
        self.serve = serve
        self.memory_mb = memory_mb
        self.pid: int | None = None
        self.owner = os.getpid()
        self.peak_mb = 0.0
        """The highest resident size (VmHWM, MiB) any of its children reached."""
        self.forks = 0
        self._to_child: int | None = None
        self._from_child: int | None = None
        self._buffer = bytearray()

    # ------------------------------------------------------------------ grader side

    def ask(self, request: str, deadline: float) -> str:
        """The child's reply to ``request``; raises ReferenceFailed when none comes by
        ``deadline`` (``time.monotonic()``; the child is killed) or the child died."""
        if self.pid is None:
            self._start()
        assert self._to_child is not None and self._from_child is not None
        try:
            _write_all(self._to_child, request.encode("utf-8", "surrogatepass") + b"\n", deadline)
            reply = self._read_line(deadline)
        except ReferenceFailed:
            self.close()
            raise
        self._note_peak()
        return reply

    def _read_line(self, deadline: float) -> str:
        assert self._from_child is not None
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise ReferenceFailed("its reply was too large")
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReferenceFailed("it did not finish within the call's time limit")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 0.5))
            if not ready:
                continue
            data = os.read(self._from_child, CHUNK)
            if not data:
                raise ReferenceFailed(
                    f"it stopped (most likely its memory cap of {self.memory_mb} MiB)"
                )
            self._buffer += data
        cut = self._buffer.index(b"\n")
        line = bytes(self._buffer[:cut])
        del self._buffer[: cut + 1]
        return line.decode("utf-8", "replace")

    def _note_peak(self) -> None:
        if self.pid is not None:
            self.peak_mb = max(self.peak_mb, _status_mb(self.pid, "VmHWM"))

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        limit = int((_status_mb(os.getpid(), "VmSize") + self.memory_mb) * 2**20)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                os.close(to_child_w)
                os.close(from_child_r)
                _confine(keep=(to_child_r, from_child_w), address_space=limit)
                _serve(to_child_r, from_child_w, self.serve)
                code = 0
            finally:
                os._exit(code)
        os.close(to_child_r)
        os.close(from_child_w)
        self.pid, self._to_child, self._from_child = pid, to_child_w, from_child_r
        self._buffer.clear()
        self.forks += 1

    def close(self) -> None:
        """Kill the child (if any) and reap it; the next request starts a fresh one."""
        if self.pid is not None and self.owner == os.getpid():
            self._note_peak()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        for fd in (self._to_child, self._from_child):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.pid = self._to_child = self._from_child = None
        self._buffer.clear()


# ---------------------------------------------------------------------- child side


def _confine(keep: tuple[int, ...], address_space: int) -> None:
    """Close every other descriptor, cap memory and files, drop root, die with the parent."""
    from autograder.sandbox import syscalls

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    if os.geteuid() == 0:
        syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def _serve(requests: int, replies: int, serve: Callable[[str], str]) -> None:
    """Answer one line per request line until the grader closes the pipe."""
    with os.fdopen(requests, "rb", buffering=CHUNK) as lines:
        for line in lines:
            reply = serve(line.decode("utf-8", "surrogatepass").rstrip("\n"))
            data = reply.encode("utf-8", "surrogatepass") + b"\n"
            while data:
                data = data[os.write(replies, data) :]


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ReferenceFailed("it did not finish within the call's time limit")
        _, ready, _ = select.select([], [fd], [], min(left, 0.5))
        if ready:
            try:
                view = view[os.write(fd, view[:CHUNK]) :]
            except BrokenPipeError:
                raise ReferenceFailed("it stopped") from None


PROCESSES: dict[str, ReferenceProcess] = {}
"""This grader process's reference processes, by the scope of the reference they hold."""
KEPT = 2


def process_for(scope: str, serve: Callable[[str], str]) -> ReferenceProcess:
    """The reference process for ``scope`` (one whose ``serve`` gives the same answers),
    made on first use; at most :data:`KEPT` are kept, the least recent closed first."""
    process = PROCESSES.pop(scope, None)
    if process is None or process.owner != os.getpid():
        process = ReferenceProcess(serve)
    PROCESSES[scope] = process
    while len(PROCESSES) > KEPT:
        PROCESSES.pop(next(iter(PROCESSES))).close()
    return process


@atexit.register
def close_all() -> None:
    """Kill every reference process this grader started."""
    for process in PROCESSES.values():
        process.close()
    PROCESSES.clear()
