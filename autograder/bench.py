"""``make bench``: seconds per submission of this kit, ``otter run`` and ``nbgrader autograde``.

One run grades the same notebooks (the samples in ``submissions/``, replicated
to at least ``--n`` files) four ways, each from a cold start as staff would run
it, and reports the wall time per submission:

* this kit, ``python -m autograder grade --jobs 1`` and ``--jobs 2``;
* ``otter run -a dist/adam_variants-autograder.zip <nb>``, one notebook at a time
  (otter's local runner takes one submission; the zip is built first with
  ``python -m autograder.otter_build``);
* ``nbgrader autograde adam_variants`` over a course folder built with
  ``python -m autograder.nbgrader_build``, the notebooks placed in its
  ``submitted/<student>/adam_variants/`` layout;
* the bare execution of the solution notebook's code cells in this (warm)
  interpreter, numpy/torch/matplotlib already imported: the lower limit for any
  grader that runs the notebook.

Ratios: ``otter / ours`` and ``nbgrader / ours`` (seconds per submission, for
1 and 2 jobs), ``jobs 1 / jobs 2`` (the parallel speed-up) and ``ours / bare``.
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
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.atomic import write_text_atomic
from autograder.batch import discover
from autograder.contract import ASSIGNMENT_ID, NOTEBOOK_NAME
from autograder.notebook import RELEASED_NOTEBOOK, ROOT, SOLUTION_NOTEBOOK, SUBMISSIONS_DIR

BENCH_DIR = ROOT / "bench"
OTTER_ZIP = ROOT / "dist" / f"{ASSIGNMENT_ID}-autograder.zip"
TOOL_TIMEOUT = 3600.0


@dataclass
class Measurement:
    """One way of grading the set: wall seconds for ``n`` notebooks, or why it did not run."""

    name: str
    n: int = 0
    seconds: float | None = None
    note: str = ""

    @property
    def per_submission(self) -> float | None:
        return self.seconds / self.n if self.seconds is not None and self.n else None


def _env() -> dict[str, str]:
    """This environment with the interpreter's bin folder first on PATH (otter, nbgrader)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")]))}


def _run(cmd: Sequence[str], cwd: Path | None = None, timeout: float = TOOL_TIMEOUT
         ) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _tail(proc: subprocess.CompletedProcess, chars: int = 300) -> str:
    return " ".join((proc.stdout + proc.stderr).split())[-chars:]


def sample_notebooks(folder: Path = SUBMISSIONS_DIR) -> list[Path]:
    """The sample submissions; the solution and the released notebook when there are none."""
    if folder.is_dir():
        subs, _ = discover(folder)
        usable = [s.path for s in subs if not s.problem]
        if usable:
            return usable
    return [p for p in (SOLUTION_NOTEBOOK, RELEASED_NOTEBOOK) if p.is_file()]


def replicate(samples: Sequence[Path], n: int, dest: Path) -> list[Path]:
    """Copy ``samples`` round-robin into ``dest`` until there are at least ``n`` notebooks."""
    if not samples:
        raise FileNotFoundError("no sample notebooks (submissions/ is empty, no solution)")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    copies = []
    for i in range(max(n, len(samples))):
        source = samples[i % len(samples)]
        stem = source.parent.name if source.name == NOTEBOOK_NAME else source.stem
        target = dest / f"s{i:03d}_{stem}.ipynb"
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


def time_ours(folder: Path, n: int, jobs: int, out: Path) -> Measurement:
    """``python -m autograder grade folder --jobs N --force`` from a cold start."""
    name = f"this kit, --jobs {jobs}"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = _run([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out),
                 "--jobs", str(jobs), "--force"])
    seconds = time.perf_counter() - start
    try:
        with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return Measurement(name, note=f"failed (exit {proc.returncode}): {_tail(proc)}")
    errors = sum(r["status"] == "error" for r in rows)
    mean = sum(float(r["total"]) for r in rows) / max(len(rows), 1)
    note = f"{len(rows)} results, mean total {mean:.1f}" + (f", {errors} kit errors"
                                                           if errors else "")
    return Measurement(name, len(rows), seconds, note)


