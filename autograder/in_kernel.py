"""The bridge that runs the kit's hidden checks *inside* a student's kernel.

otter-grader and nbgrader grade a notebook by executing it in a Jupyter kernel
and then running test code in that same kernel. Their test code is one line::

    from autograder.in_kernel import hidden_check; hidden_check("q4_adam_step", "test_x")

:func:`hidden_check` runs the kit's one hidden check suite
(:func:`autograder.run_checks.run_checks`) over the kernel's namespace through
:class:`autograder.student.InProcessStudent`, caches the results, and raises
``AssertionError(<diagnosis>)`` (a :class:`HiddenCheckFailed`) when the named
check failed. The message is the check's student-facing sentence; it never
holds the hidden inputs or the test source, and nothing is written to stderr
(nbgrader scores a test cell with stderr output as zero).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder.contract import all_names
from autograder.results import QuestionResult
from autograder.student import InProcessStudent

SEED_ENV = "ADAM_KIT_SEED"
_HIDDEN_MARK = "### BEGIN HIDDEN TESTS"
FALLBACK_SEED = 0
"""Used when neither ``$ADAM_KIT_SEED`` nor ``autograder.run_checks.DEFAULT_SEED`` exists."""


class HiddenCheckFailed(AssertionError):
    """A hidden check failed; ``str(error)`` is the student-facing diagnosis.

    IPython shows ``_render_traceback_()`` instead of a traceback, so a failed
    test cell's output holds the diagnosis and not the test cell's source.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {line}" for line in str(self).splitlines() or [""]]


_CACHE: dict[tuple[int, str], tuple[tuple[Any, ...], QuestionResult]] = {}
"""(id(namespace), question) -> (the objects bound to the contract's names, result)."""


def grading_seed() -> int:
    """The seed the checks run with: ``$ADAM_KIT_SEED``, else the suite's default."""
    if os.environ.get(SEED_ENV, "").strip():
        return int(os.environ[SEED_ENV])
    try:
        from autograder import run_checks as module
    except ImportError:
        return FALLBACK_SEED
    return int(getattr(module, "DEFAULT_SEED", FALLBACK_SEED))


def hidden_check(question_id: str, check_name: str | None = None) -> None:
    """Pass silently if the hidden check passed; raise ``AssertionError(diagnosis)`` if not.

    ``check_name=None`` asserts that every check of the question passed. The
    question's checks run once per kernel (again only when one of the
    contract's names has been rebound since).
    """
    namespace = _user_namespace(inspect.currentframe())
    result = question_result(question_id, namespace)
    checks = result.checks
    if check_name is not None:
        checks = [c for c in checks if c.name == check_name]
        if not checks:
            raise HiddenCheckFailed(
                f"the grader has no check {check_name!r} for {question_id} "
                "(the grading files are out of date; tell your instructor)"
            ) from None
    failed = [c for c in checks if not c.passed or c.points + 1e-9 < c.max_points]
    if failed:
        lines = [c.message.strip() or f"{c.name} failed" for c in failed]
        if check_name is None:
            lines = [f"{c.name}: {line}" for c, line in zip(failed, lines, strict=True)]
        raise HiddenCheckFailed("\n".join(lines)) from None


def question_result(question_id: str, namespace: dict[str, Any] | None = None) -> QuestionResult:
    """The (cached) :class:`QuestionResult` of one question over ``namespace``.

    When every name of the contract is defined (the whole notebook has run, as
    in otter's grading and in nbgrader test cells placed at the end), all
    questions are graded in one run of the suite, exactly as ``make grade``
    does, and cached together; otherwise only ``question_id`` is graded.
    """
    if namespace is None:
        namespace = _user_namespace(inspect.currentframe())
    key = (id(namespace), question_id)
    fingerprint = _fingerprint(namespace)
    cached = _CACHE.get(key)
    if cached is not None and _same(cached[0], fingerprint):
        return cached[1]
    everything = all(name in namespace for name in all_names())
    results = _run(None if everything else [question_id], namespace)
    if question_id not in results:
        raise HiddenCheckFailed(f"the grader returned no result for {question_id}") from None
    for qid in results if everything else [question_id]:
        _CACHE[(id(namespace), qid)] = (fingerprint, results[qid])
    return results[question_id]


def reset_cache() -> None:
    """Forget every cached result (the next :func:`hidden_check` reruns its checks)."""
    _CACHE.clear()


def notebook_source(namespace: dict[str, Any]) -> str:
    """The submission's code, as the native engine reads it: every code cell, joined.

    Read from the one notebook in the working directory (otter and nbgrader run
    the kernel next to the submission); else from IPython's ``In`` history;
    else "". The kit's own hidden test cells are left out.
    """
    cells: list[str] = []
    notebooks = list(Path.cwd().glob("*.ipynb"))
    if len(notebooks) == 1:
        try:
            data = json.loads(notebooks[0].read_text(encoding="utf-8"))
            for cell in data.get("cells", []):
                if cell.get("cell_type") == "code":
                    source = cell.get("source", "")
                    cells.append("".join(source) if isinstance(source, list) else str(source))
        except (OSError, ValueError, AttributeError, TypeError):
            cells = []
    if not cells:
        history = namespace.get("In")
        if isinstance(history, list):
            cells = [c for c in history[1:] if isinstance(c, str)]
    return "\n\n".join(c for c in cells if _HIDDEN_MARK not in c and "hidden_check(" not in c)


class _RestoringStudent(InProcessStudent):
    """An InProcessStudent that undoes its reference substitutions afterwards.

    In the kernel the namespace is the student's own: a substitution (grading a
    question with the reference versions of the functions it builds on) must
    not outlive the check that asked for it.
    """

    _MISSING = object()

    def __init__(self, namespace: dict[str, Any]):
        super().__init__(namespace)
        self._saved: dict[str, Any] = {}

    def substitute(self, names: list[str], source: str) -> None:
        for name in names:
            self._saved.setdefault(name, self.namespace.get(name, self._MISSING))
        super().substitute(names, source)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is self._MISSING:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value
        self._saved.clear()


def _run(questions: list[str] | None, namespace: dict[str, Any]) -> dict[str, QuestionResult]:
    from autograder.run_checks import run_checks

    student = _RestoringStudent(namespace)
    try:
        with _quiet():
            return run_checks(
                student,
                seed=grading_seed(),
                device="cpu",
                questions=questions,
                source=notebook_source(namespace),
            )
    except Exception as exc:  # noqa: BLE001 - a kit failure must not print a traceback
        raise HiddenCheckFailed(
            f"the grader could not run the hidden checks ({type(exc).__name__}); "
            "tell your instructor"
        ) from None
    finally:
        student.restore()


def _user_namespace(frame: Any) -> dict[str, Any]:
    """IPython's ``user_ns`` inside a kernel, else the globals of the frame that called ``frame``."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    caller = frame.f_back if frame is not None else None
    return caller.f_globals if caller is not None else {}


_ABSENT = object()


def _fingerprint(namespace: dict[str, Any]) -> tuple[Any, ...]:
    """The objects bound to the contract's names (held, so their ids cannot be reused)."""
    return tuple(namespace.get(name, _ABSENT) for name in all_names())


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Swallow stdout, stderr (Python and file descriptor 2) and warnings."""
    sink = io.StringIO()
    saved_fd = None
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        saved_fd = None
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
