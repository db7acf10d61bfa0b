"""Helpers for tests of the hidden check suite: namespaces, mutations, grading in-process."""

from __future__ import annotations

import ast
import contextlib
import functools
import io
from pathlib import Path
from typing import Any

from adam import ASSIGNMENT, QUESTIONS, SOLUTION_NOTEBOOK, all_names

from autograder.checks.reference_source import reference_source
from autograder.checks.run_checks import run_checks
from autograder.checks.student import InProcessStudent
from autograder.results import QuestionResult

VARIANTS_DIR = Path(__file__).resolve().parent / "variants"


@functools.lru_cache(maxsize=1)
def solution_definitions() -> str:
    """Every contract definition of the solution notebook (no demo cells), as source."""
    return reference_source(all_names(), SOLUTION_NOTEBOOK)


def namespace_from(source: str) -> dict[str, Any]:
    """Execute trusted source in a fresh namespace (stdout swallowed)."""
    ns: dict[str, Any] = {"__name__": "__submission__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, "<test submission>", "exec"), ns)  # test code
    return ns


def mutate(source: str, function: str, replacements: list[tuple[str, str]]) -> str:
    """Apply ``old -> new`` replacements inside the top-level definition ``function`` only."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        names = (
            [node.name]
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            else [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        )
        if function in names:
            start = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
            segment = "\n".join(lines[start - 1 : node.end_lineno])
            new = segment
            for old, rep in replacements:
                if old not in new:
                    raise AssertionError(f"mutation text {old!r} not found in {function}")
                new = new.replace(old, rep)
            return "\n".join(lines[: start - 1] + new.splitlines() + lines[node.end_lineno :])
    raise AssertionError(f"{function} is not defined in the source")


def grade(
    ns: dict[str, Any], seed: int = 20261128, source: str = "", artifacts: dict | None = None
) -> dict[str, QuestionResult]:
    """Grade a namespace in-process. The builds_on substitution rebinds names in ``ns`` itself
    (the functions' globals), as it does in a student's kernel; pass a fresh namespace."""
    return run_checks(
        InProcessStudent(ns, ASSIGNMENT),
        assignment=ASSIGNMENT,
        seed=seed,
        device="cpu",
        source=source,
        artifacts=artifacts,
    )


def points(results: dict[str, QuestionResult]) -> dict[str, float]:
    return {qid: r.points for qid, r in results.items()}


def full_marks() -> dict[str, float]:
    return {q.id: float(q.points) for q in QUESTIONS}


def failures(results: dict[str, QuestionResult]) -> list[str]:
    """Readable lines for every failed check (for assertion messages)."""
    return [
        f"{q}/{c.name}: {c.message} [{c.diagnosis}]"
        for q, r in results.items()
        for c in r.checks
        if not c.passed
    ]