def time_otter(notebooks: Sequence[Path], out: Path) -> Measurement:
    """``otter run -a <zip> <nb>`` per notebook, after building the zip."""
    name = "otter run"
    build = _run([sys.executable, "-m", "autograder.otter_build"], cwd=ROOT)
    if build.returncode != 0 or not OTTER_ZIP.is_file():
        return Measurement(name, note=f"otter: not built ({_tail(build)})")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    zip_path = out / OTTER_ZIP.name  # a private copy: a rebuild of dist/ cannot disturb us
    shutil.copyfile(OTTER_ZIP, zip_path)
    otter = Path(sys.executable).with_name("otter")
    if not otter.exists():
        return Measurement(name, note="otter: command not found")
    start = time.perf_counter()
    failed = []
    for i, nb in enumerate(notebooks):
        (out / str(i)).mkdir(parents=True)
        proc = _run([str(otter), "run", "-a", str(zip_path), "-o", str(out / str(i)),
                     "--no-logo", str(nb)])
        if proc.returncode != 0 or not (out / str(i) / "results.json").exists():
            failed.append(f"{nb.name}: {_tail(proc, 150)}")
    seconds = time.perf_counter() - start
    note = f"{len(notebooks) - len(failed)} results" + (f"; failed: {failed[:2]}"
                                                        if failed else "")
    return Measurement(name, len(notebooks), seconds, note)


def time_nbgrader(notebooks: Sequence[Path], course: Path) -> Measurement:
    """``nbgrader autograde`` over a fresh course folder holding the notebooks."""
    name = "nbgrader autograde"
    shutil.rmtree(course, ignore_errors=True)
    build = _run([sys.executable, "-m", "autograder.nbgrader_build", "--course-dir",
                  str(course)], cwd=ROOT)
    if build.returncode != 0 or not (course / "release" / ASSIGNMENT_ID).is_dir():
        return Measurement(name, note=f"nbgrader: not built ({_tail(build)})")
    from autograder.nbgrader_build import submit

    students = []
    for i, nb in enumerate(notebooks):
        student = f"s{i:03d}"
        submit(course, student, nb)
        students.append(student)
    exe = Path(sys.executable).with_name("nbgrader")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]
    start = time.perf_counter()
    proc = _run([*cmd, "autograde", ASSIGNMENT_ID, "--force", "--create"], cwd=course)
    seconds = time.perf_counter() - start
    done = sum((course / "autograded" / s / ASSIGNMENT_ID / NOTEBOOK_NAME).exists()
               for s in students)
    note = f"{done} autograded" + (f"; exit {proc.returncode}: {_tail(proc, 200)}"
                                   if proc.returncode != 0 else "")
    return Measurement(name, len(notebooks), seconds, note)


def time_bare(notebook: Path = SOLUTION_NOTEBOOK, repeats: int = 2) -> Measurement:
    """The solution's code cells exec'd in this warm interpreter (best of ``repeats``)."""
    name = "bare exec of the solution"
    if not notebook.is_file():
        return Measurement(name, note="no solution notebook")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot  # noqa: F401 - warm imports are not timed
    import numpy  # noqa: F401
    import torch  # noqa: F401

    from autograder.notebook import code_sources, read_notebook

    sources = []
    for source in code_sources(read_notebook(notebook)):
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
                    exec(code, namespace)  # noqa: S102 - the instructor's own notebook
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
            matplotlib.pyplot.close("all")
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        return Measurement(name, note=f"failed: {type(exc).__name__}: {exc}")
    finally:
        os.chdir(cwd)
    return Measurement(name, 1, best, f"best of {repeats}, imports excluded")


