"""Clear errors around the batch:
symbolic links are never followed, an empty or missing folder is an error, a typo in a
make variable stops make, and one grades folder takes one run at a time."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from adam import ASSIGNMENT, NOTEBOOK_NAME, SOLUTION_NOTEBOOK
from shell_env import shell_env
from test_batch import STANDIN, notebook, read_csv

from autograder.batch import run as batch
from autograder.batch.lock import GradesFolderBusy, grades_lock

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DEVNULL = open(os.devnull, "w")  # for the whole module
LINK_MESSAGE = "is a symbolic link; submit the notebook file itself"


def cli(*args: str, wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}
    command = [sys.executable, "-m", "autograder", "grade", *args, "--grade-fn", STANDIN]
    if not wait:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
        )
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)


def test_symbolic_links_are_invalid_and_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subs, out, elsewhere = tmp_path / "subs", tmp_path / "grades", tmp_path / "elsewhere"
    subs.mkdir()
    elsewhere.mkdir()
    shutil.copy(SOLUTION_NOTEBOOK, elsewhere / NOTEBOOK_NAME)
    (elsewhere / "inner").mkdir()
    shutil.copy(SOLUTION_NOTEBOOK, elsewhere / "inner" / NOTEBOOK_NAME)
    (subs / "file.ipynb").symlink_to(elsewhere / NOTEBOOK_NAME)  # a linked notebook
    (subs / "folder").symlink_to(elsewhere, target_is_directory=True)  # a linked student folder
    (subs / "inside").mkdir()  # a link in the folder
    (subs / "inside" / NOTEBOOK_NAME).symlink_to(elsewhere / NOTEBOOK_NAME)
    (subs / "deeper").mkdir()  # a linked subfolder
    (subs / "deeper" / "adam_variants").symlink_to(elsewhere / "inner", target_is_directory=True)
    (subs / "renamed").mkdir()  # any other name
    (subs / "renamed" / "mine.ipynb").symlink_to(elsewhere / NOTEBOOK_NAME)
    (subs / "dangling.ipynb").symlink_to(tmp_path / "nothing.ipynb")
    (subs / "honest.ipynb").write_text(notebook("score=1"))
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_GRADE_LOG", str(log))
    summary = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    linked = {
        "file": "file.ipynb",
        "folder": "folder",
        "inside": "inside/adam_variants.ipynb",
        "deeper": "deeper/adam_variants",
        "renamed": "renamed/mine.ipynb",
        "dangling": "dangling.ipynb",
    }
    _, rows = read_csv(out / "grades.csv")
    by = {r["submission"]: r for r in rows}
    assert set(by) == {*linked, "honest"}
    for name, path in linked.items():
        assert by[name]["status"] == "invalid" and float(by[name]["total"]) == 0
        assert by[name]["message"] == f"{path} {LINK_MESSAGE}"
        page = (out / "feedback" / f"{name}.html").read_text(encoding="utf-8")
        assert LINK_MESSAGE in page
    assert by["honest"]["status"] == "graded" and float(by["honest"]["total"]) == 100
    assert log.read_text().split() == ["honest"]  # no linked notebook reached the grader
    assert summary.errors == []
    again = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    assert again.graded == [] and sorted(again.unchanged) == sorted([*linked, "honest"])


def test_an_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    empty, out = tmp_path / "empty", tmp_path / "grades"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a notebook")
    done = cli(str(empty), "--out", str(out))
    assert done.returncode == 2
    assert f"no submissions in {empty}" in done.stderr and "notes.txt" in done.stderr
    assert not out.exists()  # nothing written
    missing = cli(str(tmp_path / "absent"), "--out", str(out))
    assert missing.returncode == 2 and "is not a folder of submissions" in missing.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_stops_at_an_unknown_variable() -> None:
    typo = subprocess.run(
        ["make", "-n", "grade", "SUBMISSION=elsewhere"],
        cwd=ROOT,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert typo.returncode != 0
    assert "unknown variable SUBMISSION on the command line" in typo.stderr
    assert "SUBMISSIONS" in typo.stderr  # the known ones are listed
    good = subprocess.run(
        ["make", "-n", "grade", "SUBMISSIONS=elsewhere", "GRADES=g", "ROSTER=r.csv", "JOBS=2"],
        cwd=ROOT,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr
    assert "grade elsewhere --out g --jobs 2 --roster r.csv" in " ".join(good.stdout.split())


@pytest.mark.slow
def test_one_run_per_grades_folder(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    for i in range(3):
        (subs / f"s{i}.ipynb").write_text(notebook("sleep=4"))  # outlasts the checks' start
    first = cli(str(subs), "--out", str(out), "--jobs", "1", wait=False)
    deadline = time.monotonic() + 60
    while not list((out / "results").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, first.communicate()[0]
    second = cli(str(subs), "--out", str(out), "--jobs", "1")
    assert second.returncode == 3, second.stdout + second.stderr
    assert f"{out} is being graded by process {first.pid}" in second.stderr
    assert "--wait" in second.stderr
    waiting = cli(str(subs), "--out", str(out), "--jobs", "1", "--wait", wait=False)
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 0, output
    waited, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, waited
    assert "waiting for process" in waited and "0 graded, 3 unchanged" in waited


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    (subs / "slow.ipynb").write_text(notebook("sleep=30"))
    run = cli(str(subs), "--out", str(out), "--jobs", "1", wait=False)
    deadline = time.monotonic() + 60
    while not (out / "seed.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(GradesFolderBusy):
        with grades_lock(out):
            pass
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    with grades_lock(out):  # the kernel released it with the process
        assert (out / ".lock").read_text().startswith(f"process {os.getpid()} ")
