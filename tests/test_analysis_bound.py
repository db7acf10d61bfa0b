"""The grader's own reading of student code is bounded: a notebook just under the size
limit, all dense code, costs the grading process a few hundred MiB at most, and the checks
that read the code fail for it instead of being skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from adam import ASSIGNMENT

from autograder.engine.submission import MAX_ANALYSED_CODE_BYTES, MAX_NOTEBOOK_BYTES

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import json, sys
from pathlib import Path

def hwm():
    line = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM")]
    return int(line[0].split()[1]) / 1024

from autograder.engine.submission import load_submission
from autograder.assignment.model import current
from autograder.checks.run_checks import activate_suite
import IPython.core.inputtransformer2
activate_suite(current())
from checks.delegation import findings, subclasses_optimizer
from checks.static import defines_class
before = hwm()
sub = load_submission(sys.argv[1], current())
source = sub.source if sub.analysed else ""
findings(source), subclasses_optimizer(source), defines_class(source, "FlipNet")
print(json.dumps({"before": before, "after": hwm(), "analysed": sub.analysed,
                  "code_bytes": sub.code_bytes}))
"""


def dense_notebook(path: Path, code_bytes: int) -> Path:
    """The correct sample notebook plus code cells of ``(1,1,1,...)`` tuples (the densest
    code for Python's parser), ``code_bytes`` of them in all."""
    notebook = json.loads((ROOT / "submissions" / "correct.ipynb").read_text())
    room = 1000 - len(notebook["cells"])
    per_cell = code_bytes // room
    notebook["cells"] += [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": f"x{i} = (" + "1," * ((per_cell - 12) // 2) + ")\n",
        }
        for i in range(room)
    ]
    path.write_text(json.dumps(notebook))
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES
    return path


def measure(path: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code_bytes", [18_000_000, MAX_ANALYSED_CODE_BYTES - 25_000])
def test_reading_dense_code_costs_the_grader_a_bounded_amount(tmp_path, code_bytes):
    found = measure(dense_notebook(tmp_path / "dense.ipynb", code_bytes))
    assert found["analysed"] == (found["code_bytes"] <= MAX_ANALYSED_CODE_BYTES)
    assert found["after"] - found["before"] < 300, found  # MiB; it was 2.7 GiB


@pytest.mark.slow
def test_checks_that_read_the_code_fail_when_there_is_too_much_of_it(tmp_path):
    from autograder.engine.grade import grade_one

    # Just over the bound: every code-reading check fails whatever the size past it (the
    # 18 MB notebook above is only parsed; running its cells would take minutes).
    notebook = dense_notebook(tmp_path / "dense.ipynb", MAX_ANALYSED_CODE_BYTES + 64_000)
    result = grade_one(notebook, ASSIGNMENT, seed=3)
    assert result.status == "graded" and "KiB of code" in result.message
    q9 = result.questions["q9_scratch_adamw"]
    assert q9.checks and all(not c.passed for c in q9.checks)
    assert any("more code than the grader reads" in c.message for c in q9.checks)