def ratios(ms: dict[str, Measurement]) -> dict[str, float | None]:
    """The speed ratios the issue asks for (larger is better for us)."""
    def per(key: str) -> float | None:
        return ms[key].per_submission if key in ms else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a and b else None

    return {
        "otter / ours (1 job)": ratio(per("otter"), per("ours_1")),
        "otter / ours (2 jobs)": ratio(per("otter"), per("ours_2")),
        "nbgrader / ours (1 job)": ratio(per("nbgrader"), per("ours_1")),
        "nbgrader / ours (2 jobs)": ratio(per("nbgrader"), per("ours_2")),
        "ours 1 job / 2 jobs": ratio(per("ours_1"), per("ours_2")),
        "ours (1 job) / bare": ratio(per("ours_1"), per("bare")),
        "ours (2 jobs) / bare": ratio(per("ours_2"), per("bare")),
    }


TARGETS = {"otter / ours (2 jobs)": 5.0, "nbgrader / ours (2 jobs)": 3.0,
           "ours 1 job / 2 jobs": 1.8}


def format_table(ms: dict[str, Measurement], rs: dict[str, float | None]) -> str:
    lines = [f"{'grader':<28}{'notebooks':>10}{'seconds':>10}{'s/submission':>14}  note"]
    for m in ms.values():
        secs = f"{m.seconds:.1f}" if m.seconds is not None else "-"
        per = f"{m.per_submission:.2f}" if m.per_submission is not None else "-"
        lines.append(f"{m.name:<28}{m.n:>10}{secs:>10}{per:>14}  {m.note}")
    lines.append("")
    for key, value in rs.items():
        target = TARGETS.get(key)
        verdict = "" if target is None or value is None else (
            f"  (target >= {target:g}: {'met' if value >= target else 'NOT met'})")
        lines.append(f"{key:<28}{'-' if value is None else f'{value:.2f}x':>10}{verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__)
    parser.add_argument("--n", type=int, default=12, help="notebooks (default: 12)")
    parser.add_argument("--samples", default=str(SUBMISSIONS_DIR),
                        help="folder of sample submissions (default: submissions/)")
    parser.add_argument("--out", default=str(BENCH_DIR), help="bench folder (default: bench/)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("ours", "otter", "nbgrader", "bare"), help="leave one out")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    samples = sample_notebooks(Path(args.samples))
    notebooks = replicate(samples, args.n, out / "notebooks")
    print(f"benchmark: {len(notebooks)} notebooks from {len(samples)} samples; "
          f"{os.cpu_count()} cores; {platform.python_version()}", flush=True)
    ms: dict[str, Measurement] = {}
    steps = [
        ("ours_1", "ours", lambda: time_ours(out / "notebooks", len(notebooks), 1,
                                             out / "grades_jobs1")),
        ("ours_2", "ours", lambda: time_ours(out / "notebooks", len(notebooks), 2,
                                             out / "grades_jobs2")),
        ("otter", "otter", lambda: time_otter(notebooks, out / "otter")),
        ("nbgrader", "nbgrader", lambda: time_nbgrader(notebooks, out / "nbgrader_course")),
        ("bare", "bare", lambda: time_bare()),
    ]
    for key, group, step in steps:
        if group in args.skip:
            continue
        try:
            ms[key] = step()
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            ms[key] = Measurement(key, note=f"failed: {type(exc).__name__}: {exc}")
        m = ms[key]
        print(f"  {m.name}: {m.seconds if m.seconds is None else round(m.seconds, 1)} s "
              f"for {m.n} ({m.note})", flush=True)
    rs = ratios(ms)
    table = format_table(ms, rs)
    print("\n" + table)
    write_text_atomic(out / "results.json", json.dumps({
        "notebooks": len(notebooks),
        "samples": [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
                    for p in samples],
        "cores": os.cpu_count(),
        "measurements": {k: {**asdict(m), "per_submission": m.per_submission}
                         for k, m in ms.items()},
        "ratios": rs,
        "targets": TARGETS,
        "table": table,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
