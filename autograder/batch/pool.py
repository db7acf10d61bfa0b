"""The local pool: ``--jobs`` worker processes, each grading one submission at a time.

The workers are forks of one forkserver that preloaded the grader's imports, and fork
every sandbox from one shared zygote; a worker that dies or overruns the hard limit is
killed and replaced, and its submission gets status ``error``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Any

from autograder.assignment.model import Assignment, load
from autograder.assignment.notebook import file_sha256
from autograder.batch.discovery import Submission
from autograder.batch.progress import StopRequest
from autograder.checks import suite_guard
from autograder.engine import containment
from autograder.engine.session import sweep_free_slots
from autograder.results import SubmissionResult
from autograder.sandbox import zygote

DEFAULT_GRADE_FN = "autograder.engine:grade_one"
STARTUP_LIMIT = 300.0
"""Seconds a new worker process may take to start (imports) before its first task."""


def resolve_grade_fn(ref: str) -> Callable[..., SubmissionResult]:
    """The grading function named ``module:function`` (default function ``grade_one``)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name or "grade_one")


def warm_up_grader(grade_ref: str, assignment: Assignment) -> None:
    """Let the grading module warm up for ``assignment`` before the first submission (the
    engine's ``prewarm``: the grader's imports, then a spare sandbox), when it has such a
    hook."""
    prewarm = getattr(importlib.import_module(grade_ref.partition(":")[0]), "prewarm", None)
    if callable(prewarm):
        with contextlib.suppress(Exception):  # a missing spare only costs time
            prewarm(assignment)


def _safe_json(result: SubmissionResult) -> str:
    try:
        return result.to_json()
    except (TypeError, ValueError) as exc:
        result.artifacts = {}
        result.message = (result.message + f" (plots left out: {exc})").strip()
        return result.to_json()


def grade_safely(
    grade_fn: Callable[..., SubmissionResult],
    path: Path,
    submission: str,
    assignment: Assignment,
    *,
    seed: int,
    device: str,
    timeout: float,
    checks_sha: str,
) -> tuple[str, str]:
    """Grade one submission of ``assignment``; never raises. Returns (result JSON, kit
    traceback or '')."""
    start = time.perf_counter()
    trace = ""
    try:
        result = grade_fn(
            path,
            assignment,
            submission_id=submission,
            seed=seed,
            device=device,
            total_timeout=timeout,
        )
        if not isinstance(result, SubmissionResult):
            raise TypeError(f"grade_one returned {type(result).__name__}, not SubmissionResult")
    except Exception as exc:  # one submission never stops the batch
        trace = traceback.format_exc()
        result = SubmissionResult.failed(
            submission,
            "error",
            f"the grader failed on this submission ({type(exc).__name__}: {str(exc)[:300]})",
            assignment,
            seed=seed,
        )
    result.submission = submission
    result.timings["batch_seconds"] = round(time.perf_counter() - start, 3)
    try:
        result.notebook_sha256 = result.notebook_sha256 or file_sha256(path)
    except OSError:
        pass
    result.checks_sha256 = result.checks_sha256 or checks_sha
    return _safe_json(result), trace


