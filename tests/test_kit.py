"""The kit is a kit: a second assignment graded on every path, points in one
place, a new assignment from the scaffold, and no generic module naming adam_variants.

The second assignment is ``tests/fixtures/gd_basics`` (gradient descent on a parabola:
q1_step 4 points, q2_descend 6, a 2-point bonus, a free-response answer). Its expected
points below are written out from its assignment file and its check modules, not read
from the kit.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import adam
import nbformat
import pytest
from shell_env import shell_env
from test_gradescope import run_gradescope
from test_otter import otter_run

from autograder.assignment import release
from autograder.assignment.catalog import CatalogError, collect_checks
from autograder.assignment.consistency import verify
from autograder.assignment.model import (
    ENV,
    RELEASES,
    REPOSITORY,
    SOLUTIONS,
    AssignmentError,
    load,
)
from autograder.batch import run as batch
from autograder.engine import grade_one
from autograder.integrations import gradescope, nbgrader_build, otter_build
from autograder.integrations.nbgrader_grading import is_test_cell

TESTS = Path(__file__).resolve().parent
FIXTURE = TESTS / "fixtures" / "gd_basics"
SEED = 2718
MAXIMUM = 10.0  # q1_step 4 + q2_descend 6; the bonus is extra credit
EXPECTED = {  # notebook -> points per question
    "solved": {"q1_step": 4.0, "q2_descend": 6.0, "bonus_heavy_ball": 2.0},
    "blank": {"q1_step": 0.0, "q2_descend": 0.0, "bonus_heavy_ball": 0.0},
    # a wrong gd_step costs q1 only: q2 is graded with the reference gd_step (builds_on)
    "bad_step": {"q1_step": 0.0, "q2_descend": 6.0, "bonus_heavy_ball": 2.0},
    "bad_descend": {"q1_step": 4.0, "q2_descend": 0.0, "bonus_heavy_ball": 2.0},
}


def _edited(solution: Path, old: str, new: str, out: Path) -> Path:
    nb = nbformat.read(str(solution), as_version=4)
    cells = [c for c in nb.cells if old in c.source]
    assert len(cells) == 1, old
    cells[0].source = cells[0].source.replace(old, new)
    nbformat.write(nb, str(out))
    return out


def copy_fixture(where: Path) -> Path:
    folder = where / "gd_basics"
    shutil.copytree(FIXTURE, folder)
    return folder


@pytest.fixture(scope="module")
def gd(tmp_path_factory) -> dict:
    """gd_basics copied and made this process's assignment (and its children's), released,
    with four submissions: the solution, the released notebook and two mistakes."""
    root = tmp_path_factory.mktemp("gd")
    folder = copy_fixture(root)
    patch = pytest.MonkeyPatch()
    patch.setenv(ENV, str(folder))
    assignment = load(str(folder))
    released = root / "released"
    release.write_release(assignment, out_dir=released)
    subs = root / "submissions"
    subs.mkdir()
    solution = folder / "gd_basics.ipynb"
    notebooks = {"solved": subs / "solved.ipynb", "blank": subs / "blank.ipynb"}
    shutil.copy(solution, notebooks["solved"])
    shutil.copy(released / "gd_basics.ipynb", notebooks["blank"])
    notebooks["bad_step"] = _edited(
        solution, "return w - lr * grad", "return w + lr * grad", subs / "bad_step.ipynb"
    )
    notebooks["bad_descend"] = _edited(
        solution, "2 * a * (w - b), lr)", "2 * a * (w - b), 2 * lr)", subs / "bad_descend.ipynb"
    )
    yield {
        "root": root,
        "folder": folder,
        "assignment": assignment,
        "released": released,
        "subs": subs,
        "notebooks": notebooks,
    }
    patch.undo()


def _points(result) -> dict[str, float]:
    return {qid: q.points for qid, q in result.questions.items()}


@pytest.fixture(scope="module")
def native(gd) -> dict:
    """The native engine's results (the sandbox), one per notebook."""
    return {
        name: grade_one(path, gd["assignment"], submission_id=name, seed=SEED)
        for name, path in gd["notebooks"].items()
    }


