"""Run an assignment's hidden check suite (``solutions/<id>/checks``) against one submission.

``run_checks`` calls ``pytest.main`` on the suite with a plugin object that
provides the fixtures (``student``, ``seed``, ``rng``, ``device``, ``source``,
``artifacts``) and collects every check's outcome from the report hooks.

Grading rules implemented here:

* Points come from ``@pytest.mark.points(n)``; a passed check earns them all.
* No double jeopardy: checks marked ``@pytest.mark.builds_on(*names)`` run
  after every other check; right before the first of them, the reference
  definitions of all those names (from the solution notebook, see
  :mod:`autograder.checks.reference_source`) are substituted into the submission once.
* cuda: a check marked ``@pytest.mark.cuda_only(twin)`` that is skipped
  because no GPU is present earns its points iff its CPU twin (the check named
  ``twin`` in the same module) passed; the message says so.
* Messages are student-facing: a :class:`CheckFailed` or ``StudentError``
  message, never a traceback. An unexpected exception inside a check becomes
  "the check could not run: <ExcType>", and its traceback goes to the
  ``autograder.checks.run_checks`` logger for staff.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.assignment.model import Assignment
from autograder.checks.checking import CheckFailed, take_review_notes
from autograder.checks.student import StudentError
from autograder.inside.probes import NOT_DEFINED, NOT_IMPLEMENTED
from autograder.results import CheckResult, QuestionResult

log = logging.getLogger(__name__)

_PACKAGE = "checks"
"""The name pytest gives an assignment's ``checks/`` folder (it holds an ``__init__.py``)."""
_ABSENT = object()
MARKERS = (
    "points(n): points this check is worth",
    "builds_on(*names): graded with the reference versions of these names substituted",
    "fixed: a check on fixed inputs (printed in the course material), passable by hard-coding",
    "cuda_only(twin): needs cuda; when skipped, earns its points iff the CPU twin passed",
)
DEFAULT_SEED = 0
"""The seed for runs that are given none; the engine draws and records its own."""


def question_of(module_name: str) -> str:
    """``test_q2_name`` -> ``q2_name``."""
    base = module_name.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    base = base[:-3] if base.endswith(".py") else base
    return base[len("test_") :] if base.startswith("test_") else base


