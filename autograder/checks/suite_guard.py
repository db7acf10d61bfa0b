"""The hidden suite as the run began: a private copy, and a fingerprint checked before each
submission.

A submission that could write the assignment's folder (graded unconfined, as the
grader's own user) could append a pytest hook to ``checks/conftest.py`` and so
score every later submission. So the grader never runs the suite from the
assignment's folder: :func:`current` copies the folder once per run into a fresh
private folder (mode 0700; outside every sandbox's tree) and the checks are
imported from there. The run's fingerprint (sha256 of every file of the
assignment's folder and every module of the kit) is taken when the run begins
(``$AUTOGRADER_SUITE_SHA256``, inherited by the run's processes) and
:meth:`PrivateSuite.verify` compares the original folder, the kit and the private
copy with it before and after each submission: any change raises
:class:`SuiteChanged`, which stops the run with the files named.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment.model import Assignment

SHA_VAR = "AUTOGRADER_SUITE_SHA256"
"""The run's fingerprint of the assignment's folder and the kit (set when the run begins)."""
COPY_VAR = "AUTOGRADER_SUITE_COPY"
"""The run's private copy of the assignment's folder (set when the run begins)."""
FOR_VAR = "AUTOGRADER_SUITE_FOR"
"""The assignment folder the run's copy and fingerprint are of (set when the run begins)."""
RUN_VARS = (SHA_VAR, COPY_VAR, FOR_VAR)
"""The variables through which a run's processes share its suite: a process that is not
one of the run's (a Dask worker) must not inherit them."""
KIT = Path(__file__).resolve().parent.parent
"""The kit's package folder (``autograder/``): its modules are fingerprinted too."""
KIT_SUFFIXES = (".py", ".css", ".html", ".j2")


class SuiteChanged(RuntimeError):
    """The hidden suite, the assignment or the kit changed during the run."""


def _files(folder: Path, suffixes: tuple[str, ...] | None = None) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (relative path -> hex), caches aside."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in filenames:
            path = Path(dirpath) / name
            if suffixes is not None and path.suffix not in suffixes:
                continue
            rel = str(path.relative_to(folder))
            try:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                out[rel] = f"unreadable: {exc.strerror}"
    return out


def snapshot(assignment: Assignment) -> dict[str, str]:
    """Every file that decides a grade: the assignment's folder and the kit's modules."""
    files = {f"assignment/{k}": v for k, v in _files(assignment.folder).items()}
    files.update({f"kit/{k}": v for k, v in _files(KIT, KIT_SUFFIXES).items()})
    return files


def fingerprint(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\0".encode())
    return digest.hexdigest()


def _differences(expected: dict[str, str], found: dict[str, str]) -> list[str]:
    return sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))


@dataclass
class PrivateSuite:
    """The run's private copy of the assignment's folder and what every file held."""

    assignment: Assignment
    root: Path
    """The private folder; ``root / <assignment id>`` is the copy."""
    files: dict[str, str] = field(default_factory=dict)
    owner: int = field(default_factory=os.getpid)

    @property
    def folder(self) -> Path:
        """The copy of the assignment's folder (``checks/`` inside is what runs)."""
        return self.root / self.assignment.id

    @property
    def checks_dir(self) -> Path:
        return self.folder / "checks"

    def verify(self) -> None:
        """Raise SuiteChanged when the original folder, the kit or the copy differ from the
        run's snapshot."""
        changed = _differences(self.files, snapshot(self.assignment))
        original = {
            k.removeprefix("assignment/"): v
            for k, v in self.files.items()
            if k.startswith("assignment/")
        }
        copied = _differences(original, _files(self.folder))
        if changed or copied:
            where = [
                *(
                    f"{self.assignment.folder / k.removeprefix('assignment/')}"
                    if k.startswith("assignment/")
                    else f"{KIT / k.removeprefix('kit/')}"
                    for k in changed
                ),
                *(f"{self.folder / k} (the private copy)" for k in copied),
            ]
            raise SuiteChanged(
                "the hidden suite or the kit changed during grading, so no further grade can "
                f"be trusted: {', '.join(where[:10])}{' ...' if len(where) > 10 else ''}. "
                "A submission graded unconfined may have rewritten it: restore the files "
                "(git status / git checkout), then grade again with --force."
            )

    def remove(self) -> None:
        if self.owner == os.getpid():
            shutil.rmtree(self.root, ignore_errors=True)


def begin_run(assignment: Assignment) -> PrivateSuite:
    """Take the run's snapshot and private copy of ``assignment`` now (before any
    submission); the run's processes inherit both through the environment."""
    global _SUITE
    if _SUITE is not None:
        _SUITE.remove()
    files = snapshot(assignment)
    root = Path(tempfile.mkdtemp(prefix="autograder-suite-"))
    os.chmod(root, 0o700)
    shutil.copytree(
        assignment.folder,
        root / assignment.id,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    suite = PrivateSuite(assignment, root, files)
    os.environ[SHA_VAR] = fingerprint(files)
    os.environ[COPY_VAR] = str(root)
    os.environ[FOR_VAR] = str(assignment.folder)
    atexit.register(suite.remove)
    _SUITE = suite
    return suite


_SUITE: PrivateSuite | None = None


def current(assignment: Assignment) -> PrivateSuite:
    """The run's private suite of ``assignment``: the one this process (or the run's first
    process, through the environment) began with; begun now when there is none yet.
    Verified."""
    global _SUITE
    if _SUITE is not None and _SUITE.assignment == assignment:
        _SUITE.verify()
        return _SUITE
    expected, copy = os.environ.get(SHA_VAR), os.environ.get(COPY_VAR)
    if (
        expected
        and copy
        and os.environ.get(FOR_VAR) == str(assignment.folder)
        and (Path(copy) / assignment.id).is_dir()
    ):
        files = snapshot(assignment)
        suite = PrivateSuite(assignment, Path(copy), files, owner=-1)
        if fingerprint(files) != expected:
            suite.files = {}
            with contextlib.suppress(SuiteChanged):
                suite.verify()
            raise SuiteChanged(
                "the hidden suite or the kit changed since this grading run began "
                f"({assignment.folder}); restore the files (git status / git checkout), then "
                "grade again with --force."
            )
        suite.verify()
        _SUITE = suite
        return suite
    return begin_run(assignment)
