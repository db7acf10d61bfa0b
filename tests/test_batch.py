"""The class batch: layouts, outputs, feedback safety, resuming, manual scores, --force.

Most tests grade with the light stand-in ``tests/test_batch_standin.py`` (through
the same worker processes the real engine uses); one test at the end runs the
real engine on sample notebooks.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from adam import ASSIGNMENT, NOTEBOOK_NAME, QUESTION_IDS, QUESTIONS

from autograder.assignment.notebook import file_sha256
from autograder.batch import discovery, progress
from autograder.batch import run as batch
from autograder.cli import grade as grade_command
from autograder.results import SubmissionResult
from autograder.staff import manual, outputs
from autograder.staff.feedback import render_feedback
from autograder.staff.final_grades import final_grade

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
STANDIN = "test_batch_standin:fake_grade"
sys.path.insert(0, str(TESTS))
from test_batch_standin import HOSTILE, fake_grade  # noqa: E402

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr", "source"}


def notebook(directive: str = "", extra: str = "x = 1") -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"# FAKE {directive}\n{extra}" if directive else extra),
        nbformat.v4.new_markdown_cell("answer"),
    ]
    return nbformat.writes(nb)


def make_class(root: Path) -> dict[str, str]:
    """A class folder with good, partial, broken and hostile submissions."""
    files = {
        "alice.ipynb": notebook("score=1"),
        "bob.ipynb": notebook("score=0.5"),
        "carol/adam_variants.ipynb": notebook("score=0.25"),  # nbgrader-style folder
        "dave.ipynb": notebook("raise"),
        "erin.ipynb": notebook("die"),
        "frank.ipynb": "{ this is not json",
        "mallory.ipynb": notebook("hostile score=0.5"),
        "notes.txt": "not a submission",
        "x.py": "print('hi')",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return files


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


class Structure(HTMLParser):
    """Checks that tags nest properly and records tags and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    assert not parser.errors, parser.errors[:3]
    assert not parser.stack, f"unclosed tags {parser.stack}"
    names = [t for t, _ in parser.tags]
    assert names[:2] == ["html", "head"] and "body" in names and "title" in names
    return parser


def assert_no_injection(parser: Structure) -> None:
    for tag, attrs in parser.tags:
        assert tag != "script"
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/png;base64,")


def hidden_source_lines() -> list[str]:
    """Distinctive lines of the hidden checks' source (must never reach a student)."""
    lines = set()
    for source in sorted((ROOT / "autograder" / "checks").rglob("*.py")):
        for line in source.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 25 and not line.startswith(("#", '"', "'")) and "=" in line:
                lines.add(line)
    return sorted(lines)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, progress.BatchSummary]:
    root = tmp_path_factory.mktemp("class")
    subs, out = root / "submissions", root / "grades"
    subs.mkdir()
    make_class(subs)
    summary = batch.run_batch(
        subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=open(os.devnull, "w")
    )
    return subs, out, summary


