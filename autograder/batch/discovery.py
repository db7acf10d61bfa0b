"""The submissions in a folder, and whether a stored result still stands.

Layouts accepted (the student id is the file stem or the folder name):
``<student>.ipynb``, ``<student>/<notebook>`` and ``<student>/<id>/<notebook>``
(nbgrader's ``submitted/`` layout); a student folder holding exactly one other
``.ipynb`` is graded too. Anything else is listed as skipped, with the reason. A
symbolic link is never followed: a linked notebook or student folder, or one with a
link on the way to its notebook, is an ``invalid`` result saying so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.results import SubmissionResult
from autograder.staff.file_names import printable_id


@dataclass(frozen=True)
class Submission:
    """One notebook to grade and the id it is graded under."""

    id: str
    path: Path
    folder: Path | None = None
    """The student folder (nbgrader's layout); None for ``<dir>/<student>.ipynb``."""
    problem: str = ""
    """Why it is ``invalid`` without being opened (a symbolic link); '' when it is gradable."""


def _visible(path: Path) -> bool:
    return not path.name.startswith((".", "~")) and path.name != "__pycache__"


def _link_message(link: Path, root: Path) -> str:
    return (
        f"{link.relative_to(root).as_posix()} is a symbolic link; submit the notebook file itself"
    )


def _first_link(folder: Path, path: Path) -> Path | None:
    """The first symbolic link on the way from ``folder`` down to ``path`` (included)."""
    here = folder
    for part in path.relative_to(folder).parts:
        here = here / part
        if here.is_symlink():
            return here
    return None


def _folder_notebook(folder: Path, root: Path, name: str) -> tuple[Path | None, str, str]:
    """The notebook of a student folder, ``name`` (the assignment's notebook) or its only
    one: (path, problem, '') or (None, '', why it is skipped).

    A symbolic link is never followed: one on the way to the notebook makes the
    submission ``invalid`` with ``problem`` saying so."""
    for candidate in (folder / name, folder / folder.name / name, folder / Path(name).stem / name):
        link = (
            _first_link(folder, candidate)
            if os.path.lexists(candidate) or candidate.parent.is_symlink()
            else None
        )
        if link is not None:
            return candidate, _link_message(link, root), ""
        if os.path.lexists(candidate) and candidate.is_file():
            return candidate, "", ""
    notebooks: list[Path] = []
    links: list[Path] = []
    for here, dirs, files in os.walk(folder):  # never descends into a linked folder
        base = Path(here)
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and _visible(base / d))
        links += [base / d for d in dirs if (base / d).is_symlink()]
        for name in sorted(files):
            path = base / name
            if name.lower().endswith(".ipynb") and _visible(path):
                (links if path.is_symlink() else notebooks).append(path)
    if len(notebooks) == 1:
        return notebooks[0], "", ""
    if not notebooks and links:
        return links[0], _link_message(links[0], root), ""
    if not notebooks:
        return None, "", f"folder without a notebook (expected {name})"
    names = ", ".join(str(p.relative_to(folder)) for p in notebooks[:5])
    return None, "", f"{len(notebooks)} notebooks and none named {name}: {names}"


def discover(
    root: str | Path, notebook: str, exclude: Sequence[Path] = ()
) -> tuple[list[Submission], list[tuple[str, str]]]:
    """The submissions under ``root`` (sorted by id) and the skipped entries with reasons;
    ``notebook`` is the assignment's notebook name, looked for in a student folder.

    A submission that is, or is reached through, a symbolic link is listed with its
    ``problem`` set: it becomes an ``invalid`` result and is never opened."""
    root = Path(root)
    excluded = {p.resolve() for p in exclude}
    found: dict[str, Submission] = {}
    skipped: list[tuple[str, str]] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not _visible(entry):
            continue
        notebook_name = entry.suffix.lower() == ".ipynb"
        if entry.is_symlink():
            if not (notebook_name or entry.is_dir()):
                skipped.append((entry.name, "not a notebook (.ipynb)"))
                continue
            path, problem, why = entry, _link_message(entry, root), ""
            sid = printable_id(entry.stem if notebook_name else entry.name)
            folder = None
        elif entry.resolve() in excluded:
            continue
        elif entry.is_dir():
            path, problem, why = _folder_notebook(entry, root, notebook)
            sid, folder = printable_id(entry.name), entry
        elif notebook_name:
            path, problem, why, sid, folder = entry, "", "", printable_id(entry.stem), None
        else:
            path, problem, why, sid, folder = (
                None,
                "",
                "not a notebook (.ipynb)",
                printable_id(entry.name),
                None,
            )
        if path is None:
            skipped.append((printable_id(entry.name), why))
        elif sid in found:
            skipped.append(
                (
                    printable_id(str(path.relative_to(root))),
                    f"a second submission for {sid!r} "
                    f"(graded: {found[sid].path.relative_to(root)})",
                )
            )
        else:
            found[sid] = Submission(sid, path, folder, problem)
    return list(found.values()), skipped


def exists(path: Path) -> bool:
    """Whether ``path`` exists; False when even asking fails (the submission is regraded)."""
    try:
        return path.exists()
    except OSError:
        return False


def is_current(
    result: SubmissionResult | None, nb_sha: str, checks_sha: str, seed: int, device: str
) -> bool:
    """Whether a stored result still stands (same notebook, checks, seed and device)."""
    return (
        result is not None
        and result.status != "error"
        and result.notebook_sha256 == nb_sha
        and result.checks_sha256 == checks_sha
        and result.seed == seed
        and (device == "auto" or result.device == device)
    )
