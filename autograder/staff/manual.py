"""The free-response answers, for staff to score by hand: ``grades/manual.csv``.

The file has the columns ``submission,answer,score``; ``score`` starts empty.
Staff fill in scores (any spreadsheet; extra columns such as ``comment`` are
kept) and the next ``make grade`` adds each score to that submission's total,
without running anything again.

A score is a number from 0 to the assignment file's ``[free_response] points``.
A row whose score is not such a number, that names no graded submission, or that
repeats a submission of an earlier row is rejected with a message naming its row
(as a spreadsheet numbers it: the header is row 1); every other row still counts.

The file belongs to staff once it exists: a rerun only appends rows for new
submissions and refreshes the answer of rows that have no score yet. A row
with a score is never changed (a warning says when its answer has changed since).
Excel habits are tolerated on reading: a byte-order mark, cp1252, ``;`` as
separator and a decimal comma (``7,5``). Submission names and answers that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are written with a
leading ``'`` (``autograder/staff/csv_cells.py``).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path

from autograder.staff import csv_cells
from autograder.staff.atomic import write_text_atomic
from autograder.staff.csv_cells import guard, unguard

COLUMNS = ("submission", "answer", "score")
FILE_NAME = "manual.csv"


def _read_text(path: Path) -> tuple[str, list[str]]:
    text, utf8 = csv_cells.decode(path.read_bytes())
    if utf8:
        return text, []
    return text, [f"{path}: not UTF-8; read it as cp1252 (save it as UTF-8 CSV to be sure)"]


def _read_records(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[str]]:
    """The file's columns, its rows with their spreadsheet row numbers, and warnings."""
    if not path.exists():
        return list(COLUMNS), [], []
    text, warnings = _read_text(path)
    reader = csv_cells.rows(text)
    fields = [f.strip() for f in next(reader, [])]
    missing = [c for c in ("submission", "score") if c not in fields]
    if missing:
        warnings.append(f"{path}: no column {', '.join(missing)}; its scores are ignored")
        return fields or list(COLUMNS), [], warnings
    records = []
    for row_number, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            records.append(
                (
                    row_number,
                    {f: cells[i] if i < len(cells) else "" for i, f in enumerate(fields) if f},
                )
            )
    return fields, records, warnings


def read_manual(path: str | Path) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """The file's columns, its rows and warnings; no file gives the default columns."""
    fields, records, warnings = _read_records(Path(path))
    return fields, [row for _, row in records], warnings


def submission_of(row: dict[str, str]) -> str:
    """The submission a row is about (without the formula guard)."""
    return unguard((row.get("submission") or "").strip())


def parse_score(text: str, maximum: float) -> float | None:
    """A staff score: None when blank; ValueError unless it is a number in [0, maximum]
    (the assignment's free-response points)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = (
            float(text.replace(",", "."))
            if text.count(",") == 1 and "." not in text
            else float(text)
        )
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= maximum:
        raise ValueError(f"{text} is outside 0 to {maximum:g}, the free-response points")
    return value


def load_scores(
    path: str | Path, maximum: float, known: Collection[str] | None = None
) -> tuple[dict[str, float], list[str]]:
    """Staff scores by submission id (each in [0, ``maximum``], the assignment's
    free-response points), and a message for each rejected row.

    ``known`` are the submissions graded; a row naming another one is rejected (None:
    any name is accepted)."""
    _, records, warnings = _read_records(Path(path))
    scores: dict[str, float] = {}
    first_row: dict[str, int] = {}
    for row_number, row in records:
        sid = submission_of(row)
        where = f"{FILE_NAME} row {row_number}"
        if not sid:
            if (row.get("score") or "").strip():
                warnings.append(f"{where}: a score without a submission name; rejected")
            continue
        if sid in first_row:
            warnings.append(
                f"{where}: {sid!r} again (first in row {first_row[sid]}); "
                "rejected, the first row counts"
            )
            continue
        first_row[sid] = row_number
        try:
            value = parse_score(row.get("score", ""), maximum)
        except ValueError as exc:
            warnings.append(f"{where} ({sid!r}): score rejected: {exc}")
            continue
        if value is None:
            continue
        if known is not None and sid not in known:
            warnings.append(f"{where}: no graded submission is named {sid!r}; score rejected")
            continue
        scores[sid] = value
    return scores, warnings


def update_manual(path: str | Path, answers: dict[str, str]) -> list[str]:
    """Merge ``answers`` (submission id -> free-response text) into the staff file.

    New submissions are appended with an empty score; unscored rows get the
    current answer; scored rows and any extra columns are left exactly as they
    are. The file is rewritten atomically, and only when something changed.
    """
    path = Path(path)
    fields, rows, warnings = read_manual(path)
    if "submission" not in fields:
        return warnings + [f"{path}: left untouched (no 'submission' column)"]
    for column in COLUMNS:
        if column not in fields:
            fields.append(column)
    by_id: dict[str, dict[str, str]] = {}
    for row in rows:  # the first row of a submission counts (load_scores says so)
        by_id.setdefault(submission_of(row), row)
    changed = not path.exists()
    for sid in sorted(answers):
        answer = answers[sid]
        row = by_id.get(sid)
        if row is None:
            row = {f: "" for f in fields}
            row.update(submission=sid, answer=answer, score="")
            rows.append(row)
            by_id[sid] = row
            changed = True
        elif (row.get("score") or "").strip():
            if unguard((row.get("answer") or "").strip()) != answer.strip():
                warnings.append(
                    f"{FILE_NAME}: the answer of {sid!r} changed since it was scored; "
                    "the score is kept (clear it to rescore)"
                )
        elif row.get("answer", "") != guard(answer):
            row["answer"] = answer
            changed = True
    if changed:
        _write_atomic(path, fields, rows)
    return warnings


def _write_atomic(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    body = []
    for row in rows:
        cells = {f: row.get(f, "") for f in fields}
        for column in ("submission", "answer"):  # student text: never a formula
            cells[column] = guard(unguard(cells[column]))
        body.append([cells[f] for f in fields])
    write_text_atomic(path, csv_cells.table(fields, body, lineterminator="\r\n"), newline="")
