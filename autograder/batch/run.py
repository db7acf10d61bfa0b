"""``python -m autograder grade <dir> --out <dir>``: grade a whole class.

Layouts accepted under ``<dir>`` (the student id is the file stem or the folder name):

* ``<student>.ipynb`` (any ``*.ipynb`` directly in ``<dir>``);
* ``<student>/<notebook>`` and ``<student>/<id>/<notebook>``
  (nbgrader's ``submitted/`` layout); a student folder holding exactly one other
  ``.ipynb`` is graded too. Anything else is listed as skipped, with the reason.
  A symbolic link is never followed: a linked notebook or student folder, or one
  with a link on the way to its notebook, is an ``invalid`` result saying so.

Outputs under ``--out`` (see ``autograder/staff/outputs.py``): ``results/<id>.json`` (the
full result, written atomically the moment it is known), ``grades.csv``,
``gradebook.csv``, ``manual.csv``, ``feedback/<id>.html``, ``similarity.csv``,
``submission_times.csv`` and ``report.html``; ``errors/<id>.log`` holds the traceback
when the kit itself failed on a submission, and ``logs/workers.log`` what the
grading processes printed. ``--roster`` and ``--timestamps`` are kept as
``roster.csv`` and ``timestamps.csv`` for later runs. One run at a time works in a
grades folder (``autograder/batch/lock.py``).

Submissions are graded in parallel by ``--jobs`` worker processes (default: every
core). Each worker grades one submission at a time with
``autograder.engine.grade_one`` and keeps the engine's warm state between
submissions. A worker that dies or overruns its hard limit is killed and
replaced; its submission gets status ``error``. A rerun skips every submission
whose notebook bytes, checks fingerprint and seed are unchanged (``--force``
regrades), regrades results that are missing, corrupt or ``error``, and always
rebuilds the CSVs, feedback and report from all results on disk, so a run
killed at any point loses nothing that had finished.

Exit status: 0 when every submission has a result that is not ``error``; 1 when
some are ``error`` (rerun to retry them); 2 for bad arguments, an unusable roster
or timestamps file, or a folder without submissions; 3 when another run is grading
into the same folder (``--wait`` waits for it); 130 when interrupted (finished
results are kept and the outputs rebuilt).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import secrets
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Any

from autograder.assignment.catalog import CatalogError
from autograder.assignment.consistency import verify
from autograder.assignment.model import AssignmentError, current
from autograder.batch.lock import GradesFolderBusy, grades_lock
from autograder.checks.run_checks import checks_fingerprint
from autograder.engine.session import Limits, sweep_free_slots
from autograder.results import SubmissionResult
from autograder.sandbox import isolation, zygote
from autograder.staff import manual, timestamps
from autograder.staff.atomic import remove_stale_temps, write_text_atomic
from autograder.staff.feedback import write_feedback
from autograder.staff.final_grades import Inputs, final_grade, with_penalty
from autograder.staff.late import ON_TIME, LatePolicy
from autograder.staff.outputs import load_all_results, load_result, rebuild_outputs, result_path
from autograder.staff.report import submission_seconds
from autograder.staff.roster import KEPT_FILE as ROSTER_FILE
from autograder.staff.roster import RosterError, RosterMatch, read_roster
from autograder.staff.similarity import SimilarityReport

DEFAULT_GRADE_FN = "autograder.engine:grade_one"
SEED_FILE = "seed.txt"
STARTUP_LIMIT = 300.0
"""Seconds a new worker process may take to start (imports) before its first task."""


# ---------------------------------------------------------------- discovery
@dataclass(frozen=True)
class Submission:
    """One notebook to grade and the id it is graded under."""

    id: str
    path: Path
    folder: Path | None = None
    """The student folder (nbgrader's layout); None for ``<dir>/<student>.ipynb``."""
    problem: str = ""
    """Why it is ``invalid`` without being opened (a symbolic link); '' when it is gradable."""


def _visible(path: Path) -> bool:
    return not path.name.startswith((".", "~")) and path.name != "__pycache__"


def _link_message(link: Path, root: Path) -> str:
    return f"{link.relative_to(root).as_posix()} is a symbolic link; submit the notebook file itself"


def _first_link(folder: Path, path: Path) -> Path | None:
    """The first symbolic link on the way from ``folder`` down to ``path`` (included)."""
    here = folder
    for part in path.relative_to(folder).parts:
        here = here / part
        if here.is_symlink():
            return here
    return None


def _folder_notebook(folder: Path, root: Path) -> tuple[Path | None, str, str]:
    """The notebook of a student folder: (path, problem, '') or (None, '', why it is skipped).

    A symbolic link is never followed: one on the way to the notebook makes the
    submission ``invalid`` with ``problem`` saying so."""
    name = current().notebook
    for candidate in (folder / name, folder / folder.name / name,
                      folder / Path(name).stem / name):
        link = _first_link(folder, candidate) if os.path.lexists(candidate) or \
            candidate.parent.is_symlink() else None
        if link is not None:
            return candidate, _link_message(link, root), ""
        if os.path.lexists(candidate) and candidate.is_file():
            return candidate, "", ""
    notebooks: list[Path] = []
    links: list[Path] = []
    for here, dirs, files in os.walk(folder):  # never descends into a linked folder
        base = Path(here)
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and _visible(base / d))
        links += [base / d for d in dirs if (base / d).is_symlink()]
        for name in sorted(files):
            path = base / name
            if name.lower().endswith(".ipynb") and _visible(path):
                (links if path.is_symlink() else notebooks).append(path)
    if len(notebooks) == 1:
        return notebooks[0], "", ""
    if not notebooks and links:
        return links[0], _link_message(links[0], root), ""
    if not notebooks:
        return None, "", f"folder without a notebook (expected {name})"
    names = ", ".join(str(p.relative_to(folder)) for p in notebooks[:5])
    return None, "", f"{len(notebooks)} notebooks and none named {name}: {names}"


