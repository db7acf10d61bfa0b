"""The class report: the failing list holds only failing submissions,
points have one precision, and the histogram runs to the maximum with extra credit."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest
from adam import ASSIGNMENT, FREE_RESPONSE_POINTS, QUESTIONS
from test_batch import STANDIN, notebook

from autograder.batch import run as batch
from autograder.staff import report

DEVNULL = open(os.devnull, "w")  # for the whole module
CORE = sum(q.points for q in QUESTIONS if not q.bonus)
BONUS = sum(q.points for q in QUESTIONS if q.bonus)
ONE_DECIMAL = re.compile(r"^\d+\.\d$")


class Tables(HTMLParser):
    """The rows (cell texts) of every table, under the h2 heading it follows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, list[list[str]]] = {}
        self.heading = ""
        self.in_h2 = False
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self.in_h2, self.heading = True, ""
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_h2 = False
            self.sections.setdefault(self.heading, [])
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.sections.setdefault(self.heading, []).append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.in_h2:
            self.heading += data
        elif self.cell is not None:
            self.cell.append(data)


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, list[list[str]]], dict[str, object]]:
    captured: dict[str, object] = {}
    real = report.histogram

    def spy(values, title, xlabel, bins=20, xmax=None):
        captured.update(values=list(values), bins=bins, xmax=xmax)
        return real(values, title, xlabel, bins=bins, xmax=xmax)

    root = tmp_path_factory.mktemp("report")
    subs, out = root / "subs", root / "grades"
    subs.mkdir()
    (subs / "top.ipynb").write_text(notebook("score=1 bonus=1 cell=timeout"))  # 110, a timeout
    (subs / "mid.ipynb").write_text(notebook("score=0.55"))
    (subs / "low.ipynb").write_text(notebook("score=0.3333"))
    (subs / "broken.ipynb").write_text("{ not json")  # invalid
    (subs / "kit.ipynb").write_text(notebook("raise"))  # the kit failed: not the student's
    batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    text = (out / "manual.csv").read_text(encoding="utf-8")
    (out / "manual.csv").write_text(
        text.replace("(top).,", f"(top).,{FREE_RESPONSE_POINTS}"), encoding="utf-8"
    )
    original = report.histogram
    report.histogram = spy
    try:
        batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=DEVNULL)
    finally:
        report.histogram = original
    parser = Tables()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    return parser.sections, captured


def test_failing_list_holds_only_failing_submissions(built) -> None:
    sections, _ = built
    failing = [row[0] for row in sections["Failing submissions"][1:]]
    assert sorted(failing) == ["broken", "low"]  # not top (100 + 15 extra, a timed-out cell)
    crashed = sections["Cells that did not compile, timed out or crashed the process"][1:]
    assert [row[0] for row in crashed] == ["top"] and crashed[0][1] == f"{CORE:.1f}"
    assert "timed out" in crashed[0][2]
    assert [row[0] for row in sections["Kit errors (rerun to regrade)"][1:]] == ["kit"]


def test_points_have_one_precision(built) -> None:
    sections, _ = built
    per_question = sections["Per question"]
    assert per_question[0][:3] == ["question", "max", "mean"]
    for row in per_question[1:]:
        assert ONE_DECIMAL.match(row[1]) and ONE_DECIMAL.match(row[2]), row
    summary = {row[0]: row[1] for row in sections[""] if len(row) == 2}
    for key in ("mean core", "median core", "maximum", "mean extra credit"):
        assert ONE_DECIMAL.match(summary[key]), (key, summary[key])
    low, high = summary["lowest / highest core"].split(" / ")
    assert ONE_DECIMAL.match(low) and ONE_DECIMAL.match(high)
    assert high == f"{CORE:.1f}"
    for row in sections["Failing submissions"][1:]:
        assert ONE_DECIMAL.match(row[2]), row


def test_histogram_runs_to_the_maximum_of_the_score(built) -> None:
    """Extra credit is a column of its own (the assignment file's default): the scores run
    to the core maximum, and the 100 + 15 student is at 100, not above it."""
    _, captured = built
    assert captured["xmax"] == CORE
    assert max(captured["values"]) == CORE
    width = captured["xmax"] / captured["bins"]
    assert (CORE / width).is_integer()  # 100 is a bin edge: no bin mixes 99 and 101


def test_every_submission_has_its_headline(built) -> None:
    """The report lists each submission with the headline of its feedback page: core and
    extra credit apart, the 100 + 15 student as core 100 with +15, never as 115."""
    sections, _ = built
    rows = {row[0]: row for row in sections["Every submission"][1:]}
    assert rows["top"][2] == (
        f"Core {CORE} / {CORE} · extra credit +{BONUS + FREE_RESPONSE_POINTS:g}"
    )
    assert rows["top"][3] == f"{CORE:.1f}"
    assert rows["mid"][2].startswith(f"Core {0.55 * CORE:g} / {CORE}")
