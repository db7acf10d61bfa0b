"""Build the Gradescope autograder zip with otter-grader 7 (``make gradescope``).

The zip is made by ``otter generate`` itself from a staging directory holding:

* ``tests/<question>.py``: one OK-format test file per contract question; its
  cases are the question's hidden checks (``hidden: True``, the check's points),
  each case one call of :func:`autograder.in_kernel.hidden_check`, so the
  checks themselves never appear in a test file;
* ``adam_kit/``: the ``autograder`` package (hidden checks included) and the
  solution notebook (the reference definitions for graded-with-reference
  questions), and ``adam_kit_hidden.py``, which puts ``adam_kit`` on
  ``sys.path``; otter copies support files next to the submission, where the
  grading kernel imports them;
* the released support files of the assignment (``public_checks.py``), so the
  notebook's public ``check(...)`` cells run as they do for students;
* ``requirements.txt``: torch CPU wheels (pinned, from PyTorch's CPU index)
  and the kit's pinned dependencies, installed by otter's ``setup.sh``.

``otter run -a dist/adam_variants-autograder.zip SUBMISSION.ipynb`` grades a
submission locally in the current environment (no setup runs there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pprint
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.check_catalog import CheckSpec, collect_checks
from autograder.contract import ASSIGNMENT_ID, QUESTION_IDS
from autograder.notebook import RELEASE_DIR, ROOT, SOLUTION_NOTEBOOK

PACKAGE_DIR = ROOT / "autograder"
DEFAULT_OUT_DIR = ROOT / "dist"
ZIP_NAME = f"{ASSIGNMENT_ID}-autograder.zip"
TORCH_VERSION = "2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"
PINNED = ("numpy", "pytest", "nbformat", "matplotlib")
"""Dependencies of the checks and of the notebook, pinned from requirements-lock.txt."""
KIT_DIR = "adam_kit"
"""Support-file folder holding the ``autograder`` package and the solution notebook."""
SHIM = "adam_kit_hidden"
SHIM_SOURCE = f'''"""Puts the kit shipped in ./{KIT_DIR} first on sys.path; re-exports hidden_check.

The package sits one level down (not next to the notebook) because otter makes
the submission folder a package (it writes an __init__.py there), which would
give the hidden suite's modules the wrong import names.
"""
import os
import sys

_KIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{KIT_DIR}")
if os.path.isdir(_KIT) and _KIT not in sys.path:
    sys.path.insert(0, _KIT)

from autograder.in_kernel import hidden_check  # noqa: E402

__all__ = ["hidden_check"]
'''
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")


def otter_test_file(question_id: str, checks: list[CheckSpec]) -> str:
    """The OK-format test file of one question: one hidden case per check."""
    cases = []
    for check in checks:
        code = (
            f">>> from {SHIM} import hidden_check\n"
            f">>> hidden_check({question_id!r}, {check.name!r})\n"
        )
        cases.append(
            {"name": check.name, "code": code, "hidden": True, "locked": False,
             "points": check.points}
        )
    spec = {
        "name": question_id,
        "points": None,
        "suites": [
            {"cases": cases, "scored": True, "setup": "", "teardown": "", "type": "doctest"}
        ],
    }
    return f"OK_FORMAT = True\n\ntest = {pprint.pformat(spec, indent=1, width=100, sort_dicts=False)}\n"


def requirements_text() -> str:
    """requirements.txt for the grading image: torch CPU wheels and pinned kit dependencies."""
    lock = {}
    lock_file = ROOT / "requirements-lock.txt"
    if lock_file.exists():
        for line in lock_file.read_text().splitlines():
            name, sep, version = line.strip().partition("==")
            if sep:
                lock[name.lower()] = version
    lines = [f"--extra-index-url {TORCH_CPU_INDEX}", f"torch=={TORCH_VERSION}"]
    lines += [f"{n}=={lock[n]}" if n in lock else n for n in PINNED]
    return "\n".join(lines) + "\n"


def otter_config(show_hidden: bool = False) -> dict:
    """otter_config.json.

    By default every question's results are ``"visibility": "hidden"`` on
    Gradescope (staff only). With ``show_hidden`` they become
    ``"after_published"`` (students see each check's diagnosis once grades are
    published) and otter's "Public Tests" summary, which would read "All test
    cases passed!" because no case is public, is left out.
    """
    config = {
        "lang": "python",
        "show_hidden": show_hidden,
        "show_stdout": False,
        "print_summary": True,
    }
    if show_hidden:
        config["force_public_test_summary"] = False
    return config


def stage(staging: Path, show_hidden: bool = False) -> None:
    """Write everything ``otter generate`` needs into ``staging``."""
    catalog = collect_checks()
    tests = staging / "tests"
    tests.mkdir(parents=True)
    for qid in QUESTION_IDS:
        (tests / f"{qid}.py").write_text(otter_test_file(qid, catalog[qid]))
    (staging / "requirements.txt").write_text(requirements_text())
    (staging / "otter_config.json").write_text(json.dumps(otter_config(show_hidden), indent=2))
    files = staging / "files_root"
    shutil.copytree(PACKAGE_DIR, files / KIT_DIR / "autograder", ignore=_IGNORE)
    (files / f"{SHIM}.py").write_text(SHIM_SOURCE)
    solution = files / KIT_DIR / SOLUTION_NOTEBOOK.relative_to(ROOT)
    solution.parent.mkdir(parents=True)
    shutil.copy2(SOLUTION_NOTEBOOK, solution)
    if RELEASE_DIR.is_dir():
        for path in sorted(RELEASE_DIR.iterdir()):
            if path.is_file() and path.suffix != ".ipynb":
                shutil.copy2(path, files / path.name)


def _digest(staging: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(staging)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build_otter_zip(out_dir: str | Path = DEFAULT_OUT_DIR, *, force: bool = False,
                    show_hidden: bool = False) -> Path:
    """Build ``<out_dir>/adam_variants-autograder.zip`` with ``otter generate``; return its path.

    Idempotent: when the zip exists and was built from identical inputs (a
    SHA-256 of the staged files is kept next to it), nothing is rebuilt.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / ZIP_NAME
    stamp = out_dir / f".{ZIP_NAME}.sha256"
    with tempfile.TemporaryDirectory(prefix="adam-otter-") as tmp:
        staging = Path(tmp)
        stage(staging, show_hidden=show_hidden)
        digest = _digest(staging)
        if not force and zip_path.exists() and stamp.exists() and stamp.read_text() == digest:
            return zip_path
        files = sorted(p.name for p in (staging / "files_root").iterdir())
        for name in files:
            shutil.move(str(staging / "files_root" / name), str(staging / name))
        cmd = [
            sys.executable, "-m", "otter", "generate",
            "--tests-dir", "tests",
            "--output-path", str(zip_path),
            "--config", "otter_config.json",
            "--requirements", "requirements.txt",
            "--no-environment",
            "--python-version", PYTHON_VERSION,
            *files,
        ]
        proc = subprocess.run(cmd, cwd=staging, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not zip_path.exists():
            raise RuntimeError(f"otter generate failed:\n{proc.stdout}\n{proc.stderr}")
        stamp.write_text(digest)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.otter_build [--out-dir DIR] [--force] [--show-hidden]``."""
    parser = argparse.ArgumentParser(prog="python -m autograder.otter_build",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR),
                        help="where to write the zip (default: dist/)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--show-hidden", action="store_true",
                        help="show hidden check results to students once grades are published")
    args = parser.parse_args(argv)
    path = build_otter_zip(args.out_dir, force=args.force, show_hidden=args.show_hidden)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
