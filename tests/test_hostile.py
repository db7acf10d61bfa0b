"""The hostile-submission corpus (``tests/corpus``), graded by the real hidden suite.

Every notebook has an honest part and a hostile part (see ``make_corpus.py``).
For each one: a result comes back; exactly the honest part earns points (full
marks per contract question, from the assignment file) and nothing else does;
nothing outside the sandbox changed; and no process of the submission is left.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from _engine_support import CORPUS, ROOT
from adam import ASSIGNMENT, POINTS, QUESTION_IDS

from autograder.checks.run_checks import run_checks
from autograder.engine.grade import grade_one
from autograder.engine.pool import WarmPool
from autograder.sandbox import isolation

ALL = set(QUESTION_IDS)

# name -> (questions that earn full marks, questions that may earn anything, limits, cell outcome)
EXPECT: dict[str, dict] = {
    "blank.ipynb": dict(full=set()),
    "loop_top.ipynb": dict(
        full={"q1_baselines", "q2_adagrad"},
        cell=("timeout", "timed out"),
        limits=dict(cell_timeout=3),
    ),
    "loop_in_function.ipynb": dict(
        full={"q1_baselines", "q3_rmsprop"},
        limits=dict(call_timeout=2),
        message=("q2_adagrad", "timed out"),
    ),
    "os_exit.ipynb": dict(
        full={"q1_baselines", "q2_adagrad"},
        cell=("died", "the kernel died while running cell 5: the process exited (os._exit(0)"),
    ),
    "sys_exit.ipynb": dict(full={"q1_baselines", "q2_adagrad"}, cell=("error", "SystemExit")),
    "segfault.ipynb": dict(full={"q1_baselines", "q2_adagrad"}, cell=("died", "SIGSEGV")),
    "memory_hog.ipynb": dict(
        full={"q1_baselines", "q2_adagrad"},
        cell=("died", "ran out of memory")
        if isolation.running_as_root()
        else ("error", "MemoryError"),
    ),
    "print_flood.ipynb": dict(
        full={"q1_baselines", "q2_adagrad"}, cell=("output_capped", "output truncated")
    ),
    "children.ipynb": dict(full={"q1_baselines", "q2_adagrad"}),
    "forge_patch.ipynb": dict(full=set()),
    "eq_true.ipynb": dict(full=set()),
    "input_transformer.ipynb": dict(full=set()),
    "fake_results.ipynb": dict(full=set()),
    "read_hidden.ipynb": dict(full=set()),
    "protocol_garbage.ipynb": dict(full={"q2_adagrad"}),
    "reply_bomb.ipynb": dict(full=set()),  # every reply is a JSON bomb: unreadable, no points
    "syntax_error_q3.ipynb": dict(
        full=ALL - {"q3_rmsprop", "q7_rosenbrock"},
        free={"q7_rosenbrock"},
        cell=("error", "SyntaxError"),
    ),
    "correct_with_warnings.ipynb": dict(full=ALL),
}
LIMITS = dict(cell_timeout=10, call_timeout=10, total_timeout=120, memory_mb=1536)
PROBED = ("HIDDEN_READ", "STOLEN", "CHILD_PIDS", "WRITTEN")


@pytest.fixture(scope="module")
def pool():
    p = WarmPool(spare=True)
    yield p
    p.close()


def test_corpus_is_complete():
    notebooks = {p.name for p in CORPUS.glob("*.ipynb")}
    invalid = {
        "not_json.ipynb",
        "script_renamed.ipynb",
        "empty.ipynb",
        "nbformat3.ipynb",
        "no_cells.ipynb",
        "json_list.ipynb",
    }  # graded as invalid in test_engine.py
    assert notebooks == set(EXPECT) | invalid
    assert len(notebooks) >= 15


FORGED_NAMES = ("results.json", "grades.json", "result.json", "gradebook.db", "adam_variants.json")


def _outside_state() -> dict:
    """Where a submission would plant fake results: the repo, the sandbox's parents, temp."""
    folders = [
        ROOT,
        ROOT / "grades",
        ROOT / "autograder",
        isolation.base_dir(),
        isolation.base_dir().parent,
        Path("/var/tmp"),
        Path("/dev/shm"),
        Path.home(),
    ]
    state = {}
    for folder in folders:
        for entry in FORGED_NAMES:
            path = folder / entry
            state[str(path)] = path.stat().st_mtime_ns if path.exists() else None
    return state