def discover(root: str | Path, exclude: Sequence[Path] = ()
             ) -> tuple[list[Submission], list[tuple[str, str]]]:
    """The submissions under ``root`` (sorted by id) and the skipped entries with reasons.

    A submission that is, or is reached through, a symbolic link is listed with its
    ``problem`` set: it becomes an ``invalid`` result and is never opened."""
    root = Path(root)
    excluded = {p.resolve() for p in exclude}
    found: dict[str, Submission] = {}
    skipped: list[tuple[str, str]] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not _visible(entry):
            continue
        notebook_name = entry.suffix.lower() == ".ipynb"
        if entry.is_symlink():
            if not (notebook_name or entry.is_dir()):
                skipped.append((entry.name, "not a notebook (.ipynb)"))
                continue
            path, problem, why = entry, _link_message(entry, root), ""
            sid = entry.stem if notebook_name else entry.name
            folder = None
        elif entry.resolve() in excluded:
            continue
        elif entry.is_dir():
            path, problem, why = _folder_notebook(entry, root)
            sid, folder = entry.name, entry
        elif notebook_name:
            path, problem, why, sid, folder = entry, "", "", entry.stem, None
        else:
            path, problem, why, sid, folder = None, "", "not a notebook (.ipynb)", entry.name, None
        if path is None:
            skipped.append((entry.name, why))
        elif sid in found:
            skipped.append((str(path.relative_to(root)),
                            f"a second submission for {sid!r} "
                            f"(graded: {found[sid].path.relative_to(root)})"))
        else:
            found[sid] = Submission(sid, path, folder, problem)
    return list(found.values()), skipped


