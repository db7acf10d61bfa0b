"""The grader's side of a substitution: reference calls answered from plain data in a
confined reference process (memory cap, deadline), refused outside the substitution or for
arguments of kinds the name does not declare, and remembered per request within a grader
process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import reference_calls, reference_process
from autograder.checks.reference_calls import ReferenceCalls, Replies
from autograder.inside.remote import RemoteError, call_remote

SOURCE = "def scale(xs, k=2.0):\n    return k * xs\n"
KINDS = {"scale": {"xs": "array", "k": "number"}}
HOSTILE = (
    "import numpy as np\n\n"
    "def spin(n):\n    while True:\n        n += 1\n\n"
    "def grab(n):\n    return float(np.ones(n).sum())\n\n"
    "def repeat(text, n):\n    return len(text * n)\n"
)
HOSTILE_KINDS = {
    "spin": {"n": "count"},
    "grab": {"n": "count"},
    "repeat": {"text": "number", "n": "count"},
}


@pytest.fixture(autouse=True)
def fresh_replies(monkeypatch):
    monkeypatch.setattr(reference_calls, "REPLIES", Replies())


def channel_of(calls: ReferenceCalls, seconds: float = 10.0):
    return lambda request: json.loads(calls.handle(request, time.monotonic() + seconds))


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (``VmHWM``), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_the_reference_runs_in_its_own_process_from_plain_data() -> None:
    calls = ReferenceCalls(
        ["scale", "where"],
        SOURCE + "import os\ndef where():\n    return os.getpid()\n",
        None,
        {**KINDS, "where": {}},
    )
    channel = channel_of(calls)
    assert call_remote(channel, "scale", 1.5, k=3) == 4.5
    assert call_remote(channel, "scale", np.array([1.0, -0.5]), k=3.0).tolist() == [3.0, -1.5]
    assert call_remote(channel, "where") == calls.process.pid != __import__("os").getpid()
    with pytest.raises(RemoteError, match="'print' is not substituted"):
        call_remote(channel, "print", "x")


def test_arguments_of_undeclared_kinds_are_refused_before_the_reference_runs() -> None:
    channel = channel_of(
        ReferenceCalls(["scale", "other"], SOURCE + "def other():\n    return 0\n", None, KINDS)
    )
    for args, kwargs, why in [
        (["ab"], {}, "takes xs as a number or a NumPy array of numbers, not a str"),
        ([[1.0, 2.0]], {}, "takes xs as .* not a list"),
        ([1.0], {"k": True}, "takes k as a number .* not a bool"),
        ([1.0], {"k": "x"}, "takes k as a number .* not a str"),
        ([np.array(["a"])], {}, "unexpected|not supported|cannot send"),
        ([1.0, 2.0, 3.0], {}, "too many positional arguments"),
        ([], {"xs": 1.0, "n": 5}, "unexpected keyword argument 'n'"),
    ]:
        with pytest.raises((RemoteError, ValueError), match=why):
            call_remote(channel, "scale", *args, **kwargs)
    with pytest.raises(RemoteError, match="accepts no calls"):
        call_remote(channel, "other")  # substituted but declares nothing


def test_arrays_that_broadcast_too_far_are_refused() -> None:
    calls = ReferenceCalls(
        ["add"], "def add(a, b):\n    return a + b\n", None, {"add": {"a": "array", "b": "array"}}
    )
    tall, wide = np.ones((300_000, 1), np.float32), np.ones((1, 300_000), np.float32)
    with pytest.raises(RemoteError, match="broadcast to 90,000,000,000 elements"):
        call_remote(channel_of(calls, seconds=60), "add", tall, wide)
    with pytest.raises(RemoteError, match="do not fit together"):
        call_remote(channel_of(calls), "add", np.ones(3), np.ones(4))


def test_a_slow_call_is_killed_at_its_deadline_and_the_next_call_works() -> None:
    calls = ReferenceCalls(["spin", "scale"], HOSTILE + SOURCE, None, {**HOSTILE_KINDS, **KINDS})
    t0 = time.monotonic()
    with pytest.raises(RemoteError, match="did not finish within the call's time limit"):
        call_remote(channel_of(calls, seconds=1.0), "spin", 1)
    assert time.monotonic() - t0 < 5.0 and calls.process.pid is None  # killed, reaped
    assert call_remote(channel_of(calls), "scale", 2.0) == 4.0 and calls.process.forks >= 2


def test_a_huge_call_hits_the_reference_memory_cap_not_the_grader() -> None:
    calls = ReferenceCalls(
        ["grab", "repeat", "scale"], HOSTILE + SOURCE, None, {**HOSTILE_KINDS, **KINDS}
    )
    channel = channel_of(calls)
    before = vm_hwm_mb()
    with pytest.raises(RemoteError, match="MemoryError"):  # 7.2 GB of float64
        call_remote(channel, "grab", 900_000_000)
    with pytest.raises(RemoteError, match="takes text as a number"):  # "a" * 1.5e9 never built
        call_remote(channel, "repeat", "a", 1_500_000_000)
    assert call_remote(channel, "grab", 1000) == 1000.0  # the process goes on serving
    assert vm_hwm_mb() - before < 64  # the grader itself decoded and computed nothing
    assert calls.peak_mb() < vm_hwm_mb() + reference_process.MEMORY_MB


def test_a_request_asked_again_is_answered_from_memory() -> None:
    calls = ReferenceCalls(["scale"], SOURCE, None, KINDS)
    channel = channel_of(calls)
    first = call_remote(channel, "scale", np.array([1.0, 2.0]))
    again = call_remote(channel, "scale", np.array([1.0, 2.0]))
    other = call_remote(channel, "scale", np.array([1.0, 2.5]))
    assert first.tolist() == again.tolist() == [2.0, 4.0] and other.tolist() == [2.0, 5.0]
    assert calls.computed == 2 and reference_calls.REPLIES.hits == 1
    # another submission's substitution of the same reference shares the memory
    later = ReferenceCalls(["scale"], SOURCE, None, KINDS)
    assert call_remote(channel_of(later), "scale", np.array([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert later.computed == 0


def test_memory_never_answers_outside_its_scope() -> None:
    call_remote(channel_of(ReferenceCalls(["scale"], SOURCE, None, KINDS)), "scale", 1.0)
    narrower = ReferenceCalls(
        ["other"], SOURCE + "def other():\n    return 0\n", None, {"other": {}}
    )
    with pytest.raises(RemoteError, match="not substituted"):
        call_remote(channel_of(narrower), "scale", 1.0)
    changed = ReferenceCalls(["scale"], SOURCE.replace("k * xs", "k * xs + 1"), None, KINDS)
    assert call_remote(channel_of(changed), "scale", 1.0) == 3.0


def test_failures_are_not_remembered() -> None:
    calls = ReferenceCalls(["scale"], SOURCE, None, KINDS)
    for _ in range(2):
        with pytest.raises(RemoteError):
            call_remote(channel_of(calls), "scale", None)
    assert calls.computed == 2 and reference_calls.REPLIES.bytes == 0


def test_memory_is_bounded_in_bytes() -> None:
    replies = Replies(max_bytes=1000)
    for i in range(50):
        replies.put(f"k{i}", "x" * 100)
    assert replies.bytes <= 1000 and replies.get("k49") is not None and replies.get("k0") is None
    replies.put("huge", "x" * 600)  # more than a quarter of the bound: not kept
    assert replies.get("huge") is None


FLOODING_TRACE = '''
import numpy as np

def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    """Floods the reference channel (the stand-ins of q5's substitution) and writes nothing."""
    tall = np.ones((200_000, 1), np.float32)
    attacks = [
        lambda: momentum_step(0.0, 1.0, "a", 1.0, 1_500_000_000),  # "a" * 1.5e9 in the reference
        lambda: bias_correction(2, 10**9),  # 2 ** 1e9 as a Python int
        lambda: bias_correction(0.9, 10**15),
        lambda: adam_step(tall, tall.T, 0.0, 0.0, 1),  # broadcasts to 4e10 elements
        lambda: sgd_step("a" * 1_000_000, 3, 2),
        lambda: rosenbrock_grad([1.0] * 200_000, 2.0),
    ]
    for attack in attacks:
        try:
            attack()
        except Exception:
            pass
    return []
'''
GRADE_AND_MEASURE = """
import json, sys
from pathlib import Path
from autograder.assignment.model import current
from autograder.engine.grade import grade_one
result = grade_one(sys.argv[1], current(), seed=5)
hwm = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM")]
print(json.dumps({"total": result.total, "status": result.status, "usage": result.usage,
                  "q5": result.questions["q5_adam_trace"].points,
                  "scores": {q: r.points for q, r in result.questions.items()},
                  "timings": result.timings,
                  "grader_hwm_mb": int(hwm[0].split()[1]) / 1024}))
"""


@pytest.mark.slow
def test_a_notebook_flooding_the_reference_channel_earns_nothing_and_bounds_the_grader(tmp_path):
    """The correct notebook but for an ``adam_trace`` that floods the stand-ins with huge
    and slow arguments: every other question keeps full marks, q5 earns nothing, and
    neither the grader nor its reference process grows beyond a few hundred MiB."""
    import subprocess
    import sys

    from adam import POINTS

    root = Path(__file__).resolve().parent.parent
    notebook = json.loads((root / "submissions" / "correct.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "def adam_trace" in "".join(cell["source"]):
            cell["source"] = FLOODING_TRACE
    path = tmp_path / "flood.ipynb"
    path.write_text(json.dumps(notebook))
    run = subprocess.run(
        [sys.executable, "-c", GRADE_AND_MEASURE, str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads(run.stdout.strip().splitlines()[-1])
    assert data["status"] == "graded" and data["q5"] == 0
    assert data["total"] == 110 - POINTS["q5_adam_trace"], data["scores"]
    assert data["grader_hwm_mb"] < 1024, data  # a 1.5e9-long string would be 1.5 GB
    assert 0 < data["usage"]["reference_peak_mb"] < data["grader_hwm_mb"] + 1024, data


def test_every_substituted_function_declares_each_of_its_parameters() -> None:
    """Each name a check builds on accepts calls for exactly its contract parameters (a
    class is rebuilt in the student's process and never called here)."""
    import inspect
    import re

    from adam import ASSIGNMENT

    from autograder.checks.reference_source import reference_source

    arguments = ASSIGNMENT.module("references").ARGUMENTS
    marked = set()
    for check in ASSIGNMENT.checks_dir.glob("test_*.py"):
        for names in re.findall(r"builds_on\(([^)]*)\)", check.read_text()):
            marked |= set(re.findall(r'"(\w+)"', names))
    classes = {c for q in ASSIGNMENT.questions for c in q.classes}
    functions = sorted(marked - classes)
    assert functions and set(functions) <= set(arguments)
    namespace: dict = {}
    exec(
        reference_source(functions, ASSIGNMENT.solution_notebook), namespace
    )  # the instructor's solution
    for name in functions:
        assert set(inspect.signature(namespace[name]).parameters) == set(arguments[name]), name
