"""What students and staff see on the native path (``python -m autograder grade``, what
``make grade`` runs) for the samples: the same headline everywhere, core and extra credit
apart, syntax errors named, nothing internal, no noise.

The sample without bias correction fails core checks worth 10 points and earns the 10
bonus points: it must read "Core 90 / 100 · extra credit +10" on the console, in
grades.csv, on its feedback page, in the report and in every export, and never as a
full score. The broken-syntax sample's q3 must name the cell's syntax error and its line.
Expected values come from the samples as ``solutions/adam_variants/samples.py`` makes them
(one bug each), not from the code under test. The Gradescope, otter and nbgrader paths
assert the same in ``test_gradescope.py``, ``test_otter.py`` and ``test_nbgrader.py``.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from adam import ASSIGNMENT, BONUS_POINTS, CORE_POINTS

from autograder.assignment.catalog import collect_checks
from autograder.staff import export

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"
NO_BIAS = f"Core {CORE_POINTS - 10} / {CORE_POINTS} · extra credit +{BONUS_POINTS}"
SYNTAX = "the cell defining `rmsprop_step` has a syntax error (line 1: expected ':')"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("displays")
    subs, out = root / "subs", root / "grades"
    subs.mkdir()
    for name in ("no_bias_correction", "broken_syntax"):
        shutil.copy(SUBMISSIONS / f"{name}.ipynb", subs / f"{name}.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"out": out, "console": done.stdout + done.stderr}


def _visible(path: Path) -> str:
    text = re.sub(r"<style>.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _rows(text: str) -> dict[str, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    key = "submission" if "submission" in rows[0] else next(iter(rows[0]))
    return {r[key]: r for r in rows}


def hidden_check_names() -> set[str]:
    return {c.name.split("[")[0] for checks in collect_checks(ASSIGNMENT).values() for c in checks}


def test_the_console_and_the_csvs_show_core_and_extra_credit_apart(graded) -> None:
    console, out = graded["console"], graded["out"]
    line = next(x for x in console.splitlines() if "no_bias_correction:" in x)
    assert NO_BIAS in line and f"{CORE_POINTS}/{CORE_POINTS}" not in line
    line = next(x for x in console.splitlines() if "broken_syntax:" in x)
    assert "cell 13 has a syntax error (line 1: expected ':')" in line
    assert "Warning" not in console, [x for x in console.splitlines() if "Warning" in x]
    grades = _rows((out / "grades.csv").read_text(encoding="utf-8"))
    nobias = grades["no_bias_correction"]
    assert (float(nobias["core"]), float(nobias["extra_credit"])) == (
        CORE_POINTS - 10,
        BONUS_POINTS,
    )
    assert float(nobias["total"]) == CORE_POINTS - 10 < float(nobias["max_total"])
    plain = _rows(export.export(out, "csv", ASSIGNMENT)[0])["no_bias_correction"]
    assert (float(plain["core"]), float(plain["extra_credit"]), float(plain["total"])) == (
        CORE_POINTS - 10,
        BONUS_POINTS,
        CORE_POINTS - 10,
    )
    canvas = list(
        csv.DictReader(io.StringIO(export.export(out, "canvas", ASSIGNMENT)[0], newline=""))
    )
    row = next(r for r in canvas if r["Student"] == "no_bias_correction")
    assert float(row["adam_variants"]) == CORE_POINTS - 10
    assert float(row["adam_variants extra credit"]) == BONUS_POINTS


def test_the_feedback_page_opens_with_the_headline_and_names_the_syntax_error(graded) -> None:
    out = graded["out"]
    nobias = _visible(out / "feedback" / "no_bias_correction.html")
    assert nobias.split("Adam and Its Variants ", 1)[1].startswith(NO_BIAS)
    broken = _visible(out / "feedback" / "broken_syntax.html")
    assert "Not graded: " + SYNTAX.replace("`", "") in broken
    assert "not written yet" not in broken
    assert NO_BIAS in _visible(out / "report.html")


def test_student_text_holds_no_internals_and_no_raw_markdown(graded) -> None:
    """No hidden check's name, no seed, no Markdown backticks on a student's page."""
    names = hidden_check_names()
    for page in (graded["out"] / "feedback").glob("*.html"):
        visible = _visible(page)
        assert not [n for n in names if n in visible], page.name
        assert "seed" not in visible.lower() and "`" not in visible
        assert not re.search(r"(?<![\w*])\*\*\S", visible)  # bold marks (beta1**t is maths)
        assert "<code>rmsprop_step</code>" in page.read_text() or page.stem != "broken_syntax"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("page", ["feedback/no_bias_correction.html", "report.html"])
def test_screenshots_show_the_headline(graded, page, tmp_path) -> None:
    """Headless Chromium renders the page to a PNG (kept under the test's temporary
    folder, never in the repository); the page it rendered holds the headline."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium here (apt-get install -y chromium)")
    png = tmp_path / (Path(page).stem + ".png")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            (graded["out"] / page).as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shot = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,1400",
            f"--screenshot={png}",
            (graded["out"] / page).as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0 and png.is_file(), shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # not a blank page
    assert NO_BIAS in html.unescape(dom.stdout)


def test_cells_that_did_not_run_are_named_as_what_they_are() -> None:
    """Indentation errors, timeouts and a dead kernel are named like syntax errors."""
    from autograder.checks.broken_cells import cell_problem, defined_names
    from autograder.results import CellRecord

    indent = CellRecord(
        4, "error", message="IndentationError: unexpected indent (<ipython-input-1-abc>, line 3)"
    )
    assert cell_problem(indent) == "has an indentation error (line 3: unexpected indent)"
    slow = CellRecord(5, "timeout", message="cell 6 timed out after 60 s; it was skipped")
    assert cell_problem(slow) == "timed out after 60 s"
    dead = CellRecord(
        6,
        "died",
        message="the kernel died while running cell 7: the memory cap was hit; it was skipped",
    )
    assert cell_problem(dead) == "killed the kernel (the memory cap was hit)"
    assert cell_problem(CellRecord(7, "error", message="NameError: name 'x'")) is None
    assert defined_names("def f(x)\n    pass\nclass K:\n    y = 1\nLR = 3\n") == {"f", "K", "LR"}
