"""Containment as a hostile student meets it, as root and as an ordinary user.

Each mechanism has its attack notebook: rewrite the hidden suite, the kit or the
solution (``tamper``); read the solution or a classmate's notebook, through
``/proc`` too (``snoop``); make a user namespace or a mount, open io_uring, load
a BPF program, trace, make keys (``escape``); relay code to the next
submission through the uid's keyring (``keyring_store`` then ``keyring_load``).
None defines a single function of its own, so each must earn 0, and so must a
blank notebook graded after them; the kit's files must be unchanged afterwards.

The corpus is graded by ``python -m autograder grade`` (what ``make grade``
runs) on a copy of the kit: as root (``root-namespaces``), and as the ordinary
user ``nobody`` with a virtual environment of its own (``user-namespaces``).
Where no sandbox is possible (simulated with ``AUTOGRADER_NO_USERNS=1``) the
kit refuses without ``--unconfined``, and with it marks every output, and a
notebook that rewrites the hidden suite stops the run. The filter's rules,
the suite's fingerprint and the refusal are also tested directly (fast).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from adam import ASSIGNMENT, ASSIGNMENT_ID

from autograder.assignment.model import load
from autograder.checks import suite_guard
from autograder.cli import grade as grade_command
from autograder.cli import grade_one as cli
from autograder.engine import containment
from autograder.engine.grade import grade_one
from autograder.sandbox import isolation, syscall_filter

ROOT = Path(__file__).resolve().parent.parent
KIT_PARTS = ("autograder", "solutions", "assignments", "pyproject.toml")
X86_64 = platform.machine() == "x86_64"
NEEDS_ROOT = pytest.mark.skipif(
    not isolation.running_as_root(), reason="building the kit copy and switching users needs root"
)

# --------------------------------------------------------------------------- the corpus

TAMPER = '''
import glob
HOOK = """
import pytest
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""
TAMPERED = {{}}
for path in [{conftest!r}, {run_checks!r}, {solution!r},
             *glob.glob("/tmp/autograder-suite-*/*/checks/conftest.py")]:
    try:
        with open(path, "a") as fh:
            fh.write(HOOK)
        TAMPERED[path] = "written"
    except OSError as exc:
        TAMPERED[path] = exc.errno
