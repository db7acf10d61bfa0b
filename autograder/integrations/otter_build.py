"""Build the Gradescope autograder zip (``make gradescope``): an otter zip that grades in the
kit's sandbox.

``otter generate`` makes the zip from a staging folder holding ``otter_config.json``
(the kit's plugin :class:`autograder.integrations.otter_plugin.SandboxPlugin` with the one
setting, ``visibility``) and ``tests/`` (one placeholder file per question: the
plugin grades before otter's kernel runs anything and writes the kit's results,
so no hidden check is in a test file). Then the zip gets, for Gradescope:

* ``kit/``: the ``autograder`` package, the assignment's folder
  (``solutions/<id>/``: its file, hidden checks and solution notebook) and
  ``pyproject.toml``, installed by ``setup.sh``;
* ``setup.sh``: Python 3.11, the pinned packages with CPU torch
  (``requirements.txt``) and the kit, in ``/autograder/venv``; nothing else
  (no conda, no browser, no TeX: grading needs none of them);
* ``run_autograder``: ``python -I -m autograder gradescope`` from the kit's folder
  (isolated: nothing of the submission folder is importable), which grades
  ``/autograder/submission`` in the sandbox and writes
  ``/autograder/results/results.json``.

``otter run -a dist/<id>-autograder.zip NOTEBOOK`` grades locally with
the same plugin and writes the same results (otter ignores ``setup.sh``,
``run_autograder`` and ``kit/``; the kit must be installed where it runs).
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
import zipfile
from pathlib import Path

from autograder.assignment.catalog import CatalogError
from autograder.assignment.consistency import verify
from autograder.assignment.model import REPOSITORY as ROOT
from autograder.assignment.model import Assignment, AssignmentError, select
from autograder.integrations.gradescope import DEFAULT_VISIBILITY, PLUGIN, VISIBILITIES

PACKAGE_DIR = ROOT / "autograder"
DEFAULT_OUT_DIR = ROOT / "dist"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"
GRADING_PACKAGES = ("torch", "numpy", "ipython", "matplotlib", "pytest", "nbformat", "pyseccomp")
"""What grading imports, pinned as requirements-lock.txt pins them (torch from the CPU index)."""
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
_IGNORE_IN_ASSIGNMENT = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", "tests"
)
"""The assignment folder's own tests (of its checks, for the kit's suite) do not grade."""

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope image set-up: what grading needs and nothing else.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends software-properties-common ca-certificates
if ! command -v python{PYTHON_VERSION} >/dev/null; then
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
fi
apt-get install -y --no-install-recommends python{PYTHON_VERSION} python{PYTHON_VERSION}-venv
rm -rf /var/lib/apt/lists/*
python{PYTHON_VERSION} -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir --upgrade pip
/autograder/venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
/autograder/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation -e /autograder/source/kit
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this as root in /autograder: grade the submission in the kit's sandbox.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
export AUTOGRADER_ASSIGNMENT="$ROOT/source/kit/solutions/{assignment}"  # the zip's own
# From the kit's folder, isolated (-I: no current folder, PYTHON* variables or user site on
# sys.path), so nothing in the submission folder (a planted autograder/ package) is imported.
cd "$ROOT/source/kit" || exit 1
exec "$PYTHON" -I -m autograder gradescope --root "$ROOT"
"""


def placeholder_test(question_id: str) -> str:
    """An OK-format test file for one question with no case: the plugin writes the results."""
    spec = {
        "name": question_id,
        "points": None,
        "suites": [{"cases": [], "scored": True, "setup": "", "teardown": "", "type": "doctest"}],
    }
    return f"OK_FORMAT = True\n\ntest = {pprint.pformat(spec, indent=1, width=100)}\n"


def requirements_text() -> str:
    """requirements.txt of the grading image: CPU torch and the pinned grading packages.

    Each package's lines are copied from the lock as they are, environment markers included
    (``soupsieve==2.10 ; python_full_version < '3.11.5'``), so pip in the image picks the
    line for its own Python."""
    lock: dict[str, list[str]] = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        name, sep, _ = line.strip().partition("==")
        if sep and not line.startswith("#"):
            lock.setdefault(name.strip().lower().replace("_", "-"), []).append(line.strip())
    missing = [n for n in GRADING_PACKAGES if n not in lock]
    if missing:
        raise RuntimeError(f"requirements-lock.txt does not pin {', '.join(missing)}")
    lines = [f"--extra-index-url {TORCH_CPU_INDEX}"]
    lines += [line for n in GRADING_PACKAGES for line in lock[n]]
    return "\n".join(lines) + "\n"


