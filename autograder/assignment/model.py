"""An assignment: one folder of instructor material, loaded by id.

``solutions/<id>/`` holds everything the kit knows about one assignment:

* ``assignment.toml``: its id, notebook name, questions (names, signatures,
  points, bonus), the free response, the limits, the late policy, the feedback
  plots and the student-side modules: the one place for points, names and limits;
* ``<notebook>``: the solution notebook (solutions between ``### BEGIN SOLUTION`` /
  ``### END SOLUTION``), from which ``make release`` makes the student's;
* ``contract.md``: the student-facing contract (released beside the notebook);
* ``public_checks.py``: the self-checks students run (released);
* ``checks/``: the hidden pytest suite (one ``test_<question>.py`` per question,
  ``@pytest.mark.points(n)`` on every check), never released;
* the student-side modules named in the file (fixed probes, stand-ins), loaded
  into every student process by the sandbox's warm parent;
* optionally ``references.py`` (grader-side handlers of stand-in calls),
  ``samples.py`` (sample submissions) and ``data/``.

The kit works on one assignment at a time: ``--assignment ID`` (or ``make ...
ASSIGNMENT=ID``) sets ``$AUTOGRADER_ASSIGNMENT``, which worker processes
inherit (the Makefile sets it from ``ASSIGNMENT``); without it, the only assignment
under ``solutions/`` is the one. An id names ``solutions/<id>/``; a
path names any folder laid out the same way (tests use one).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import tomllib

REPOSITORY = Path(__file__).resolve().parents[2]
SOLUTIONS = REPOSITORY / "solutions"
RELEASES = REPOSITORY / "assignments"
SUBMISSIONS = REPOSITORY / "submissions"
ENV = "AUTOGRADER_ASSIGNMENT"
FILE = "assignment.toml"
LIMIT_NAMES = ("cell_timeout", "call_timeout", "total_timeout", "memory_mb", "checks_share")


EXTRA_CREDIT_MODES = ("separate", "added")


class AssignmentError(ValueError):
    """The assignment folder or file is missing or inconsistent; ``str()`` says where."""


@dataclass(frozen=True)
class Question:
    """One question: its id, points and the names it defines."""

    id: str
    points: int
    functions: dict[str, str] = field(default_factory=dict)
    """Function name -> its signature as the contract writes it (parameters only)."""
    classes: dict[str, str] = field(default_factory=dict)
    """Class name -> base class as the contract writes it."""
    methods: dict[str, dict[str, str]] = field(default_factory=dict)
    """Class name -> method name -> signature."""
    constants: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Constant name -> its allowed answers (the released stub says "one of ...")."""
    bonus: bool = False

    @property
    def names(self) -> list[str]:
        return [*self.functions, *self.classes, *self.constants]


@dataclass(frozen=True)
class LateSettings:
    """Deadline and penalty (see :mod:`autograder.staff.late`)."""

    deadline: str = ""
    grace_minutes: float = 15.0
    penalty_points: float = 10.0
    penalty_unit: str = "day"
    penalty_cap: float = 50.0
    cutoff_hours: float | None = None


@dataclass(frozen=True)
class Plot:
    """A feedback plot: the student's artifact against the reference one."""

    kind: str
    """``trace`` (a list of dicts, ``x`` and ``y`` keys) or ``curves`` (name -> list)."""
    artifact: str
    reference: str
    title: str
    heading: str = ""
    note: str = ""
    matches: str = ""
    """The sentence shown instead of the plot when the student's lines match the reference."""
    x: str = "t"
    y: str = "y"
    xlabel: str = ""
    ylabel: str = ""