def test_release_holds_the_fixtures_student_files_only(gd) -> None:
    released = gd["released"]
    assert sorted(p.name for p in released.iterdir()) == [
        "contract.md",
        "gd_basics.ipynb",
        "public_checks.py",
    ]
    text = (released / "gd_basics.ipynb").read_text()
    assert "return w - lr * grad" not in text and "NotImplementedError" in text
    assert "q4_adam_step" not in text


def test_the_engine_grades_the_fixture(native) -> None:
    for name, result in native.items():
        assert result.status == "graded", (name, result.message)
        assert result.assignment == "gd_basics" and result.max_total == MAXIMUM
        assert _points(result) == EXPECTED[name], name
    message = " ".join(c.message for c in native["bad_step"].questions["q1_step"].checks)
    assert "w - lr * grad" in message


@pytest.mark.slow
def test_batch_feedback_and_report_on_the_fixture(gd, native, tmp_path) -> None:
    out = tmp_path / "grades"
    summary = batch.run_batch(
        gd["subs"], out, gd["assignment"], jobs=2, seed=SEED, stream=open(os.devnull, "w")
    )
    assert sorted(summary.graded) == sorted(EXPECTED) and not summary.errors
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    header = list(next(iter(rows.values())))
    assert [h for h in header if h in EXPECTED["solved"]] == list(EXPECTED["solved"])
    assert not any(qid in header for qid in adam.QUESTION_IDS)
    for name, points in EXPECTED.items():
        assert {q: float(rows[name][q]) for q in points} == points
        assert float(rows[name]["total"]) == sum(points.values())  # extra_credit = "added"
        assert float(rows[name]["extra_credit"]) == points["bonus_heavy_ball"]
        assert float(rows[name]["max_total"]) == MAXIMUM
    page = (out / "feedback" / "bad_descend.html").read_text()
    assert "Your descent against the reference" in page and "data:image/png;base64," in page
    assert "data:image/png" not in (out / "feedback" / "solved.html").read_text()
    report = (out / "report.html").read_text()
    assert "q2_descend" in report and "q4_adam_step" not in report


def test_gradescope_and_otter_on_the_fixture(gd, native, tmp_path) -> None:
    zip_path = otter_build.build_otter_zip(gd["assignment"], tmp_path / "dist", seed=SEED)
    assert zip_path.name == "gd_basics-autograder.zip"
    for name in ("solved", "blank"):
        data = run_gradescope(
            zip_path,
            tmp_path / f"gs-{name}",
            {"gd_basics.ipynb": gd["notebooks"][name].read_bytes()},
        )
        scored = {t["name"].split(" ")[0]: t for t in data["tests"] if "max_score" in t}
        assert {q: scored[q]["score"] for q in EXPECTED[name]} == EXPECTED[name]
        assert (
            sum(
                t["max_score"]
                for t in data["tests"]
                if "max_score" in t and "extra credit" not in t.get("tags", [])
            )
            == MAXIMUM
        )
        assert data["score"] == sum(EXPECTED[name].values())  # extra_credit = "added"
        assert (
            data["output"].endswith(f"· total {sum(EXPECTED[name].values()):g}**")
            or f"· total {sum(EXPECTED[name].values()):g}**" in data["output"]
        )
    (tmp_path / "otter").mkdir()
    ran = otter_run(zip_path, gd["notebooks"]["bad_step"], tmp_path / "otter")
    scored = {t["name"].split(" ")[0]: t["score"] for t in ran["json"]["tests"] if "max_score" in t}
    assert {q: scored[q] for q in EXPECTED["bad_step"]} == _points(native["bad_step"])