def _uid_owned_files() -> list[str]:
    """Files in the repo and the shared temp folders owned by a sandbox uid.

    The sandbox folders themselves (live spares included) are left out; that the
    graded one is gone is checked separately.
    """
    found = []
    for top in (str(ROOT), "/tmp", "/var/tmp", "/dev/shm"):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [
                d
                for d in dirnames
                if d not in (".venv", ".git")
                and os.path.join(dirpath, d) != str(isolation.base_dir())
            ]
            if dirpath.count(os.sep) - top.count(os.sep) >= 3:
                dirnames[:] = []
            for name in dirnames + filenames:
                try:
                    uid = os.lstat(os.path.join(dirpath, name)).st_uid
                except OSError:
                    continue
                if isolation.UID_BASE <= uid < isolation.UID_BASE + isolation.MAX_SLOTS:
                    found.append(os.path.join(dirpath, name))
    return found


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_hostile_notebook(name, pool):
    expect = EXPECT[name]
    probed: dict = {}

    def suite(student, **kwargs):
        for var in PROBED:  # what the notebook recorded about its own attempts
            try:
                if student.has(var):
                    probed[var] = student.value(var)
            except Exception as exc:
                probed[var] = repr(exc)
        return run_checks(student, **kwargs)

    before = _outside_state()
    t0 = time.monotonic()
    result = grade_one(
        CORPUS / name,
        ASSIGNMENT,
        seed=11,
        device="cpu",
        pool=pool,
        run_checks=suite,
        **{**LIMITS, **expect.get("limits", {})},
    )
    seconds = time.monotonic() - t0
    print(f"{name}: {result.total} points in {seconds:.1f} s, timings {result.timings}")

    # a result came back, and exactly the honest part earned points
    assert result.status == "graded", result.message
    assert set(result.questions) == ALL
    for qid, q in result.questions.items():
        if qid in expect["full"]:
            assert q.points == POINTS[qid], (qid, [c.message for c in q.checks if not c.passed])
        elif qid in expect.get("free", set()):
            assert 0 <= q.points <= POINTS[qid]
        else:
            assert q.points == 0, (qid, q.points)
    forged_max = sum(POINTS[q] for q in expect["full"] | expect.get("free", set()))
    assert result.total <= forged_max
    if "cell" in expect:
        status, phrase = expect["cell"]
        hits = [c for c in result.cells if c.status == status and phrase in c.message]
        assert hits, [(c.index, c.status, c.message) for c in result.cells]
    if "message" in expect:
        qid, phrase = expect["message"]
        assert any(phrase in c.message for c in result.questions[qid].checks)
    for cell in result.cells:
        assert len(cell.output) < 64 * 1024

    # nothing outside the sandbox changed, and nothing of the submission is left
    assert _outside_state() == before
    assert not isolation.leftovers(*pool.history[-1])
    if isolation.running_as_root():
        assert not _uid_owned_files()
    assert not pool.last_workdir.exists()  # the sandbox folder is gone

    if name == "read_hidden.ipynb":
        assert probed["STOLEN"] == ""
        attempts = probed["HIDDEN_READ"]
        assert attempts and all(
            not v.startswith("read") or v == "read 0 chars" for v in attempts.values()
        ), attempts
        if isolation.running_as_root():
            assert set(attempts.values()) <= {
                "PermissionError",
                "FileNotFoundError",
                "read 0 chars",
            }
    if name == "children.ipynb" and not isolation.running_as_root():
        for pid in probed["CHILD_PIDS"]:  # as root they are pids of the sandbox's namespace
            assert not _alive(pid)
    if name == "fake_results.ipynb" and isolation.running_as_root():
        assert probed["WRITTEN"]  # it did write (inside its own namespace) ...
        assert not any(Path(p).exists() for p in probed["WRITTEN"])  # ... and none is left


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and line.split()[1] in "ZX" for line in fh)
    except OSError:
        return False
