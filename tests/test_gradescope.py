"""A stand-in for Gradescope's harness: the zip's ``run_autograder`` in a tree laid out like
``/autograder``, its ``results.json`` checked against Gradescope's schema.

Gradescope extracts the zip into ``/autograder/source``, puts the submission in
``/autograder/submission`` with ``/autograder/submission_metadata.json``, runs
``/autograder/run_autograder`` as root from ``/autograder`` and reads
``/autograder/results/results.json``. Here the tree is a temporary folder
(``AUTOGRADER_ROOT``) and the interpreter is this environment's
(``AUTOGRADER_PYTHON``, which ``setup.sh`` would have made ``/autograder/venv``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from adam import ASSIGNMENT, BONUS_POINTS, CORE_POINTS, QUESTION_IDS

from autograder.integrations import otter_build
from autograder.integrations.gradescope import VISIBILITIES, question_output
from autograder.results import CheckResult, QuestionResult

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"

# Gradescope's results.json (gradescope-autograders.readthedocs.io, "Autograder
# specifications"): the top level and one object per test; no other keys.
TEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"},
        "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": list(VISIBILITIES)},
        "extra_data": {"type": "object"},
    },
}
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": list(VISIBILITIES)},
        "stdout_visibility": {"enum": list(VISIBILITIES)},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST_SCHEMA},
        "leaderboard": {"type": "array"},
    },
}
LOGS: dict[Path, str] = {}
"""What each run_autograder printed, by its folder."""
METADATA = {
    "id": 123456,
    "created_at": "2026-11-30T10:00:00.000000-08:00",
    "submission_method": "upload",
    "assignment": {
        "id": 42,
        "title": "Adam and Its Variants",
        "total_points": "100.0",
        "due_date": "2026-12-01T23:59:00.000000-08:00",
        "group_submission": False,
    },
    "users": [{"email": "student@example.edu", "id": 7, "name": "A Student"}],
    "previous_submissions": [],
}


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return otter_build.build_otter_zip(ASSIGNMENT, tmp_path_factory.mktemp("dist"), seed=4321)


def run_gradescope(zip_path: Path, tmp: Path, files: dict[str, bytes], cwd: str = "") -> dict:
    """Lay out /autograder, run run_autograder as Gradescope does (from ``/autograder``, or
    from ``cwd`` below it), return results.json."""
    ag = tmp / "autograder"
    for sub in ("source", "submission", "results"):
        (ag / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(ag / "source")
    shutil.copy(ag / "source" / "run_autograder", ag / "run_autograder")
    (ag / "run_autograder").chmod(0o755)
    for name, data in files.items():
        target = ag / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (ag / "submission_metadata.json").write_text(json.dumps(METADATA))
    env = {**os.environ, "AUTOGRADER_ROOT": str(ag), "AUTOGRADER_PYTHON": sys.executable}
    proc = subprocess.run(
        [str(ag / "run_autograder")],
        cwd=ag / cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = ag / "results" / "results.json"
    assert proc.returncode == 0 and results.is_file(), proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    jsonschema.validate(data, RESULTS_SCHEMA)
    LOGS[tmp] = proc.stdout + proc.stderr
    return data


@pytest.mark.slow
def test_blank_scores_zero_and_says_so_per_question(zip_path, tmp_path):
    data = run_gradescope(
        zip_path, tmp_path, {"adam_variants.ipynb": (SUBMISSIONS / "blank.ipynb").read_bytes()}
    )
    assert data["score"] == 0 and data["execution_time"] > 0
    names = [t["name"] for t in data["tests"]]
    assert "Public Tests" not in names and "All test cases passed" not in json.dumps(data)
    assert [n.split(" ")[0] for n in names[: len(QUESTION_IDS)]] == list(QUESTION_IDS)
    for test in data["tests"][: len(QUESTION_IDS) - 2]:  # q1..q10: functions not written
        assert test["visibility"] == "visible" and test["score"] == 0
        assert test["status"] == "failed" and "Not implemented yet" in test["output"]
    assert (
        sum(t.get("max_score", 0) for t in data["tests"] if "extra credit" not in t.get("tags", []))
        == CORE_POINTS
    )
    assert data["extra_data"]["seed"] == 4321


@pytest.mark.slow
def test_correct_notebook_full_marks_with_any_file_name(zip_path, tmp_path):
    data = run_gradescope(
        zip_path, tmp_path, {"my_work.ipynb": (SUBMISSIONS / "correct.ipynb").read_bytes()}
    )
    assert data["score"] == CORE_POINTS  # extra credit is a column of its own by default
    assert data["output"].startswith(
        f"**Core {CORE_POINTS} / {CORE_POINTS} · extra credit +{BONUS_POINTS}**"
    )
    graded = data["tests"][: len(QUESTION_IDS)]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in graded)
    assert "namespaces" in data["extra_data"]["limits"].get("sandbox", "namespaces")


def test_invalid_and_missing_submissions_say_why(zip_path, tmp_path):
    data = run_gradescope(zip_path, tmp_path / "a", {"adam_variants.ipynb": b"not a notebook"})
    assert data["score"] == 0 and "not valid JSON" in data["output"]
    assert all("not valid JSON" in t["output"] for t in data["tests"][: len(QUESTION_IDS)])
    data = run_gradescope(zip_path, tmp_path / "b", {"notes.txt": b"hello"})
    assert data["score"] == 0 and "no notebook was submitted" in data["output"]


def test_a_package_planted_in_the_submission_folder_is_never_imported(zip_path, tmp_path):
    """run_autograder changes to the kit's folder and runs Python isolated (-I): started
    from the submission folder, a planted ``autograder/`` package there does not run."""
    marker = tmp_path / "planted-ran"
    planted = f"open({str(marker)!r}, 'w').write('ran')\n".encode()
    with zipfile.ZipFile(zip_path) as zf:
        script = zf.read("run_autograder").decode()
    assert 'cd "$ROOT/source/kit"' in script and "-I -m autograder gradescope" in script
    data = run_gradescope(
        zip_path,
        tmp_path,
        {
            "adam_variants.ipynb": b"not a notebook",
            "autograder/__init__.py": planted,
            "autograder/__main__.py": planted,
            "autograder/integrations/gradescope.py": planted,
        },
        cwd="submission",
    )
    assert not marker.exists()
    assert data["score"] == 0 and "not valid JSON" in data["output"]  # the kit's own answer


def test_question_output_names_each_failure_once():
    checks = [
        CheckResult("test_a", "q4_adam_step", False, 0.0, 3.0, "`adam_step` drifts."),
        CheckResult("test_b", "q4_adam_step", True, 2.0, 2.0),
    ]
    text = question_output(QuestionResult("q4_adam_step", 2.0, 5.0, checks))
    assert text == "- ✘ `adam_step` drifts. (−3 points)"
    full = question_output(QuestionResult("q4_adam_step", 5.0, 5.0, checks[1:]))
    assert full == "The check passed."


@pytest.mark.slow
def test_a_failing_core_never_reads_full_and_a_syntax_error_is_named(zip_path, tmp_path):
    """The sample without bias correction (core 90, bonus 10) scores 90, opens with the
    headline and shows its bonus as 10 / 10 extra credit; the free response is pending
    (no status, no score); the broken-syntax sample's q3 names the syntax error and its
    line; nothing student-facing holds a hidden check's name or the seed."""
    data = run_gradescope(
        zip_path,
        tmp_path / "nobias",
        {"adam_variants.ipynb": (SUBMISSIONS / "no_bias_correction.ipynb").read_bytes()},
    )
    assert data["score"] == CORE_POINTS - 10
    assert data["output"].startswith(
        f"**Core {CORE_POINTS - 10} / {CORE_POINTS} · extra credit +{BONUS_POINTS}**"
    )
    bonus = [t for t in data["tests"] if "extra credit" in t.get("tags", [])]
    assert len(bonus) == 1 and bonus[0]["score"] == bonus[0]["max_score"] == BONUS_POINTS
    free = data["tests"][-1]
    assert "pending" in free["name"] and not {"status", "score", "max_score"} & set(free)
    student_text = json.dumps([data["output"], [(t["name"], t["output"]) for t in data["tests"]]])
    assert "seed" not in student_text.lower() and "test_" not in student_text
    assert "Warning" not in LOGS[tmp_path / "nobias"], LOGS[tmp_path / "nobias"][-2000:]
    data = run_gradescope(
        zip_path,
        tmp_path / "syntax",
        {"adam_variants.ipynb": (SUBMISSIONS / "broken_syntax.ipynb").read_bytes()},
    )
    q3 = next(t for t in data["tests"] if t["name"].startswith("q3_rmsprop"))
    assert q3["status"] == "failed" and q3["score"] == 0
    assert (
        "the cell defining `rmsprop_step` has a syntax error (line 1: expected ':')" in q3["output"]
    )
    assert "Not implemented" not in q3["output"]
    assert "syntax error (line 1: expected ':')" in data["output"]
