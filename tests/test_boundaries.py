"""What ``make lint`` holds the tree to. The import contracts of ``.importlinter``: the tree
keeps them, and a forbidden import planted in a copy of the package makes ``lint-imports``
fail, naming it. ruff: a noqa that silences nothing fails, and the tree is formatted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package under ``root`` with the repository's contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [
            str(LINT_IMPORTS),
            "--no-cache",
            "--no-logo",
            "--config",
            str(REPOSITORY / ".importlinter"),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_import_contract() -> None:
    run = lint_imports(REPOSITORY)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


PLANTED = [
    # (module, planted import, what the report must say)
    (
        "inside/probes.py",
        "from autograder.staff import report",
        "autograder.inside is not allowed to import autograder.staff",
    ),
    (
        "inside/remote.py",
        "from autograder.assignment import model",
        "autograder.inside is not allowed to import autograder.assignment",
    ),
    (
        "sandbox/jail.py",
        "from autograder.checks import run_checks",
        "autograder.sandbox is not allowed to import autograder.checks",
    ),
    (
        "staff/report.py",
        "from autograder.engine import grade",
        "autograder.staff is not allowed to import autograder.engine",
    ),
    (
        "batch/discovery.py",
        "from autograder.batch import run",
        "No cycles are allowed in autograder.batch",
    ),
]


@pytest.mark.parametrize(("module", "planted", "reported"), PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_forbidden_import_fails_the_lint(
    tmp_path: Path, module: str, planted: str, reported: str
) -> None:
    shutil.copytree(
        REPOSITORY / "autograder",
        tmp_path / "autograder",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    target = tmp_path / "autograder" / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n{planted}  # planted\n", encoding="utf-8"
    )
    run = lint_imports(tmp_path)
    assert run.returncode != 0, run.stdout
    assert reported in run.stdout, run.stdout


RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.parametrize(
    ("code", "reported"),
    [
        (
            "import os\n\ntry:\n    os.getpid()\nexcept Exception:  # noqa: BLE001 - any\n    pass\n",
            "non-enabled: `BLE001`",
        ),
        ("import os  # noqa: F401\n\nprint(os.sep)\n", "unused: `F401`"),
    ],
    ids=["rule-not-enabled", "silences-nothing"],
)
def test_a_noqa_that_silences_nothing_fails_the_lint(
    tmp_path: Path, code: str, reported: str
) -> None:
    """``make lint`` runs ruff with the repository's settings: a noqa naming a rule ruff does
    not check here, or one with nothing to silence, is an error (RUF100)."""
    planted = tmp_path / "planted.py"
    planted.write_text(code, encoding="utf-8")
    run = subprocess.run(
        [str(RUFF), "check", "--config", str(REPOSITORY / "pyproject.toml"), str(planted)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0, run.stdout
    assert "RUF100" in run.stdout and reported in run.stdout, run.stdout


def test_ruff_format_leaves_the_tree_as_it_is() -> None:
    run = subprocess.run(
        [str(RUFF), "format", "--check", "."],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