def notebook_sha256(path: str | Path) -> str:
    """SHA-256 of the notebook file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_current(result: SubmissionResult | None, nb_sha: str, checks_sha: str, seed: int,
               device: str) -> bool:
    """Whether a stored result still stands (same notebook, checks, seed and device)."""
    return (
        result is not None
        and result.status != "error"
        and result.notebook_sha256 == nb_sha
        and result.checks_sha256 == checks_sha
        and result.seed == seed
        and (device == "auto" or result.device == device)
    )


# ---------------------------------------------------------------- worker processes
def resolve_grade_fn(ref: str) -> Callable[..., SubmissionResult]:
    """The grading function named ``module:function`` (default function ``grade_one``)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name or "grade_one")


def warm_up_grader(grade_ref: str) -> None:
    """Let the grading module warm up before the first submission (the engine's
    ``prewarm``: the grader's imports, then a spare sandbox), when it has such a hook."""
    prewarm = getattr(importlib.import_module(grade_ref.partition(":")[0]), "prewarm", None)
    if callable(prewarm):
        with contextlib.suppress(Exception):  # a missing spare only costs time
            prewarm()


def _safe_json(result: SubmissionResult) -> str:
    try:
        return result.to_json()
    except (TypeError, ValueError) as exc:
        result.artifacts = {}
        result.message = (result.message + f" (plots left out: {exc})").strip()
        return result.to_json()


def grade_safely(grade_fn: Callable[..., SubmissionResult], path: Path, submission: str, *,
                 seed: int, device: str, timeout: float, checks_sha: str
                 ) -> tuple[str, str]:
    """Grade one submission; never raises. Returns (result JSON, kit traceback or '')."""
    start = time.perf_counter()
    trace = ""
    try:
        result = grade_fn(path, submission_id=submission, seed=seed, device=device,
                          total_timeout=timeout)
        if not isinstance(result, SubmissionResult):
            raise TypeError(f"grade_one returned {type(result).__name__}, not SubmissionResult")
    except Exception as exc:  # one submission never stops the batch
        trace = traceback.format_exc()
        result = SubmissionResult.failed(
            submission, "error",
            f"the grader failed on this submission ({type(exc).__name__}: {str(exc)[:300]})",
            seed=seed)
    result.submission = submission
    result.timings["batch_seconds"] = round(time.perf_counter() - start, 3)
    try:
        result.notebook_sha256 = result.notebook_sha256 or notebook_sha256(path)
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


def _worker_main(conn: Any, grade_ref: str, log: str | None = None,
                 zygote_socket: str | None = None, env: dict[str, str] | None = None) -> None:
    """A worker: grade one task at a time (JSON over a pipe) until told to stop.

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
    warm_up_grader(grade_ref)
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
            grade_fn, Path(task["path"]), task["id"], seed=task["seed"],
            device=task["device"], timeout=task["timeout"], checks_sha=task["checks_sha"],
        )
        try:
            conn.send_bytes(json.dumps({"result": result_json, "trace": trace,
                                        "peak_mb": peak_memory_mb()}).encode())
        except (BrokenPipeError, OSError):
            return


PRELOAD = ("autograder.engine.grade", "torch", "torch._dynamo", "matplotlib",
           "IPython.core.inputtransformer2")
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
    def __init__(self, ctx: Any, grade_ref: str, log: Path | None = None,
                 zygote_socket: str | None = None):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, daemon=True,
                                args=(child, grade_ref, str(log) if log else None,
                                      zygote_socket, dict(os.environ)))
        self.proc.start()
        child.close()
        self.task: Submission | None = None
        self.started = 0.0
        self.acked = False
        self.peak_mb = 0.0
        """The worker's peak resident memory (MiB) as of its last result."""

    def give(self, sub: Submission, payload: dict[str, Any]) -> None:
        self.task, self.started, self.acked = sub, time.monotonic(), False
        self.conn.send_bytes(json.dumps({**payload, "path": str(sub.path),
                                         "id": sub.id}).encode())

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


