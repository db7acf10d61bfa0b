"""Generate the hostile-submission corpus from the instructor and released notebooks.

Run ``python tests/corpus/make_corpus.py`` after the solution notebook changes;
the generated notebooks are committed. Most notebooks hold an honest part (the
solution's q1_baselines cells, sometimes q2/q3 too) and one hostile part, so a
test can check that the honest part is still graded and the hostile part earns
nothing. ``EXPECT`` (in ``tests/corpus/expect.py``) states each outcome.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOLUTION = ROOT / "solutions" / "adam_variants" / "adam_variants.ipynb"
RELEASED = ROOT / "assignments" / "adam_variants" / "adam_variants.ipynb"


def tagged(nb, tag: str) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def imports() -> str:
    return "import math\nimport os\nimport sys\n\nimport numpy as np\nimport torch\nimport torch.nn as nn"


def notebook(*sources: str, free: str | None = None):
    cells = [new_markdown_cell("# Adam and Its Variants (corpus)")]
    cells += [new_code_cell(s) for s in sources]
    if free is not None:
        cells.append(new_markdown_cell("## Free response"))
        answer = new_markdown_cell(free)
        answer.metadata["tags"] = ["free_response"]
        cells.append(answer)
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                               "display_name": "Python 3",
                                                               "language": "python"},
                                               "autograder": {"assignment": "adam_variants"}})


WRONG_Q1 = '''
def sgd_step(w, grad, lr):
    return w + lr * grad

def momentum_step(w, grad, velocity, lr, beta=0.9):
    return w, velocity
'''

LOOP_TOP = "while True:\n    pass"

LOOP_IN_FUNCTION = '''
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    while True:
        pass
'''

OS_EXIT = "import os\nos._exit(0)"
SYS_EXIT = "import sys\nsys.exit()"
SEGFAULT = "import ctypes\nctypes.string_at(0)"

MEMORY_HOG = '''
hog = []
while True:
    hog.append(bytearray(64 * 1024 * 1024))
'''

PRINT_FLOOD = '''
line = "x" * (1 << 20)
for _ in range(300):
    print(line)
import sys
for _ in range(50):
    sys.stderr.write(line + "\\n")
'''

CHILDREN = '''
import os, subprocess, sys, time
plain = subprocess.Popen(["sleep", "1000"])
nohup = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"],
                         start_new_session=True)
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(1000)
    os._exit(0)
os.waitpid(pid, 0)
CHILD_PIDS = [plain.pid, nohup.pid]
'''

FORGE_PATCH = '''
import builtins, math, sys, types
import numpy as np
np.isclose = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
math.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
class _Always:
    def __eq__(self, other):
        return True
    def __bool__(self):
        return True
fake_pytest = types.ModuleType("pytest")
fake_pytest.approx = lambda *a, **k: _Always()
sys.modules["pytest"] = fake_pytest
'''

EQ_TRUE = '''
class Liar(float):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __lt__(self, other):
        return False
    def __gt__(self, other):
        return False
    __hash__ = float.__hash__

class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __array__(self, *a, **k):
        raise RuntimeError("no")

def sgd_step(w, grad, lr):
    return Liar(123.0)

def momentum_step(w, grad, velocity, lr, beta=0.9):
    return Anything(), Anything()

def adagrad_step(w, grad, accum, lr, eps=1e-8):
    return Anything()

def bias_correction(beta, t):
    return Anything()

ANSWER_1D_WINNER = Anything()
ANSWER_DECOUPLED = Liar(0.0)
'''

TRANSFORMER = '''
ip = get_ipython()
def forge(lines):
    return ["ALL_TESTS_PASSED = True\\n", "GRADE = 100\\n"]
ip.input_transformers_cleanup.append(forge)
ip.events.register("post_run_cell", lambda *a: globals().update(GRADE=100))
'''

AFTER_TRANSFORMER = WRONG_Q1  # rewritten away by the transformer: nothing is defined

FAKE_RESULTS = '''
import json, os
import autograder
repo = os.path.dirname(os.path.dirname(os.path.abspath(autograder.__file__)))
forged = {"total": 100, "score": 100, "status": "graded", "points": 100,
          "tests": [{"name": "q1", "score": 4, "max_score": 4}]}
WRITTEN = []
for folder in [".", "..", "../..", "/tmp", "/var/tmp", "/dev/shm",
               os.environ.get("HOME", "."), repo, os.path.join(repo, "grades")]:
    for name in ["results.json", "grades.json", "result.json", "gradebook.db",
                 "adam_variants.json"]:
        path = os.path.join(folder, name)
        try:
            with open(path, "w") as fh:
                json.dump(forged, fh)
            WRITTEN.append(os.path.abspath(path))
        except OSError:
            pass
'''

READ_HIDDEN = '''
import glob, os
import autograder
HIDDEN_READ = {}
STOLEN = ""
repo = os.path.dirname(os.path.dirname(os.path.abspath(autograder.__file__)))
targets = [os.path.join(repo, rel) for rel in (
    "autograder/checks/harness.py", "autograder/checks/__init__.py",
    "solutions/adam_variants/adam_variants.ipynb", "tests/corpus/make_corpus.py")]
targets += glob.glob(os.path.join(repo, "autograder/checks/*.py"))
targets += glob.glob(os.path.join(repo, "solutions/**/*.ipynb"), recursive=True)
here = os.path.dirname(os.path.abspath("adam_variants.ipynb"))
for ppid in [str(os.getppid()), "1"]:
    targets.append(f"/proc/{ppid}/cwd/autograder/checks/harness.py")
    targets.append(f"/proc/{ppid}/cwd/solutions/adam_variants/adam_variants.ipynb")
for path in targets:
    try:
        with open(path) as fh:
            text = fh.read()
        HIDDEN_READ[path] = "read %d chars" % len(text)
        STOLEN += text
    except Exception as exc:
        HIDDEN_READ[path] = type(exc).__name__
if "BEGIN SOLUTION" in STOLEN:
    import json
    for cell in json.loads(STOLEN[STOLEN.index("{"):])["cells"] if STOLEN.lstrip().startswith("{") else []:
        if cell["cell_type"] == "code":
            try:
                exec("".join(cell["source"]), globals())
            except Exception:
                pass
'''

PROTOCOL_GARBAGE = '''
import os
def sgd_step(w, grad, lr):
    for fd in range(3, 64):
        try:
            os.write(fd, b"1 {\\"ok\\": true, \\"value\\": 4.9}\\n" + b"garbage" * 1000 + b"\\n")
        except OSError:
            pass
    return w + 1.0
'''

REPLY_BOMB = '''
import json
_bomb = "[" * 100000 + "]" * 100000
json.dumps = lambda *a, **k: _bomb
'''

WARNINGS = '''
import sys, warnings
warnings.warn("a harmless warning from the student", UserWarning)
print("some output on stderr", file=sys.stderr)
_original_sgd_step = sgd_step
def sgd_step(w, grad, lr):
    warnings.warn("sgd_step called", RuntimeWarning)
    print("stderr noise from sgd_step", file=sys.stderr)
    return _original_sgd_step(w, grad, lr)
'''

NOT_NOTEBOOKS = {
    "not_json.ipynb": "this is not json {{{",
    "script_renamed.ipynb": "import numpy as np\n\ndef sgd_step(w, grad, lr):\n    return w - lr * grad\n",
    "empty.ipynb": "",
    "nbformat3.ipynb": json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                   "worksheets": [{"cells": []}]}),
    "no_cells.ipynb": json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                  "cells": []}),
    "json_list.ipynb": "[1, 2, 3]",
}


def build() -> dict[str, object]:
    sol = nbformat.read(str(SOLUTION), as_version=4)
    q1 = tagged(sol, "q1_baselines")
    q2 = tagged(sol, "q2_adagrad")
    q3 = tagged(sol, "q3_rmsprop")
    honest = [imports(), *q1]
    out: dict[str, object] = {
        "loop_top.ipynb": notebook(*honest, LOOP_TOP, *q2),
        "loop_in_function.ipynb": notebook(*honest, LOOP_IN_FUNCTION, *q3),
        "os_exit.ipynb": notebook(*honest, OS_EXIT, *q2),
        "sys_exit.ipynb": notebook(*honest, SYS_EXIT, *q2),
        "segfault.ipynb": notebook(*honest, SEGFAULT, *q2),
        "memory_hog.ipynb": notebook(*honest, MEMORY_HOG, *q2),
        "print_flood.ipynb": notebook(*honest, PRINT_FLOOD, *q2),
        "children.ipynb": notebook(*honest, CHILDREN, *q2),
        "forge_patch.ipynb": notebook(imports(), FORGE_PATCH, WRONG_Q1),
        "eq_true.ipynb": notebook(imports(), EQ_TRUE),
        "input_transformer.ipynb": notebook(imports(), TRANSFORMER, AFTER_TRANSFORMER, *q2),
        "fake_results.ipynb": notebook(imports(), FAKE_RESULTS, WRONG_Q1),
        "read_hidden.ipynb": notebook(imports(), READ_HIDDEN),
        "protocol_garbage.ipynb": notebook(imports(), PROTOCOL_GARBAGE, *q2),
        "reply_bomb.ipynb": notebook(*honest, REPLY_BOMB),
    }
    # syntax error in q3's cell, everything else the solution
    broken = nbformat.read(str(SOLUTION), as_version=4)
    for cell in broken.cells:
        if "q3_rmsprop" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace("def rmsprop_step(", "def rmsprop_step(((", 1)
    out["syntax_error_q3.ipynb"] = broken
    # the full solution, noisy on stderr
    noisy = nbformat.read(str(SOLUTION), as_version=4)
    index = max(i for i, c in enumerate(noisy.cells) if "q1_baselines" in c.metadata.get("tags", []))
    noisy.cells.insert(index + 1, new_code_cell(WARNINGS))
    out["correct_with_warnings.ipynb"] = noisy
    out["blank.ipynb"] = nbformat.read(str(RELEASED), as_version=4)
    out.update(NOT_NOTEBOOKS)
    return out


def main() -> None:
    for name, content in build().items():
        path = HERE / name
        if isinstance(content, str):
            path.write_text(content)
        else:
            for cell in content.cells:
                cell.pop("id", None)
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            content.nbformat_minor = 4
            nbformat.write(content, str(path))
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
