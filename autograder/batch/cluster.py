"""Grade a class on a Dask cluster: ``python -m autograder grade DIR --out G --scheduler ADDR``.

The machine that runs the command (the *client*) keeps the grades folder and
does everything but the grading: discovery, resume, the lock, the progress bar,
feedback, report and similarity are those of :mod:`autograder.batch.run`. Each
submission to grade becomes one Dask task that carries the notebook's bytes (a
submission is at most 20 MB; the worker needs no shared folder and sees no other
student's file). On the worker, :func:`grade_task` writes the bytes into a
private temporary folder and grades them with the same sandboxed engine as a
local run (:func:`autograder.batch.pool.grade_safely`), under the same seed; the
result comes back as the engine's JSON text and is stored by the client exactly
as a local worker's (``results/<id>.json``, written atomically as it arrives).

Failures: a worker lost mid-task (killed, its machine gone) costs nothing, as
the scheduler gives its tasks to another worker; a task whose workers keep dying
(``distributed.scheduler.allowed-failures``, 3 by default) gets status ``error``,
as does one still running after the hard limit (its worker is then restarted).
A worker whose hidden checks differ from the client's (another version of the
kit) refuses to grade, with an ``error`` result saying so, so that two versions
of the checks never mix in one grades folder. Rerun to retry ``error`` results.

Workers: ``dask worker tcp://HOST:PORT --nthreads 1 --preload autograder.batch.cluster``
started from the kit's environment, as root for the sandbox (see
``docs/cluster.md``); the preload warms each worker as it starts
(:func:`dask_setup`). A worker grades one submission at a time whatever its
``--nthreads``, and ``--nworkers N`` runs N of them on one machine.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from autograder.assignment.model import Assignment, current
from autograder.assignment.notebook import MAX_NOTEBOOK_BYTES
from autograder.batch.discovery import Submission
from autograder.batch.pool import (
    DEFAULT_GRADE_FN,
    grade_safely,
    overran_message,
    peak_memory_mb,
    resolve_grade_fn,
    warm_up_grader,
)
from autograder.batch.progress import BatchSummary
from autograder.checks import suite_guard
from autograder.checks.run_checks import checks_fingerprint
from autograder.results import SubmissionResult


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached or has no worker (the message says which)."""


CONNECT_TIMEOUT = 30.0
"""Seconds to reach the scheduler."""
WORKER_WAIT = 120.0
"""Seconds to wait for the first worker to join before giving up."""
WATCH_EVERY = 5.0
"""Seconds between two looks at what each worker is running (for the hard limit)."""

_grading = threading.Lock()
"""One submission at a time per worker process (the engine and pytest are not thread-safe)."""


# ---------------------------------------------------------------- worker side
def _worker_assignment() -> Assignment:
    """The assignment this Dask worker grades: a worker's start, where its environment
    (``$AUTOGRADER_ASSIGNMENT``) names it."""
    return current()


@functools.lru_cache(maxsize=1)
def _worker_checks() -> str:
    return checks_fingerprint(_worker_assignment())


def _worker_address() -> str:
    from distributed import get_worker

    try:
        return str(get_worker().address)
    except ValueError:  # not on a worker (tests call the task directly)
        return f"pid {os.getpid()}"


def dask_setup(worker: Any) -> None:
    """``dask worker ... --preload autograder.batch.cluster``: warm this worker as it starts (the
    grader's imports, its zygote and a spare sandbox), so that no task waits for it."""
    with _grading:
        _worker_checks()
        warm_up_grader(DEFAULT_GRADE_FN, _worker_assignment())


def warm_worker(grade_ref: str) -> str:
    """A task: warm this worker's grader and start its spare sandbox (before any grading)."""
    with _grading:
        _worker_checks()
        warm_up_grader(grade_ref, _worker_assignment())
    return _worker_address()