# ---------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream: Any = None):
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.done, self.failures = total, 0, 0
        self.start = time.monotonic()

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        self.failures += result.status != "graded"
        score = (f"{result.total:g}/{result.max_total:g}" if result.status == "graded"
                 else result.status)
        line = f"graded {self.done}/{self.total} {result.submission}: {score} " \
               f"({submission_seconds(result):.1f} s)"
        if not self.tty:
            print(line, file=self.stream, flush=True)
            return
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = max(10, min(30, width - 60))
        filled = int(bar_width * self.done / max(self.total, 1))
        text = (f"[{'#' * filled}{'.' * (bar_width - filled)}] {self.done}/{self.total} "
                f"failures {self.failures}  ~{int(left) // 60}:{int(left) % 60:02d} left  "
                f"{result.submission}")
        print("\r" + text[: width - 1].ljust(width - 1), end="", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self.done:
            print(file=self.stream, flush=True)


# ---------------------------------------------------------------- the batch
@dataclass
class BatchSummary:
    """What one run did."""

    graded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    roster: RosterMatch | None = None
    similarity: SimilarityReport | None = None
    late: list[str] = field(default_factory=list)
    """Submissions that lost points to the late policy."""
    memory: dict[str, Any] = field(default_factory=dict)
    """Peak resident memory (MiB): ``workers_peak_mb`` (one per grading process, largest
    first), ``zygote_peak_mb`` (the shared zygote); written to ``logs/memory.json``."""


def _store(out: Path, result_json: str, trace: str, summary: BatchSummary,
           progress: Progress | None, inputs: Inputs) -> None:
    """Write a finished result atomically, then its feedback page (while workers go on)."""
    result = SubmissionResult.from_json(result_json)
    write_text_atomic(result_path(out, result.submission), result_json)
    log = out / "errors" / f"{result.submission}.log"
    if trace:
        write_text_atomic(log, trace)
    elif log.exists():
        log.unlink()
    summary.graded.append(result.submission)
    if result.status == "error":
        summary.errors.append(result.submission)
    if progress is not None:
        progress.update(result)
    try:  # the final rebuild finds the page up to date (and retries it if this failed)
        grade = final_grade(result, inputs.scores.get(result.submission),
                            inputs.lateness.get(result.submission, ON_TIME))
        shown = with_penalty(result, grade)
        write_feedback(shown, out / "feedback", grade.free_response, shown.to_json())
    except Exception as exc:  # noqa: BLE001 - a page must not stop the batch
        summary.warnings.append(f"feedback of {result.submission}: {exc}")


def overran_message(hard_limit: float) -> str:
    """What a submission whose grading outlived ``hard_limit`` seconds is told."""
    return f"grading took longer than the hard limit of {hard_limit:.0f} s and was stopped"


def _shared_zygote(grade_ref: str) -> zygote.ZygoteServer | None:
    """One warm zygote for every worker of the batch (as root, with the kit's engine)."""
    if grade_ref != DEFAULT_GRADE_FN or not isolation.running_as_root():
        return None
    try:
        return zygote.ZygoteServer()
    except OSError as exc:  # each worker then starts its own
        print(f"[batch] no shared zygote ({exc}); each worker starts its own", file=sys.stderr)
        return None


def _run_pool(todo: list[Submission], out: Path, *, jobs: int, payload: dict[str, Any],
              grade_ref: str, hard_limit: float, summary: BatchSummary,
              progress: Progress, inputs: Inputs, stop: _StopRequest) -> None:
    """Grade ``todo`` with ``jobs`` worker processes; results are stored as they finish.

    The workers are forks of one preloaded server (:func:`_worker_context`) and
    fork every sandbox from one shared zygote (:func:`_shared_zygote`), both
    started here, so the batch pays those imports once, whatever ``jobs`` is.
    """
    server = _shared_zygote(grade_ref)
    socket_path = server.path if server is not None else None
    ctx = _worker_context(grade_ref)
    log = out / "logs" / "workers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    queue = list(reversed(todo))
    workers = [_Worker(ctx, grade_ref, log, socket_path) for _ in range(min(jobs, len(todo)))]
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
                        workers[i] = w = _Worker(ctx, grade_ref, log, socket_path)
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
                        _store(out, reply["result"], reply["trace"], summary, progress, inputs)
                        continue
                limit = hard_limit if w.acked else hard_limit + STARTUP_LIMIT
                if w.conn in ready or w.proc.sentinel in ready or now - w.started > limit:
                    overran = now - w.started > limit and w.proc.is_alive()
                    w.stop()
                    code = w.proc.exitcode
                    message = (overran_message(hard_limit) if overran else
                               f"the grading process died (exit code {code})")
                    w.task = None
                    peaks.append(w.peak_mb)
                    _store(out, SubmissionResult.failed(sub.id, "error", message,
                                                        seed=payload["seed"]).to_json(), "", summary,
                           progress, inputs)
                    if queue:
                        workers[i] = _Worker(ctx, grade_ref, log, socket_path)
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
        summary.memory = {"workers_peak_mb": sorted((*peaks, *(w.peak_mb for w in workers)),
                                                    reverse=True)}
        if server is not None:
            summary.memory["zygote_peak_mb"] = server.peak_memory_mb()
            server.close()
        sweep_free_slots()  # what the stopped workers' spare sandboxes left


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _StopRequest:
    """While grading, Ctrl-C or SIGTERM asks the batch to stop at the next safe point
    (never in the middle of an import or a file write); a second one stops at once."""

    def __init__(self) -> None:
        self.hits = 0
        self.previous: dict[int, Any] = {}

    def __call__(self, signum: int, frame: Any) -> None:
        self.hits += 1
        if self.hits > 1:
            raise KeyboardInterrupt

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


class BatchInputError(ValueError):
    """A roster, timestamps file or late policy that cannot be used (the message says why)."""


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached or has no worker (the message says which)."""


def _kept_inputs(roster: str | Path | None, timestamps_csv: str | Path | None
                 ) -> dict[str, bytes]:
    """The files to keep in the grades folder, after checking that they can be read."""
    kept: dict[str, bytes] = {}
    if roster is not None:
        try:
            found = read_roster(roster)
        except RosterError as exc:
            raise BatchInputError(str(exc)) from None
        if not found.students:
            raise BatchInputError(f"the roster {roster} lists no student")
        kept[ROSTER_FILE] = Path(roster).read_bytes()
    if timestamps_csv is not None:
        try:
            timestamps.read_timestamps_csv(timestamps_csv)
            kept[timestamps.KEPT_CSV] = Path(timestamps_csv).read_bytes()
        except (OSError, ValueError) as exc:
            raise BatchInputError(f"timestamps: {exc}") from None
    return kept


def _late_policy(policy: LatePolicy | None) -> LatePolicy:
    if policy is not None:
        return policy
    try:
        return LatePolicy.from_assignment()
    except ValueError as exc:
        raise BatchInputError(f"the late policy of {current().folder / 'assignment.toml'}: "
                              f"{exc}") from None


def _submission_times(out: Path, subs: Sequence[Submission], summary: BatchSummary
                      ) -> dict[str, datetime]:
    """Find when each submission was made, write submission_times.csv, return the times."""
    kept = out / timestamps.KEPT_CSV
    csv_times: dict[str, datetime] = {}
    if kept.exists():
        try:
            csv_times = timestamps.read_timestamps_csv(kept)
        except (OSError, ValueError) as exc:
            summary.warnings.append(f"{kept}: {exc}; its times are left out")
    times, warnings = timestamps.collect(
        ((s.id, s.path, s.folder) for s in subs if not s.problem), csv_times)
    summary.warnings += warnings
    timestamps.write_times(out / timestamps.TIMES_FILE, times)
    return {t.submission: t.submitted_at for t in times if t.submitted_at is not None}


def run_batch(submissions: str | Path, out: str | Path, *, jobs: int | None = None,
              timeout: float | None = None, force: bool = False, device: str = "auto",
              seed: int | None = None, grade_fn: str = DEFAULT_GRADE_FN,
              stream: Any = None, hard_limit: float | None = None,
              roster: str | Path | None = None, timestamps_csv: str | Path | None = None,
              late_policy: LatePolicy | None = None, wait: bool = False,
              scheduler: str | None = None) -> BatchSummary:
    """Grade every submission under ``submissions`` into ``out`` and rebuild the outputs.

    ``grade_fn`` names the grading function as ``module:function`` (it is imported
    in each worker process) and defaults to ``autograder.engine:grade_one``.
    ``timeout`` is the engine's limit per submission (default: the assignment file's
    ``total_timeout``, else 300 s); a worker still busy after
    ``hard_limit`` seconds (default ``1.5 * timeout + 120``) is killed and its
    submission gets status ``error``. ``seed`` defaults to the grades folder's
    (see :func:`batch_seed`).

    ``roster`` and ``timestamps_csv`` are kept in ``out`` (``roster.csv``,
    ``timestamps.csv``) for later runs; ``late_policy`` defaults to the one in
    the assignment file. One run at a time works in ``out``: another one
    raises ``GradesFolderBusy``, or is waited for when ``wait``. BatchInputError
    says why a roster, timestamps file or late policy cannot be used.

    ``scheduler`` (``tcp://HOST:PORT``) grades on that Dask cluster instead of local
    workers (:mod:`autograder.batch.cluster`); everything else is the same.
    """
    stream = stream or sys.stdout
    start = time.monotonic()
    submissions, out = Path(submissions), Path(out)
    timeout = float(timeout or Limits.of_assignment().total_timeout)
    policy = _late_policy(late_policy)
    kept = _kept_inputs(roster, timestamps_csv)
    with grades_lock(out, wait=wait, stream=stream):
        summary = BatchSummary()
        seed = batch_seed(out, seed)
        jobs = max(1, jobs or default_jobs())
        (out / "results").mkdir(parents=True, exist_ok=True)
        for folder in ("results", "feedback", "errors", "."):
            remove_stale_temps(out / folder)
        for name, data in kept.items():
            (out / name).write_bytes(data)
        subs, summary.skipped = discover(submissions, exclude=[out])
        for name, why in summary.skipped:
            print(f"skipped {name}: {why}", file=stream)
        times = _submission_times(out, subs, summary)
        scores, _ = manual.load_scores(out / manual.FILE_NAME)
        inputs = Inputs(scores, {s.id: policy.assess(times.get(s.id)) for s in subs})
        checks_sha = checks_fingerprint()
        todo: list[Submission] = []
        for sub in subs:
            stored_path = result_path(out, sub.id)
            stored = load_result(stored_path) if stored_path.exists() else None
            if stored_path.exists() and stored is None:
                summary.warnings.append(f"{stored_path} was unreadable; regraded")
            if sub.problem:  # never opened: invalid as it stands
                if force or stored is None or (stored.status, stored.message) != \
                        ("invalid", sub.problem):
                    _store(out, SubmissionResult.failed(sub.id, "invalid", sub.problem,
                                                        seed=seed).to_json(),
                           "", summary, None, inputs)
                else:
                    summary.unchanged.append(sub.id)
                continue
            try:
                nb_sha = notebook_sha256(sub.path)
            except OSError:  # unreadable: the engine says why
                nb_sha = ""
            if not force and nb_sha and is_current(stored, nb_sha, checks_sha, seed, device):
                summary.unchanged.append(sub.id)
            else:
                todo.append(sub)
        if summary.unchanged:
            print(f"{len(summary.unchanged)} submissions unchanged since they were graded "
                  "(--force regrades them)", file=stream)
        payload = {"seed": seed, "device": device, "timeout": timeout, "checks_sha": checks_sha}
        progress = Progress(len(todo), stream)
        with _StopRequest() as stop:
            try:
                limit = hard_limit or timeout * 1.5 + 120.0
                if todo and scheduler:
                    from autograder.batch import cluster

                    cluster.grade_on_cluster(
                        todo, scheduler, payload=payload, grade_ref=grade_fn, hard_limit=limit,
                        store=lambda result, trace: _store(out, result, trace, summary,
                                                           progress, inputs),
                        summary=summary, stop=stop)
                elif todo:
                    _run_pool(todo, out, jobs=jobs, payload=payload, grade_ref=grade_fn,
                              hard_limit=limit, summary=summary, progress=progress,
                              inputs=inputs, stop=stop)
            except KeyboardInterrupt:
                stop.hits += 1
            finally:
                progress.close()
                if summary.memory:
                    write_text_atomic(out / "logs" / "memory.json",
                                      json.dumps(summary.memory, indent=1))
                summary.interrupted = stop.hits > 0
                rebuilt = rebuild_outputs(
                    out, skipped=summary.skipped, policy=policy,
                    notebooks=[(s.id, s.path) for s in subs if not s.problem])
                summary.warnings += rebuilt.warnings
                summary.roster, summary.similarity = rebuilt.roster, rebuilt.similarity
                summary.late = [g.submission for g in rebuilt.grades
                                if g.late_penalty > 0 or g.not_accepted]
                summary.seconds = time.monotonic() - start
    return summary


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade a folder of submissions into a grades folder (see make grade).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="outputs under --out: results/<id>.json, grades.csv, gradebook.csv "
               "(student_id,total),\nmanual.csv (staff fill in 'score'; merged into totals "
               "on the next run),\nfeedback/<id>.html, report.html, similarity.csv, "
               "submission_times.csv,\nerrors/<id>.log, logs/workers.log; LMS files: "
               "python -m autograder export\n"
               "exit status: 0 all graded, 1 some kit errors (rerun), 2 bad arguments or no "
               "submissions,\n3 the grades folder is in use by another run, 130 interrupted")
    parser.add_argument("submissions", nargs="?", default="submissions",
                        help="folder of <student>.ipynb or <student>/<the assignment's notebook>")
    parser.add_argument("--out", default="grades", help="grades folder (default: grades)")
    parser.add_argument("--jobs", type=int, default=None,
                        help=f"parallel workers (default: all cores, here {default_jobs()})")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per submission (default: the assignment file's "
                             "total_timeout, else 300)")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions that are unchanged since their last grading")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where the PyTorch checks run (default: auto)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden checks' fresh inputs (default: the one recorded "
                             f"in <out>/{SEED_FILE}, else a new random seed, recorded there)")
    parser.add_argument("--roster", default=None, metavar="CSV",
                        help="the class roster (an LMS export works; kept as <out>/roster.csv "
                             "for later runs); lists missing and unknown submissions")
    parser.add_argument("--timestamps", default=None, metavar="CSV",
                        help="submission times, columns submission,submitted_at (kept as "
                             "<out>/timestamps.csv); nbgrader's timestamp.txt and Gradescope's "
                             "submission_metadata.json are read without it")
    parser.add_argument("--wait", action="store_true",
                        help="when another run is grading into --out, wait for it to finish "
                             "(default: exit with status 3)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="grade on this Dask cluster instead of local workers (--jobs is "
                             "then ignored; see docs/cluster.md)")
    parser.add_argument("--grade-fn", default=DEFAULT_GRADE_FN, help=argparse.SUPPRESS)
    return parser


def batch_seed(out: Path, requested: int | None) -> int:
    """The seed of this grades folder: ``requested``, else the recorded one, else a new one.

    The hidden checks draw fresh inputs from it, so each grades folder probes with
    inputs nobody saw before; it is recorded in ``<out>/seed.txt`` (and in every
    result), so reruns skip unchanged submissions and any grade can be reproduced.
    """
    path = out / SEED_FILE
    if requested is None:
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text().strip())
        requested = secrets.randbelow(2**31)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{requested}\n")
    return requested


def main(argv: Sequence[str] | None = None) -> int:
    """The ``grade`` command; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_summary(summary: BatchSummary, out: Path) -> None:
    print(f"{len(summary.graded)} graded, {len(summary.unchanged)} unchanged, "
          f"{len(summary.skipped)} skipped, {len(summary.errors)} kit errors "
          f"in {summary.seconds:.1f} s -> {out / 'grades.csv'}, {out / 'report.html'}")
    found = summary.roster
    if found is not None:
        students = len(found.by_submission) + len(found.missing)
        print(f"roster: {len(found.by_submission)} of {students} students have a submission")
        if found.missing:
            print(f"  students without a submission ({len(found.missing)}): "
                  + ", ".join(s.label for s in found.missing))
        if found.unmatched_submissions:
            print(f"  submissions matching no student ({len(found.unmatched_submissions)}): "
                  + ", ".join(found.unmatched_submissions))
    if summary.late:
        print(f"late: {len(summary.late)} submissions lost points to the late policy: "
              + ", ".join(summary.late))
    if summary.memory.get("workers_peak_mb"):
        peaks = summary.memory["workers_peak_mb"]
        zygote_mb = summary.memory.get("zygote_peak_mb")
        print(f"memory: peak {max(peaks):.0f} MiB per grading process ({len(peaks)} processes)"
              + (f", shared zygote {zygote_mb:.0f} MiB" if zygote_mb else "")
              + f" -> {out / 'logs' / 'memory.json'}")
    if summary.similarity is not None:
        flagged = summary.similarity.flagged
        print(f"similarity: flagged {len(flagged)} of {len(summary.similarity)} pairs "
              f"-> {out / 'similarity.csv'}"
              + "".join(f"\n  {p.a} ~ {p.b}: {p.similarity:.2f}" for p in flagged[:10]))


def _main(args: argparse.Namespace) -> int:
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        print(f"error: {args.submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.scheduler is not None and "://" not in args.scheduler:
        print(f"error: --scheduler {args.scheduler!r}: give the scheduler's address, e.g. "
              "tcp://10.0.0.5:8786", file=sys.stderr)
        return 2
    if args.scheduler is None:
        start_workers_server(args.grade_fn)
    try:
        verify(current())
    except (AssignmentError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    found, skipped = discover(submissions, exclude=[Path(args.out)])
    if not found:
        print(f"error: no submissions in {submissions}: expected <student>.ipynb or "
              f"<student>/{current().notebook}"
              + (f" ({len(skipped)} other entries: "
                 + ", ".join(f"{n} ({why})" for n, why in skipped[:5]) + ")" if skipped else ""),
              file=sys.stderr)
        return 2
    try:
        summary = run_batch(submissions, args.out, jobs=args.jobs, timeout=args.timeout,
                            force=args.force, device=args.device, seed=args.seed,
                            grade_fn=args.grade_fn, roster=args.roster,
                            timestamps_csv=args.timestamps, wait=args.wait,
                            scheduler=args.scheduler)
    except BatchInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GradesFolderBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ClusterUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before grading began, or during the final rebuild
        print("interrupted: finished results are kept; run again to grade the rest",
              file=sys.stderr)
        return 130
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = Path(args.out)
    _print_summary(summary, out)
    if summary.interrupted:
        print("interrupted: finished results are kept; run again to grade the rest",
              file=sys.stderr)
        return 130
    results, _ = load_all_results(out)
    return 1 if any(r.status == "error" for r in results) else 0
