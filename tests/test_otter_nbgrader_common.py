"""Shared helpers of the Gradescope/otter and nbgrader tests.

* :func:`samples`: the sample submissions (``submissions/*.ipynb``; stand-ins made
  here from the solution notebook where one is missing), plus the forger of the
  trust corpus, which attacks a kernel-side grader.
* :func:`native_result`: per-question points from the native engine
  (``autograder.engine.grade_one``) with the seed the other paths are given.
* :func:`leaks`: hidden check source lines, ``def test_`` and hidden numeric
  literals found in a text (results.json, feedback HTML).
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import tempfile
from pathlib import Path

import nbformat
import pytest
from adam import (
    ASSIGNMENT,
    POINTS,
    PUBLIC_CHECKS,
    QUESTION_IDS,
    RELEASED_NOTEBOOK,
    SOLUTION_NOTEBOOK,
)

from autograder.assignment.catalog import CatalogError, catalog_from_rows
from autograder.assignment.model import REPOSITORY
from autograder.assignment.model import SUBMISSIONS as SUBMISSIONS_DIR

CHECKS_DIR = ASSIGNMENT.checks_dir
SEED = 1234
"""The seed every path grades with in these tests (each path otherwise draws its own)."""
FORGER = Path(__file__).resolve().parent / "corpus" / "trust" / "forger.ipynb"
SAMPLE_NAMES = ("correct", "blank", "no_bias_correction", "adamw_as_l2", "broken_syntax")
MAX_SAMPLES = 5 if os.environ.get("ADAM_KIT_ALL_SAMPLES") else 3
"""Samples graded by every grader (each costs three notebook runs; set
``ADAM_KIT_ALL_SAMPLES=1`` for all five)."""


# --------------------------------------------------------------------------- samples


def _mistake_notebook() -> nbformat.NotebookNode:
    """The solution notebook with Adam's bias correction removed (a q4 mistake)."""
    nb = nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and "def adam_step(" in cell.source:
            new = re.sub(
                r"m_hat = m_new / bias_correction\(beta1, t\)", "m_hat = m_new", cell.source
            )
            new = re.sub(r"v_hat = v_new / bias_correction\(beta2, t\)", "v_hat = v_new", new)
            changed = new != cell.source
            cell.source = new
    assert changed, "the solution's adam_step no longer has the expected lines"
    return nb


@functools.lru_cache(maxsize=1)
def samples() -> dict[str, Path]:
    """Sample submissions by name: A's files where present, stand-ins otherwise."""
    found = {
        n: SUBMISSIONS_DIR / f"{n}.ipynb"
        for n in SAMPLE_NAMES
        if (SUBMISSIONS_DIR / f"{n}.ipynb").is_file()
    }
    tmp = Path(tempfile.mkdtemp(prefix="adam-e-samples-"))
    if "correct" not in found:
        found["correct"] = tmp / "correct.ipynb"
        nbformat.write(nbformat.read(str(SOLUTION_NOTEBOOK), as_version=4), str(found["correct"]))
    if "blank" not in found:
        found["blank"] = tmp / "blank.ipynb"
        if RELEASED_NOTEBOOK.is_file():
            found["blank"].write_bytes(RELEASED_NOTEBOOK.read_bytes())
        else:
            from autograder.assignment.release import release_notebook

            nbformat.write(
                release_notebook(nbformat.read(str(SOLUTION_NOTEBOOK), 4), ASSIGNMENT),
                str(found["blank"]),
            )
    if "no_bias_correction" not in found and "adamw_as_l2" not in found:
        found["no_bias_correction"] = tmp / "no_bias_correction.ipynb"
        nbformat.write(_mistake_notebook(), str(found["no_bias_correction"]))
    ordered = [n for n in SAMPLE_NAMES if n in found][:MAX_SAMPLES]
    return {**{n: found[n] for n in ordered}, "forger": FORGER}


@functools.cache
def native_result(path: str) -> dict:
    """The native engine's verdict on CPU with the tests' seed.

    ``{"status": ..., "points": {qid: points}, "questions": {qid: QuestionResult}}``.
    """
    from autograder.engine import grade_one

    result = grade_one(path, ASSIGNMENT, seed=SEED, device="cpu")
    return {
        "status": result.status,
        "points": {qid: round(result.questions[qid].points, 6) for qid in QUESTION_IDS},
        "questions": result.questions,
    }


# --------------------------------------------------------------------------- leak detection


