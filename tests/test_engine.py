"""The grading engine's mechanics, with a stand-in check suite (q1-q3 from contract formulas).

Covers: the worker protocol through SandboxStudent (has/value/call/call_inspect/
probe/substitute), malformed and oversized replies, the dedicated uid and the
permission layer when run as root, the total time budget, notebook validation,
free-response extraction, the warm pool and the CLI. The hostile corpus with the
real hidden suite is in ``test_hostile.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import adam as contract
import nbformat
import pytest
from _engine_support import CORPUS, Q1_SOURCE, standin_run_checks
from adam import ASSIGNMENT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.checks.student import StudentError
from autograder.cli import grade_one as cli
from autograder.engine.grade import grade_one
from autograder.engine.pool import WarmPool
from autograder.engine.sandboxed_student import SandboxStudent
from autograder.engine.session import Cell, Limits, Sandbox, Session
from autograder.engine.submission import InvalidSubmission, free_response, load_submission
from autograder.sandbox import isolation, procs


def write_nb(path: Path, *sources: str, free: str | None = None) -> Path:
    """A notebook of this assignment (its metadata says so) with these code cells."""
    cells = [new_code_cell(s) for s in sources]
    if free is not None:
        cells += [new_markdown_cell("## Free response"), new_markdown_cell(free)]
    nb = new_notebook(cells=cells, metadata={"autograder": {"assignment": contract.ASSIGNMENT_ID}})
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def pool():
    p = WarmPool(spare=True)
    yield p
    p.close()


@pytest.fixture
def session():
    box = Sandbox.create(2048, ASSIGNMENT)
    s = Session(box, Limits(cell_timeout=5, call_timeout=3, total_timeout=60, memory_mb=2048))
    yield s
    s.close()
    assert not isolation.leftovers(box.slot.number, box.slot.uid, box.slot.token)
    assert not box.workdir.exists()


def test_protocol_round_trip(session):
    session.run_cells(
        [
            Cell(
                0,
                "%matplotlib inline\nimport numpy as np\nimport torch\n"
                "import torch.nn as nn\nimport matplotlib.pyplot as plt\n"
                "plt.plot([1, 2]); plt.show()\n!echo shell-escape",
            ),
            Cell(1, Q1_SOURCE),
            Cell(2, "LIMIT = 3\ndef scale(a, k=2.0):\n    a *= k\n    return a.sum()"),
            Cell(
                3,
                "class FlipNet(nn.Module):\n"
                "    def __init__(self):\n        super().__init__()\n"
                "        self.layer1 = nn.Linear(4, 3)\n"
                "        self.layer2 = nn.Linear(3, 4)\n"
                "    def forward(self, x):\n"
                "        return self.layer2(torch.relu(self.layer1(x)))",
            ),
        ]
    )
    assert [c.status for c in session.cells] == ["ok"] * 4, session.cells[0].output
    assert "shell-escape" in session.cells[0].output  # magics and shell escapes work
    student = SandboxStudent(session)
    assert student.has("sgd_step") and not student.has("adam_step")
    assert student.value("LIMIT") == 3
    assert student.call("sgd_step", 5.0, 10.0, 0.01) == pytest.approx(4.9)
    import numpy as np

    arr = np.array([1.0, 2.0, 3.0])
    res = student.call_inspect("scale", arr)
    assert res.value == pytest.approx(12.0)
    np.testing.assert_allclose(res.args_after[0], [2.0, 4.0, 6.0])  # the student mutated it
    np.testing.assert_allclose(arr, [1.0, 2.0, 3.0])  # ... its own copy, never ours
    info = student.probe("flipnet_init", seed=0)
    assert info["n_params"] == 31 and info["layers"]["layer1"]["out"] == 3
    with pytest.raises(StudentError) as err:
        student.call("adam_step", 1.0)
    assert err.value.kind == "missing"
    student.substitute(["sgd_step"], "def sgd_step(w, grad, lr):\n    return -1.0\n")
    assert student.call("sgd_step", 5.0, 10.0, 0.01) == -1.0


def test_restart_replays_cells_and_substitutions(session):
    session.run_cells(
        [
            Cell(0, Q1_SOURCE + "\nimport os\nPID = os.getpid()"),
            Cell(1, "def spin():\n    while True:\n        pass"),
            Cell(2, "def boom():\n    import os\n    os._exit(3)"),
        ]
    )
    student = SandboxStudent(session)
    student.substitute(
        ["momentum_step"], "def momentum_step(w, grad, velocity, lr, beta=0.9):\n    return 7, 7\n"
    )
    pid = student.value("PID")
    with pytest.raises(StudentError) as err:
        student.call("spin")
    assert err.value.kind == "timeout" and "timed out after 3 s" in err.value.message
    assert student.value("PID") != pid  # a fresh process, with the good cells replayed
    with pytest.raises(StudentError) as err:
        student.call("boom")
    assert err.value.kind == "died" and "status 3" in err.value.message
    assert student.call("sgd_step", 5.0, 10.0, 0.01) == pytest.approx(4.9)
    assert student.call("momentum_step", 1.0, 1.0, 0.0, 0.1) == [7, 7]
    assert session.restarts == 2


def test_malformed_and_oversized_replies_are_bad_values(session):
    forge = """
