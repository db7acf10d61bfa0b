"""One warm zygote for a whole batch, and what its warm-up may and may not change.

Every grader process of a batch forks its sandboxes from the batch's one zygote
(``ZygoteServer``); a grader that is killed takes its sandboxes with it. The
zygote's warm-up (an optimizer step, a figure) must leave a submission's view of
torch exactly as a fresh interpreter's.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import adam as contract
import nbformat
import pytest
from _engine_support import Q1_SOURCE, standin_run_checks
from nbformat.v4 import new_code_cell, new_notebook

from autograder.assignment.model import current
from autograder.batch import run as batch
from autograder.engine.grade import grade_one
from autograder.engine.pool import WarmPool
from autograder.sandbox import isolation, procs, zygote

ROOT = Path(__file__).resolve().parent.parent
as_root = pytest.mark.skipif(
    not isolation.running_as_root(), reason="the zygote is used as root only"
)

DRAWS = """
import sys, torch
TORCH_DRAWS = torch.rand(4).tolist()
WARMED = "torch._dynamo" in sys.modules
"""


def _notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(
        cells=[new_code_cell(s) for s in sources],
        metadata={"autograder": {"assignment": contract.ASSIGNMENT_ID}},
    )
    nbformat.write(nb, str(path))
    return path


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line.split()[1] for line in fh if line.startswith("PPid:")))


def _running(pid: int) -> bool:
    return procs.state(pid) not in (None, "Z")


@pytest.fixture
def server(monkeypatch):
    """A batch's zygote, and this process as one of its graders."""
    zygote.close_shared()
    with zygote.ZygoteServer(zygote.zygote_env(current().student_side_spec())) as srv:
        monkeypatch.setenv(zygote.SOCKET_VAR, srv.path)
        yield srv
        zygote.close_shared()


def test_torch_starts_warm_and_from_its_own_random_seed_in_every_submission(tmp_path):
    """Like a fresh interpreter's, each submission's torch draws from a seed of its own (the
    zygote's warm-up and its random state never show), with the first-use work done."""
    seen = []

    def suite(student, **kwargs):
        seen.append((student.value("TORCH_DRAWS"), student.value("WARMED")))
        return standin_run_checks(student, **kwargs)

    pool = WarmPool(spare=False)
    for name in ("a", "b"):
        nb = _notebook(tmp_path / f"{name}.ipynb", Q1_SOURCE, DRAWS)
        result = grade_one(nb, current(), seed=3, pool=pool, run_checks=suite, memory_mb=2048)
        assert result.status == "graded", result.message
    (a, a_warm), (b, b_warm) = seen
    assert len(a) == len(b) == 4 and a != b
    if isolation.running_as_root():  # forked from the zygote, which ran the warm-up
        assert a_warm is True and b_warm is True


@pytest.mark.slow
@as_root
def test_one_zygote_serves_every_grader_and_cleans_up_after_a_killed_one(tmp_path, server):
    seen = {}

    def suite(student, **kwargs):
        init = student.session.worker.init_pid
        seen["zygote"] = _parent(_parent(init))  # init <- keeper <- zygote
        return standin_run_checks(student, **kwargs)

    nb = _notebook(tmp_path / "one.ipynb", Q1_SOURCE)
    result = grade_one(
        nb, current(), seed=1, pool=WarmPool(spare=False), run_checks=suite, memory_mb=2048
    )
    assert result.status == "graded", result.message
    assert seen["zygote"] == server.zygote.pid
    assert (
        zygote.shared(current().student_side_spec()).proc is None
    )  # connected, not a zygote of its own

    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        import time
        from autograder.assignment.model import current
        from autograder.engine.pool import WarmPool
        box = WarmPool(spare=False).acquire(2048, current())
        box.worker.wait_ready()
        print(box.worker.init_pid, box.worker.proc.pid, flush=True)
        time.sleep(600)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
        cwd=ROOT,
    )
    try:
        init, keeper = (int(x) for x in other.stdout.readline().split())
        assert _parent(keeper) == server.zygote.pid  # the other grader's sandbox, same zygote
        os.kill(init, signal.SIGSTOP)  # a sandbox that no longer reads its pipes
        other.kill()
        other.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (_running(init) or _running(keeper)):
            time.sleep(0.1)
        assert not _running(init) and not _running(keeper)
        assert server.zygote.alive()  # and it goes on serving the others
    finally:
        if other.poll() is None:
            other.kill()


@pytest.mark.slow
def test_a_batch_reports_peak_memory_per_worker(tmp_path):
    subs = tmp_path / "class"
    subs.mkdir()
    for name in ("correct", "blank"):
        shutil.copyfile(ROOT / "submissions" / f"{name}.ipynb", subs / f"{name}.ipynb")
    summary = batch.run_batch(subs, tmp_path / "g", current(), jobs=2, seed=5, stream=io.StringIO())
    assert not summary.errors
    memory = json.loads((tmp_path / "g" / "logs" / "memory.json").read_text())
    assert len(memory["workers_peak_mb"]) == 2
    assert all(100 < mb < 4096 for mb in memory["workers_peak_mb"])  # torch is in each
    if isolation.running_as_root():
        assert 100 < memory["zygote_peak_mb"] < 4096
