"""The student process: IPython's shell serving the grader over a private pipe pair.

Started by :mod:`autograder.sandbox.confine` (a fresh interpreter, or a fork of the
warm zygote of :mod:`autograder.sandbox.zygote`): :func:`preload` imports numpy, torch,
matplotlib (Agg), IPython and the assignment's student-side modules (given as file
paths: this package imports nothing of the kit but :mod:`autograder.wire`), the
sandbox confines the process, and :func:`serve` takes over. It then acts as a
*zygote*: it never runs student code
itself, but forks a serving child on request (``fork G`` on the control pipe;
the first one at once). The child starts its own session and answers one JSON
command per line with one reply line ``"<id> <json>"``; when it ends, the zygote
reports ``exit <pid> <status>`` on the event pipe. A restart after a crash or
time-out is therefore a ``fork`` (tens of milliseconds), not a new interpreter.
Standard output and error belong to the student's code; the grader drains them
separately.

While a command runs, a substituted name may call its reference version in the
grader (:mod:`autograder.inside.remote`): the serving child writes ``cb <json>`` on the
reply pipe and reads the answer as the next command line.

Nothing here is trusted by the grader: every reply is decoded and checked there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from types import ModuleType
from typing import Any


def _summary(exc: BaseException | None) -> tuple[str, str]:
    if exc is None:
        return "", ""
    try:
        text = str(exc)
    except BaseException:  # student exceptions may lie in __str__
        text = "<unprintable>"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return type(exc).__name__[:100], first[:300]


def load_module(name: str, path: str) -> ModuleType:
    """Import the file ``path`` as module ``name`` (once)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def preload(student_side: dict[str, Any]) -> dict[str, ModuleType]:
    """Import numpy, torch, matplotlib (Agg), IPython and the assignment's student-side
    modules (seconds of CPU); after confinement nothing of the kit can be imported from
    disk any more. ``student_side`` is ``{"id": ..., "modules": {role: file path}}``
    (:meth:`autograder.assignment.model.Assignment.student_side_spec`); returns the
    loaded modules by role."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy
    import numpy.random  # noqa: F401 - loaded lazily by numpy, and by nearly every notebook
    import torch  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell

    from autograder.inside import probes, remote

    # its fixed probes and stand-ins, from its folder, before any student
    modules = {
        role: load_module(f"_assignment_{student_side['id']}_{role}", path)
        for role, path in student_side.get("modules", {}).items()
    }
    probes.register(getattr(modules.get("probes"), "PROBES", {}))
    remote.register(getattr(modules.get("stand_ins"), "SPECIAL", {}))

    # IPython imports much of what running a cell needs on the first cell (bdb, ...): run a
    # fixed one in a throwaway shell, so every submission starts with it loaded.
    # The zygote's HOME does not exist, and IPython warns when it cannot make ~/.ipython: the
    # warm-up shell gets a folder of its own, removed afterwards (a submission's shell uses
    # its own HOME, the sandbox's work folder).
    warm_dir = tempfile.mkdtemp(prefix="kit-ipython-")
    os.environ["IPYTHONDIR"] = warm_dir
    try:
        new_shell().run_cell("import math\nwarm = math.sqrt(4.0)", store_history=False, silent=True)
        InteractiveShell.clear_instance()
    finally:
        os.environ.pop("IPYTHONDIR", None)
        shutil.rmtree(warm_dir, ignore_errors=True)
    return modules


def new_shell():  # IPython's InteractiveShell
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
            except BaseException:  # the student may have replaced them
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
        self.send(
            f"r{generation}", json.dumps({"ready": True, "pid": os.getpid(), "uid": os.getuid()})
        )
        while True:
            msg = self.read_command()
            if msg is None:
                return
            req_id = int(msg.get("id", -1))
            try:
                payload = self.handle(msg)
            except BaseException as exc:  # keep serving whatever happens
                ename, evalue = _summary(exc)
                payload = json.dumps(
                    {"ok": False, "kind": "raised", "message": f"{ename}: {evalue}"}
                )
            self.send(req_id, payload)


def serve(
    cmd_fd: int,
    reply_fd: int,
    ctl_fd: int,
    event_fd: int,
    workdir: str,
    child_setup: Callable[[], None],
) -> None:
    """Serve as the submission's zygote in this (preloaded, already confined) process, in
    ``workdir``; ``child_setup`` runs first in every serving child. Never returns."""
    sys.stdin = open(os.devnull)  # lives as long as the process
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)
    sys.path.insert(0, workdir)
    _fresh_state(workdir)
    worker = Worker(cmd_fd, reply_fd)
    worker.make_shell()
    zygote(worker, ctl_fd, event_fd, child_setup)
    os._exit(0)


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


def _fork_child(
    worker: Worker, generation: int, ctl_fd: int, event_fd: int, child_setup: Callable[[], None]
) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the serving child
        os.setsid()
        os.close(ctl_fd)
        os.close(event_fd)
        child_setup()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _drain_stale(worker.cmd.fileno())
        worker.serve(generation)
    except BaseException:  # the grader sees the exit status
        os._exit(70)
    os._exit(0)


def zygote(worker: Worker, ctl_fd: int, event_fd: int, child_setup: Callable[[], None]) -> None:
    """Fork serving children on request; report their exits; never run student code."""
    import select

    def event(text: str) -> None:
        os.write(event_fd, (text + "\n").encode())

    generation = 1
    current = _fork_child(worker, generation, ctl_fd, event_fd, child_setup)
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
                current = _fork_child(worker, generation, ctl_fd, event_fd, child_setup)
                event(f"child {generation} {current}")