import os, stat
def lie():
    for fd in range(3, 40):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, b"".join(b"%d {not json\\n" % i for i in range(200)))
        except OSError:
            pass
    return 1.0

def huge():
    return list(range(3_000_000))
"""
    session.run_cells([Cell(0, forge)])
    student = SandboxStudent(session)
    with pytest.raises(StudentError) as err:
        student.call("lie")
    assert err.value.kind == "bad_value"
    with pytest.raises(StudentError) as err:
        student.call("huge")
    assert err.value.kind == "bad_value"


def test_student_process_runs_unprivileged(session):
    session.run_cells([Cell(0, "import os\nIDS = [os.getuid(), os.geteuid(), os.getgid()]")])
    ids = SandboxStudent(session).value("IDS")
    if isolation.running_as_root():
        assert ids == [session.sandbox.slot.uid] * 3
        assert ids[0] >= isolation.UID_BASE
    else:
        assert ids[0] == os.getuid()


def test_the_cells_stop_at_their_share_and_the_checks_keep_theirs(tmp_path, pool):
    """A cell that outlives the cells' share (half the total) is stopped; the later cells run
    only their definitions, and the checks still have their half of the time."""
    nb = write_nb(
        tmp_path / "slow.ipynb", Q1_SOURCE, "import time\ntime.sleep(30)", "X = 1", "print('demo')"
    )
    result = grade_one(
        nb,
        ASSIGNMENT,
        seed=3,
        pool=pool,
        cell_timeout=20,
        call_timeout=2,
        total_timeout=8,
        memory_mb=2048,
        run_checks=standin_run_checks,
    )
    assert result.status == "graded"
    statuses = [c.status for c in result.cells]
    assert statuses == ["ok", "timeout", "skipped", "skipped"]
    assert "share of the time (4 s" in result.cells[1].message
    assert result.cells[2].message.startswith("only its definitions were run")
    assert result.cells[3].message.startswith("not run: the cells used up their share")
    assert result.questions["q1_baselines"].points == contract.POINTS["q1_baselines"]
    assert result.timings["cells"] + result.timings["checks"] < 8 + 2


def test_grade_one_with_standin(tmp_path, pool):
    nb = write_nb(
        tmp_path / "good.ipynb",
        Q1_SOURCE,
        "print('hello')\nraise ValueError('x')",
        free="Decoupled decay is not divided by sqrt(v).",
    )
    result = grade_one(
        nb,
        ASSIGNMENT,
        seed=5,
        pool=pool,
        cell_timeout=5,
        call_timeout=3,
        memory_mb=2048,
        run_checks=standin_run_checks,
    )
    assert result.status == "graded", result.message
    assert result.questions["q1_baselines"].points == contract.POINTS["q1_baselines"]
    assert result.total == contract.POINTS["q1_baselines"]
    assert result.seed == 5 and result.device in ("cpu", "cuda")
    assert [c.status for c in result.cells] == ["ok", "error"]
    assert result.cells[1].message == "ValueError: x" and "hello" in result.cells[1].output
    assert result.free_response == "Decoupled decay is not divided by sqrt(v)."
    assert len(result.notebook_sha256) == 64 and result.artifacts == {"standin": True}
    assert {"read", "start", "cells", "checks", "total"} <= set(result.timings)
    again = type(result).from_json(result.to_json())
    assert again.total == result.total
    assert not isolation.leftovers(*pool.history[-1])


def test_random_seed_is_recorded(tmp_path, pool):
    nb = write_nb(tmp_path / "tiny.ipynb", "X = 1")
    a = grade_one(nb, ASSIGNMENT, pool=pool, run_checks=standin_run_checks, memory_mb=2048)
    b = grade_one(nb, ASSIGNMENT, pool=pool, run_checks=standin_run_checks, memory_mb=2048)
    assert a.status == b.status == "graded"
    assert a.seed != b.seed  # drawn at random (2**31 values), recorded in the result


def test_kit_error_is_a_result_not_an_exception(tmp_path, pool):
    nb = write_nb(tmp_path / "ok.ipynb", "X = 1")

    def broken_suite(student, **_):
        raise RuntimeError("suite exploded")

    result = grade_one(nb, ASSIGNMENT, pool=pool, run_checks=broken_suite, memory_mb=2048)
    assert result.status == "error" and "suite exploded" in result.message
    assert result.total == 0 and set(result.questions) == set(contract.QUESTION_IDS)
    assert not isolation.leftovers(*pool.history[-1])


@pytest.mark.parametrize(
    "name, phrase",
    [
        ("not_json.ipynb", "not valid JSON"),
        ("script_renamed.ipynb", "Python script"),
        ("empty.ipynb", "empty"),
        ("nbformat3.ipynb", "format 3"),
        ("no_cells.ipynb", "no cells"),
        ("json_list.ipynb", "not a Jupyter notebook"),
    ],
)
def test_invalid_notebooks(name, phrase):
    with pytest.raises(InvalidSubmission, match=phrase):
        load_submission(CORPUS / name, ASSIGNMENT)
    result = grade_one(CORPUS / name, ASSIGNMENT, pool=WarmPool(spare=False))
    assert result.status == "invalid" and phrase in result.message
    assert result.total == 0 and all(q.points == 0 for q in result.questions.values())


def test_huge_and_missing_files(tmp_path):
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    assert grade_one(big, ASSIGNMENT, pool=WarmPool(spare=False)).status == "invalid"
    missing = grade_one(tmp_path / "nope.ipynb", ASSIGNMENT, pool=WarmPool(spare=False))
    assert missing.status == "invalid" and "no such file" in missing.message


def test_free_response_tag_and_fallback():
    tagged = new_notebook(cells=[new_markdown_cell("intro"), new_markdown_cell("my answer")])
    tagged.cells[1].metadata["tags"] = [contract.FREE_RESPONSE_TAG]
    assert free_response(tagged.cells, ASSIGNMENT.free_response_tag) == "my answer"
    fallback = new_notebook(
        cells=[
            new_markdown_cell("## Free response\nWhy?"),
            new_code_cell(""),
            new_markdown_cell("  because  "),
        ]
    )
    assert free_response(fallback.cells, ASSIGNMENT.free_response_tag) == "because"
    assert (
        free_response(
            new_notebook(cells=[new_markdown_cell("nothing")]).cells, ASSIGNMENT.free_response_tag
        )
        == ""
    )


def test_pool_hands_out_a_warm_spare(pool):
    box = pool.acquire(2048, ASSIGNMENT)
    try:
        spare_token = pool.spare_token()
        assert spare_token and spare_token != box.slot.token
        nxt = pool.acquire(2048, ASSIGNMENT)
        try:
            assert nxt.slot.token == spare_token  # the spare was handed out
            nxt.worker.wait_ready()
            assert nxt.worker.info["ready"] is True
        finally:
            nxt.close()
    finally:
        box.close()


def test_cli_writes_json(tmp_path, monkeypatch, capsys):
    import autograder.engine.grade as grade_mod

    monkeypatch.setattr(grade_mod, "hidden_suite", standin_run_checks)
    nb = write_nb(tmp_path / "s.ipynb", Q1_SOURCE)
    out = tmp_path / "r.json"
    assert (
        cli.main(
            [
                str(nb),
                "--out",
                str(out),
                "--seed",
                "7",
                "--device",
                "cpu",
                "--cell-timeout",
                "5",
                "--call-timeout",
                "3",
                "--memory-mb",
                "2048",
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["status"] == "graded" and data["seed"] == 7
    assert data["total"] == contract.POINTS["q1_baselines"]
    assert cli.main([str(CORPUS / "empty.ipynb")]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "invalid"


def test_without_root_children_still_die(tmp_path, monkeypatch):
    """The unconfined path (no uid to drop to, no namespaces): session and token find every
    child."""
    from autograder.engine import containment

    monkeypatch.setattr(isolation, "running_as_root", lambda: False)
    monkeypatch.setattr(containment, "current", lambda: containment.Unconfined(why="test"))
    monkeypatch.setenv(containment.UNCONFINED_VAR, "1")
    spawn = """
import os, subprocess, sys, time
plain = subprocess.Popen(["sleep", "1000"])
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
os.waitpid(pid, 0)
IDS = [os.getuid(), plain.pid]
"""
    nb = write_nb(tmp_path / "kids.ipynb", Q1_SOURCE, spawn)
    pool = WarmPool(spare=False)
    result = grade_one(
        nb,
        ASSIGNMENT,
        pool=pool,
        run_checks=standin_run_checks,
        memory_mb=2048,
        cell_timeout=10,
        call_timeout=5,
    )
    assert result.status == "graded"
    assert result.questions["q1_baselines"].points == contract.POINTS["q1_baselines"]
    number, uid, token = pool.history[-1]
    assert uid is None
    assert not procs.find(token=(isolation.TOKEN_VAR, token))