def _watch_parent(parent: int) -> None:
    """End this worker (and what it started) when the batch process is gone (kill -9)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5.0)
    with contextlib.suppress(OSError):
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os._exit(1)


def peak_memory_mb() -> float:
    """This process's peak resident memory so far (MiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _worker_main(
    conn: Any,
    grade_ref: str,
    assignment_ref: str,
    log: str | None = None,
    zygote_socket: str | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """A worker: grade one task at a time (JSON over a pipe) until told to stop, each a
    submission of the assignment ``assignment_ref`` names (``Assignment.ref``).

    Its stdout and stderr (what the engine and the checks print) go to ``log``,
    so that the progress display stays readable. ``zygote_socket`` is the batch's
    shared zygote (:class:`autograder.sandbox.zygote.ZygoteServer`); ``env`` the
    batch's environment as it is now (the forkserver's is that of its start).
    """
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    if zygote_socket:
        os.environ[zygote.SOCKET_VAR] = zygote_socket
    if log:
        with contextlib.suppress(OSError):
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    with contextlib.suppress(OSError):
        os.setsid()  # terminal signals go to the parent only; killpg reaches our children

    def _terminate(signum: int, frame: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, _terminate)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # tiny tensors: threads only contend
        os.environ.setdefault(var, "1")
    if "torch" in sys.modules:  # preloaded by the forkserver, before the variables were set
        sys.modules["torch"].set_num_threads(1)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    grade_fn = resolve_grade_fn(grade_ref)
    assignment = load(assignment_ref)
    warm_up_grader(grade_ref, assignment)
    while True:
        try:
            task = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            conn.send_bytes(b'{"started": true}')  # the hard limit counts from here
        except OSError:
            return
        result_json, trace = grade_safely(
            grade_fn,
            Path(task["path"]),
            task["id"],
            assignment,
            seed=task["seed"],
            device=task["device"],
            timeout=task["timeout"],
            checks_sha=task["checks_sha"],
        )
        try:
            conn.send_bytes(
                json.dumps(
                    {"result": result_json, "trace": trace, "peak_mb": peak_memory_mb()}
                ).encode()
            )
        except (BrokenPipeError, OSError):
            return


PRELOAD = (
    "autograder.engine.grade",
    "torch",
    "torch._dynamo",
    "matplotlib",
    "IPython.core.inputtransformer2",
)
"""What the workers' forkserver imports once for all of them (see :func:`_worker_context`)."""