def grade_task(task: dict[str, Any]) -> dict[str, Any]:
    """A task: grade one shipped notebook on this worker; plain JSON text comes back.

    ``task`` holds ``id``, ``filename``, ``data`` (the notebook's bytes), ``seed``,
    ``device``, ``timeout``, ``checks_sha`` and ``grade_ref``. Never raises for a
    submission's sake: the engine turns everything a notebook does into a result.
    """
    with _grading:
        address = _worker_address()
        assignment = _worker_assignment()
        mine = _worker_checks()
        if mine != task["checks_sha"]:
            result = SubmissionResult.failed(
                task["id"],
                "error",
                f"the Dask worker {address} has other hidden checks (fingerprint "
                f"{mine[:12]}) than the machine that sent the class ({task['checks_sha'][:12]}); "
                "install the same version of the kit on every worker and rerun",
                assignment,
                seed=task["seed"],
            )
            return {
                "result": result.to_json(),
                "trace": "",
                "worker": address,
                "peak_mb": peak_memory_mb(),
            }
        folder = tempfile.mkdtemp(prefix="autograder-task-")
        try:
            path = Path(folder) / task["filename"]
            path.write_bytes(task["data"])
            result_json, trace = grade_safely(
                resolve_grade_fn(task["grade_ref"]),
                path,
                task["id"],
                assignment,
                seed=task["seed"],
                device=task["device"],
                timeout=task["timeout"],
                checks_sha=task["checks_sha"],
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return {"result": result_json, "trace": trace, "worker": address, "peak_mb": peak_memory_mb()}


# ---------------------------------------------------------------- client side
def _task(sub: Submission, payload: dict[str, Any], grade_ref: str) -> dict[str, Any] | None:
    """The task for ``sub``; None when its file cannot be shipped (unreadable or over the
    engine's size limit: graded here, where the engine refuses it before any sandbox)."""
    try:
        if sub.path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        data = sub.path.read_bytes()
    except OSError:
        return None
    return {
        **payload,
        "id": sub.id,
        "filename": sub.path.name,
        "data": data,
        "grade_ref": grade_ref,
    }


def _error_json(sub_id: str, message: str, assignment: Assignment, seed: int) -> str:
    return SubmissionResult.failed(sub_id, "error", message, assignment, seed=seed).to_json()


def _connect(address: str) -> Any:
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnavailable(
            f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {exc}"
        ) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except (TimeoutError, OSError) as exc:
        client.close()
        raise ClusterUnavailable(
            f"the Dask scheduler at {address} has no worker after "
            f"{WORKER_WAIT:.0f} s ({type(exc).__name__}); start some "
            "with: dask worker " + address + " --nthreads 1"
        ) from None
    return client


def grade_on_cluster(
    todo: Sequence[Submission],
    address: str,
    assignment: Assignment,
    *,
    payload: dict[str, Any],
    grade_ref: str,
    hard_limit: float,
    store: Callable[[str, str], None],
    summary: BatchSummary,
    stop: Any,
) -> None:
    """Grade ``todo`` (submissions of ``assignment``) on the Dask cluster at ``address``; ``store(result_json, trace)`` is
    called in this thread for each result as it arrives (the batch's ``_store``).

    ``payload`` is the batch's (seed, device, timeout, checks_sha). Returns when
    every submission has a result or ``stop.hits`` asks to stop (what is still
    queued is cancelled; stored results stay). Raises ClusterUnavailable.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    client = _connect(address)
    run = secrets.token_hex(4)
    peaks: dict[str, float] = {}
    try:
        warm = [
            client.submit(
                warm_worker,
                grade_ref,
                key=f"warm-{run}-{worker}",
                pure=False,
                workers=[worker],
                allow_other_workers=False,
            )
            for worker in client.scheduler_info()["workers"]
        ]  # held: a dropped one is lost
        pending: dict[str, Any] = {}
        subs: dict[str, Submission] = {}
        for sub in todo:
            task = _task(sub, payload, grade_ref)
            if task is None:
                store(
                    *grade_safely(
                        resolve_grade_fn(grade_ref),
                        sub.path,
                        sub.id,
                        assignment,
                        seed=payload["seed"],
                        device=payload["device"],
                        timeout=payload["timeout"],
                        checks_sha=payload["checks_sha"],
                    )
                )
                continue
            future = client.submit(grade_task, task, key=f"grade-{run}-{sub.id}", pure=False)
            pending[future.key], subs[future.key] = future, sub
        started: dict[str, float] = {}
        done = as_completed(list(pending.values()), loop=client.loop)
        watched = time.monotonic()
        while pending and not stop.hits:
            if not done.has_ready():
                time.sleep(0.1)
                if time.monotonic() - watched > WATCH_EVERY:
                    watched = time.monotonic()
                    _enforce_limit(
                        client,
                        pending,
                        subs,
                        started,
                        hard_limit,
                        assignment,
                        payload["seed"],
                        store,
                    )
                continue
            for future in done.next_batch(block=False):
                if pending.pop(future.key, None) is None:
                    continue  # already stored (the hard limit stopped it)
                sub = subs[future.key]
                try:
                    reply = future.result()
                except FutureCancelledError:
                    store(
                        _error_json(
                            sub.id,
                            "the Dask scheduler cancelled this task; rerun to grade it",
                            assignment,
                            payload["seed"],
                        ),
                        "",
                    )
                    continue
                except Exception as exc:  # a lost task never stops the batch
                    store(
                        _error_json(sub.id, _failure_message(exc), assignment, payload["seed"]),
                        "".join(traceback.format_exception(exc)),
                    )
                    continue
                peaks[reply["worker"]] = max(
                    peaks.get(reply["worker"], 0.0), float(reply["peak_mb"])
                )
                store(reply["result"], reply["trace"])
        if pending:  # stopped: what is still queued is not graded in this run
            client.cancel(list(pending.values()))
        client.cancel(warm)
    finally:
        summary.memory = {"workers_peak_mb": sorted(peaks.values(), reverse=True), "workers": peaks}
        client.close()


def _failure_message(exc: BaseException) -> str:
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            "every Dask worker that took this submission died while grading it "
            f"({exc}); rerun to retry"
        )
    return f"the grader failed on a Dask worker ({type(exc).__name__}: {str(exc)[:300]})"


def _enforce_limit(
    client: Any,
    pending: dict[str, Any],
    subs: dict[str, Submission],
    started: dict[str, float],
    hard_limit: float,
    assignment: Assignment,
    seed: int,
    store: Callable[[str, str], None],
) -> None:
    """Give ``error`` to a task a worker has held longer than ``hard_limit`` and restart that
    worker (a stuck grading cannot be stopped otherwise)."""
    now = time.monotonic()
    stuck: set[str] = set()
    for worker, keys in client.processing().items():
        for key in keys:
            started.setdefault(key, now)
            if key in pending and now - started[key] > hard_limit:
                client.cancel([pending.pop(key)])
                store(_error_json(subs[key].id, overran_message(hard_limit), assignment, seed), "")
                stuck.add(worker)
    if stuck:
        client.restart_workers(list(stuck), raise_for_error=False)


@contextlib.contextmanager
def loopback_cluster(
    folder: Path, workers: int = 2, *, nanny: bool = True, env: dict[str, str] | None = None
) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A Dask scheduler and ``workers`` single-threaded workers on 127.0.0.1 (logs in
    ``folder``), each worker its own ``dask worker`` process preloading this module; yields
    the scheduler's address and the workers' processes once every worker has joined.
    Everything it started ends with it (SIGTERM, then SIGKILL). Without ``nanny`` a killed
    worker stays dead."""
    folder.mkdir(parents=True, exist_ok=True)
    sched_file = folder / "scheduler.json"
    sched_file.unlink(missing_ok=True)
    dask = str(Path(sys.executable).with_name("dask"))
    procs: list[subprocess.Popen] = []
    # A worker outlives any one grading run: it takes no run's private suite from this
    # process (a later run here would remove that copy under it) but begins its own.
    env = {
        k: v
        for k, v in (os.environ if env is None else env).items()
        if k not in suite_guard.RUN_VARS
    }

    def start(argv: list[str], log_name: str) -> subprocess.Popen:
        with open(folder / log_name, "wb") as log:
            procs.append(
                subprocess.Popen(
                    argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )
        return procs[-1]

    try:
        scheduler = start(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            "scheduler.log",
        )
        deadline = time.monotonic() + 60
        while not sched_file.exists():
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise ClusterUnavailable(
                    f"the Dask scheduler did not start (see {folder / 'scheduler.log'})"
                )
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        started = [
            start(
                [
                    dask,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--preload",
                    "autograder.batch.cluster",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--memory-limit",
                    "0",
                    "--name",
                    f"w{i}",
                    *([] if nanny else ["--no-nanny"]),
                ],
                f"worker{i}.log",
            )
            for i in range(1, workers + 1)
        ]
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, started
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
