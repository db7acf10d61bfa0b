"""The free-response answers, for staff to score by hand: ``grades/manual.csv``.

The file has the columns ``submission,answer,score``; ``score`` starts empty.
Staff fill in scores (any spreadsheet; extra columns such as ``comment`` are
kept) and the next ``make grade`` adds each score to that submission's total,
without running anything again.

The file belongs to staff once it exists: a rerun only appends rows for new
submissions and refreshes the answer of rows that have no score yet. A row
with a score is never changed (a warning says when its answer has changed since).
Excel habits are tolerated on reading: a byte-order mark, cp1252, ``;`` as
separator and a decimal comma (``7,5``).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from autograder.atomic import write_text_atomic

COLUMNS = ("submission", "answer", "score")
FILE_NAME = "manual.csv"


def _read_text(path: Path) -> tuple[str, list[str]]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), [
            f"{path}: not UTF-8; read it as cp1252 (save it as UTF-8 CSV to be sure)"
        ]


def read_manual(path: str | Path) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """The file's columns, its rows and warnings; no file gives the default columns."""
    path = Path(path)
    if not path.exists():
        return list(COLUMNS), [], []
    text, warnings = _read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fields = [f.strip() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    missing = [c for c in ("submission", "score") if c not in fields]
    if missing:
        warnings.append(f"{path}: no column {', '.join(missing)}; its scores are ignored")
        return fields or list(COLUMNS), [], warnings
    rows = [
        {k: (v if isinstance(v, str) else "") for k, v in row.items() if k is not None}
        for row in reader
    ]
    return fields, rows, warnings


def parse_score(text: str) -> float | None:
    """A staff score: None when blank; ValueError when it is not a number >= 0."""
    text = (text or "").strip()
    if not text:
        return None
    value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text \
        else float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{text!r} is not a score >= 0")
    return value


def load_scores(path: str | Path) -> tuple[dict[str, float], list[str]]:
    """Staff scores by submission id, and warnings for cells that are not scores."""
    _, rows, warnings = read_manual(path)
    scores: dict[str, float] = {}
    for row in rows:
        sid = (row.get("submission") or "").strip()
        try:
            value = parse_score(row.get("score", ""))
        except ValueError as exc:
            warnings.append(f"{FILE_NAME}: score of {sid!r} ignored: {exc}")
            continue
        if sid and value is not None:
            if sid in scores:
                warnings.append(f"{FILE_NAME}: {sid!r} scored twice; the last score counts")
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
    by_id = {(r.get("submission") or "").strip(): r for r in rows}
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
            if (row.get("answer") or "").strip() != answer.strip():
                warnings.append(
                    f"{FILE_NAME}: the answer of {sid!r} changed since it was scored; "
                    "the score is kept (clear it to rescore)"
                )
        elif row.get("answer", "") != answer:
            row["answer"] = answer
            changed = True
    if changed:
        _write_atomic(path, fields, rows)
    return warnings


def _write_atomic(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({f: row.get(f, "") for f in fields})
    write_text_atomic(path, buffer.getvalue(), newline="")