def test_discover_accepts_both_layouts_and_lists_skipped(tmp_path: Path) -> None:
    for name in [
        "alice.ipynb",
        "bob/adam_variants.ipynb",
        "carol/adam_variants/adam_variants.ipynb",
        "dave/adam_variants (1).ipynb",
        "eve/a.ipynb",
        "eve/b.ipynb",
        "notes.txt",
        "x.py",
        "Zed.IPYNB",
        ".hidden.ipynb",
        ".ipynb_checkpoints/alice.ipynb",
        "fay/notes.md",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    subs, skipped = discovery.discover(tmp_path, NOTEBOOK_NAME)
    assert {s.id: s.path.relative_to(tmp_path).as_posix() for s in subs} == {
        "alice": "alice.ipynb",
        "bob": "bob/adam_variants.ipynb",
        "carol": "carol/adam_variants/adam_variants.ipynb",
        "dave": "dave/adam_variants (1).ipynb",
        "Zed": "Zed.IPYNB",
    }
    reasons = dict(skipped)
    assert set(reasons) == {"eve", "notes.txt", "x.py", "fay"}
    assert "2 notebooks" in reasons["eve"] and "not a notebook" in reasons["x.py"]


def test_grades_csv_has_exactly_the_columns(graded) -> None:
    _, out, summary = graded
    header, rows = read_csv(out / "grades.csv")
    assert header == [
        "submission",
        "status",
        "core",
        "extra_credit",
        "total",
        "max_total",
        *[q.id for q in QUESTIONS],
        "free_response",
        "late_penalty",
        "message",
        "containment",
    ]
    assert header[6] == "q1_baselines" and header[-5] == "bonus_variants"
    by = {r["submission"]: r for r in rows}
    assert set(by) == {"alice", "bob", "carol", "dave", "erin", "frank", "mallory"}
    assert by["alice"]["status"] == "graded" and float(by["alice"]["total"]) == 100.0
    assert float(by["bob"]["q4_adam_step"]) == 7.0 and float(by["bob"]["total"]) == 50.0
    assert float(by["carol"]["total"]) == 25.0
    assert by["dave"]["status"] == "error" and "RuntimeError" in by["dave"]["message"]
    assert by["erin"]["status"] == "error" and "died" in by["erin"]["message"]
    assert by["frank"]["status"] == "invalid"
    assert sorted(summary.errors) == ["dave", "erin"]
    assert dict(summary.skipped) == {
        "notes.txt": "not a notebook (.ipynb)",
        "x.py": "not a notebook (.ipynb)",
    }
    # kit errors never reach the gradebook as zeros
    book_header, book = read_csv(out / "gradebook.csv")
    assert book_header == ["student_id", "total", "extra_credit"]
    assert {r["student_id"]: float(r["total"]) for r in book} == {
        "alice": 100.0,
        "bob": 50.0,
        "carol": 25.0,
        "frank": 0.0,
        "mallory": 50.0,
    }
    # the kit's traceback goes to errors/, not into the student's page
    assert "stand-in kit failure" in (out / "errors" / "dave.log").read_text()
    assert "Traceback" not in (out / "feedback" / "dave.html").read_text()


def test_results_are_full_json_per_submission(graded) -> None:
    _, out, _ = graded
    names = sorted(p.stem for p in (out / "results").glob("*.json"))
    assert names == ["alice", "bob", "carol", "dave", "erin", "frank", "mallory"]
    result = SubmissionResult.from_json((out / "results" / "bob.json").read_text())
    assert set(result.questions) == set(QUESTION_IDS)
    assert len(result.checks_sha256) == 64 and int(result.checks_sha256, 16) >= 0
    assert result.notebook_sha256 == file_sha256(graded[0] / "bob.ipynb")
    assert result.timings["batch_seconds"] >= 0
    assert not list((out / "results").glob(".*.tmp"))


def test_feedback_pages_are_valid_safe_and_hide_the_checks(graded) -> None:
    _, out, _ = graded
    pages = sorted((out / "feedback").glob("*.html"))
    assert [p.stem for p in pages] == ["alice", "bob", "carol", "dave", "erin", "frank", "mallory"]
    hidden = hidden_source_lines()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parser = parse_html(text)
        assert_no_injection(parser)
        assert "def test_" not in text
        leaked = [line for line in hidden if line in text]
        assert not leaked, (page.name, leaked[:3])
        visible = " ".join(parser.text)
        assert "Score per question" in visible
        for qid in QUESTION_IDS:
            assert qid in visible
    bob = (out / "feedback" / "bob.html").read_text()
    assert "q4_adam_step returned the wrong value." in bob and "sign_error" in bob
    assert bob.count("data:image/png;base64,") == 2  # the Adam trace and FlipNet plots
    alice = (out / "feedback" / "alice.html").read_text()  # curves equal: no plots
    assert "data:image/png" not in alice and "matches the reference trace" in alice
    assert "Your FlipNet losses match the reference curves" in alice
    assert "NameError: name &#39;foo&#39; is not defined" in bob
    assert "has not been scored yet" in bob
    mallory = (out / "feedback" / "mallory.html").read_text()
    assert "&lt;script&gt;" in mallory and "<script>" not in mallory


def test_hostile_submission_id_and_messages_are_escaped() -> None:
    result = fake_grade(TESTS / "test_batch_standin.py", ASSIGNMENT, submission_id=HOSTILE)
    result.message = HOSTILE
    result.status = "error"
    parser = parse_html(render_feedback(result, ASSIGNMENT, manual_score=2.5))
    assert_no_injection(parser)
    assert HOSTILE in "".join(parser.text)  # shown as text, not as markup


def test_class_report(graded) -> None:
    _, out, _ = graded
    text = (out / "report.html").read_text(encoding="utf-8")
    parser = parse_html(text)
    assert_no_injection(parser)
    visible = " ".join(parser.text)
    for heading in (
        "Scores",
        "Per question",
        "Most frequent diagnosed mistakes",
        "Slowest submissions",
        "Failing submissions",
        "Files not graded",
    ):
        assert heading in visible
    assert "sign_error" in visible and "notes.txt" in visible
    assert text.count("data:image/png;base64,") == 1  # the histogram
    links = {a.get("href") for t, a in parser.tags if t == "a"}
    assert {"feedback/dave.html", "feedback/erin.html", "feedback/frank.html"} <= links


def run_cli(
    subs: Path, out: Path, *extra: str, log: Path | None = None, wait: bool = True
) -> subprocess.Popen | subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}
    if log:
        env["FAKE_GRADE_LOG"] = str(log)
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--grade-fn",
        STANDIN,
        *extra,
    ]
    if not wait:
        return subprocess.Popen(
            cmd,
            env=env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_killed_batch_keeps_results_and_rerun_grades_only_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subs, out, log = tmp_path / "subs", tmp_path / "out", tmp_path / "calls.log"
    subs.mkdir()
    names = [f"s{i:02d}" for i in range(8)]
    for name in names:
        (subs / f"{name}.ipynb").write_text(notebook("sleep=0.4 score=0.5"))
    proc = run_cli(subs, out, "--jobs", "1", log=log, wait=False)
    deadline = time.monotonic() + 60
    while not list((out / "results").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    finished = {p.stem: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert 1 <= len(finished) < len(names)
    # rerun in-process, with the checks fingerprint the killed run stored (others may be
    # editing the checks meanwhile), logging to a new file (an orphaned worker of the killed
    # run may still log to the old one until it notices its parent is gone)
    stored = SubmissionResult.from_json(next((out / "results").glob("*.json")).read_text())
    monkeypatch.setattr(batch, "checks_fingerprint", lambda assignment: stored.checks_sha256)
    log = tmp_path / "calls-rerun.log"
    monkeypatch.setenv("FAKE_GRADE_LOG", str(log))
    lines = io.StringIO()
    rerun = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=lines)
    assert not rerun.interrupted and rerun.errors == []
    assert sorted(rerun.graded) == sorted(set(names) - set(finished))
    assert sorted(log.read_text().split()) == sorted(rerun.graded)  # nothing else was run
    for name, mtime in finished.items():
        assert (out / "results" / f"{name}.json").stat().st_mtime_ns == mtime
    _, rows = read_csv(out / "grades.csv")
    assert sorted(r["submission"] for r in rows) == names
    assert f"{len(finished)} submissions unchanged" in lines.getvalue()
    assert "graded 1/" in lines.getvalue()  # plain progress lines when not on a terminal


def test_sigterm_stops_cleanly_and_keeps_finished_grades(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for i in range(6):
        (subs / f"s{i}.ipynb").write_text(notebook("sleep=0.5"))
    proc = run_cli(subs, out, "--jobs", "1", wait=False)
    deadline = time.monotonic() + 60
    while not list((out / "results").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, output
    assert "interrupted" in output
    _, rows = read_csv(out / "grades.csv")
    assert 1 <= len(rows) < 6
    assert (out / "report.html").exists()


@pytest.fixture
def fixed_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed checks fingerprint, so that edits to the checks during a test do not matter."""
    monkeypatch.setattr(batch, "checks_fingerprint", lambda assignment: "f" * 64)


def test_manual_scores_merge_without_regrading(tmp_path: Path, fixed_checks: None) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name, score in [("ann", "1"), ("ben", "0.5"), ("cat", "0.5")]:
        (subs / f"{name}.ipynb").write_text(notebook(f"score={score}"))
    devnull = open(os.devnull, "w")
    batch.run_batch(subs, out, ASSIGNMENT, jobs=1, grade_fn=STANDIN, stream=devnull)
    header, rows = read_csv(out / "manual.csv")
    assert header == ["submission", "answer", "score"]
    assert [(r["submission"], r["score"]) for r in rows] == [("ann", ""), ("ben", ""), ("cat", "")]
    assert rows[1]["answer"] == "Because decay is decoupled (ben)."
    # staff score in a spreadsheet: ';' separators, a decimal comma, a BOM, an extra column
    staff = (
        "\ufeffsubmission;answer;score;comment\n"
        "ann;kept as staff left it;4;great\n"
        "ben;x;2,5;\n"
        "cat;y;lots;typo\n"
    )
    (out / "manual.csv").write_text(staff, encoding="utf-8")
    (subs / "dan.ipynb").write_text(notebook("score=0"))
    results_before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    summary = batch.run_batch(subs, out, ASSIGNMENT, jobs=1, grade_fn=STANDIN, stream=devnull)
    assert summary.graded == ["dan"]  # nothing else was run again
    for name, mtime in results_before.items():
        assert (out / "results" / name).stat().st_mtime_ns == mtime
    _, grades = read_csv(out / "grades.csv")
    totals = {r["submission"]: float(r["total"]) for r in grades}
    assert totals == {"ann": 100.0, "ben": 50.0, "cat": 50.0, "dan": 0.0}  # the core
    extra = {r["submission"]: float(r["extra_credit"]) for r in grades}
    assert extra == {"ann": 4.0, "ben": 2.5, "cat": 0.0, "dan": 0.0}  # staff scores
    _, book = read_csv(out / "gradebook.csv")
    assert {r["student_id"]: float(r["total"]) for r in book} == totals
    assert {r["student_id"]: float(r["extra_credit"]) for r in book} == extra
    assert any("lots" in w for w in summary.warnings)
    header, rows = manual.read_manual(out / "manual.csv")[:2]
    assert header == ["submission", "answer", "score", "comment"]
    by = {r["submission"]: r for r in rows}
    assert by["ann"] == {
        "submission": "ann",
        "answer": "kept as staff left it",
        "score": "4",
        "comment": "great",
    }
    assert by["cat"]["score"] == "lots" and by["dan"]["score"] == ""
    page = (out / "feedback" / "ann.html").read_text()
    assert "Course staff gave your free-response answer 4 points" in page
    assert "Core 100 / 100 · extra credit +4" in page


def test_rerun_skips_unchanged_and_force_or_changes_regrade(
    tmp_path: Path, fixed_checks: None
) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("a", "b", "c"):
        (subs / f"{name}.ipynb").write_text(notebook("score=0.5", extra=f"name = {name!r}"))
    devnull = open(os.devnull, "w")
    first = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=devnull)
    assert sorted(first.graded) == ["a", "b", "c"]
    again = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=devnull)
    assert again.graded == [] and sorted(again.unchanged) == ["a", "b", "c"]
    (subs / "b.ipynb").write_text(notebook("score=1"))
    (out / "results" / "c.json").write_text('{"submission": "c", "stat')  # corrupt
    changed = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, grade_fn=STANDIN, stream=devnull)
    assert sorted(changed.graded) == ["b", "c"] and changed.unchanged == ["a"]
    assert any("c.json was unreadable" in w for w in changed.warnings)
    other_seed = batch.run_batch(
        subs, out, ASSIGNMENT, jobs=2, seed=7, grade_fn=STANDIN, stream=devnull
    )
    assert sorted(other_seed.graded) == ["a", "b", "c"]
    forced = run_cli(subs, out, "--seed", "7", "--force", "--jobs", "2")
    assert forced.returncode == 0, forced.stderr
    assert "3 graded, 0 unchanged" in forced.stdout
    _, rows = read_csv(out / "grades.csv")
    assert {r["submission"]: float(r["total"]) for r in rows} == {"a": 50, "b": 100, "c": 50}


def test_nbgrader_submitted_layout_via_cli(tmp_path: Path) -> None:
    subs, out = tmp_path / "submitted", tmp_path / "grades"
    for name in ("s1", "s2"):
        path = subs / name / "adam_variants" / "adam_variants.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(notebook("score=1"))
    done = run_cli(subs, out, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    _, rows = read_csv(out / "grades.csv")
    assert [(r["submission"], r["total"]) for r in rows] == [("s1", "100"), ("s2", "100")]
    assert "graded 2/2" in done.stdout


def test_a_hung_grading_worker_is_killed_and_the_batch_goes_on(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "hang.ipynb").write_text(notebook("sleep=60"))
    (subs / "ok.ipynb").write_text(notebook("score=1"))
    summary = batch.run_batch(
        subs,
        out,
        ASSIGNMENT,
        jobs=1,
        grade_fn=STANDIN,
        hard_limit=3.0,
        stream=open(os.devnull, "w"),
    )
    assert summary.errors == ["hang"] and sorted(summary.graded) == ["hang", "ok"]
    _, rows = read_csv(out / "grades.csv")
    by = {r["submission"]: r for r in rows}
    assert "hard limit" in by["hang"]["message"] and by["ok"]["total"] == "100"


def test_progress_bar_is_one_line_on_a_terminal() -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    stream = Tty()
    bar = progress.Progress(3, stream)
    for name in ("a", "b"):
        result = SubmissionResult.failed(name, "invalid", "x", ASSIGNMENT)
        bar.update(result, final_grade(result, ASSIGNMENT))
    assert "\n" not in stream.text and stream.text.count("\r") == 2
    assert "2/3" in stream.text and "failures 2" in stream.text and "left" in stream.text
    bar.close()
    assert stream.text.endswith("\n")


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    result = SubmissionResult.failed(
        "=HYPERLINK(1)", "invalid", "=cmd|' /C calc'!A0\nline 2", ASSIGNMENT
    )
    row = outputs.grades_rows([final_grade(result, ASSIGNMENT)], ASSIGNMENT)[0]
    assert row[0] == "'=HYPERLINK(1)" and row[-2] == "'=cmd|' /C calc'!A0 line 2"


def test_bad_arguments() -> None:
    assert grade_command.main(["/nonexistent-folder-xyz"]) == 2
    assert grade_command.main([str(TESTS), "--jobs", "0"]) == 2


def test_result_json_is_written_with_the_schema(graded) -> None:
    _, out, _ = graded
    data = json.loads((out / "results" / "alice.json").read_text())
    assert data["submission"] == "alice" and data["status"] == "graded"


def test_end_to_end_with_the_real_engine(tmp_path: Path) -> None:
    """The real ``grade_one``: the instructor solution earns every core point, the
    released (blank) notebook none, and a file that is not a notebook is invalid."""
    from adam import RELEASED_NOTEBOOK, SOLUTION_NOTEBOOK

    subs, out = tmp_path / "subs", tmp_path / "grades"
    subs.mkdir()
    (subs / "solution.ipynb").write_bytes(SOLUTION_NOTEBOOK.read_bytes())
    (subs / "blank").mkdir()
    (subs / "blank" / "adam_variants.ipynb").write_bytes(RELEASED_NOTEBOOK.read_bytes())
    (subs / "garbage.ipynb").write_text("\x00\x01 not json")
    summary = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, stream=open(os.devnull, "w"))
    assert summary.errors == [] and sorted(summary.graded) == ["blank", "garbage", "solution"]
    header, rows = read_csv(out / "grades.csv")
    assert header == list(outputs.grades_columns(ASSIGNMENT))
    by = {r["submission"]: r for r in rows}
    assert by["garbage"]["status"] == "invalid"
    assert by["solution"]["status"] == "graded" and by["blank"]["status"] == "graded"
    core = [q for q in QUESTIONS if not q.bonus]
    for q in core:
        assert float(by["solution"][q.id]) == q.points, (q.id, by["solution"]["message"])
        assert float(by["blank"][q.id]) == 0.0, q.id
    assert float(by["solution"]["total"]) >= 100.0
    hidden = hidden_source_lines()
    for page in (out / "feedback").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert_no_injection(parse_html(text))
        assert "def test_" not in text and not [line for line in hidden if line in text]
    assert_no_injection(parse_html((out / "report.html").read_text(encoding="utf-8")))
    again = batch.run_batch(subs, out, ASSIGNMENT, jobs=2, stream=open(os.devnull, "w"))
    assert again.graded == [] and sorted(again.unchanged) == ["blank", "garbage", "solution"]


def test_batch_seed_is_fresh_per_grades_folder_and_recorded(tmp_path):
    first, second = tmp_path / "grades_a", tmp_path / "grades_b"
    seed_a = batch.batch_seed(first, None)
    assert batch.batch_seed(first, None) == seed_a  # a rerun probes with the same inputs
    assert (first / batch.SEED_FILE).read_text().strip() == str(seed_a)
    seeds_b = {batch.batch_seed(tmp_path / f"grades_{i}", None) for i in range(5)}
    assert len(seeds_b | {seed_a}) > 1  # new folders draw new seeds
    assert batch.batch_seed(second, 1234) == 1234  # an explicit seed wins and is recorded
    assert batch.batch_seed(second, None) == 1234
