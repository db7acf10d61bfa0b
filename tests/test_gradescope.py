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
from adam import CORE_POINTS, QUESTION_IDS

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
        "score": {"type": "number"}, "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
        "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "number": {"type": "string"}, "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": list(VISIBILITIES)}, "extra_data": {"type": "object"},
    },
}
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"},
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
METADATA = {
    "id": 123456, "created_at": "2026-11-30T10:00:00.000000-08:00", "submission_method": "upload",
    "assignment": {"id": 42, "title": "Adam and Its Variants", "total_points": "100.0",
                   "due_date": "2026-12-01T23:59:00.000000-08:00", "group_submission": False},
    "users": [{"email": "student@example.edu", "id": 7, "name": "A Student"}],
    "previous_submissions": [],
}


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return otter_build.build_otter_zip(tmp_path_factory.mktemp("dist"), seed=4321)


def run_gradescope(zip_path: Path, tmp: Path, files: dict[str, bytes]) -> dict:
    """Lay out /autograder, run run_autograder as Gradescope does, return results.json."""
    ag = tmp / "autograder"
    for sub in ("source", "submission", "results"):
        (ag / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(ag / "source")
    shutil.copy(ag / "source" / "run_autograder", ag / "run_autograder")
    (ag / "run_autograder").chmod(0o755)
    for name, data in files.items():
        (ag / "submission" / name).write_bytes(data)
    (ag / "submission_metadata.json").write_text(json.dumps(METADATA))
    env = {**os.environ, "AUTOGRADER_ROOT": str(ag), "AUTOGRADER_PYTHON": sys.executable}
    proc = subprocess.run([str(ag / "run_autograder")], cwd=ag, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    results = ag / "results" / "results.json"
    assert proc.returncode == 0 and results.is_file(), proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    jsonschema.validate(data, RESULTS_SCHEMA)
    return data


@pytest.mark.slow
def test_blank_scores_zero_and_says_so_per_question(zip_path, tmp_path):
    data = run_gradescope(zip_path, tmp_path, {"adam_variants.ipynb":
                                               (SUBMISSIONS / "blank.ipynb").read_bytes()})
    assert data["score"] == 0 and data["execution_time"] > 0
    names = [t["name"] for t in data["tests"]]
    assert "Public Tests" not in names and "All test cases passed" not in json.dumps(data)
    assert [n.split(" ")[0] for n in names[:len(QUESTION_IDS)]] == list(QUESTION_IDS)
    for test in data["tests"][:len(QUESTION_IDS) - 2]:  # q1..q10: functions not written
        assert test["visibility"] == "visible" and test["score"] == 0
        assert test["status"] == "failed" and "Not implemented yet" in test["output"]
    assert sum(t.get("max_score", 0) for t in data["tests"]) == CORE_POINTS
    assert data["extra_data"]["seed"] == 4321


@pytest.mark.slow
def test_correct_notebook_full_marks_with_any_file_name(zip_path, tmp_path):
    data = run_gradescope(zip_path, tmp_path, {"my_work.ipynb":
                                               (SUBMISSIONS / "correct.ipynb").read_bytes()})
    assert data["score"] == 110
    graded = data["tests"][:len(QUESTION_IDS)]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] or t["max_score"] == 0
               for t in graded)
    assert "namespaces" in data["extra_data"]["limits"].get("sandbox", "namespaces")


def test_invalid_and_missing_submissions_say_why(zip_path, tmp_path):
    data = run_gradescope(zip_path, tmp_path / "a", {"adam_variants.ipynb": b"not a notebook"})
    assert data["score"] == 0 and "not valid JSON" in data["output"]
    assert all("not valid JSON" in t["output"] for t in data["tests"][:len(QUESTION_IDS)])
    data = run_gradescope(zip_path, tmp_path / "b", {"notes.txt": b"hello"})
    assert data["score"] == 0 and "no notebook was submitted" in data["output"]


def test_question_output_names_each_failure_once():
    checks = [CheckResult("test_a", "q4_adam_step", False, 0.0, 3.0, "`adam_step` drifts."),
              CheckResult("test_b", "q4_adam_step", True, 2.0, 2.0)]
    text = question_output(QuestionResult("q4_adam_step", 2.0, 5.0, checks))
    assert text == "✘ `adam_step` drifts. (−3 points)"
    full = question_output(QuestionResult("q4_adam_step", 5.0, 5.0, checks[1:]))
    assert full == "The check passed."