def test_nbgrader_on_the_fixture(gd, native, tmp_path) -> None:
    assignment = gd["assignment"]
    course = nbgrader_build.build_nbgrader_course(assignment, tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write(f"c.SandboxExecute.seed = {SEED}\n")
    for name in ("solved", "bad_descend"):
        nbgrader_build.submit(course, assignment, name, gd["notebooks"][name])
    nbgrader_build.autograde(course, assignment)
    for name in ("solved", "bad_descend"):
        assert nbgrader_build.question_points(course, assignment, name) == _points(native[name]), (
            name
        )
    source = nbformat.read(str(course / "source" / "gd_basics" / "gd_basics.ipynb"), 4)
    per_question = {}
    for cell in source.cells:
        if is_test_cell(cell):
            qid = cell.metadata["nbgrader"]["grade_id"].split("__")[1]
            per_question[qid] = per_question.get(qid, 0) + cell.metadata["nbgrader"]["points"]
    assert per_question == {"q1_step": 4, "q2_descend": 6, "bonus_heavy_ball": 0}


# --------------------------------------------------------------------------- points in one place


def _set_points(
    folder: Path, question: str, old: int, new: int, *, markers: dict[str, int], heading: bool
) -> None:
    """q1_step's points in the assignment file, and (optionally) in its markers and heading."""
    toml = folder / "assignment.toml"
    text = toml.read_text()
    block = f'id = "{question}"\npoints = {old}\n'
    assert block in text
    toml.write_text(text.replace(block, f'id = "{question}"\npoints = {new}\n'))
    checks = folder / "checks" / f"test_{question}.py"
    source = checks.read_text()
    for test, points in markers.items():
        source = re.sub(
            rf"@pytest.mark.points\(\d+\)\ndef {test}\(",
            f"@pytest.mark.points({points})\ndef {test}(",
            source,
        )
    checks.write_text(source)
    if heading:
        nb = folder / "gd_basics.ipynb"
        nb.write_text(nb.read_text().replace(f"({old} points)", f"({new} points)"))


@pytest.mark.slow
def test_a_point_value_changes_every_path_alike(tmp_path: Path, monkeypatch) -> None:
    folder = copy_fixture(tmp_path)
    _set_points(folder, "q1_step", 4, 5, markers={"test_arrays_pure": 3}, heading=True)
    monkeypatch.setenv(ENV, str(folder))
    assignment = load(str(folder))
    assert assignment.core_points == 11
    catalog = verify(assignment)
    assert sum(c.points for c in catalog["q1_step"]) == 5
    result = grade_one(folder / "gd_basics.ipynb", assignment, submission_id="solved", seed=SEED)
    assert result.max_total == 11 and result.questions["q1_step"].points == 5
    data = gradescope.results_json(
        result, assignment
    )  # what otter's plugin and run_autograder write
    scored = {t["name"].split(" ")[0]: t for t in data["tests"] if "max_score" in t}
    assert scored["q1_step"]["max_score"] == 5 and scored["q1_step"]["score"] == 5
    source = nbgrader_build.source_notebook(
        nbformat.read(str(folder / "gd_basics.ipynb"), 4), catalog, assignment
    )
    q1 = [
        c.metadata["nbgrader"]["points"]
        for c in source.cells
        if is_test_cell(c) and c.metadata["nbgrader"]["grade_id"].startswith("hidden__q1_step__")
    ]
    assert sorted(q1) == [2, 3]


def _kit(*args: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "--assignment", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_stale_marker_stops_release_and_grade_naming_both_places(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    _set_points(folder, "q1_step", 4, 5, markers={}, heading=True)  # the markers say 4
    with pytest.raises(CatalogError) as caught:
        verify(load(str(folder)))
    for place in ("assignment.toml", "test_q1_step.py", "5", "4"):
        assert place in str(caught.value)
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(folder / "gd_basics.ipynb", subs / "a.ipynb")
    for args in (
        ["release", "--out", str(tmp_path / "out")],
        ["grade", str(subs), "--out", str(tmp_path / "grades")],
    ):
        proc = _kit(*args, folder=folder)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "assignment.toml" in proc.stderr and "test_q1_step.py" in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "grades" / "grades.csv").exists()


@pytest.mark.slow
def test_a_stale_heading_stops_the_release_naming_the_notebook(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    _set_points(folder, "q1_step", 4, 5, markers={"test_arrays_pure": 3}, heading=False)
    with pytest.raises(
        AssignmentError,
        match=r"q1_step: .*assignment.toml says 5 points, but "
        r"its heading in .*gd_basics.ipynb says 4",
    ):
        verify(load(str(folder)))
    assert _kit("release", "--out", str(tmp_path / "out"), folder=folder).returncode == 2


def test_collect_checks_reads_the_fixtures_markers() -> None:
    catalog = collect_checks(load(str(FIXTURE)))
    assert {q: sum(c.points for c in specs) for q, specs in catalog.items()} == {
        "q1_step": 4,
        "q2_descend": 6,
        "bonus_heavy_ball": 2,
    }


# --------------------------------------------------------------------------- a new assignment


@pytest.mark.slow
def test_new_release_and_grade_a_scaffolded_assignment(tmp_path: Path) -> None:
    """``python -m autograder new``, ``make release ASSIGNMENT=``, ``make grade ASSIGNMENT=``."""
    new_id = f"toy_{os.getpid()}"
    made, released = SOLUTIONS / new_id, RELEASES / new_id
    env = shell_env(drop=(ENV,))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "autograder", "new", new_id],
            capture_output=True,
            text=True,
            cwd=REPOSITORY,
            env=env,
            check=False,
        )
        assert proc.returncode == 0 and made.is_dir(), proc.stdout + proc.stderr
        proc = subprocess.run(
            ["make", "release", f"ASSIGNMENT={new_id}"],
            capture_output=True,
            text=True,
            cwd=REPOSITORY,
            env=env,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        notebook = released / f"{new_id}.ipynb"
        assert notebook.is_file() and (released / "public_checks.py").is_file()
        subs = tmp_path / "subs"
        subs.mkdir()
        shutil.copy(notebook, subs / "released.ipynb")
        shutil.copy(made / f"{new_id}.ipynb", subs / "solution.ipynb")
        proc = subprocess.run(
            [
                "make",
                "grade",
                f"ASSIGNMENT={new_id}",
                f"SUBMISSIONS={subs}",
                f"GRADES={tmp_path / 'grades'}",
            ],
            capture_output=True,
            text=True,
            cwd=REPOSITORY,
            env=env,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        with open(tmp_path / "grades" / "grades.csv", newline="") as fh:
            rows = {r["submission"]: r for r in csv.DictReader(fh)}
        assert float(rows["released"]["total"]) == 0
        assert float(rows["solution"]["total"]) == float(rows["solution"]["max_total"]) == 10
        result = json.loads((tmp_path / "grades" / "results" / "solution.json").read_text())
        assert result["assignment"] == new_id
    finally:
        shutil.rmtree(made, ignore_errors=True)
        shutil.rmtree(released, ignore_errors=True)


@pytest.mark.slow
def test_new_refuses_a_bad_or_taken_id() -> None:
    for bad in ("adam_variants", "1up", "a/b"):
        proc = subprocess.run(
            [sys.executable, "-m", "autograder", "new", bad],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2 and "error" in proc.stdout + proc.stderr, bad


# --------------------------------------------------------------------------- generic modules


def named_words(text: str, words: set[str]) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if w in words}


def test_the_generic_modules_name_nothing_of_adam_variants() -> None:
    words = (
        set(adam.QUESTION_IDS)
        | set(adam.all_names())
        | {"FlipNet", "flipnet", "Rosenbrock", "rosenbrock"}
    )
    assert named_words("x = student.call('q4_adam_step')", words) == {"q4_adam_step"}
    found = {}
    for path in sorted((REPOSITORY / "autograder").rglob("*.py")):
        hits = named_words(path.read_text(encoding="utf-8"), words)
        if hits:
            found[str(path.relative_to(REPOSITORY))] = sorted(hits)
    assert found == {}
    defaults = {
        str(p.relative_to(REPOSITORY))
        for p in (REPOSITORY / "autograder").rglob("*.py")
        if "adam_variants" in p.read_text(encoding="utf-8")
    }
    assert defaults == set()  # the default id comes from the Makefile or the one folder