@dataclass(frozen=True)
class Assignment:
    """One assignment, as its folder and ``assignment.toml`` describe it."""

    id: str
    folder: Path
    title: str
    notebook: str
    questions: tuple[Question, ...]
    core_points: int
    free_response_points: float = 0.0
    free_response_tag: str = "free_response"
    free_response_prompt: str = ""
    limits: dict[str, float] = field(default_factory=dict)
    late: LateSettings = field(default_factory=LateSettings)
    plots: tuple[Plot, ...] = ()
    student_side: dict[str, str] = field(default_factory=dict)
    extra_credit: str = "separate"
    """Where extra credit (bonus questions and the free response) goes: ``separate``, its
    own gradebook column beside the core score; ``added``, into the assignment's total."""

    # ------------------------------------------------------------------ derived facts
    @property
    def bonus_points(self) -> int:
        return sum(q.points for q in self.questions if q.bonus)

    @property
    def extra_credit_points(self) -> float:
        """The most extra credit a submission can earn (bonus questions + free response)."""
        return self.bonus_points + self.free_response_points

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    @property
    def points(self) -> dict[str, int]:
        return {q.id: q.points for q in self.questions}

    @property
    def bonus_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions if q.bonus)

    def question(self, question_id: str) -> Question:
        """The question with this id; a KeyError names the valid ids."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(
            f"unknown question {question_id!r} of {self.id}; valid ids: "
            f"{', '.join(self.question_ids)}"
        )

    def all_names(self) -> list[str]:
        """Every name a submission must define, in question order."""
        return [name for q in self.questions for name in q.names]

    def owner(self, name: str) -> str:
        """The id of the question that defines ``name``."""
        for q in self.questions:
            if name in q.names:
                return q.id
        raise KeyError(f"{name!r} is not a name of {self.id}")

    @property
    def choices(self) -> dict[str, tuple[str, ...]]:
        """Constant name -> its allowed answers, over every question."""
        return {k: v for q in self.questions for k, v in q.choices.items()}

    def signature(self, name: str) -> str | None:
        """The contract's parameter list of a function (None for other names)."""
        for q in self.questions:
            if name in q.functions:
                return q.functions[name]
        return None

    # ------------------------------------------------------------------ paths
    @property
    def solution_notebook(self) -> Path:
        return self.folder / self.notebook

    @property
    def checks_dir(self) -> Path:
        return self.folder / "checks"

    @property
    def release_dir(self) -> Path:
        """The released student folder (``assignments/<id>/``)."""
        return RELEASES / self.id

    @property
    def released_notebook(self) -> Path:
        return self.release_dir / self.notebook

    @property
    def public_checks(self) -> Path:
        return self.folder / "public_checks.py"

    @property
    def contract(self) -> Path:
        return self.folder / "contract.md"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def ref(self) -> str:
        """How ``$AUTOGRADER_ASSIGNMENT`` names it: the id for ``solutions/<id>/``, else
        its folder."""
        return self.id if self.folder == (SOLUTIONS / self.id).resolve() else str(self.folder)

    def student_side_spec(self) -> dict[str, Any]:
        """What the sandbox loads into every student process, as plain data:
        ``{"id", "folder", "modules": {role: file path}}`` (the files of ``[student_side]``
        that exist; the ``warm_up`` module's ``warm_up()`` runs in the warm parent)."""
        modules = {
            role: str(self.folder / name)
            for role, name in self.student_side.items()
            if (self.folder / name).is_file()
        }
        return {"id": self.id, "folder": str(self.folder), "modules": modules}

    def module(self, role: str) -> ModuleType | None:
        """The assignment's module for ``role`` (``probes``, ``stand_ins``, ``references``,
        ``samples``), imported from its folder once; None when it has none."""
        filename = self.student_side.get(role, f"{role}.py")
        path = self.folder / filename
        if not path.is_file():
            return None
        return _import(f"_assignment_{self.id}_{role}", path)


