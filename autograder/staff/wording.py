"""Lists and counts as people read them, for every message the kit prints or writes.

Names of students are often "Last, First", so a list of them is never joined with
", " (``Kowalski, Anna, Okafor, Ben`` reads as four people): :func:`names` joins
with ``"; "``. :func:`count` writes "1 submission" and "2 submissions".
"""

from __future__ import annotations

from collections.abc import Iterable

LIST_SEPARATOR = "; "


def names(items: Iterable[str], limit: int | None = None) -> str:
    """``items`` joined with ``"; "``; past ``limit`` of them, ``"; ... (N more)"``."""
    items = list(items)
    shown = items if limit is None else items[:limit]
    text = LIST_SEPARATOR.join(shown)
    if len(shown) < len(items):
        text += f"{LIST_SEPARATOR}... ({len(items) - len(shown)} more)"
    return text


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 submission``, ``2 submissions`` (``plural`` for irregular nouns)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
