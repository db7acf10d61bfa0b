"""The late policy: the penalty from the deadline, the grace period,
per hour or per day with a cap or a cut-off; submission times from nbgrader's
timestamp.txt, Gradescope's submission_metadata.json and a timestamps CSV; the penalty
in grades.csv, the exports, the feedback page and the class report."""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from adam import ASSIGNMENT, NOTEBOOK_NAME, QUESTIONS
from test_batch import STANDIN, notebook, parse_html, read_csv

from autograder.assignment.model import load
from autograder.batch import run as batch
from autograder.staff import export, timestamps
from autograder.staff.late import LatePolicy, applied_penalty

FIXTURE = Path(__file__).parent / "fixtures" / "gd_basics"
DEVNULL = open(os.devnull, "w")  # for the whole module
CORE = sum(q.points for q in QUESTIONS if not q.bonus)
EST = timezone(timedelta(hours=-5))
DEADLINE = datetime(2026, 3, 13, 23, 59, tzinfo=EST)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def policy(**changes: object) -> LatePolicy:
    settings = dict(
        deadline=DEADLINE,
        grace=timedelta(minutes=15),
        points=10.0,
        unit="day",
        cap=30.0,
        cutoff=None,
    )
    settings.update(changes)
    return LatePolicy(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (-DAY, 0.0),  # early
        (timedelta(minutes=10), 0.0),  # inside the grace period
        (timedelta(minutes=15), 0.0),  # the grace period's last second
        (timedelta(minutes=16), 10.0),  # first day started
        (DAY, 10.0),  # exactly one day: one started day
        (DAY + timedelta(seconds=1), 20.0),  # the second day started
        (5 * DAY, 30.0),  # capped
    ],
)
def test_penalty_per_started_day_with_grace_and_cap(late: timedelta, expected: float) -> None:
    lateness = policy().assess(DEADLINE + late)
    assert lateness.penalty == expected and not lateness.not_accepted
    assert bool(lateness.message) == (expected > 0)


def test_penalty_per_hour_cut_off_and_clamp() -> None:
    per_hour = policy(points=2.0, unit="hour", cap=100.0, grace=timedelta(0))
    assert per_hour.assess(DEADLINE + 2.5 * HOUR).penalty == 6.0  # three started hours
    cut = policy(cutoff=72 * HOUR)
    assert cut.assess(DEADLINE + 71 * HOUR).penalty == 30.0
    gone = cut.assess(DEADLINE + 73 * HOUR)
    assert gone.not_accepted and "not accepted" in gone.message
    assert applied_penalty(gone, 87.5) == 87.5  # the whole total
    assert applied_penalty(policy().assess(DEADLINE + 3 * DAY), 12.0) == 12.0  # never below 0
    assert policy(deadline=None).assess(DEADLINE + 9 * DAY).penalty == 0.0
    assert policy().assess(None).penalty == 0.0  # no time known: on time


def test_policy_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        policy(deadline=datetime(2026, 3, 13, 23, 59))
    with pytest.raises(ValueError, match="hour.*day"):
        policy(unit="week")
    with pytest.raises(ValueError, match="points"):
        policy(points=-1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-14 04:59:00.000000 UTC", datetime(2026, 3, 14, 4, 59, tzinfo=timezone.utc)),
        ("2026-03-14 05:59:00 +0100", datetime(2026, 3, 14, 4, 59, tzinfo=timezone.utc)),
        ("2026-03-13T23:59:00-05:00", datetime(2026, 3, 14, 4, 59, tzinfo=timezone.utc)),
        ("2026-03-14T04:59:00Z", datetime(2026, 3, 14, 4, 59, tzinfo=timezone.utc)),
        ("2026-03-14 04:59:00", datetime(2026, 3, 14, 4, 59, tzinfo=timezone.utc)),  # naive: UTC
        (
            "2026-03-13 23:59:00 America/New_York",
            datetime(2026, 3, 14, 3, 59, tzinfo=timezone.utc),
        ),  # EDT began on 8 March 2026
    ],
)
def test_timestamp_formats(text: str, expected: datetime) -> None:
    assert timestamps.parse_time(text) == expected


def test_bad_timestamps_say_what_was_expected() -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        timestamps.parse_time("yesterday at noon")
    with pytest.raises(ValueError, match="unknown time zone"):
        timestamps.parse_time("2026-03-14 04:59:00 Mars/Olympus")


def _nbgrader_layout(subs: Path, student: str, score: float, stamp: str | None) -> Path:
    folder = subs / student / "adam_variants"
    folder.mkdir(parents=True)
    (folder / NOTEBOOK_NAME).write_text(notebook(f"score={score}"))
    if stamp is not None:
        (folder / "timestamp.txt").write_text(stamp + "\n")
    return folder