class _NamedStudent:
    """Passes calls through to the student, naming the function in error messages."""

    def __init__(self, student: Any, assignment: Assignment):
        self._student = student
        self._assignment = assignment
        self.calls = 0

    def _wrap(self, name: str, fn, *args, **kwargs):
        self.calls += 1
        try:
            return fn(*args, **kwargs)
        except StudentError as exc:
            message = exc.message
            if f"`{name}`" not in message:
                message = f"`{name}` {message}"
            raise StudentError(exc.kind, message) from None

    def has(self, name: str) -> bool:
        return self._student.has(name)

    def value(self, name: str) -> Any:
        return self._wrap(name, self._student.value, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._wrap(name, self._student.call, name, *args, **kwargs)

    def call_inspect(self, name: str, *args: Any, **kwargs: Any):
        return self._wrap(name, self._student.call_inspect, name, *args, **kwargs)

    def probe(self, probe: str, **params: Any) -> Any:
        module = self._assignment.module("probes")
        target = getattr(module, "PROBE_NAMES", {}).get(probe, probe)
        return self._wrap(target, self._student.probe, probe, **params)


class _Plugin:
    """Fixtures for the suite and a collector of outcomes."""

    def __init__(
        self,
        student: Any,
        assignment: Assignment,
        seed: int,
        device: str,
        source: str | None,
        artifacts: dict,
        questions: list[str] | None,
    ):
        self.raw_student = student
        self.assignment = assignment
        self.named = _NamedStudent(student, assignment)
        self._seed = int(seed)
        self._device = device
        self._source = source
        self._artifacts = artifacts
        self.questions = questions
        self.outcomes: dict[str, dict] = {}
        self.substituted = False
        self.substitute_error = ""
        self.substituted_names: list[str] = []
        self.staff_log: list[str] = []
        self.restore: dict[str, Any] = {}
        self.questions_after: dict[str, list[str]] = {}

    def undo_substitution(self) -> None:
        """Put an in-process student's own definitions back (a kernel keeps working after)."""
        namespace = getattr(self.raw_student, "namespace", None)
        if not isinstance(namespace, dict):
            return
        for name, value in self.restore.items():
            if value is _ABSENT:
                namespace.pop(name, None)
            else:
                namespace[name] = value

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture
    def student(self):
        return self.named

    @pytest.fixture
    def seed(self) -> int:
        return self._seed

    @pytest.fixture
    def rng(self, request) -> np.random.Generator:
        """A generator per check, from the grading seed and the check's name."""
        return np.random.default_rng([self._seed, zlib.crc32(request.node.name.encode())])

    @pytest.fixture
    def device(self) -> str:
        return self._device

    @pytest.fixture
    def source(self) -> str:
        if self._source is None:  # more code than the grader parses: such a check fails
            raise StudentError(
                "too_large",
                "the notebook holds more code than the grader "
                "reads, so this check of the code itself could not run",
            )
        return self._source

    @pytest.fixture
    def artifacts(self) -> dict:
        return self._artifacts

    # ------------------------------------------------------------------ hooks
    def pytest_configure(self, config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        if self.questions is not None:
            wanted = set(self.questions)
            items[:] = [i for i in items if question_of(i.module.__name__) in wanted]
        base = [i for i in items if i.get_closest_marker("builds_on") is None]
        later = [i for i in items if i.get_closest_marker("builds_on") is not None]
        items[:] = base + later
        order = [question_of(i.module.__name__) for i in items]
        self.questions_after = {i.nodeid: order[k + 1 :] for k, i in enumerate(items)}
        names: list[str] = []
        for item in later:
            for name in item.get_closest_marker("builds_on").args:
                if name not in names:
                    names.append(name)
        self.substituted_names = names

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.staff_log.append(f"collection failed: {report.nodeid}: {report.longreprtext}")
            log.error("hidden check collection failed: %s\n%s", report.nodeid, report.longreprtext)

    def pytest_runtest_setup(self, item) -> None:
        self.raw_student.enter_question(
            question_of(item.module.__name__), self.questions_after.get(item.nodeid, [])
        )
        if item.get_closest_marker("builds_on") is not None and not self.substituted:
            self.substituted = True
            namespace = getattr(self.raw_student, "namespace", None)
            if isinstance(namespace, dict):  # in-process (in-kernel): undo after grading
                self.restore = {n: namespace.get(n, _ABSENT) for n in self.substituted_names}
            try:
                from autograder.checks.reference_source import reference_source

                source = reference_source(self.substituted_names, self.assignment.solution_notebook)
                self.raw_student.substitute(self.substituted_names, source)
            except Exception as exc:  # recorded for staff, shown as a failure
                self.substitute_error = f"{type(exc).__name__}: {exc}"
                log.exception("substituting the reference definitions failed")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """Record the outcome and return a lean report.

        pytest's own report renders a traceback for every failure (parsing the
        check's source), which costs far more than the checks; nothing here
        needs it, and no traceback must reach a student anyway."""
        from _pytest.reports import TestReport

        excinfo = call.excinfo
        if excinfo is None:
            outcome, longrepr = "passed", None
        elif excinfo.errisinstance(pytest.skip.Exception):
            outcome = "skipped"
            longrepr = (str(item.path), item.location[1] or 0, _skip_reason(call))
        else:
            outcome, longrepr = "failed", f"hidden check failed: {excinfo.typename}"
        report = TestReport(
            item.nodeid,
            item.location,
            {},
            outcome,
            longrepr,
            call.when,
            duration=call.duration,
            start=call.start,
            stop=call.stop,
        )
        notes = take_review_notes()
        if notes:
            entry = self.outcomes.setdefault(item.nodeid, self._entry(item))
            entry["review"] = "; ".join(dict.fromkeys([*filter(None, [entry["review"]]), *notes]))
        self._record(item, call, report)
        return report

    def _record(self, item, call, report) -> None:
        if call.when != "call" and report.passed:
            return
        entry = self.outcomes.setdefault(item.nodeid, self._entry(item))
        if entry["done"]:
            return
        entry["done"] = True
        if report.passed:
            entry.update(passed=True)
            return
        if report.skipped:
            entry.update(skipped=True, message=_skip_reason(call))
            return
        entry.update(_failure(call.excinfo, item.nodeid, self.staff_log))
        if item.get_closest_marker("builds_on") is not None and self.substitute_error:
            entry["message"] = (
                "the reference versions of the functions this builds on "
                "could not be substituted, so this check could not run."
            )

    def _entry(self, item) -> dict:
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker and marker.args else 0.0
        builds = item.get_closest_marker("builds_on")
        cuda = item.get_closest_marker("cuda_only")
        twin = ""
        if cuda is not None:
            twin = str(cuda.kwargs.get("twin") or (cuda.args[0] if cuda.args else ""))
        return {
            "name": item.name,
            "question": question_of(item.module.__name__),
            "points": points,
            "passed": False,
            "skipped": False,
            "message": "",
            "detail": "",
            "diagnosis": "",
            "review": "",
            "done": False,
            "builds_on": list(builds.args) if builds else [],
            "twin": twin,
            "module": item.module.__name__,
        }


def _skip_reason(call) -> str:
    exc = call.excinfo.value if call.excinfo else None
    return str(getattr(exc, "msg", "") or "skipped")


def _failure(excinfo, nodeid: str, staff_log: list[str]) -> dict:
    exc = excinfo.value if excinfo else None
    if isinstance(exc, CheckFailed):
        return {"message": exc.message, "detail": exc.detail, "diagnosis": exc.diagnosis}
    if isinstance(exc, StudentError):
        return {"message": exc.message, "diagnosis": ""}
    if isinstance(exc, pytest.fail.Exception):
        return {"message": str(exc.msg), "diagnosis": ""}
    name = type(exc).__name__ if exc is not None else "error"
    text = excinfo.getrepr(style="short") if excinfo else ""
    staff_log.append(f"{nodeid}: {text}")
    log.error("hidden check %s could not run:\n%s", nodeid, text)
    return {"message": f"the check could not run: {name}", "diagnosis": ""}


def _purge_suite_modules(everything: bool = False) -> None:
    """Forget previously imported test modules so each run starts from fresh module state.

    Helper modules of the suite stay (they hold constants and deterministic caches),
    unless ``everything``: when another assignment's suite runs next."""
    for name in list(sys.modules):
        if everything and (name == _PACKAGE or name.startswith(_PACKAGE + ".")):
            del sys.modules[name]
        elif name.startswith(_PACKAGE + ".test_") or name == _PACKAGE + ".conftest":
            del sys.modules[name]


_ACTIVE: list[Path] = []
"""The assignment folder whose ``checks`` package this process imported last."""


def activate_suite(assignment: Assignment) -> Path:
    """Make ``checks`` name this assignment's suite, from the run's private copy of its folder
    (:mod:`autograder.checks.suite_guard`, verified unchanged): first on sys.path, nothing
    stale left. Returns the copy's ``checks`` folder."""
    from autograder.checks import suite_guard

    suite = suite_guard.current(assignment)
    if suite.assignment != assignment:
        raise RuntimeError(f"the run's suite is {suite.assignment.id}'s, not {assignment.id}'s")
    folder = suite.folder.resolve()
    if _ACTIVE and _ACTIVE[0] != folder:
        _purge_suite_modules(everything=True)
        while str(_ACTIVE[0]) in sys.path:
            sys.path.remove(str(_ACTIVE[0]))
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    sys.path.insert(0, str(folder))
    _ACTIVE[:] = [folder]
    return suite.checks_dir


def _ini_file(checks_dir: Path) -> Path:
    """The suite's own pytest.ini (markers only), or an empty file: never a project's config."""
    ini = checks_dir / "pytest.ini"
    return ini if ini.is_file() else Path(os.devnull)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; ``cuda`` without a GPU -> ``cpu``
    (logged), so a misconfigured run grades on CPU instead of failing every torch check."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        log.warning("device cuda requested but no GPU is available; grading on cpu")
    return "cpu"


def run_checks(
    student: Any,
    *,
    assignment: Assignment,
    seed: int,
    device: str = "cpu",
    questions: list[str] | None = None,
    source: str | None = "",
    artifacts: dict | None = None,
) -> dict[str, QuestionResult]:
    """Run the hidden suite of ``assignment`` on ``student``; one :class:`QuestionResult` per
    contract question.

    ``questions`` limits the run to those question ids (the others come back
    with 0 points and a note). ``source`` is the submission's code (all code
    cells joined) for static checks, None when there was too much of it to parse (every
    check that reads it fails); ``artifacts`` receives plain data for feedback plots.
    """
    device = resolve_device(device)
    artifacts = {} if artifacts is None else artifacts
    take_review_notes()  # nothing left over from an interrupted run
    checks_dir = activate_suite(assignment)
    plugin = _Plugin(student, assignment, seed, device, source, artifacts, questions)
    targets = [str(checks_dir)]
    if questions is not None:
        targets = [
            str(checks_dir / f"test_{q}.py")
            for q in questions
            if (checks_dir / f"test_{q}.py").is_file()
        ]
        if not targets:
            return _results(plugin, questions)
    args = [
        *targets,
        "--assert=plain",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        "-p",
        "no:faulthandler",
        "-p",
        "no:pastebin",
        "-p",
        "no:junitxml",
        "-p",
        "no:doctest",
        "-p",
        "no:warnings",
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-p",
        "no:logging",
        "--capture=sys",
        "-c",
        str(_ini_file(checks_dir)),
        "--rootdir",
        str(checks_dir),
        "--confcutdir",
        str(checks_dir),
    ]
    _purge_suite_modules()
    saved_env = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        code = pytest.main(args, plugins=[plugin])
    finally:
        if saved_env is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved_env
        _purge_suite_modules()
        plugin.undo_substitution()
    if int(code) not in (0, 1):
        log.error("hidden suite ended with pytest exit code %s: %s", code, plugin.staff_log)
    return _results(plugin, questions)


def _results(plugin: _Plugin, questions: list[str] | None) -> dict[str, QuestionResult]:
    by_question: dict[str, list[dict]] = {}
    for entry in plugin.outcomes.values():
        by_question.setdefault(entry["question"], []).append(entry)
    results: dict[str, QuestionResult] = {}
    for q in plugin.assignment.questions:
        entries = by_question.get(q.id, [])
        by_name = {e["name"]: e for e in entries}
        named: dict[str, str] = {}
        checks = []
        for e in entries:
            passed, message, diagnosis = e["passed"], e["message"], e["diagnosis"]
            if e["skipped"] and e["twin"]:
                twin = by_name.get(e["twin"], {})
                passed, message, diagnosis = _twin_outcome(twin)
            if not passed and diagnosis:
                if diagnosis in named:
                    detail = e.get("detail") or message
                    message = (
                        f"{detail} The same mistake as in the first failed check of "
                        "this question explains this one."
                    )
                else:
                    named[diagnosis] = e["name"]
            checks.append(
                CheckResult(
                    name=e["name"],
                    question=q.id,
                    passed=bool(passed),
                    points=e["points"] if passed else 0.0,
                    max_points=e["points"],
                    message=message,
                    diagnosis=diagnosis if not passed else "",
                    review=e["review"],
                )
            )
        note = ""
        if any(e["builds_on"] for e in entries):
            names = [n for e in entries for n in e["builds_on"]]
            sentence = _builds_on_sentence(list(dict.fromkeys(names)), q.id, plugin.assignment)
            note = sentence[0].upper() + sentence[1:] + "."
        if questions is not None and q.id not in questions:
            note = "not graded in this run"
        elif not entries:
            note = "no hidden checks ran for this question"
        points = round(sum(c.points for c in checks), 6)
        results[q.id] = QuestionResult(q.id, points, float(q.points), checks, note)
    return results


def _twin_outcome(twin: dict) -> tuple[bool, str, str]:
    """A skipped cuda-only check counts as its CPU twin: (passed, message, diagnosis)."""
    if twin.get("passed"):
        return True, ("no GPU on the grading machine; credited because its CPU version passed."), ""
    message = twin.get("message", "")
    if NOT_IMPLEMENTED in message or NOT_DEFINED in message:
        return False, message, ""
    return (
        False,
        ("Without a GPU this check counts as its CPU version, which failed."),
        twin.get("diagnosis", ""),
    )


def _builds_on_sentence(names: list[str], question_id: str, assignment: Assignment) -> str:
    """E.g. "graded with the reference f substituted, so a bug there costs points only in
    q1_f"."""
    owners = []
    for name in names:
        try:
            owner = assignment.owner(name)
        except KeyError:
            continue
        if owner != question_id and owner not in owners:
            owners.append(owner)
    where = (
        ", ".join(owners[:-1]) + " and " + owners[-1]
        if len(owners) > 1
        else owners[0]
        if owners
        else "its own question"
    )
    return (
        f"graded with the reference {', '.join(names)} substituted, so a bug there costs "
        f"points only in {where}"
    )


def checks_fingerprint(assignment: Assignment) -> str:
    """sha256 over what decides a grade: the assignment's folder (file, hidden suite, solution,
    student-side modules) and the kit's runner and stand-ins (the rerun cache key)."""
    here = Path(__file__).resolve().parents[1]
    paths = sorted(
        p
        for p in assignment.folder.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".ini", ".toml", ".ipynb", ".json")
        and "__pycache__" not in p.parts
    )
    paths += [
        here / name
        for name in (
            "checks/run_checks.py",
            "checks/reference_source.py",
            "inside/probes.py",
            "inside/remote.py",
            "checks/reference_calls.py",
        )
    ]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(path.parent.parent)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def suite_table(assignment: Assignment) -> list[dict[str, Any]]:
    """Every hidden check of ``assignment`` with its question, points and markers (for docs
    and tests).

    Read from the test functions' pytest marks without running anything."""
    import importlib
    import inspect
    import warnings

    rows: list[dict[str, Any]] = []
    checks_dir = activate_suite(assignment)
    try:
        for path in sorted(checks_dir.glob("test_*.py")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
                module = importlib.import_module(f"{_PACKAGE}.{path.stem}")
            functions = [
                f
                for n, f in inspect.getmembers(module, inspect.isfunction)
                if n.startswith("test_") and f.__module__ == module.__name__
            ]
            functions.sort(key=lambda f: f.__code__.co_firstlineno)
            for fn in functions:
                marks = {m.name: m for m in getattr(fn, "pytestmark", [])}
                rows.append(
                    {
                        "question": question_of(path.stem),
                        "name": fn.__name__,
                        "points": float(marks["points"].args[0]) if "points" in marks else 0.0,
                        "fixed": "fixed" in marks,
                        "builds_on": list(marks["builds_on"].args) if "builds_on" in marks else [],
                        "cuda_only": "cuda_only" in marks,
                    }
                )
    finally:
        _purge_suite_modules()
    return rows
