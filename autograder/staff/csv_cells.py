"""The staff's CSV files: read as spreadsheets save them, written so that a spreadsheet never
runs a cell.

Reading (:func:`decode`, :func:`rows`) tolerates Excel habits: a byte-order mark, cp1252
instead of UTF-8, ``;`` as the delimiter. Writing (:func:`table`) is one ``csv.writer``.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (OWASP "CSV
injection"). Every text cell the kit writes from student data (submission
names, messages, free-response answers) goes through :func:`guard`, which puts a
``'`` in front of such a cell; :func:`unguard` takes it off again when the kit
reads its own file back. Numbers are written by the kit itself and need no guard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(value: Any) -> str:
    """``str(value)``, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unguard(text: str) -> str:
    """The value that :func:`guard` wrote as ``text``."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def one_line(value: Any, limit: int) -> str:
    """A guarded one-line cell of at most ``limit`` characters (whitespace runs become one space)."""
    return guard(" ".join(str(value).split())[:limit])


def decode(raw: bytes) -> tuple[str, bool]:
    """The text of a staff CSV file: UTF-8 (a byte-order mark dropped), else cp1252; and
    whether it was UTF-8."""
    try:
        return raw.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), False


def rows(text: str) -> Iterator[list[str]]:
    """The rows of a CSV text, with ``;`` as the delimiter when its first line has more
    ``;`` than ``,``."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def table(header: Sequence[str], body: Sequence[Sequence[str]], lineterminator: str = "\n") -> str:
    """CSV text: the header, then the rows (cells already guarded where they are text)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()