def test_penalty_in_grades_exports_feedback_and_report(tmp_path: Path) -> None:
    subs, out = tmp_path / "submitted", tmp_path / "grades"
    # nbgrader's timestamp.txt (UTC): 04:59 UTC is the deadline itself
    _nbgrader_layout(subs, "ontime", 1.0, "2026-03-14 05:10:00.000000 UTC")  # 11 min: grace
    _nbgrader_layout(subs, "oneday", 1.0, "2026-03-14 06:00:00.000000 UTC")  # 1 h late
    _nbgrader_layout(subs, "small", 0.05, "2026-03-16 06:00:00.000000 UTC")  # 3 days, 5 pts
    gradescope = subs / "gs" / "adam_variants"
    gradescope.mkdir(parents=True)
    (gradescope / NOTEBOOK_NAME).write_text(notebook("score=0.5"))
    (subs / "gs" / "submission_metadata.json").write_text(
        json.dumps({"id": 1, "created_at": "2026-03-15T08:00:00.000000-07:00"})
    )  # 1 d 10 h late
    _nbgrader_layout(subs, "fromcsv", 1.0, "2026-03-20 00:00:00 UTC")  # the CSV wins
    (subs / "flat.ipynb").write_text(notebook("score=1"))  # no time anywhere
    times = tmp_path / "times.csv"
    times.write_text("submission,submitted_at\nfromcsv,2026-03-13T20:00:00-05:00\n")
    console = io.StringIO()
    summary = batch.run_batch(
        subs,
        out,
        ASSIGNMENT,
        jobs=2,
        grade_fn=STANDIN,
        stream=console,
        late_policy=policy(),
        timestamps_csv=times,
    )
    expected = {
        "ontime": (CORE, 0.0),
        "oneday": (CORE - 10, 10.0),
        "small": (0.0, 5.0),
        "gs": (CORE / 2 - 20, 20.0),
        "fromcsv": (CORE, 0.0),
        "flat": (CORE, 0.0),
    }
    _, rows = read_csv(out / "grades.csv")
    got = {r["submission"]: (float(r["total"]), float(r["late_penalty"])) for r in rows}
    assert got == expected
    messages = {r["submission"]: r["message"] for r in rows}
    assert messages["gs"].startswith("submitted 1 d 10 h 1 min after the deadline: 20 points off")
    assert messages["ontime"] == ""
    # the console's line per submission is the final grade, the late penalty taken off
    lines = {
        line.split(":")[0].split()[-1]: line
        for line in console.getvalue().splitlines()
        if line.startswith("graded ")
    }
    assert f"gs: Core {CORE / 2:g} / {CORE} · late −20 → {CORE / 2 - 20:g} / {CORE}" in lines["gs"]
    assert sorted(summary.late) == ["gs", "oneday", "small"]
    assert any("for 1 submission (counted as on time): flat" in w for w in summary.warnings)
    sources = {r["submission"]: r["source"] for r in read_csv(out / "submission_times.csv")[1]}
    assert sources == {
        "ontime": "timestamp.txt",
        "oneday": "timestamp.txt",
        "small": "timestamp.txt",
        "gs": "submission_metadata.json",
        "fromcsv": "timestamps.csv",
        "flat": "",
    }
    page = parse_html((out / "feedback" / "gs.html").read_text(encoding="utf-8"))
    visible = " ".join(" ".join(page.text).split())
    assert f"Core {CORE / 2:g} / {CORE} · late −20 → {CORE / 2 - 20:g} / {CORE}" in visible
    assert "Late: submitted 1 d 10 h 1 min after the deadline: 20 points off" in visible
    ontime = " ".join((out / "feedback" / "ontime.html").read_text(encoding="utf-8").split())
    assert "Late:" not in ontime
    report = " ".join(parse_html((out / "report.html").read_text(encoding="utf-8")).text)
    assert "Late submissions" in report and "per started day" in report
    for name in ("gs", "oneday", "small"):
        assert name in report
    text, _ = export.export(out, "csv", ASSIGNMENT, policy=policy())
    exported = {r["student"]: r for r in read_csv_text(text)}
    assert {
        k: (float(r["total"]), float(r["late_penalty"])) for k, r in exported.items()
    } == expected
    canvas, _ = export.export(out, "canvas", ASSIGNMENT, policy=policy())
    grades = {r["SIS Login ID"]: r["adam_variants"] for r in read_csv_text(canvas)[1:]}
    assert float(grades["gs"]) == CORE / 2 - 20


def read_csv_text(text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text, newline="")))


def _assignment_with_late(folder: Path, late: str):
    """A copy of the gd_basics fixture whose assignment file has this ``[late]`` table."""
    shutil.copytree(FIXTURE, folder)
    path = folder / "assignment.toml"
    text = path.read_text(encoding="utf-8").replace('[late]\ndeadline = ""\n', "[late]\n" + late)
    path.write_text(text, encoding="utf-8")
    return load(str(folder))


def test_the_policy_is_read_from_the_assignment_file(tmp_path: Path) -> None:
    read = LatePolicy.from_assignment(
        _assignment_with_late(
            tmp_path / "a" / "gd_basics",
            (
                'deadline = "2026-03-13T23:59:00-05:00"\npenalty_unit = "hour"\npenalty_points = 2\n'
                "cutoff_hours = 48\ngrace_minutes = 30\n"
            ),
        ).late
    )
    assert read.deadline == DEADLINE and read.unit == "hour" and read.points == 2.0
    assert read.cutoff == 48 * HOUR and read.grace == timedelta(minutes=30)
    never = _assignment_with_late(
        tmp_path / "b" / "gd_basics", 'deadline = "2026-03-13T23:59:00-05:00"\ncutoff_hours = -1\n'
    )
    assert LatePolicy.from_assignment(never.late).cutoff is None
    naive = _assignment_with_late(tmp_path / "c" / "gd_basics", 'deadline = "2026-03-13 23:59"\n')
    with pytest.raises(ValueError, match="UTC offset"):
        LatePolicy.from_assignment(naive.late)