def _import(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _folder(ref: str) -> Path:
    if "/" in ref or ref.startswith("."):
        return Path(ref).resolve()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", ref):
        raise AssignmentError(f"{ref!r} is not an assignment id (letters, digits, _ and -)")
    return SOLUTIONS / ref


def _questions(data: list, where: Path) -> tuple[Question, ...]:
    out = []
    for entry in data:
        try:
            out.append(
                Question(
                    id=str(entry["id"]),
                    points=int(entry["points"]),
                    functions=dict(entry.get("functions", {})),
                    classes=dict(entry.get("classes", {})),
                    methods={k: dict(v) for k, v in entry.get("methods", {}).items()},
                    constants=tuple(entry.get("constants", ())),
                    choices={k: tuple(v) for k, v in entry.get("choices", {}).items()},
                    bonus=bool(entry.get("bonus")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AssignmentError(f"{where}: a [[questions]] entry is malformed ({exc})") from None
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        raise AssignmentError(f"{where}: two questions have the same id")
    return tuple(out)


@functools.lru_cache(maxsize=16)
def load(ref: str | None = None) -> Assignment:
    """The assignment ``ref`` (an id, or a folder path); default :func:`default_ref`.
    Raises AssignmentError naming the file and what is wrong."""
    ref = ref or default_ref()
    folder = _folder(ref)
    path = folder / FILE
    if not path.is_file():
        raise AssignmentError(
            f"no assignment {ref!r}: {path} does not exist "
            "(python -m autograder new <id> makes one)"
        )
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AssignmentError(f"{path}: {exc}") from None
    questions = _questions(data.get("questions", []), path)
    core = sum(q.points for q in questions if not q.bonus)
    if "core_points" in data and int(data["core_points"]) != core:
        raise AssignmentError(
            f"{path}: core_points = {data['core_points']}, but its questions "
            f"(without bonus) add up to {core}"
        )
    late = dict(data.get("late", {}))
    if late.get("cutoff_hours") is not None and float(late["cutoff_hours"]) < 0:
        late["cutoff_hours"] = None
    free = data.get("free_response", {})
    assignment = Assignment(
        id=str(data.get("id", folder.name)),
        folder=folder,
        title=str(data.get("title", "")),
        notebook=str(data.get("notebook", f"{folder.name}.ipynb")),
        questions=questions,
        core_points=core,
        free_response_points=float(free.get("points", 0)),
        free_response_tag=str(free.get("tag", "free_response")),
        free_response_prompt=str(free.get("prompt", "")),
        limits={k: float(v) for k, v in data.get("limits", {}).items() if k in LIMIT_NAMES},
        late=LateSettings(**late),
        plots=tuple(Plot(**p) for p in data.get("plots", [])),
        student_side=dict(data.get("student_side", {})),
        extra_credit=str(data.get("extra_credit", "separate")),
    )
    if assignment.extra_credit not in EXTRA_CREDIT_MODES:
        raise AssignmentError(
            f"{path}: extra_credit = {assignment.extra_credit!r}; use "
            + " or ".join(repr(m) for m in EXTRA_CREDIT_MODES)
        )
    if assignment.id != folder.name:
        raise AssignmentError(f"{path}: id = {assignment.id!r}, but the folder is {folder.name!r}")
    return assignment


def default_ref() -> str:
    """The assignment a command works on when none is named: ``$AUTOGRADER_ASSIGNMENT``, else
    the only folder under ``solutions/`` with an ``assignment.toml``."""
    chosen = os.environ.get(ENV)
    if chosen:
        return chosen
    found = sorted(path.parent.name for path in SOLUTIONS.glob(f"*/{FILE}"))
    if len(found) == 1:
        return found[0]
    raise AssignmentError(
        "which assignment? name one with --assignment ID (or $AUTOGRADER_ASSIGNMENT, "
        f"make ... ASSIGNMENT=ID); {SOLUTIONS} holds "
        + (", ".join(found) if found else "none (python -m autograder new <id> makes one)")
    )


def current() -> Assignment:
    """The assignment this process works on (``$AUTOGRADER_ASSIGNMENT``, else the only one)."""
    return load(default_ref())


def select(ref: str | None) -> Assignment:
    """Make ``ref`` the assignment of this process and of the processes it starts."""
    assignment = load(ref)
    os.environ[ENV] = assignment.ref
    return assignment