def _worker_context(grade_ref: str) -> Any:
    """The ``forkserver`` start method, preloading the grader's imports.

    Every worker is a fork of one server process that imported the engine, the
    hidden suite's runner, torch, matplotlib and IPython's input transformer once
    (seconds of CPU), instead of a fresh interpreter importing them again; the server
    never grades anything.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([*PRELOAD, grade_ref.partition(":")[0]])
    return ctx


def start_workers_server(grade_ref: str) -> None:
    """Start the workers' forkserver now, so that its imports (seconds) overlap with what
    the batch does before its first worker (checking the assignment, finding the
    submissions); the pool then finds it running."""
    _worker_context(grade_ref)
    multiprocessing.forkserver.ensure_running()


class _Worker:
    def __init__(
        self,
        ctx: Any,
        grade_ref: str,
        assignment_ref: str,
        log: Path | None = None,
        zygote_socket: str | None = None,
    ):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main,
            daemon=True,
            args=(
                child,
                grade_ref,
                assignment_ref,
                str(log) if log else None,
                zygote_socket,
                dict(os.environ),
            ),
        )
        self.proc.start()
        child.close()
        self.task: Submission | None = None
        self.started = 0.0
        self.acked = False
        self.peak_mb = 0.0
        """The worker's peak resident memory (MiB) as of its last result."""

    def give(self, sub: Submission, payload: dict[str, Any]) -> None:
        self.task, self.started, self.acked = sub, time.monotonic(), False
        self.conn.send_bytes(json.dumps({**payload, "path": str(sub.path), "id": sub.id}).encode())

    def stop(self, grace: float = 3.0) -> None:
        """Stop the worker and whatever it started (it leads its own process group)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(grace)
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(grace)
        self.conn.close()


def overran_message(hard_limit: float) -> str:
    """What a submission whose grading outlived ``hard_limit`` seconds is told."""
    return f"grading took longer than the hard limit of {hard_limit:.0f} s and was stopped"


def _shared_zygote(grade_ref: str, assignment: Assignment) -> zygote.ZygoteServer | None:
    """One warm zygote for every worker of the batch (as root, with the kit's engine and
    ``assignment``'s student-side modules)."""
    if grade_ref != DEFAULT_GRADE_FN or not containment.current().confined:
        return None
    try:
        return zygote.ZygoteServer(zygote.zygote_env(assignment.student_side_spec()))
    except OSError as exc:  # each worker then starts its own
        print(f"[batch] no shared zygote ({exc}); each worker starts its own", file=sys.stderr)
        return None


def run_pool(
    todo: list[Submission],
    out: Path,
    assignment: Assignment,
    *,
    jobs: int,
    payload: dict[str, Any],
    grade_ref: str,
    hard_limit: float,
    store: Callable[[str, str], None],
    memory: dict[str, Any],
    stop: StopRequest,
) -> None:
    """Grade ``todo`` (submissions of ``assignment``) with ``jobs`` worker processes; ``store(result JSON, kit traceback)``
    gets each result as it finishes, ``memory`` the workers' and the zygote's peak memory.

    The workers are forks of one preloaded server (:func:`_worker_context`) and
    fork every sandbox from one shared zygote (:func:`_shared_zygote`), both
    started here, so the batch pays those imports once, whatever ``jobs`` is.
    """
    server = _shared_zygote(grade_ref, assignment)
    socket_path = server.path if server is not None else None
    ctx = _worker_context(grade_ref)
    log = out / "logs" / "workers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    queue = list(reversed(todo))
    workers = [
        _Worker(ctx, grade_ref, assignment.ref, log, socket_path)
        for _ in range(min(jobs, len(todo)))
    ]
    peaks: list[float] = []
    try:
        while (queue or any(w.task for w in workers)) and not stop.hits:
            for i, w in enumerate(workers):
                if w.task is None and queue:
                    sub = queue.pop()
                    try:
                        w.give(sub, payload)
                    except OSError:  # the idle worker had died: replace it
                        w.stop()
                        workers[i] = w = _Worker(ctx, grade_ref, assignment.ref, log, socket_path)
                        w.give(sub, payload)
            busy = [w for w in workers if w.task]
            ready = wait_ready([x for w in busy for x in (w.conn, w.proc.sentinel)], timeout=0.5)
            now = time.monotonic()
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                sub = w.task
                if w.conn in ready:
                    try:
                        reply = json.loads(w.conn.recv_bytes())
                    except (EOFError, OSError, ValueError):
                        reply = None
                    if isinstance(reply, dict) and reply.get("started"):
                        w.started, w.acked = now, True
                        continue
                    if isinstance(reply, dict):
                        w.task = None
                        w.peak_mb = max(w.peak_mb, float(reply.get("peak_mb", 0.0)))
                        store(reply["result"], reply["trace"])
                        suite_guard.current(assignment)  # raises SuiteChanged: the run stops here
                        continue
                limit = hard_limit if w.acked else hard_limit + STARTUP_LIMIT
                if w.conn in ready or w.proc.sentinel in ready or now - w.started > limit:
                    overran = now - w.started > limit and w.proc.is_alive()
                    w.stop()
                    code = w.proc.exitcode
                    message = (
                        overran_message(hard_limit)
                        if overran
                        else f"the grading process died (exit code {code})"
                    )
                    w.task = None
                    peaks.append(w.peak_mb)
                    store(
                        SubmissionResult.failed(
                            sub.id, "error", message, assignment, seed=payload["seed"]
                        ).to_json(),
                        "",
                    )
                    if queue:
                        workers[i] = _Worker(ctx, grade_ref, assignment.ref, log, socket_path)
    finally:
        for w in workers:
            try:
                if w.proc.is_alive() and w.task is None:
                    w.conn.send_bytes(b"null")
            except OSError:
                pass
        for w in workers:
            w.proc.join(0.5 if w.task is None else 0)
            w.stop()
        memory["workers_peak_mb"] = sorted((*peaks, *(w.peak_mb for w in workers)), reverse=True)
        if server is not None:
            memory["zygote_peak_mb"] = server.peak_memory_mb()
            server.close()
        sweep_free_slots()  # what the stopped workers' spare sandboxes left
