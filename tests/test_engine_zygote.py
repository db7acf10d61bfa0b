"""The warm zygote (one per grader process) that every submission process is forked from.

Two consecutive submissions graded in one process must not see each other (names,
files in /tmp, random state), and the zygote must never run student code: it is
not the student's process, runs in the grader's namespaces as root, and none of a
submission's values ever reach its memory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import adam as contract
import nbformat
from _engine_support import Q1_SOURCE, standin_run_checks
from nbformat.v4 import new_code_cell, new_notebook

from autograder.assignment.model import current
from autograder.engine.grade import grade_one
from autograder.engine.pool import WarmPool
from autograder.sandbox import isolation, procs, zygote

REPORT = """
import os, random, numpy
def _parent(pid):
    with open("/proc/%d/status" % pid) as fh:
        return int(next(l.split()[1] for l in fh if l.startswith("PPid:")))
PIDS = [os.getpid(), os.getppid(), _parent(os.getppid())]
UID = os.getuid()
MNT_NS = os.readlink("/proc/self/ns/mnt")
SEEN_MARK = os.path.exists("/tmp/zygote-mark") or os.path.exists("/dev/shm/zygote-mark")
SEEN_NAME = "FIRST_SECRET" in globals()
DRAWS = [random.random(), float(numpy.random.rand())]
"""

FIRST = """
FIRST_SECRET = "{marker}"
for folder in ("/tmp", "/dev/shm"):
    with open(folder + "/zygote-mark", "w") as fh:
        fh.write(FIRST_SECRET)
"""


def _host_parent(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line.split()[1] for line in fh if line.startswith("PPid:")))


def _notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(
        cells=[new_code_cell(s) for s in sources],
        metadata={"autograder": {"assignment": contract.ASSIGNMENT_ID}},
    )
    nbformat.write(nb, str(path))
    return path


def _memory_holds(pid: int, needle: bytes) -> bool:
    """Whether ``needle`` occurs anywhere in the readable memory of process ``pid``."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r") or "[vsyscall]" in line:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, OverflowError, ValueError):
                continue
    return False


def test_consecutive_submissions_are_isolated_and_the_zygote_runs_no_student_code(tmp_path):
    marker = "zygote-leak-" + secrets.token_hex(16)
    first = _notebook(tmp_path / "first.ipynb", Q1_SOURCE, FIRST.format(marker=marker), REPORT)
    second = _notebook(tmp_path / "second.ipynb", Q1_SOURCE, REPORT)
    seen: list[dict] = []

    def suite(student, **kwargs):
        seen.append(
            {
                name: student.value(name)
                for name in ("PIDS", "UID", "MNT_NS", "SEEN_MARK", "SEEN_NAME", "DRAWS")
            }
        )
        init = student.session.worker.init_pid  # the sandbox's first process, on the host
        keeper = _host_parent(init) if init else None
        seen[-1]["HOST"] = [init, keeper, _host_parent(keeper) if keeper else None]
        return standin_run_checks(student, **kwargs)

    pool = WarmPool(spare=False)  # one grader process, submissions one after the other
    results = [
        grade_one(
            nb,
            current(),
            seed=1,
            pool=pool,
            run_checks=suite,
            memory_mb=2048,
            cell_timeout=10,
            call_timeout=5,
        )
        for nb in (first, second)
    ]
    for result in results:
        assert result.status == "graded", result.message
        assert [c.status for c in result.cells] == ["ok"] * len(result.cells), result.cells
        assert result.questions["q1_baselines"].points == contract.POINTS["q1_baselines"]
    a, b = seen

    # the second submission sees nothing of the first (which does see its own)
    assert a["SEEN_NAME"] is True and b["SEEN_NAME"] is False
    assert a["SEEN_MARK"] is True and b["SEEN_MARK"] is False
    assert a["DRAWS"] != b["DRAWS"]  # the generators are re-seeded per submission

    if not isolation.running_as_root():  # documented: without root no zygote is used
        assert not set(a["PIDS"][:2]) & set(b["PIDS"][:2])
        return
    z = zygote.shared(current().student_side_spec())
    # inside its PID namespace each student sees only itself (2) and the sandbox's first
    # process (1), whose parent is outside the namespace (0)
    assert a["PIDS"] == b["PIDS"] == [2, 1, 0]
    # on the host: the sandbox's first process is a child of its keeper, a fork of this
    # grader's zygote; two submissions have two different sandboxes
    assert a["HOST"][2] == b["HOST"][2] == z.pid
    assert a["HOST"][0] != b["HOST"][0] and z.pid not in a["HOST"][:2] + b["HOST"][:2]
    assert a["UID"] == b["UID"] and a["UID"] >= isolation.UID_BASE
    owner, _ = procs.owner_and_state(z.pid)
    assert owner == 0
    zygote_ns = os.readlink(f"/proc/{z.pid}/ns/mnt")
    assert zygote_ns == os.readlink("/proc/self/ns/mnt")
    assert a["MNT_NS"] != zygote_ns and b["MNT_NS"] != zygote_ns  # (ids of dead ones recur)
    # nothing the first submission defined ever reached the zygote's memory, while the
    # scan does find what the zygote does hold (so it can fail)
    assert not _memory_holds(z.pid, marker.encode())
    assert _memory_holds(z.pid, b"autograder.sandbox.zygote")
    # no process of either submission is left; the zygote lives on for the next one
    for number, uid, token in pool.history:
        assert not isolation.leftovers(number, uid, token)
    assert z.alive()


def test_zygote_refuses_hidden_modules():
    """The zygote must never hold the hidden checks (every student would inherit them)."""
    import sys

    import autograder.checks.run_checks  # noqa: F401 - loaded here, in the grader

    assert "autograder.checks.run_checks" in zygote._hidden_modules(current().student_side_spec())
    assert sys.modules["autograder.checks.run_checks"]


def test_a_dead_zygote_is_replaced(tmp_path):
    """A zygote that died (e.g. killed for memory) is started again for the next submission."""
    nb = _notebook(tmp_path / "one.ipynb", Q1_SOURCE)
    pool = WarmPool(spare=False)
    old = zygote.shared(current().student_side_spec())
    old.proc.kill()
    old.proc.wait()
    result = grade_one(
        nb, current(), seed=2, pool=pool, run_checks=standin_run_checks, memory_mb=2048
    )
    assert result.status == "graded", result.message
    assert result.questions["q1_baselines"].points == contract.POINTS["q1_baselines"]
    assert (
        zygote.shared(current().student_side_spec()) is not old
        and zygote.shared(current().student_side_spec()).alive()
    )
