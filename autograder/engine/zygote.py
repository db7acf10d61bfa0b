"""A warm parent for every submission of one grader process (used when running as root).

Starting an interpreter and importing numpy, torch, matplotlib and IPython costs
seconds of CPU. Instead of paying that per submission, each grader process starts
one *zygote*: ``python -I -m autograder.engine.zygote --sock-fd S`` imports the
heavy libraries and the kit's student-side modules once, and then only forks. It
never runs student code, never reads anything a submission wrote, and never
imports the hidden checks or the solution.

For each submission the grader sends, over a private ``SOCK_SEQPACKET`` socket,
one JSON spec (the sandbox's :class:`~autograder.engine.jail.JailSpec` and the
environment) with the submission's own pipes attached (``SCM_RIGHTS``): command,
reply, control, event, stdout, stderr. The zygote forks a child and answers
``{"pid": N}``. The child closes every other descriptor, starts its own session,
sets the submission's environment and enters the sandbox
(:func:`autograder.engine.worker.serve_sandbox`): it stays outside as the
sandbox's keeper while its own child, PID 1 of the sandbox, builds the
allow-list root, drops to the slot's uid and serves as the per-submission
zygote of :mod:`autograder.engine.worker`. When the keeper ends, the zygote
reports ``zexit <pid> <status>`` on that submission's event pipe.

Each fork starts from the zygote's pristine memory: nothing one submission does
(names, files in its private /tmp, modules it imported, RNG draws) can reach the
next. Without root the grader starts one interpreter per submission instead
(see :mod:`autograder.engine.process`).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading

MAX_SPEC = 1 << 16
N_FDS = 6
"""cmd_r, reply_w, ctl_r, event_w, stdout_w, stderr_w."""
FORBIDDEN_MODULES = ("autograder.checks", "autograder.run_checks", "autograder.reference_source",
                     "autograder.reference_calls")
"""Hidden material that must never be in the zygote's (hence every student's) memory."""


# --------------------------------------------------------------------------- zygote side


def _hidden_modules() -> list[str]:
    from autograder.engine import allowlist

    hidden = [str(allowlist.REPOSITORY / name) for name in ("solutions", "tests")]
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name.startswith(FORBIDDEN_MODULES) or any(path.startswith(h + "/") for h in hidden):
            found.append(name)
    return found


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _child(spec: dict, fds: list[int], sock: socket.socket) -> None:
    """The submission's process (runs in the fork; never returns)."""
    code = 70
    try:
        from autograder.engine import syscalls, worker
        from autograder.engine.jail import JailSpec

        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        cmd_r, reply_w, ctl_r, event_w, out_w, err_w = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        keep = {0, 1, 2, cmd_r, reply_w, ctl_r, event_w}
        sock.close()
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        os.environ.clear()
        os.environ.update(spec["env"])
        worker.serve_sandbox(cmd_r, reply_w, ctl_r, event_w, jail=JailSpec.from_dict(spec["jail"]))
    except BaseException:  # noqa: BLE001 - the grader sees the exit status and stderr
        import traceback

        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(sock: socket.socket) -> None:
    """Fork one child per spec received; report each child's end on its event pipe."""
    events: dict[int, int] = {}  # child pid -> our copy of its event pipe

    def reap() -> None:
        while events:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            fd = events.pop(pid, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.write(fd, f"zexit {pid} {status}\n".encode())
                with contextlib.suppress(OSError):
                    os.close(fd)

    while True:
        ready, _, _ = select.select([sock], [], [], 0.05)
        reap()
        if not ready:
            continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, MAX_SPEC, N_FDS)
        except OSError:
            return
        if not data:
            for fd in fds:
                os.close(fd)
            return
        reply: dict
        try:
            spec = json.loads(data)
            if len(fds) != N_FDS:
                raise ValueError(f"{len(fds)} descriptors, not {N_FDS}")
            if _threads() != 1:
                raise RuntimeError(f"the zygote has {_threads()} threads; refusing to fork")
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            pid = os.fork()
            if pid == 0:
                _child(spec, fds, sock)
            events[pid] = os.dup(fds[3])
            reply = {"pid": pid}
        except Exception as exc:  # noqa: BLE001 - the grader falls back to a fresh process
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock.send(json.dumps(reply).encode())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="autograder.engine.zygote")
    parser.add_argument("--sock-fd", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the grader
    for fd in (0, 1, 2):  # so that no received descriptor lands on a standard one
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(os.open(os.devnull, os.O_RDWR), fd)
    from autograder.engine import syscalls, worker

    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    sock = socket.socket(fileno=args.sock_fd)
    worker.preload()
    hidden = _hidden_modules()
    if hidden:
        raise SystemExit(f"hidden modules loaded in the zygote: {hidden}")
    if _threads() != 1:
        raise SystemExit(f"the zygote has {_threads()} threads after its imports")
    gc.collect()
    gc.freeze()  # the collector leaves the imported objects alone: fewer copied pages per fork
    sock.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    serve(sock)


# --------------------------------------------------------------------------- grader side


class ZygoteError(Exception):
    """The zygote is not available (the grader then starts a fresh interpreter)."""


class Zygote:
    """The grader's handle on its zygote process."""

    def __init__(self, env: dict[str, str], timeout: float = 120.0):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lock = threading.Lock()
        self.timeout = timeout
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-m", "autograder.engine.zygote",
                 "--sock-fd", str(theirs.fileno())],
                stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), env=env,
                cwd="/", close_fds=True)
        finally:
            theirs.close()
        self.ready = False
        self.failed = False
        """It ended before it was ready (it will not be started again by this process)."""
        self.pid = self.proc.pid

    def _recv(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise ZygoteError("the zygote did not answer")
        data = self.sock.recv(MAX_SPEC)
        if not data:
            raise ZygoteError("the zygote has ended")
        reply = json.loads(data)
        if not isinstance(reply, dict):
            raise ZygoteError("unreadable answer from the zygote")
        return reply

    def fork(self, spec: dict, fds: list[int]) -> int:
        """Fork a submission process with ``fds`` as its pipes; return its pid."""
        with self.lock:
            try:
                if not self.ready:
                    try:
                        self._recv(self.timeout)
                    except (OSError, ValueError, ZygoteError):
                        self.failed = True
                        raise
                    self.ready = True
                socket.send_fds(self.sock, [json.dumps(spec).encode()], fds)
                reply = self._recv(30.0)
            except (OSError, ValueError) as exc:
                raise ZygoteError(str(exc)) from None
        if "error" in reply or not isinstance(reply.get("pid"), int):
            raise ZygoteError(str(reply.get("error", reply)))
        return reply["pid"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


_zygote: Zygote | None = None
_owner: int | None = None
_lock = threading.Lock()


def zygote_env() -> dict[str, str]:
    """The zygote's environment (every submission process starts from it)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", "1"),
        "LANG": "C.UTF-8",
    }
    with contextlib.suppress(Exception):  # read the grader's font list instead of rebuilding it
        import matplotlib

        env["MPLCONFIGDIR"] = matplotlib.get_cachedir()
    return env


def shared() -> Zygote:
    """This grader process's zygote, started on first use (and again if it died)."""
    global _zygote, _owner
    with _lock:
        if _zygote is not None and _owner == os.getpid() and _zygote.failed:
            raise ZygoteError("the zygote failed to start")
        if _zygote is not None and (_owner != os.getpid() or not _zygote.alive()):
            if _owner == os.getpid():
                _zygote.close()
            _zygote = None
        if _zygote is None:
            _zygote, _owner = Zygote(zygote_env()), os.getpid()
            atexit.register(close_shared)
        return _zygote


def close_shared() -> None:
    """End this grader process's zygote (at exit)."""
    global _zygote
    with _lock:
        if _zygote is not None and _owner == os.getpid():
            _zygote.close()
        _zygote = None


if __name__ == "__main__":
    main()
