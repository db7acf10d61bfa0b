"""CSV cells that a spreadsheet never runs: the guard against formula injection.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (OWASP "CSV
injection"). Every text cell the kit writes from student data (submission
names, messages, free-response answers) goes through :func:`guard`, which puts a
``'`` in front of such a cell; :func:`unguard` takes it off again when the kit
reads its own file back. Numbers are written by the kit itself and need no guard.
"""

from __future__ import annotations

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
