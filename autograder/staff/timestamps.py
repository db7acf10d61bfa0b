"""When each submission was made, for the late policy (``autograder/staff/late.py``).

Three sources, first match wins:

1. a **timestamps CSV** given with ``--timestamps FILE`` (kept as
   ``<grades>/timestamps.csv`` for later runs), columns ``submission`` (the
   submission name as in ``grades.csv``) and ``submitted_at`` (also accepted:
   ``timestamp``, ``time``, ``submission time``), e.g. ``alice,2026-03-14T08:30:00+01:00``;
2. nbgrader's **timestamp.txt** next to the notebook or in the student folder
   (``submitted/<student>/<assignment>/timestamp.txt``, written by ``nbgrader submit``
   / ``collect`` as ``2026-03-14 07:30:00.000000 UTC``);
3. Gradescope's **submission_metadata.json** in the student folder (``created_at``).

A time without a zone is read as UTC, as nbgrader does. The times found are written
to ``<grades>/submission_times.csv`` (``submission,submitted_at,source``), from which
the grades and exports are computed. Files are read without following symbolic
links and only their first 64 KiB.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.staff.atomic import write_text_atomic
from autograder.staff.csv_cells import guard, table, unguard

TIMES_FILE = "submission_times.csv"
KEPT_CSV = "timestamps.csv"
NBGRADER_FILE = "timestamp.txt"
GRADESCOPE_FILE = "submission_metadata.json"
TIME_COLUMNS = ("submitted at", "timestamp", "time", "submission time", "submitted")
MAX_BYTES = 64 * 1024
_OFFSET = re.compile(r"^([+-])(\d\d):?(\d\d)$")


@dataclass(frozen=True)
class SubmissionTime:
    """When one submission was made, and where that was read."""

    submission: str
    submitted_at: datetime | None
    source: str = ""


def parse_time(text: str) -> datetime:
    """A timestamp as an aware datetime: ISO 8601 (``2026-03-14T08:30:00+01:00``,
    ``...Z``) or nbgrader's ``2026-03-14 07:30:00.000000 UTC`` (a zone name or an
    offset such as ``+0100`` as the third part). ValueError says what was expected."""
    text = text.strip()
    if not text:
        raise ValueError("an empty timestamp")
    parts = text.split()
    base, name = (" ".join(parts[:2]), parts[2]) if len(parts) == 3 else (text, "")
    try:
        moment = datetime.fromisoformat(base[:-1] + "+00:00" if base.endswith("Z") else base)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a timestamp (expected ISO 8601 such as "
            "2026-03-14T08:30:00+01:00, or 2026-03-14 07:30:00 UTC)"
        ) from None
    if name:
        offset = _OFFSET.match(name)
        if offset:
            sign = -1 if offset.group(1) == "-" else 1
            zone: timezone | ZoneInfo = timezone(
                sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
            )
        elif name.upper() in ("UTC", "GMT", "Z"):
            zone = timezone.utc
        else:
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {name!r} in {text!r}") from None
        return moment.replace(tzinfo=zone)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _read_small(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(MAX_BYTES).decode("utf-8", errors="replace")


def _header_key(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def read_timestamps_csv(path: str | Path) -> dict[str, datetime]:
    """``submission -> time`` from a timestamps CSV; ValueError names the bad row."""
    text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {_header_key(c): c for c in (reader.fieldnames or []) if c}
    time_column = next((columns[c] for c in TIME_COLUMNS if c in columns), None)
    if "submission" not in columns or time_column is None:
        raise ValueError(
            f"{path}: needs the columns submission and submitted_at "
            f"(found: {', '.join(reader.fieldnames or []) or 'none'})"
        )
    times: dict[str, datetime] = {}
    for row_number, row in enumerate(reader, start=2):
        name = unguard((row.get(columns["submission"]) or "").strip())
        if not name:
            continue
        try:
            times[name] = parse_time(row.get(time_column) or "")
        except ValueError as exc:
            raise ValueError(f"{path}, row {row_number} ({name!r}): {exc}") from None
    return times


def _folders(notebook: Path, folder: Path | None) -> list[Path]:
    """The notebook's folder and its parents up to the student folder."""
    if folder is None:
        return []
    places, here = [], notebook.parent
    while True:
        places.append(here)
        if here == folder or here.parent == here or folder not in here.parents:
            break
        here = here.parent
    return places


def find_time(notebook: Path, folder: Path | None) -> tuple[datetime | None, str, str]:
    """(time, source, problem) from nbgrader's or Gradescope's file near the notebook."""
    for place in _folders(notebook, folder):
        for name, read in (
            (NBGRADER_FILE, lambda t: t.strip().splitlines()[0]),
            (GRADESCOPE_FILE, lambda t: str(json.loads(t)["created_at"])),
        ):
            path = place / name
            if not path.exists() and not path.is_symlink():
                continue
            try:
                return parse_time(read(_read_small(path))), name, ""
            except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
                return None, "", f"{path.name}: {exc}"
    return None, "", ""


def collect(
    submissions: Iterable[tuple[str, Path, Path | None]], csv_times: dict[str, datetime]
) -> tuple[list[SubmissionTime], list[str]]:
    """The time of each ``(submission, notebook, student folder or None)``, and warnings."""
    times, warnings = [], []
    for name, notebook, folder in submissions:
        if name in csv_times:
            times.append(SubmissionTime(name, csv_times[name], KEPT_CSV))
            continue
        moment, source, problem = find_time(notebook, folder)
        if problem:
            warnings.append(f"submission time of {name}: {problem}")
        times.append(SubmissionTime(name, moment, source))
    return times, warnings


def write_times(path: str | Path, times: Iterable[SubmissionTime]) -> None:
    """``submission_times.csv``, atomically."""
    body = [
        (guard(t.submission), t.submitted_at.isoformat() if t.submitted_at else "", t.source)
        for t in sorted(times, key=lambda t: t.submission)
    ]
    write_text_atomic(path, table(("submission", "submitted_at", "source"), body), newline="")


def read_times(path: str | Path) -> dict[str, datetime]:
    """``submission -> time`` from ``submission_times.csv`` (missing file: none)."""
    path = Path(path)
    if not path.exists():
        return {}
    times = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            with_time = (row.get("submitted_at") or "").strip()
            if with_time:
                times[unguard(row.get("submission") or "")] = parse_time(with_time)
    return times
