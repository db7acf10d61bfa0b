"""``make bench``: seconds per submission of this kit, ``otter run`` and ``nbgrader autograde``.

One run grades the same notebooks (the samples in ``submissions/``, replicated
to at least ``--n`` files) four ways, each from a cold start as staff would run
it, and reports the wall time per submission:

* this kit, ``python -m autograder grade --jobs 1`` and ``--jobs 2``, on ``--n``
  notebooks and on each class size of ``--classes`` (default 40 and 200; ``--jobs
  1`` only up to ``--max-serial``, 40), with the peak resident memory of each
  grading process and of the shared zygote (``logs/memory.json``);
* this kit on a Dask cluster: a scheduler and ``dask worker --nworkers 2
  --nthreads 1 --preload autograder.batch.cluster`` on loopback (started, and warm,
  before the clock starts, as a cluster's workers are), ``python -m autograder
  grade --scheduler ...`` on the ``--cluster-n`` class (default 40);
* ``otter run -a dist/<id>-autograder.zip <nb>``, one notebook at a time
  (otter's local runner takes one submission; the zip is built first with
  ``python -m autograder.integrations.otter_build``);
* ``nbgrader autograde <id>`` over a course folder built with
  ``python -m autograder.integrations.nbgrader_build``, the notebooks placed in its
  ``submitted/<student>/<id>/`` layout;
* the bare execution of the solution notebook's code cells in this (warm)
  interpreter, numpy/torch/matplotlib already imported: the lower limit for any
  grader that runs the notebook.

Ratios: ``otter / ours`` and ``nbgrader / ours`` (seconds per submission, for
1 and 2 jobs), ``jobs 1 / jobs 2`` (the parallel speed-up, per class size) and
``ours / bare``; the projected time for 1,000 submissions with 2 jobs, from the
largest class. Each grading command runs with its output in a log file under the
bench folder, and is timed until it exits.
A tool whose build or run fails is reported as such; the bench never crashes
on it. The table goes to stdout and ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.assignment.model import REPOSITORY as ROOT
from autograder.assignment.model import SUBMISSIONS as SUBMISSIONS_DIR
from autograder.assignment.model import current
from autograder.batch.cluster import loopback_cluster
from autograder.batch.discovery import discover
from autograder.staff.atomic import write_text_atomic

BENCH_DIR = ROOT / "bench"
TOOL_TIMEOUT = 3600.0


@dataclass
class Measurement:
    """One way of grading the set: wall seconds for ``n`` notebooks, or why it did not run."""

    name: str
    n: int = 0
    seconds: float | None = None
    note: str = ""
    memory: dict = field(default_factory=dict)
    """Peak resident memory in MiB: ``workers_peak_mb`` (per grading process),
    ``zygote_peak_mb``, ``sandbox_peak_mb`` (the largest submission's cgroup peak)."""

    @property
    def per_submission(self) -> float | None:
        return self.seconds / self.n if self.seconds is not None and self.n else None


def _env() -> dict[str, str]:
    """This environment with the interpreter's bin folder first on PATH (otter, nbgrader)."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def _run(
    cmd: Sequence[str], cwd: Path | None = None, timeout: float = TOOL_TIMEOUT
) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(cmd), cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def _tail(proc: subprocess.CompletedProcess, chars: int = 300) -> str:
    return " ".join((proc.stdout + proc.stderr).split())[-chars:]


def sample_notebooks(folder: Path = SUBMISSIONS_DIR) -> list[Path]:
    """The sample submissions; the solution and the released notebook when there are none."""
    a = current()
    if folder.is_dir():
        subs, _ = discover(folder, a.notebook)
        usable = [s.path for s in subs if not s.problem]
        if usable:
            return usable
    return [p for p in (a.solution_notebook, a.released_notebook) if p.is_file()]


def replicate(samples: Sequence[Path], n: int, dest: Path) -> list[Path]:
    """Copy ``samples`` round-robin into ``dest`` until there are at least ``n`` notebooks."""
    if not samples:
        raise FileNotFoundError("no sample notebooks (submissions/ is empty, no solution)")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    copies = []
    for i in range(max(n, len(samples))):
        source = samples[i % len(samples)]
        stem = source.parent.name if source.name == current().notebook else source.stem
        target = dest / f"s{i:03d}_{stem}.ipynb"
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


def time_ours(
    folder: Path,
    n: int,
    jobs: int,
    out: Path,
    scheduler: str | None = None,
    name: str | None = None,
) -> Measurement:
    """``python -m autograder grade folder --jobs N --force`` (or ``--scheduler``) from a cold
    start, its output in ``<out>.log``."""
    name = name or f"this kit, --jobs {jobs}" + (f", {n} notebooks" if n != 12 else "")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--force",
        *(["--scheduler", scheduler] if scheduler else ["--jobs", str(jobs)]),
    ]
    log = out.with_name(out.name + ".log")
    with open(log, "wb") as handle:  # a file, not a pipe: timed until the command exits
        start = time.perf_counter()
        proc = subprocess.run(
            cmd,
            env=_env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=TOOL_TIMEOUT,
            check=False,
        )
        seconds = time.perf_counter() - start
    try:
        with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        tail = " ".join(log.read_text(errors="replace").split())[-300:]
        return Measurement(name, note=f"failed (exit {proc.returncode}): {tail}")
    errors = sum(r["status"] == "error" for r in rows)
    mean = sum(float(r["total"]) for r in rows) / max(len(rows), 1)
    note = f"{len(rows)} results, mean total {mean:.1f}" + (
        f", {errors} kit errors" if errors else ""
    )
    return Measurement(name, len(rows), seconds, note, memory=_memory(out))


def _memory(out: Path) -> dict:
    """The batch's ``logs/memory.json`` and the largest submission's peak (its cgroup)."""
    try:
        memory = json.loads((out / "logs" / "memory.json").read_text())
    except (OSError, ValueError):
        memory = {}
    memory.pop("workers", None)
    peaks = []
    for path in (out / "results").glob("*.json"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            peaks.append(float(json.loads(path.read_text())["usage"]["memory_peak_mb"]))
    if peaks:
        memory["sandbox_peak_mb"] = max(peaks)
    return memory


def time_cluster(folder: Path, n: int, out: Path) -> Measurement:
    """``python -m autograder grade --scheduler`` on a loopback cluster of two workers."""
    with loopback_cluster(out.with_name(out.name + "_cluster"), 2, env=_env()) as (address, _):
        return time_ours(
            folder, n, 2, out, scheduler=address, name=f"this kit, Dask, 2 workers, {n} notebooks"
        )


def time_otter(notebooks: Sequence[Path], out: Path) -> Measurement:
    """``otter run -a <zip> <nb>`` per notebook, after building the zip."""
    name = "otter run"
    build = _run([sys.executable, "-m", "autograder.integrations.otter_build"], cwd=ROOT)
    otter_zip = ROOT / "dist" / f"{current().id}-autograder.zip"
    if build.returncode != 0 or not otter_zip.is_file():
        return Measurement(name, note=f"otter: not built ({_tail(build)})")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    zip_path = out / otter_zip.name  # a private copy: a rebuild of dist/ cannot disturb us
    shutil.copyfile(otter_zip, zip_path)
    otter = Path(sys.executable).with_name("otter")
    if not otter.exists():
        return Measurement(name, note="otter: command not found")
    start = time.perf_counter()
    failed = []
    for i, nb in enumerate(notebooks):
        (out / str(i)).mkdir(parents=True)
        proc = _run(
            [str(otter), "run", "-a", str(zip_path), "-o", str(out / str(i)), "--no-logo", str(nb)]
        )
        if proc.returncode != 0 or not (out / str(i) / "results.json").exists():
            failed.append(f"{nb.name}: {_tail(proc, 150)}")
    seconds = time.perf_counter() - start
    note = f"{len(notebooks) - len(failed)} results" + (f"; failed: {failed[:2]}" if failed else "")
    return Measurement(name, len(notebooks), seconds, note)


def time_nbgrader(notebooks: Sequence[Path], course: Path) -> Measurement:
    """``nbgrader autograde`` over a fresh course folder holding the notebooks."""
    name = "nbgrader autograde"
    shutil.rmtree(course, ignore_errors=True)
    build = _run(
        [
            sys.executable,
            "-m",
            "autograder.integrations.nbgrader_build",
            "--course-dir",
            str(course),
        ],
        cwd=ROOT,
    )
    a = current()
    if build.returncode != 0 or not (course / "release" / a.id).is_dir():
        return Measurement(name, note=f"nbgrader: not built ({_tail(build)})")
    from autograder.integrations.nbgrader_build import submit

    students = []
    for i, nb in enumerate(notebooks):
        student = f"s{i:03d}"
        submit(course, a, student, nb)
        students.append(student)
    exe = Path(sys.executable).with_name("nbgrader")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]
    start = time.perf_counter()
    proc = _run([*cmd, "autograde", a.id, "--force", "--create"], cwd=course)
    seconds = time.perf_counter() - start
    done = sum((course / "autograded" / s / a.id / a.notebook).exists() for s in students)
    note = f"{done} autograded" + (
        f"; exit {proc.returncode}: {_tail(proc, 200)}" if proc.returncode != 0 else ""
    )
    return Measurement(name, len(notebooks), seconds, note)


def time_bare(notebook: Path | None = None, repeats: int = 2) -> Measurement:
    """The solution's code cells exec'd in this warm interpreter (best of ``repeats``)."""
    name = "bare exec of the solution"
    notebook = notebook or current().solution_notebook
    if not notebook.is_file():
        return Measurement(name, note="no solution notebook")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot  # warm imports are not timed
    import numpy  # noqa: F401
    import torch  # noqa: F401

    from autograder.assignment.notebook import code_sources

    sources = []
    for source in code_sources(notebook):
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        sources.append(compile("\n".join(lines), str(notebook), "exec"))
    cwd = Path.cwd()
    best = None
    try:
        os.chdir(notebook.parent)
        for _ in range(repeats):
            namespace: dict = {"__name__": "__main__"}
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                for code in sources:
                    exec(code, namespace)  # the instructor's own notebook
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
            matplotlib.pyplot.close("all")
    except Exception as exc:  # reported, not fatal
        return Measurement(name, note=f"failed: {type(exc).__name__}: {exc}")
    finally:
        os.chdir(cwd)
    return Measurement(name, 1, best, f"best of {repeats}, imports excluded")


def ratios(ms: dict[str, Measurement]) -> dict[str, float | None]:
    """The speed ratios the issues ask for (larger is better for us), and the projection
    for a class of 1,000 with 2 jobs (minutes; smaller is better)."""

    def per(key: str) -> float | None:
        return ms[key].per_submission if key in ms else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a and b else None

    found = {
        "otter / ours (1 job)": ratio(per("otter"), per("ours_1")),
        "otter / ours (2 jobs)": ratio(per("otter"), per("ours_2")),
        "nbgrader / ours (1 job)": ratio(per("nbgrader"), per("ours_1")),
        "nbgrader / ours (2 jobs)": ratio(per("nbgrader"), per("ours_2")),
        "ours 1 job / 2 jobs": ratio(per("ours_1"), per("ours_2")),
        "ours (1 job) / bare": ratio(per("ours_1"), per("bare")),
        "ours (2 jobs) / bare": ratio(per("ours_2"), per("bare")),
    }
    for key in sorted(ms, key=_class_size):
        n = _class_size(key)
        if key.startswith("ours_1@"):
            found[f"ours 1 job / 2 jobs, {n}"] = ratio(per(key), per(f"ours_2@{n}"))
    largest = max(
        (k for k in ms if k.startswith("ours_2@") and per(k)), key=_class_size, default=None
    )
    if largest is not None:
        found[f"1,000 with 2 jobs (min, from {_class_size(largest)})"] = round(
            1000 * per(largest) / 60, 1
        )
    return found


def _class_size(key: str) -> int:
    return int(key.partition("@")[2] or 12)


TARGETS = {
    "otter / ours (2 jobs)": 5.0,
    "nbgrader / ours (2 jobs)": 3.0,
    "ours 1 job / 2 jobs": 1.8,
}
"""Ratios that must reach at least this."""
CLASS_TARGETS = {"ours 1 job / 2 jobs, ": 1.8}
MAX_SECONDS_2_JOBS = 0.9
"""Seconds per submission with 2 jobs on a class of 40 or more."""
MAX_MINUTES_1000 = 15.0


def _verdict(key: str, value: float | None) -> str:
    if value is None:
        return ""
    target = TARGETS.get(key) or next(
        (v for k, v in CLASS_TARGETS.items() if key.startswith(k)), None
    )
    if target is not None:
        return f"  (target >= {target:g}: {'met' if value >= target else 'NOT met'})"
    if key.startswith("1,000 with 2 jobs"):
        return (
            f"  (target < {MAX_MINUTES_1000:g}: {'met' if value < MAX_MINUTES_1000 else 'NOT met'})"
        )
    return ""


def format_table(ms: dict[str, Measurement], rs: dict[str, float | None]) -> str:
    lines = [
        f"{'grader':<40}{'notebooks':>10}{'seconds':>10}{'s/submission':>14}"
        f"{'peak MiB/worker':>17}  note"
    ]
    for key, m in ms.items():
        secs = f"{m.seconds:.1f}" if m.seconds is not None else "-"
        per = f"{m.per_submission:.2f}" if m.per_submission is not None else "-"
        peaks = m.memory.get("workers_peak_mb") or []
        peak = f"{max(peaks):.0f}" if peaks else "-"
        verdict = ""
        if key.startswith("ours_2@") or key.startswith("cluster@"):
            if _class_size(key) >= 40 and m.per_submission is not None:
                verdict = (
                    f" [target <= {MAX_SECONDS_2_JOBS:g} s: "
                    f"{'met' if m.per_submission <= MAX_SECONDS_2_JOBS else 'NOT met'}]"
                )
        lines.append(f"{m.name:<40}{m.n:>10}{secs:>10}{per:>14}{peak:>17}  {m.note}{verdict}")
    lines.append("")
    for key, value in rs.items():
        shown = (
            "-"
            if value is None
            else (f"{value:.1f}" if key.startswith("1,000") else f"{value:.2f}x")
        )
        lines.append(f"{key:<40}{shown:>10}{_verdict(key, value)}")
    memory = [(m.name, m.memory) for m in ms.values() if m.memory]
    if memory:
        lines.append("")
        lines.append(
            "peak resident memory (MiB): grading processes / shared zygote / largest "
            "submission (cgroup)"
        )
        for name, mem in memory:
            workers = ", ".join(f"{x:.0f}" for x in mem.get("workers_peak_mb", []))
            lines.append(
                f"  {name:<38} [{workers}] / {mem.get('zygote_peak_mb', '-')} / "
                f"{mem.get('sandbox_peak_mb', '-')}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=12, help="notebooks (default: 12)")
    parser.add_argument(
        "--classes",
        default="40,200",
        help="more class sizes graded by this kit (default: 40,200; '' for none)",
    )
    parser.add_argument(
        "--max-serial",
        type=int,
        default=40,
        help="largest class also graded with --jobs 1 (default: 40)",
    )
    parser.add_argument(
        "--cluster-n",
        type=int,
        default=40,
        help="class graded on the loopback Dask cluster (default: 40; 0: none)",
    )
    parser.add_argument(
        "--samples",
        default=str(SUBMISSIONS_DIR),
        help="folder of sample submissions (default: submissions/)",
    )
    parser.add_argument("--out", default=str(BENCH_DIR), help="bench folder (default: bench/)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("ours", "classes", "cluster", "otter", "nbgrader", "bare"),
        help="leave one out",
    )
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    samples = sample_notebooks(Path(args.samples))
    notebooks = replicate(samples, args.n, out / "notebooks")
    sizes = sorted({int(x) for x in args.classes.split(",") if x.strip()})
    classes = {n: out / f"class_{n}" for n in {*sizes, args.cluster_n} if n > 0}
    for n, folder in classes.items():
        replicate(samples, n, folder)
    print(
        f"benchmark: {len(notebooks)} notebooks from {len(samples)} samples; classes "
        f"{sorted(classes)}; {os.cpu_count()} cores; {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    ms: dict[str, Measurement] = {}
    steps = [
        (
            "ours_1",
            "ours",
            lambda: time_ours(out / "notebooks", len(notebooks), 1, out / "grades_jobs1"),
        ),
        (
            "ours_2",
            "ours",
            lambda: time_ours(out / "notebooks", len(notebooks), 2, out / "grades_jobs2"),
        ),
    ]
    for n in sizes:
        if n <= args.max_serial:
            steps.append(
                (
                    f"ours_1@{n}",
                    "classes",
                    lambda n=n: time_ours(classes[n], n, 1, out / f"grades_{n}_jobs1"),
                )
            )
        steps.append(
            (
                f"ours_2@{n}",
                "classes",
                lambda n=n: time_ours(classes[n], n, 2, out / f"grades_{n}_jobs2"),
            )
        )
    if args.cluster_n > 0:
        steps.append(
            (
                f"cluster@{args.cluster_n}",
                "cluster",
                lambda: time_cluster(
                    classes[args.cluster_n], args.cluster_n, out / f"grades_{args.cluster_n}_dask"
                ),
            )
        )
    steps += [
        ("otter", "otter", lambda: time_otter(notebooks, out / "otter")),
        ("nbgrader", "nbgrader", lambda: time_nbgrader(notebooks, out / "nbgrader_course")),
        ("bare", "bare", lambda: time_bare()),
    ]
    loads = []
    for key, group, step in steps:
        if group in args.skip:
            continue
        loads.append(os.getloadavg()[0])
        try:
            ms[key] = step()
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            ms[key] = Measurement(key, note=f"failed: {type(exc).__name__}: {exc}")
        m = ms[key]
        print(
            f"  {m.name}: {m.seconds if m.seconds is None else round(m.seconds, 1)} s "
            f"for {m.n} ({m.note}); load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    rs = ratios(ms)
    table = format_table(ms, rs)
    loads.append(os.getloadavg()[0])
    print("\n" + table)
    print(f"\nload average (1 min) at each step: {', '.join(f'{x:.2f}' for x in loads)}")
    write_text_atomic(
        out / "results.json",
        json.dumps(
            {
                "notebooks": len(notebooks),
                "classes": sorted(classes),
                "samples": [
                    str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in samples
                ],
                "cores": os.cpu_count(),
                "load_average": loads,
                "measurements": {
                    k: {**asdict(m), "per_submission": m.per_submission} for k, m in ms.items()
                },
                "ratios": rs,
                "targets": {
                    **TARGETS,
                    "seconds per submission, 2 jobs, 40 or more": MAX_SECONDS_2_JOBS,
                    "minutes for 1,000, 2 jobs": MAX_MINUTES_1000,
                },
                "table": table,
            },
            indent=1,
        ),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