print("TAMPERED", TAMPERED)
'''

SNOOP = """
import glob, json
FOUND = {{}}
candidates = [{solution!r}, {classmate!r}, *glob.glob("/proc/*/cwd/*.ipynb"),
              *glob.glob("/proc/*/cwd/*/*.ipynb"), *glob.glob("/proc/*/root{solution}")]
for path in candidates:
    try:
        text = open(path).read()
    except OSError:
        continue
    FOUND[path] = len(text)
    for cell in json.loads(text).get("cells", []):
        if cell.get("cell_type") == "code":
            try:
                exec("".join(cell["source"]), globals())
            except Exception:
                pass
for path in glob.glob("/proc/*/environ"):
    try:
        if b"AUTOGRADER_SUITE" in open(path, "rb").read():  # only the grader has it
            FOUND[path] = "grader environment"
    except OSError:
        pass
print("FOUND", FOUND)
"""

ESCAPE = """
import ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
def outcome(result):
    return 0 if result >= 0 else ctypes.get_errno()
params = ctypes.create_string_buffer(240)
CALLS = {
    "add_key": (248, b"user", b"relay", b"x", 1, -4),
    "keyctl": (250, 0, -4, 0),
    "request_key": (249, b"user", b"relay", None, 0),
    "io_uring_setup": (425, 1, params),
    "bpf": (321, 0, None, 0),
    "perf_event_open": (298, None, 0, -1, -1, 0),
    "userfaultfd": (323, 0),
    "ptrace": (101, 0, 0, 0, 0),
    "setns": (308, -1, 0),
    "pivot_root": (155, b".", b"."),
    "umount2": (166, b"/tmp", 0),
    "open_by_handle_at": (304, -1, None, 0),
    "init_module": (175, None, 0, b""),
    "finit_module": (313, -1, b"", 0),
    "kexec_load": (246, 0, 0, None, 0),
    "clone3": (435, None, 0),
}
DENIED = {name: outcome(libc.syscall(*args)) for name, args in CALLS.items()}
DENIED["unshare_user"] = outcome(libc.unshare(0x10000000))
DENIED["unshare_mount"] = outcome(libc.unshare(0x00020000))
DENIED["mount"] = outcome(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
child = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWUSER | SIGCHLD)
if child == 0:
    import os
    os._exit(0)
DENIED["clone_newuser"] = outcome(child)
DENIED["unshare_command"] = subprocess.run(["unshare", "-U", "-r", "true"],
                                           capture_output=True).returncode
print("DENIED", DENIED)
"""

KEYRING_STORE = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
CODE = b"def sgd_step(w, grad, lr):\\n    return w - lr * grad\\n"
STORED = []
for ring in (-4, -5, -3):  # the user, user-session and session keyrings
    key = libc.syscall(248, b"user", b"relay", CODE, len(CODE), ring)
    STORED.append(key if key > 0 else -ctypes.get_errno())
print("STORED", STORED)
"""

KEYRING_LOAD = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
LOADED = []
for ring in (-4, -5, -3):
    key = libc.syscall(250, 10, ring, b"user", b"relay", 0)  # KEYCTL_SEARCH
    if key > 0:
        buf = ctypes.create_string_buffer(4096)
        size = libc.syscall(250, 11, key, buf, 4096)  # KEYCTL_READ
        exec(buf.raw[:size].decode(), globals())
        LOADED.append(ring)
print("LOADED", LOADED)
"""


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources],
        metadata={"autograder": {"assignment": ASSIGNMENT_ID}},
    )
    nbformat.write(nb, str(path))
    return path


def _corpus(folder: Path, kit: Path, names: tuple[str, ...]) -> None:
    """The attack notebooks (paths of ``kit`` filled in) and a classmate, under ``folder``."""
    solution = kit / "solutions" / ASSIGNMENT_ID / f"{ASSIGNMENT_ID}.ipynb"
    paths = {
        "conftest": str(kit / "solutions" / ASSIGNMENT_ID / "checks" / "conftest.py"),
        "run_checks": str(kit / "autograder" / "run_checks.py"),
        "solution": str(solution),
        "classmate": str(folder / "z_classmate.ipynb"),
    }
    sources = {
        "tamper": TAMPER.format(**paths),
        "snoop": SNOOP.format(**paths),
        "escape": ESCAPE,
        "keyring_store": KEYRING_STORE,
        "keyring_load": KEYRING_LOAD,
        "blank": "x = 1",
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        _notebook(folder / f"{name}.ipynb", sources[name.split("_", 1)[1]])
    shutil.copyfile(solution, folder / "z_classmate.ipynb")  # a classmate with full marks


def _tree_digest(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --------------------------------------------------------------------------- a kit copy


class KitCopy:
    """A copy of the kit and a virtual environment of its own, owned by ``user``."""

    def __init__(self, user: str | None):
        self.user = user
        self.top = Path(tempfile.mkdtemp(prefix="kit-copy-", dir="/tmp"))
        self.top.chmod(0o755)
        self.kit = self.top / "kit"
        self.kit.mkdir()
        for part in KIT_PARTS:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(
                    source, self.kit / part, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copyfile(source, self.kit / part)
        self.env = self.top / "env"
        base = Path(os.path.realpath(sys.base_prefix)) / "bin" / "python3"
        subprocess.run([str(base), "-m", "venv", "--without-pip", str(self.env)], check=True)
        site = next((self.env / "lib").glob("python3*/site-packages"))
        packages = next(
            p
            for p in map(Path, sys.path)
            if p.name == "site-packages" and str(p).startswith(os.path.realpath(sys.prefix))
        )
        (site / "kit.pth").write_text(f"{self.kit}\n{packages}\n")
        self.home = self.top / "home"
        self.home.mkdir()
        if user is not None:
            subprocess.run(["chown", "-R", user, str(self.top)], check=True)
        self.root_mode = Path("/root").stat().st_mode & 0o7777

    def __enter__(self) -> KitCopy:
        Path("/root").chmod(self.root_mode | 0o711 if self.user else self.root_mode)
        return self

    def __exit__(self, *exc: object) -> None:
        Path("/root").chmod(self.root_mode)
        shutil.rmtree(self.top, ignore_errors=True)

    def grade(
        self, submissions: Path, out: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        base = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "MPLCONFIGDIR": str(self.home / "mpl"),
            **(env or {}),
        }
        argv = [
            str(self.env / "bin" / "python"),
            "-m",
            "autograder",
            "grade",
            str(submissions),
            "--out",
            str(out),
            "--jobs",
            "1",
            "--seed",
            "1",
            *args,
        ]
        if self.user:
            argv = [
                "runuser",
                "-u",
                self.user,
                "--",
                "env",
                "-i",
                *(f"{k}={v}" for k, v in base.items()),
                *argv,
            ]
        else:
            argv = ["env", "-i", *(f"{k}={v}" for k, v in base.items()), *argv]
        return subprocess.run(argv, cwd=self.kit, capture_output=True, text=True, timeout=1500)


def _userns_for(user: str) -> bool:
    probe = subprocess.run(
        [
            "runuser",
            "-u",
            user,
            "--",
            "unshare",
            "-U",
            "-r",
            "-m",
            "-p",
            "-f",
            "--mount-proc",
            "true",
        ],
        capture_output=True,
    )
    return probe.returncode == 0


def _outputs(results: Path, name: str) -> str:
    data = json.loads((results / f"{name}.json").read_text())
    return "\n".join(c["output"] for c in data["cells"])


def _last_dict(text: str, label: str) -> object:
    line = [line for line in text.splitlines() if line.startswith(label + " ")][-1]
    return eval(line[len(label) + 1 :])  # our own corpus's printed dict


CORPUS = ("a_tamper", "b_snoop", "c_escape", "d_keyring_store", "e_keyring_load", "f_blank")


def _check_corpus(
    kit: KitCopy, run: subprocess.CompletedProcess, out: Path, mode: str, before: dict[str, str]
) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert sorted(rows) == sorted([*CORPUS, "z_classmate"])
    for name in CORPUS:
        assert rows[name]["status"] == "graded", rows[name]
        assert float(rows[name]["total"]) == 0.0, (name, rows[name])
        assert rows[name]["containment"] == mode
    results = out / "results"
    tampered = _last_dict(_outputs(results, "a_tamper"), "TAMPERED")
    assert tampered and all(
        v in (errno.ENOENT, errno.EROFS, errno.EACCES) for v in tampered.values()
    ), tampered
    assert _last_dict(_outputs(results, "b_snoop"), "FOUND") == {}
    denied = _last_dict(_outputs(results, "c_escape"), "DENIED")
    expected = {name: errno.EPERM for name in denied}
    expected["clone3"] = errno.ENOSYS
    expected["unshare_command"] = denied["unshare_command"] or 1
    assert denied == expected
    stored = _last_dict(_outputs(results, "d_keyring_store"), "STORED")
    assert stored == [-errno.EPERM] * 3
    assert _last_dict(_outputs(results, "e_keyring_load"), "LOADED") == []
    assert _tree_digest(kit.kit) == before  # the kit, the hidden suite, the solution


@pytest.mark.slow
@NEEDS_ROOT
@pytest.mark.skipif(not X86_64, reason="the escape notebook uses x86_64 system call numbers")
def test_the_hostile_corpus_earns_nothing_as_root():
    with KitCopy(None) as kit:
        subs, out = kit.top / "submissions", kit.top / "grades"
        _corpus(subs, kit.kit, CORPUS)
        before = _tree_digest(kit.kit)
        run = kit.grade(subs, out)
        _check_corpus(kit, run, out, "root-namespaces", before)


@pytest.mark.slow
@NEEDS_ROOT
@pytest.mark.skipif(not X86_64, reason="the escape notebook uses x86_64 system call numbers")
@pytest.mark.skipif(shutil.which("runuser") is None, reason="runuser is not installed")
def test_the_hostile_corpus_earns_nothing_as_an_ordinary_user():
    if not _userns_for("nobody"):
        pytest.skip("this kernel refuses unprivileged user namespaces")
    with KitCopy("nobody") as kit:
        subs, out = kit.top / "submissions", kit.top / "grades"
        _corpus(subs, kit.kit, CORPUS)
        subprocess.run(["chown", "-R", "nobody", str(subs)], check=True)
        before = _tree_digest(kit.kit)
        run = kit.grade(subs, out)
        _check_corpus(kit, run, out, "user-namespaces", before)
        assert "containment: user-namespaces" in run.stderr
        owner = kit.kit.stat().st_uid  # the run's private copy of the suite is gone
        assert not [p for p in Path("/tmp").glob("autograder-suite-*") if p.stat().st_uid == owner]


@pytest.mark.slow
@NEEDS_ROOT
@pytest.mark.skipif(shutil.which("runuser") is None, reason="runuser is not installed")
def test_without_a_sandbox_grading_is_refused_then_marked_and_a_tampered_suite_stops_it():
    with KitCopy("nobody") as kit:
        subs, out = kit.top / "submissions", kit.top / "grades"
        _corpus(subs, kit.kit, ("a_blank", "b_tamper", "c_blank"))
        (subs / "z_classmate.ipynb").unlink()
        subprocess.run(["chown", "-R", "nobody", str(subs)], check=True)
        off = {containment.NO_USERNS_VAR: "1"}
        refused = kit.grade(subs, out, env=off)
        assert refused.returncode == 2 and "refusing to grade" in refused.stderr
        assert "--unconfined" in refused.stderr and not (out / "grades.csv").exists()

        run = kit.grade(subs, out, "--unconfined", env=off)
        assert run.returncode == 4, run.stderr[-3000:]
        assert "UNCONFINED" in run.stderr
        assert "hidden suite or the kit changed" in run.stderr and "conftest.py" in run.stderr
        rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
        assert rows["a_blank"]["containment"] == "unconfined"
        assert float(rows["a_blank"]["total"]) == 0.0
        assert rows["b_tamper"]["status"] == "error" and float(rows["b_tamper"]["total"]) == 0.0
        assert "c_blank" not in rows  # the run stopped before it
        assert "UNCONFINED" in (out / "report.html").read_text()
        assert "UNCONFINED" in (out / "feedback" / "a_blank.html").read_text()


# --------------------------------------------------------------------------- fast checks


def _in_filtered_child(code) -> int:  # a callable run after the filter
    """Run ``code()`` in a forked child under the filter; its exit status."""
    pid = os.fork()
    if pid == 0:
        status = 70
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
            syscall_filter.install()
            status = code(libc)
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not syscall_filter.available()[0], reason="libseccomp is not installed")
@pytest.mark.skipif(not X86_64, reason="x86_64 system call numbers")
def test_the_filter_denies_each_listed_call_and_lets_the_rest_run():
    def probe(libc) -> int:
        """Namespaces and mounts denied, clone3 missing, a plain fork still works."""
        denied = [
            libc.unshare(0x10000000),
            libc.mount(b"none", b"/mnt", b"tmpfs", 0, None),
            libc.syscall(56, 0x00020000 | 17, 0, 0, 0, 0),
        ]  # clone(CLONE_NEWNS)
        if 0 in denied:
            os._exit(0)  # a child clone(2) made: it must not go on
        errnos = [ctypes.get_errno()]
        clone3 = libc.syscall(435, None, 0)
        errnos.append(ctypes.get_errno())
        fork = os.fork()  # plain clone: allowed
        if fork == 0:
            os._exit(0)
        os.waitpid(fork, 0)
        ok = denied == [-1, -1, -1] and clone3 == -1 and errnos == [errno.EPERM, errno.ENOSYS]
        return 0 if ok else 1

    assert _in_filtered_child(probe) == 0
    for name, number, args in (
        ("add_key", 248, (b"user", b"k", b"v", 1, -4)),
        ("io_uring_setup", 425, (1, None)),
        ("perf_event_open", 298, (None, 0, -1, -1, 0)),
        ("userfaultfd", 323, (0,)),
        ("open_by_handle_at", 304, (-1, None, 0)),
        ("finit_module", 313, (-1, b"", 0)),
        ("setns", 308, (-1, 0)),
    ):

        def one(libc, number=number, args=args) -> int:
            return (
                0 if libc.syscall(number, *args) == -1 and ctypes.get_errno() == errno.EPERM else 1
            )

        assert _in_filtered_child(one) == 0, name


def test_a_changed_suite_is_caught_before_the_next_submission(tmp_path):
    folder = tmp_path / ASSIGNMENT_ID
    shutil.copytree(
        ROOT / "solutions" / ASSIGNMENT_ID, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    assignment = load(str(folder))
    suite = suite_guard.begin_run(assignment)
    try:
        assert (suite.checks_dir / "conftest.py").read_text() == (
            folder / "checks" / "conftest.py"
        ).read_text()
        assert not suite.checks_dir.is_relative_to(folder)
        suite.verify()  # unchanged: nothing raised
        with open(folder / "checks" / "conftest.py", "a") as fh:
            fh.write("\n# a hook a submission appended\n")
        with pytest.raises(suite_guard.SuiteChanged, match="checks/conftest.py"):
            suite.verify()
        shutil.copyfile(
            ROOT / "solutions" / ASSIGNMENT_ID / "checks" / "conftest.py",
            folder / "checks" / "conftest.py",
        )
        suite.verify()
        (suite.checks_dir / "test_q99_planted.py").write_text("def test_x():\n    pass\n")
        with pytest.raises(suite_guard.SuiteChanged, match="private copy"):
            suite.verify()
    finally:
        suite.remove()
        suite_guard._SUITE = None
        for var in (suite_guard.SHA_VAR, suite_guard.COPY_VAR, suite_guard.FOR_VAR):
            os.environ.pop(var, None)


def test_unconfined_is_refused_unless_asked(tmp_path, monkeypatch, capsys):
    mode = containment.Unconfined(why="not root and no user namespaces (test)")
    monkeypatch.setattr(containment, "current", lambda: mode)
    monkeypatch.delenv(containment.UNCONFINED_VAR, raising=False)
    subs = tmp_path / "subs"
    subs.mkdir()
    _notebook(subs / "a.ipynb", "x = 1")
    assert grade_command.main([str(subs), "--out", str(tmp_path / "grades")]) == 2
    assert "refusing to grade" in capsys.readouterr().err
    assert not (tmp_path / "grades").exists()
    assert cli.main([str(subs / "a.ipynb")]) == 2
    with pytest.raises(containment.ContainmentRefused, match="--unconfined"):
        grade_one(subs / "a.ipynb", ASSIGNMENT)
    containment.allow_unconfined()
    assert containment.require() is mode
    monkeypatch.delenv(containment.UNCONFINED_VAR)


@NEEDS_ROOT
def test_a_slots_keyrings_are_emptied_when_its_submission_ends():
    uid = isolation.UID_BASE + isolation.MAX_SLOTS - 1

    def as_uid(action: str) -> int:
        pid = os.fork()
        if pid == 0:
            code = 70
            with contextlib.suppress(BaseException):
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                libc = ctypes.CDLL(None, use_errno=True)
                if action == "store":
                    code = 0 if libc.syscall(248, b"user", b"relay", b"x", 1, -4) > 0 else 1
                else:
                    code = 0 if libc.syscall(250, 10, -4, b"user", b"relay", 0) > 0 else 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    assert as_uid("store") == 0
    assert as_uid("find") == 0  # a key outlives the process that made it...
    containment.clear_keyrings(uid)
    assert as_uid("find") == 1  # ...until the slot's keyrings are cleared


def test_a_result_graded_unconfined_says_so_on_every_page():
    from autograder.integrations.gradescope import results_json
    from autograder.results import SubmissionResult
    from autograder.staff.feedback import render_feedback
    from autograder.staff.final_grades import final_grade
    from autograder.staff.outputs import grades_columns, grades_rows
    from autograder.staff.report import render_report

    plain = SubmissionResult.failed("a", "graded", "", ASSIGNMENT, seed=1)
    plain.limits = {"containment": "root-namespaces"}
    loose = SubmissionResult.failed("b", "graded", "", ASSIGNMENT, seed=1)
    loose.limits = {"containment": "unconfined"}
    assert "UNCONFINED" not in results_json(plain, ASSIGNMENT)["output"]
    assert results_json(loose, ASSIGNMENT)["output"].startswith("UNCONFINED")
    assert "UNCONFINED" not in render_feedback(plain, ASSIGNMENT)
    assert "UNCONFINED" in render_feedback(loose, ASSIGNMENT)
    grades = [final_grade(plain, ASSIGNMENT), final_grade(loose, ASSIGNMENT)]
    column = list(grades_columns(ASSIGNMENT)).index("containment")
    assert [row[column] for row in grades_rows(grades, ASSIGNMENT)] == [
        "root-namespaces",
        "unconfined",
    ]
    assert "UNCONFINED" not in render_report([plain], grades[:1], ASSIGNMENT)
    assert "UNCONFINED" in render_report([plain, loose], grades, ASSIGNMENT)


def test_nbgrader_test_cells_say_unconfined_without_costing_points(monkeypatch, tmp_path):
    from autograder.integrations import gradescope
    from autograder.integrations.nbgrader_grading import SandboxExecute
    from autograder.results import SubmissionResult

    modes = []

    def fake(path, assignment, seed=None):  # grade_submission_file's stand-in
        result = SubmissionResult.failed("s", "graded", "", ASSIGNMENT, seed=1)
        result.limits = {"containment": modes[-1]}
        return result

    monkeypatch.setattr(gradescope, "grade_submission_file", fake)
    for mode, expected in (("unconfined", 1), ("user-namespaces", 0)):
        modes.append(mode)
        cell = nbformat.v4.new_code_cell(
            "assert True",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "grade_id": "hidden__q1__x",
                    "points": 1,
                }
            },
        )
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), cell])
        out, _ = SandboxExecute().preprocess(nb, {})
        banners = [
            o for o in out.cells[1].outputs if o.output_type == "stream" and "UNCONFINED" in o.text
        ]
        assert len(banners) == expected and all(o.name == "stdout" for o in banners)