def _visible_text(text: str) -> str:
    """HTML without tags and entities (a no-op on JSON), so code split into spans matches."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@functools.lru_cache(maxsize=1)
def _public_lines() -> frozenset[str]:
    """Lines students see anyway: the notebooks and the released public checks."""
    texts = [SOLUTION_NOTEBOOK.read_text()]
    if RELEASED_NOTEBOOK.is_file():
        texts.append(RELEASED_NOTEBOOK.read_text())
    texts.append(PUBLIC_CHECKS.read_text())
    lines = set()
    for text in texts:
        for line in text.splitlines():
            lines.add(line.strip().strip('",').replace('\\"', '"').replace("\\n", "").strip())
    return frozenset(lines)


@functools.lru_cache(maxsize=1)
def hidden_lines() -> tuple[str, ...]:
    """Distinctive lines of the hidden suite (long, not imports, not public)."""
    public = _public_lines()
    found = []
    for path in sorted(CHECKS_DIR.glob("*.py")):
        for line in path.read_text().splitlines():
            s = line.strip()
            if len(s) < 30 or s.startswith(("import ", "from ", "#")) or s in public:
                continue
            found.append(s)
    return tuple(found)


@functools.lru_cache(maxsize=1)
def hidden_numbers() -> tuple[str, ...]:
    """Numeric literals with 5+ significant digits in the hidden suite, not in public text."""
    public = "\n".join(_public_lines())
    chapter = REPOSITORY.parent / "shared" / "seed" / "adam_and_its_variants.txt"
    if chapter.is_file():
        public += chapter.read_text()
    printed = _chapter_numbers()
    numbers = set()
    for path in sorted(CHECKS_DIR.glob("*.py")):
        for match in re.finditer(r"(?<![\w.])-?\d+\.\d{4,}(?:e-?\d+)?", path.read_text()):
            literal = match[0].lstrip("-")
            if literal not in public and float(literal) not in printed:
                numbers.add(literal)
    return tuple(sorted(numbers))


def _chapter_numbers() -> set[float]:
    """Every number the chapter prints, from the kit's record of it (public, not hidden)."""
    found: set[float] = set()

    def walk(value) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            found.add(float(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads((ASSIGNMENT.data_dir / "chapter_values.json").read_text()))
    return found


def leaks(text: str, submission: Path | None = None) -> list[str]:
    """What of the hidden suite ``text`` shows: source lines, ``def test_``, hidden numbers.

    Lines of ``submission`` (the student's own code, shown back to them) do not count.
    """
    visible = _visible_text(text)
    own = set()
    if submission is not None:
        own = {line.strip() for line in _visible_text(submission.read_text()).splitlines()}
        own |= {
            line.strip()
            for cell in nbformat.read(str(submission), 4).cells
            for line in cell.source.splitlines()
        }
    found = [
        f"line: {line}"
        for line in hidden_lines()
        if line in visible
        and line not in own
        and re.search(rf"(?<![\w.]){re.escape(line)}[ \t]*$", visible, re.M)
    ]
    if "def test_" in visible:
        found.append("def test_")
    found += [
        f"number: {n}"
        for n in hidden_numbers()
        if re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", visible)
    ]
    return found


# --------------------------------------------------------------------------- fast tests


def test_leak_detector_finds_hidden_source_and_numbers():
    """The grep of the slow tests can fail: a line of a check module is found."""
    assert hidden_lines(), "no hidden check source to look for"
    line = hidden_lines()[len(hidden_lines()) // 2]
    assert leaks(f"<pre>{html.escape(line)}</pre>")
    assert leaks("x = 1\ndef test_secret(student):\n")
    assert not leaks("AssertionError: `adam_step` returns a wrong `w_new`.")


def test_catalog_checks_points_against_the_contract():
    rows = [
        {"nodeid": f"t::{q}", "name": "test_all", "points": p, "question": q}
        for q, p in POINTS.items()
    ]
    catalog = catalog_from_rows(rows, ASSIGNMENT)
    assert [c.points for c in catalog["q4_adam_step"]] == [14.0]
    rows[3]["points"] = 13
    with pytest.raises(CatalogError, match="q4_adam_step"):
        catalog_from_rows(rows, ASSIGNMENT)
    rows[3] = {
        "nodeid": "t::x",
        "name": "test_x",
        "points": 14,
        "question": None,
        "module": "checks.test_q4_adam_step",
    }
    assert catalog_from_rows(rows, ASSIGNMENT)["q4_adam_step"][0].name == "test_x"
