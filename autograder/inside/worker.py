"""The student process: IPython's shell serving the grader over a private pipe pair.

Run as ``python -I -m autograder.inside.worker --cmd-fd R --reply-fd W --ctl-fd C
--event-fd E --dir DIR [--jail SPEC.json]`` (see :mod:`autograder.engine.process`).
It imports numpy, torch, matplotlib (Agg), IPython and the kit's student-side
modules, then confines itself: with ``--jail`` (root) it enters the sandbox of
:mod:`autograder.sandbox.jail` and continues as the sandbox's PID 1, without it
only rlimits apply. It then acts as a *zygote*: it never runs student code
itself, but forks a serving child on request (``fork G`` on the control pipe;
the first one at once). The child starts its own session and answers one JSON
command per line with one reply line ``"<id> <json>"``; when it ends, the zygote
reports ``exit <pid> <status>`` on the event pipe. A restart after a crash or
time-out is therefore a ``fork`` (tens of milliseconds), not a new interpreter.
Standard output and error belong to the student's code; the grader drains them
separately.

As root the grader does not start this module per submission: its warm zygote
(:mod:`autograder.sandbox.zygote`, imports done once per grader process) forks a
process that enters the sandbox the same way and then runs :func:`zygote` below.

While a command runs, a substituted name may call its reference version in the
grader (:mod:`autograder.inside.remote`): the serving child writes ``cb <json>`` on the
reply pipe and reads the answer as the next command line.

Nothing here is trusted by the grader: every reply is decoded and checked there.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any


def _summary(exc: BaseException | None) -> tuple[str, str]:
    if exc is None:
        return "", ""
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - student exceptions may lie in __str__
        text = "<unprintable>"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return type(exc).__name__[:100], first[:300]


def preload() -> None:
    """Import numpy, torch, matplotlib (Agg), IPython and the kit's student side (seconds of
    CPU); after confinement nothing of the kit can be imported from disk any more."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import numpy.random  # noqa: F401 - loaded lazily by numpy, and by nearly every notebook
    import torch  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell

    from autograder.assignment.model import current
    from autograder.inside import probes, remote

    assignment = current()  # its fixed probes and stand-ins, from its folder, before any student
    module = assignment.module("probes")
    probes.register(getattr(module, "PROBES", {}))
    module = assignment.module("stand_ins")
    remote.register(getattr(module, "SPECIAL", {}))

    # IPython imports much of what running a cell needs on the first cell (bdb, ...): run a
    # fixed one in a throwaway shell, so every submission starts with it loaded.
    new_shell().run_cell("import math\nwarm = math.sqrt(4.0)", store_history=False, silent=True)
    InteractiveShell.clear_instance()


def new_shell():  # noqa: ANN201 - IPython's InteractiveShell
    """A fresh IPython shell without history (no thread) and without GUI hooks."""
    from IPython.core.history import HistoryManager
    from IPython.core.interactiveshell import InteractiveShell

    HistoryManager.enabled = False
    # ``%matplotlib inline`` (first line of many notebooks) needs a GUI hook the plain
    # shell lacks; without this the whole first cell, imports included, would fail.
    InteractiveShell.enable_gui = lambda self, gui=None: None
    shell = InteractiveShell.instance(colors="NoColor")
    shell.user_ns["__name__"] = "__main__"
    return shell