def otter_config(
    assignment: Assignment,
    visibility: str = DEFAULT_VISIBILITY,
    limits: dict[str, float] | None = None,
    seed: int | None = None,
) -> dict:
    """otter_config.json: the kit's plugin with its setting and the assignment's id (and, to reproduce a grade or in
    tests, the engine's limits and a fixed seed; else the engine's defaults and a fresh seed
    per submission)."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    config: dict = {"visibility": visibility, "assignment": assignment.id}
    if limits:
        config["limits"] = dict(limits)
    if seed is not None:
        config["seed"] = int(seed)
    # print_score off: otter's own "Total Score: x / y" adds the tests' max_score (or the
    # score over points_possible) and would read 100 / 100 for a notebook that fails a core
    # check but earns the bonus; the plugin prints the kit's headline instead.
    return {
        "lang": "python",
        "plugins": [{PLUGIN: config}],
        "show_stdout": False,
        "print_summary": True,
        "print_score": False,
    }


def stage(
    staging: Path,
    assignment: Assignment,
    visibility: str = DEFAULT_VISIBILITY,
    limits: dict[str, float] | None = None,
    seed: int | None = None,
) -> None:
    """Write everything ``otter generate`` and the zip of ``assignment`` need into
    ``staging``."""
    tests = staging / "tests"
    tests.mkdir(parents=True)
    for qid in assignment.question_ids:
        (tests / f"{qid}.py").write_text(placeholder_test(qid))
    (staging / "requirements.txt").write_text(requirements_text())
    (staging / "otter_config.json").write_text(
        json.dumps(otter_config(assignment, visibility, limits, seed), indent=2)
    )
    kit = staging / "kit"
    shutil.copytree(PACKAGE_DIR, kit / "autograder", ignore=_IGNORE)
    shutil.copytree(
        assignment.folder, kit / "solutions" / assignment.id, ignore=_IGNORE_IN_ASSIGNMENT
    )
    shutil.copy2(ROOT / "pyproject.toml", kit / "pyproject.toml")
    (staging / "setup.sh").write_text(SETUP_SH)
    (staging / "run_autograder").write_text(RUN_AUTOGRADER.format(assignment=assignment.id))


def _digest(staging: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(staging)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _finish_zip(generated: Path, staging: Path, out: Path) -> None:
    """otter's zip with Gradescope's two scripts replaced and the kit added."""
    ours = {"setup.sh", "run_autograder", "requirements.txt"}
    with zipfile.ZipFile(generated) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename in ours or item.filename in ("environment.yml", "run_otter.py"):
                continue
            dst.writestr(item, src.read(item.filename))
        for name in sorted(ours):
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100644 if name.endswith(".txt") else 0o100755) << 16
            dst.writestr(info, (staging / name).read_text())
        for path in sorted((staging / "kit").rglob("*")):
            if path.is_file():
                dst.write(path, str(path.relative_to(staging)))


def build_otter_zip(
    assignment: Assignment,
    out_dir: str | Path = DEFAULT_OUT_DIR,
    *,
    force: bool = False,
    visibility: str = DEFAULT_VISIBILITY,
    limits: dict[str, float] | None = None,
    seed: int | None = None,
) -> Path:
    """Build ``<out_dir>/<id>-autograder.zip``, the zip of ``assignment``; return its path.

    Idempotent: when the zip exists and was built from identical inputs (a
    SHA-256 of the staged files is kept next to it), nothing is rebuilt.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_name = f"{assignment.id}-autograder.zip"
    zip_path = out_dir / zip_name
    stamp = out_dir / f".{zip_name}.sha256"
    with tempfile.TemporaryDirectory(prefix="kit-otter-") as tmp:
        staging = Path(tmp)
        stage(staging, assignment, visibility, limits, seed)
        digest = _digest(staging)
        if not force and zip_path.exists() and stamp.exists() and stamp.read_text() == digest:
            return zip_path
        generated = staging / "otter.zip"
        cmd = [
            sys.executable,
            "-m",
            "otter",
            "generate",
            "--tests-dir",
            "tests",
            "--output-path",
            str(generated),
            "--config",
            "otter_config.json",
            "--requirements",
            "requirements.txt",
            "--overwrite-requirements",
            "--no-environment",
            "--python-version",
            PYTHON_VERSION,
        ]
        proc = subprocess.run(cmd, cwd=staging, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not generated.exists():
            raise RuntimeError(f"otter generate failed:\n{proc.stdout}\n{proc.stderr}")
        _finish_zip(generated, staging, zip_path)
        stamp.write_text(digest)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.integrations.otter_build [--out-dir DIR] [--force] [--visibility V]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.integrations.otter_build", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out-dir", default=str(DEFAULT_OUT_DIR), help="where to write the zip (default: dist/)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--assignment",
        default=None,
        help="the assignment (id or folder; default: $AUTOGRADER_ASSIGNMENT)",
    )
    parser.add_argument(
        "--visibility",
        choices=VISIBILITIES,
        default=DEFAULT_VISIBILITY,
        help="when students see their per-question results on Gradescope "
        f"(default: {DEFAULT_VISIBILITY})",
    )
    args = parser.parse_args(argv)
    try:
        assignment = select(args.assignment)
        verify(assignment)
    except (AssignmentError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(build_otter_zip(assignment, args.out_dir, force=args.force, visibility=args.visibility))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
