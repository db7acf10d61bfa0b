"""The grader's handle on one student process: spawn, talk, drain output, kill.

One thread does everything: while waiting for a reply it ``select``s on the reply
pipe, the event pipe and the student's stdout/stderr pipes, so output is drained
(the first few KB kept, the rest counted and discarded) and a submission that
prints hundreds of MB neither blocks nor slows the grader. While it waits it
also answers the student process's *callbacks* (a substituted name calling its
reference version, see :mod:`autograder.inside.remote`) and watches for a stopped
(SIGSTOP, SIGTSTP) serving process, which counts as a dead one.

With namespaces (as root, or in a user namespace) the student process lives in
a sandbox of its own (:mod:`autograder.sandbox.jail`): a PID namespace whose
processes are found through :func:`autograder.sandbox.procs.namespace_members`,
and whose first process takes every other one with it when it is killed.
How processes are found and killed is the run's
:class:`~autograder.engine.containment.Containment`'s business (by PID namespace,
by uid, or by session and a token in their environment).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine.containment import Containment
from autograder.engine.containment import current as current_containment
from autograder.sandbox import isolation, procs
from autograder.sandbox.jail import JailSpec

READY_TIMEOUT = 120.0
MAX_REPLY_BYTES = 16 * 1024 * 1024 + 1024
CHUNK = 1 << 20
CALLBACK_HEAD = b"cb"
"""Reply-pipe lines ``cb <json>`` are callback requests, not replies."""


class WorkerTimeout(Exception):
    """The student process did not answer in time (it has been killed)."""


class WorkerDied(Exception):
    """The student process ended; ``str()`` says why."""


class ReplyTooLarge(Exception):
    """A reply line exceeded the size limit (it is being discarded)."""


def describe_exit(returncode: int | None) -> str:
    """A student-facing reason for a process exit status."""
    if returncode is None:
        return "the process stopped answering"
    if returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGKILL:
            return f"killed by {name} (often the memory cap)"
        if sig == signal.SIGSEGV:
            return f"crashed with {name} (segmentation fault)"
        return f"killed by {name}"
    if returncode == 0:
        return "the process exited (os._exit(0) or similar was called)"
    return f"the process exited with status {returncode} (os._exit or a fatal error)"


STOPPED_REASON = "the process was stopped (SIGSTOP or SIGTSTP) and was replaced"
STOP_CHECK_INTERVAL = 0.05
"""Seconds between two looks at /proc for a stopped process while a reply is awaited."""


@dataclass
class OutputSink:
    """Keeps the first ``cap`` bytes of a stream of output, counts the rest."""

    cap: int
    kept: bytearray = field(default_factory=bytearray)
    total: int = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    def text(self) -> str:
        out = self.kept.decode("utf-8", errors="replace")
        if self.total > len(self.kept):
            out += f"\n[... {self.total - len(self.kept)} more bytes of output not kept]"
        return out

    @property
    def capped(self) -> bool:
        return self.total > self.cap


class WorkerProcess:
    """One student interpreter (a zygote plus its serving child) in its sandbox.

    See :mod:`autograder.sandbox.confine` and :mod:`autograder.inside.worker`.
    :meth:`respawn` replaces a crashed or stuck serving child by a fresh fork of the
    per-submission zygote;
    :meth:`kill` ends everything.
    """

    def __init__(
        self,
        slot: isolation.Slot,
        workdir: Path,
        memory_mb: int | None,
        student_side: dict,
        output_cap: int = 16 * 1024,
        jail: JailSpec | None = None,
        use_zygote: bool = True,
        containment: Containment | None = None,
    ):
        """Start the process (it warms up on its own; see :meth:`wait_ready`).

        With a ``jail`` (root) the process is a fork of this grader's warm zygote
        (:mod:`autograder.sandbox.zygote`), else (or when the zygote fails, or with
        ``use_zygote=False``) a fresh interpreter; it confines itself as the spec
        says before it serves. Without one it is a fresh interpreter under
        rlimits, in ``workdir``.
        """
        self.slot = slot
        self.workdir = workdir
        self.student_side = student_side
        """The assignment's student-side modules (``Assignment.student_side_spec``)."""
        self.jail = jail
        self.containment = containment or current_containment()
        """Decides how this submission's processes are found and killed."""
        self.output_cap = output_cap
        self.sink = OutputSink(output_cap)
        self.on_callback: Callable[[str, float], str] | None = None
        """Answers a callback request (JSON text) with a reply (JSON text) by a deadline
        (``time.monotonic()``: that of the request the callback came within)."""
        self._reply_buf = bytearray()
        self._event_buf = bytearray()
        self._discarding = False
        self._next_id = 1
        self.generation = 1
        self.child_pid: int | None = None
        """The serving child's pid as its zygote sees it (inside the sandbox's namespace)."""
        self._child_host: int | None = None
        self.child_status: int | None = None
        self._stop_checked = 0.0
        self.init_pid: int | None = None
        """Host pid of the sandbox's first process (the per-submission zygote), with a jail."""
        self.ready = False
        self.info: dict = {}
        cmd_r, self._cmd_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        ctl_r, self._ctl_w = os.pipe()
        self._event_r, event_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self._out_fds = {out_r, err_r}
        self._std_fds = (out_r, err_r)
        self._event_eof = False
        self._reply_eof = False
        child_fds = (cmd_r, reply_w, ctl_r, event_w, out_w, err_w)
        try:
            self.proc = None
            if jail is not None and use_zygote:
                self.proc = self._fork_from_zygote(child_fds, memory_mb)
            if self.proc is None:
                self.proc = self._start_interpreter(child_fds, memory_mb)
        except BaseException:
            for fd in (self._cmd_w, self._reply_r, self._ctl_w, self._event_r, out_r, err_r):
                os.close(fd)
            raise
        finally:
            for fd in child_fds:
                os.close(fd)
        self.started = time.monotonic()
        self.dead_reason: str | None = None

    def _environment(self) -> dict[str, str]:
        home = self.jail.workdir if self.jail is not None else str(self.workdir)
        return {
            "PATH": "/usr/bin:/bin" if self.isolated else os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MALLOC_ARENA_MAX": "2",
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
            "LANG": "C.UTF-8",
            isolation.TOKEN_VAR: self.slot.token,
        }

    def _start_interpreter(self, fds: tuple[int, ...], memory_mb: int | None) -> subprocess.Popen:
        cmd_r, reply_w, ctl_r, event_w, out_w, err_w = fds
        argv = [
            sys.executable,
            "-I",
            "-m",
            "autograder.sandbox.confine",
            "--cmd-fd",
            str(cmd_r),
            "--reply-fd",
            str(reply_w),
            "--ctl-fd",
            str(ctl_r),
            "--event-fd",
            str(event_w),
            "--dir",
            str(self.workdir),
            "--student-side",
            json.dumps(self.student_side),
        ]
        if self.jail is not None:
            spec_file = self.workdir / "jail.json"
            spec_file.write_text(json.dumps(self.jail.to_dict()))
            argv += ["--jail", str(spec_file)]
        elif memory_mb:
            argv += ["--memory-mb", str(memory_mb)]
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            pass_fds=(cmd_r, reply_w, ctl_r, event_w),
            cwd=str(self.workdir),
            env=self._environment(),
            start_new_session=True,
            close_fds=True,
        )

    def _fork_from_zygote(
        self, fds: tuple[int, ...], memory_mb: int | None
    ) -> ForkedProcess | None:
        """A fork of the warm zygote confined to this sandbox; None if it is unavailable."""
        from autograder.sandbox import zygote

        spec = {"jail": self.jail.to_dict(), "env": self._environment()}
        for _ in range(2):  # a zygote that died is started again once
            try:
                pid = zygote.shared(self.student_side).fork(spec, list(fds))
            except (zygote.ZygoteError, OSError) as exc:
                print(
                    f"[engine] zygote unavailable ({exc}); starting a fresh interpreter",
                    file=sys.stderr,
                )
                continue
            return ForkedProcess(pid, self.pump_events)
        return None

    def pump_events(self) -> None:
        """Read the event pipe without blocking (the zygote's exit report comes there)."""
        while self._event_r >= 0 and not self._event_eof and _readable(self._event_r):
            self._feed_events(os.read(self._event_r, CHUNK))

    # ------------------------------------------------------------------ talking

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until the serving child is ready (the first one: imports done)."""
        if self.ready:
            return
        try:
            payload = self._wait_reply(f"r{self.generation}", timeout)
        except (WorkerDied, WorkerTimeout) as exc:
            tail = self.sink.text()[-800:].strip()
            what = str(exc) or f"no answer within {timeout:g} s"
            raise WorkerDied(
                f"the student process did not start ({what})" + (f": {tail}" if tail else "")
            ) from None
        try:
            self.info = json.loads(payload)
        except (ValueError, RecursionError):
            self.info = {}
        self.ready = True

    def request(self, message: dict, timeout: float) -> str:
        """Send one command and return the reply's JSON text.

        Raises WorkerTimeout (the serving child is then killed), WorkerDied or
        ReplyTooLarge.
        """
        self.wait_ready()
        req_id = self._next_id
        self._next_id += 1
        data = (json.dumps({**message, "id": req_id}) + "\n").encode()
        self._send(data, time.monotonic() + timeout)
        return self._wait_reply(str(req_id), timeout)

    def _send(self, data: bytes, deadline: float) -> None:
        try:
            _write_all(self._cmd_w, data, deadline=deadline)
        except (OSError, TimeoutError) as exc:
            self.kill_child()
            raise WorkerDied("the process stopped reading its commands") from exc

    def _child_host_pid(self) -> int | None:
        """The serving child's pid on the host (resolved once per child)."""
        if self.child_pid is None:
            return None
        if not self.isolated:
            return self.child_pid
        if self._child_host is None and self.init_pid is not None:
            self._child_host = procs.ns_to_host(self.init_pid, self.child_pid)
        return self._child_host

    def _died(self) -> str | None:
        """Why the serving child (or the whole process) has ended or stopped, or None."""
        if self.proc.poll() is not None:
            return describe_exit(self.proc.returncode)
        if self.child_status is not None:
            if os.WIFSTOPPED(self.child_status):  # reported stopped, not ended: replace it
                return STOPPED_REASON
            return describe_exit(os.waitstatus_to_exitcode(self.child_status))
        now = time.monotonic()
        if now - self._stop_checked < STOP_CHECK_INTERVAL:
            return None
        self._stop_checked = now
        watched = [self._child_host_pid(), self.init_pid, self.proc.pid]
        if any(pid is not None and procs.is_stopped(pid) for pid in watched):
            return STOPPED_REASON
        return None

    def _wait_reply(self, want: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self._pop_line(want, deadline)
            if line is not None:
                self.drain(0.0)
                return line
            reason = self._died()
            if reason is not None and (
                reason == STOPPED_REASON or self._reply_eof or not _readable(self._reply_r)
            ):
                self.drain(0.05)
                self.kill_child()
                self.dead_reason = reason
                raise WorkerDied(reason)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill_child()
                raise WorkerTimeout()
            fds = [
                *([] if self._reply_eof else [self._reply_r]),
                *([] if self._event_eof else [self._event_r]),
                *self._out_fds,
            ]
            ready, _, _ = select.select(fds, [], [], min(remaining, 0.2))
            for fd in ready:
                data = os.read(fd, CHUNK)
                if fd == self._reply_r:
                    if data:
                        self._feed_reply(data)
                    else:  # every writer is gone: no reply can come any more
                        self._reply_eof = True
                elif fd == self._event_r:
                    self._feed_events(data)
                elif data:
                    self.sink.feed(data)
                else:
                    self._out_fds.discard(fd)

    def _answer_callback(self, payload: bytes, deadline: float) -> None:
        """Run a callback request through ``on_callback`` and send the answer back."""
        if self.on_callback is None:
            reply = json.dumps({"ok": False, "message": "no reference is substituted"})
        else:
            reply = self.on_callback(payload.decode("utf-8", errors="replace"), deadline)
        self._send(b'{"op":"cb_reply","payload":' + reply.encode() + b"}\n", deadline)

    def _feed_events(self, data: bytes) -> None:
        if not data:  # every writer is gone: the whole process has ended
            self._event_eof = True
            if isinstance(self.proc, ForkedProcess) and self.proc.returncode is None:
                self.proc.returncode = -signal.SIGKILL
            return
        self._event_buf += data
        while b"\n" in self._event_buf:
            cut = self._event_buf.index(b"\n")
            parts = bytes(self._event_buf[:cut]).split()
            del self._event_buf[: cut + 1]
            try:
                self._event(parts)
            except ValueError:
                continue

    def _event(self, parts: list[bytes]) -> None:
        if len(parts) == 2 and parts[0] == b"init" and self.init_pid is None:
            self.init_pid = int(parts[1])
        elif len(parts) == 3 and parts[0] == b"child" and int(parts[1]) == self.generation:
            self.child_pid = int(parts[2])
            self._child_host = None
        elif len(parts) == 3 and parts[0] == b"exit" and int(parts[1]) == self.child_pid:
            self.child_status = int(parts[2])
        elif (
            len(parts) == 3
            and parts[0] == b"zexit"
            and isinstance(self.proc, ForkedProcess)
            and int(parts[1]) == self.proc.pid
            and self.proc.returncode is None
        ):
            status = int(parts[2])
            if not os.WIFSTOPPED(status):
                self.proc.returncode = os.waitstatus_to_exitcode(status)

    def _feed_reply(self, data: bytes) -> None:
        self._reply_buf += data
        if self._discarding:
            cut = self._reply_buf.find(b"\n")
            if cut < 0:
                self._reply_buf.clear()
                return
            del self._reply_buf[: cut + 1]
            self._discarding = False
        if len(self._reply_buf) > MAX_REPLY_BYTES and b"\n" not in self._reply_buf:
            self._reply_buf.clear()
            self._discarding = True
            raise ReplyTooLarge()

    def _pop_line(self, want: str, deadline: float) -> str | None:
        """The payload of the reply ``want`` if it has arrived; callbacks are answered on the
        way, other lines are dropped."""
        head_wanted = want.encode()
        while True:
            cut = self._reply_buf.find(b"\n")
            if cut < 0:
                return None
            line = bytes(self._reply_buf[:cut])
            del self._reply_buf[: cut + 1]
            head, _, payload = line.partition(b" ")
            if head == head_wanted:
                return payload.decode("utf-8", errors="replace")
            if head == CALLBACK_HEAD:
                self._answer_callback(payload, deadline)
            # anything else is a stale or forged line: ignored

    def drain(self, wait: float) -> None:
        """Read whatever output is waiting (up to ``wait`` seconds of quiet)."""
        while self._out_fds:
            ready, _, _ = select.select(list(self._out_fds), [], [], wait)
            if not ready:
                return
            for fd in ready:
                data = os.read(fd, CHUNK)
                if data:
                    self.sink.feed(data)
                else:
                    self._out_fds.discard(fd)

    def take_output(self) -> OutputSink:
        """The output since the last call, and start a new sink."""
        self.drain(0.0)
        sink, self.sink = self.sink, OutputSink(self.output_cap)
        return sink

    # ------------------------------------------------------------------ restarts and ending

    def alive(self) -> bool:
        """Whether the zygote runs and the serving child has not ended."""
        return self.proc.poll() is None and self.dead_reason is None and self.child_status is None

    def sandbox_processes(self, keep_init: bool) -> list[int]:
        """Live processes of the sandbox's PID namespace (its first one unless told)."""
        if self.init_pid is None:
            return []
        return [
            p
            for p in procs.namespace_members(self.init_pid)
            if not (keep_init and p == self.init_pid)
        ]

    @property
    def isolated(self) -> bool:
        """Whether the process lives in namespaces of its own (else: found by uid or token)."""
        return self.jail is not None and self.jail.isolate

    def kill_child(self) -> None:
        """Kill the serving child and everything the submission started, not its zygote."""
        self.containment.kill_child(self)
        self.ready = False

    def respawn(self) -> bool:
        """Replace the serving child by a fresh fork of its zygote; False if it is gone."""
        self.kill_child()
        if self.proc.poll() is not None:
            return False
        if self.init_pid is not None and procs.is_stopped(self.init_pid):
            return False
        if self._reply_eof:
            return False
        self.generation += 1
        self.child_pid = self.child_status = self._child_host = None
        self.dead_reason = None
        self._reply_buf.clear()
        self._discarding = False
        try:
            _write_all(
                self._ctl_w, f"fork {self.generation}\n".encode(), deadline=time.monotonic() + 5
            )
        except (OSError, TimeoutError):
            return False
        return True

    def kill(self) -> None:
        """Kill the zygote, the child and everything they started; close the pipes."""
        self.containment.kill(self)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if not self.isolated:  # whatever still carries its token, in any mode without a PID ns
            procs.kill_all(lambda: procs.find(token=(isolation.TOKEN_VAR, self.slot.token)))
        self.drain(0.0)
        for fd in (self._cmd_w, self._reply_r, self._ctl_w, self._event_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._cmd_w = self._reply_r = self._ctl_w = self._event_r = -1
        for fd in self._std_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._std_fds = ()
        self._out_fds.clear()
        if self.dead_reason is None:
            self.dead_reason = "killed by the grader"


class ForkedProcess:
    """The ``Popen``-like handle on a submission process forked by the zygote.

    Its exit status arrives as ``zexit`` on the event pipe (read by ``pump``);
    the zygote, not the grader, is its parent. It is the sandbox's keeper: it
    stays outside the sandbox's namespaces and runs no student code.
    """

    def __init__(self, pid: int, pump):  # a callback
        self.pid = pid
        self.returncode: int | None = None
        self._pump = pump

    def poll(self) -> int | None:
        if self.returncode is None:
            self._pump()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL it while it has not been reported ended (so never a reused pid)."""
        if self.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("zygote child", timeout)
            time.sleep(0.01)
        return self.returncode


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        _, writable, _ = select.select([], [fd], [], remaining)
        if writable:
            written = os.write(fd, view[:65536])
            view = view[written:]


def _readable(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)