class Worker:
    """Command loop over the shell's namespace."""

    def __init__(self, cmd_fd: int, reply_fd: int):
        self.cmd = os.fdopen(cmd_fd, "rb", buffering=0)
        self.reply_fd = reply_fd
        self.shell = None
        self._buffer = b""

    def make_shell(self) -> None:
        """A fresh IPython shell (cheap once :func:`preload` has run)."""
        self.shell = new_shell()

    def send(self, req_id: int | str, payload: str) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student may have replaced them
                pass
        data = f"{req_id} {payload}\n".encode()
        view = memoryview(data)
        while view:
            written = os.write(self.reply_fd, view)
            view = view[written:]

    def read_command(self) -> dict | None:
        while b"\n" not in self._buffer:
            chunk = self.cmd.read(1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def handle(self, msg: dict) -> str:
        from autograder.inside import probes

        op = msg.get("op")
        ns = self.shell.user_ns
        if op == "ping":
            return json.dumps({"ok": True, "pid": os.getpid(), "uid": os.getuid()})
        if op == "run_cell":
            return self.run_cell(msg["source"])
        if op == "has":
            return json.dumps({"ok": True, "value": msg["name"] in ns})
        if op == "call":
            return probes.run_call(ns, msg["name"], msg["args"], msg["kwargs"])
        if op == "value":
            return probes.run_value(ns, msg["name"])
        if op == "probe":
            return probes.run_probe(ns, msg["name"], msg["params"])
        if op == "substitute":
            return self.substitute(msg["names"])
        if op == "install":
            return self.install(msg["name"], msg["text"])
        return json.dumps({"ok": False, "kind": "raised", "message": f"unknown op {op!r}"})

    def run_cell(self, source: str) -> str:
        result = self.shell.run_cell(source, store_history=False, silent=False)
        if result.error_before_exec is not None:
            ename, evalue = _summary(result.error_before_exec)
            return json.dumps({"status": "error", "ename": ename, "evalue": evalue})
        if result.error_in_exec is not None:
            ename, evalue = _summary(result.error_in_exec)
            return json.dumps({"status": "error", "ename": ename, "evalue": evalue})
        return json.dumps({"status": "ok"})

    def substitute(self, names: list[str]) -> str:
        """Bind each name to a stand-in whose calls run the reference in the grader."""
        from autograder.inside import remote

        ns = self.shell.user_ns
        for name in names:
            ns[name] = remote.stand_in(name, self.callback)
        return json.dumps({"ok": True})

    def install(self, name: str, text: str) -> str:
        """Write a file the grader hands over (the notebook) into the work folder."""
        if os.path.basename(name) != name or name.startswith("."):
            return json.dumps({"ok": False, "kind": "raised", "message": "bad file name"})
        with open(name, "w", encoding="utf-8") as fh:
            fh.write(text)
        return json.dumps({"ok": True})

    def callback(self, request: str) -> Any:
        """Send a reference call to the grader and wait for its answer (parsed JSON)."""
        self.send("cb", request)
        while True:
            msg = self.read_command()
            if msg is None:
                raise EOFError("the grader closed the command pipe")
            if msg.get("op") == "cb_reply":
                return msg.get("payload")

    def serve(self, generation: int) -> None:
        os.write(self.reply_fd, b"\n")  # ends any partial line a killed predecessor left
        self.send(f"r{generation}",
                  json.dumps({"ready": True, "pid": os.getpid(), "uid": os.getuid()}))
        while True:
            msg = self.read_command()
            if msg is None:
                return
            req_id = int(msg.get("id", -1))
            try:
                payload = self.handle(msg)
            except BaseException as exc:  # noqa: BLE001 - keep serving whatever happens
                ename, evalue = _summary(exc)
                payload = json.dumps({"ok": False, "kind": "raised",
                                      "message": f"{ename}: {evalue}"})
            self.send(req_id, payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="autograder.inside.worker")
    parser.add_argument("--cmd-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--ctl-fd", type=int, required=True)
    parser.add_argument("--event-fd", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--jail", help="the sandbox spec (JSON file; root only)")
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args(argv)
    preload()
    jail = None
    if args.jail:
        from autograder.sandbox.jail import JailSpec

        with open(args.jail) as fh:
            jail = JailSpec.from_dict(json.load(fh))
    serve_sandbox(args.cmd_fd, args.reply_fd, args.ctl_fd, args.event_fd, jail=jail,
                  workdir=args.dir, memory_mb=args.memory_mb or None)


def serve_sandbox(cmd_fd: int, reply_fd: int, ctl_fd: int, event_fd: int, *,
                  jail: Any = None, workdir: str = "", memory_mb: int | None = None) -> None:
    """Confine this (already preloaded) process, then serve as the submission's zygote.

    With ``jail`` (a :class:`autograder.sandbox.jail.JailSpec`): enter the sandbox
    (this returns in its PID 1; the keeper never returns). Without: rlimits only,
    in ``workdir``. Never returns.
    """
    from autograder.sandbox import jail as jail_module
    from autograder.sandbox import syscalls

    if jail is not None:
        jail_module.enter(jail, event_fd)
        workdir = jail.workdir
        if jail.isolate:  # PID 1 must not die of a stray signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        _rlimits(memory_mb)
        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        os.chdir(workdir)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)
    sys.path.insert(0, workdir)
    _fresh_state(workdir)
    worker = Worker(cmd_fd, reply_fd)
    worker.make_shell()
    zygote(worker, ctl_fd, event_fd)
    os._exit(0)


def _rlimits(memory_mb: int | None) -> None:
    """Without root: no core files, 64 MiB per written file, the address-space cap."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = 64 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _fresh_state(workdir: str) -> None:
    """What a fresh interpreter would have had: new random seeds, this folder for matplotlib."""
    import random

    import matplotlib
    import numpy

    random.seed()
    numpy.random.seed()
    mpl_dir = os.path.join(workdir, ".matplotlib")
    matplotlib.get_configdir = matplotlib.get_cachedir = lambda: mpl_dir
    texmanager = sys.modules.get("matplotlib.texmanager")
    if texmanager is not None and hasattr(texmanager.TexManager, "_cache_dir"):
        texmanager.TexManager._cache_dir = os.path.join(mpl_dir, "tex.cache")


def _drain_stale(fd: int) -> None:
    """Discard a command a killed predecessor never read."""
    os.set_blocking(fd, False)
    try:
        while os.read(fd, 1 << 16):
            pass
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, True)


def _fork_child(worker: Worker, generation: int, ctl_fd: int, event_fd: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the serving child
        os.setsid()
        os.close(ctl_fd)
        os.close(event_fd)
        from autograder.sandbox import syscalls

        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _drain_stale(worker.cmd.fileno())
        worker.serve(generation)
    except BaseException:  # noqa: BLE001 - the grader sees the exit status
        os._exit(70)
    os._exit(0)


def zygote(worker: Worker, ctl_fd: int, event_fd: int) -> None:
    """Fork serving children on request; report their exits; never run student code."""
    import select

    def event(text: str) -> None:
        os.write(event_fd, (text + "\n").encode())

    generation = 1
    current = _fork_child(worker, generation, ctl_fd, event_fd)
    event(f"child {generation} {current}")
    buffer = b""
    while True:
        ready, _, _ = select.select([ctl_fd], [], [], 0.05)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == current:
                event(f"exit {pid} {status}")
        if not ready:
            continue
        chunk = os.read(ctl_fd, 4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            parts = line.split()
            if len(parts) == 2 and parts[0] == b"fork":
                generation = int(parts[1])
                current = _fork_child(worker, generation, ctl_fd, event_fd)
                event(f"child {generation} {current}")


if __name__ == "__main__":
    main()
