"""The set-up: which Pythons the kit supports, the interpreter check before .venv is built,
and the one lock that serves every supported Python.

The supported range is decided here independently of pyproject.toml: Debian 12's python3
(3.11.2) up to the newest Python torch 2.13.0 ships wheels for (cp314). The kit needs 3.11
for tomllib.
"""

from __future__ import annotations

import csv
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from shell_env import shell_env

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-lock.txt"
INSIDE = ("3.11.0", "3.11.2", "3.11.4", "3.11.5", "3.11.7", "3.12.0", "3.13.5", "3.14.0", "3.14.9")
OUTSIDE = ("2.7.18", "3.6.15", "3.10.12", "3.15.0")


def fake_python(folder: Path, version: str) -> tuple[Path, Path]:
    """A stand-in interpreter that logs its arguments and prints ``version`` whatever it is
    asked: the version check reads it, and any venv or pip run would show in the log."""
    log = folder / "calls.log"
    script = folder / "python3"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\necho {version}\n')
    script.chmod(0o755)
    return script, log


def make(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``make ARGS`` in ``cwd`` as from a shell: without the variables an enclosing make
    (``make test``) hands down to its children (its own command-line variables among them)."""
    return subprocess.run(["make", *args], cwd=cwd, env=shell_env(), capture_output=True, text=True)


def kit_without_venv(tmp_path: Path) -> Path:
    """The files make needs to build .venv, in a folder with no .venv."""
    repo = tmp_path / "kit"
    repo.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements-lock.txt"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "tools", repo / "tools")
    return repo


@pytest.mark.parametrize("version", INSIDE)
def test_check_accepts_the_supported_range(tmp_path: Path, version: str) -> None:
    python, _ = fake_python(tmp_path, version)
    done = subprocess.run(
        ["sh", str(ROOT / "tools" / "check_python.sh"), str(python)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


@pytest.mark.parametrize("version", OUTSIDE)
def test_check_refuses_outside_the_range(tmp_path: Path, version: str) -> None:
    python, _ = fake_python(tmp_path, version)
    done = subprocess.run(
        ["sh", str(ROOT / "tools" / "check_python.sh"), str(python), "test"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert f"{python} is Python {version}" in done.stderr
    assert "make test PYTHON=" in done.stderr


@pytest.mark.parametrize("target", ["grade", "test"])
def test_make_stops_before_venv_or_pip_on_an_old_python(tmp_path: Path, target: str) -> None:
    repo = kit_without_venv(tmp_path)
    python, log = fake_python(tmp_path, "3.10.12")
    done = make(target, f"PYTHON={python}", cwd=repo)
    assert done.returncode != 0
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines  # one line, and no command ran before it
    assert f"{python} is Python 3.10.12" in lines[0]
    assert ">=3.11,<3.15" in lines[0]
    assert f"make {target} PYTHON=/path/to/python3.12" in lines[0]
    assert not (repo / ".venv").exists()
    assert "-m" not in log.read_text().split()  # asked its version only: no venv, no pip


def test_make_names_a_missing_interpreter(tmp_path: Path) -> None:
    repo = kit_without_venv(tmp_path)
    done = make("grade", "PYTHON=python3.9-not-here", cwd=repo)
    assert done.returncode != 0
    assert "python3.9-not-here does not run as a Python interpreter" in done.stderr
    assert not (repo / ".venv").exists()


def test_pyproject_states_the_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.15"


def lock_requirements() -> list[Requirement]:
    lines = [
        line for line in LOCK.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    return [Requirement(line) for line in lines]


def applies(requirement: Requirement, python: str) -> bool:
    """Whether a lock line applies on Linux x86-64 with CPython ``python``."""
    if requirement.marker is None:
        return True
    minor = ".".join(python.split(".")[:2])
    return requirement.marker.evaluate(
        {
            "python_full_version": python,
            "python_version": minor,
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": "x86_64",
            "os_name": "posix",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }
    )


@pytest.mark.parametrize("python", INSIDE)
def test_lock_pins_each_package_once_for_every_supported_python(python: str) -> None:
    chosen: dict[str, list[str]] = {}
    for requirement in lock_requirements():
        if applies(requirement, python):
            chosen.setdefault(requirement.name.lower(), []).append(str(requirement.specifier))
    assert chosen, "no line of the lock applies"
    assert {name: pins for name, pins in chosen.items() if len(pins) != 1} == {}
    assert all(pins[0].startswith("==") for pins in chosen.values())
    for needed in ("torch", "numpy", "ipython", "otter-grader", "nbgrader", "soupsieve"):
        assert needed in chosen, needed


def test_lock_gives_debian_12_a_soupsieve_it_can_install() -> None:
    """soupsieve 4.1.3 requires Python >= 3.11.5 (its metadata), Debian 12 has 3.11.2."""
    on = {
        python: [
            str(r.specifier)
            for r in lock_requirements()
            if r.name == "soupsieve" and applies(r, python)
        ]
        for python in INSIDE
    }
    assert on["3.11.2"] != ["==4.1.3"] and on["3.11.4"] != ["==4.1.3"]


def test_every_dependency_of_pyproject_is_in_the_lock() -> None:
    """A package added to pyproject.toml (``dependencies`` or the ``dev`` extra that ``make
    lint`` uses) without ``make lock`` would be missing from every fresh venv."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    locked = {r.name.lower().replace("_", "-") for r in lock_requirements()}
    missing = [d for d in wanted if Requirement(d).name.lower().replace("_", "-") not in locked]
    assert missing == [], f"run make lock: {missing} are not in {LOCK.name}"


def test_each_pin_of_pyproject_is_the_locks_and_written_nowhere_else() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [Requirement(d) for d in project["dependencies"] if "==" in d]
    assert any(pin.name == "torch" for pin in pins)
    locked = {r.name.lower(): str(r.specifier) for r in lock_requirements() if r.marker is None}
    for pin in pins:
        assert locked[pin.name.lower()] == str(pin.specifier), pin
    assert LOCK.read_text().startswith("# Generated by `make lock`")
    code = [ROOT / "Makefile", ROOT / ".ci" / "run", *sorted((ROOT / "autograder").rglob("*.py"))]
    for pin in pins:
        version = re.escape(str(pin.specifier).removeprefix("=="))
        written = [
            str(p.relative_to(ROOT))
            for p in code
            if re.search(rf"\b{re.escape(pin.name)}\W{{1,3}}{version}\b", p.read_text())
        ]
        assert written == [], pin


def test_readme_states_the_range_and_the_tiers() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    assert "Python 3.11 to 3.14" in setup
    assert "make test-all" in readme and "make lock" in readme


def interpreters_in_range() -> list[str]:
    """Every python3 found on PATH (and Debian's /usr/bin/python3) whose version is in
    range, one per real executable."""
    names = ["python3", *[f"python3.{minor}" for minor in range(11, 15)]]
    found: dict[str, str] = {}
    for name in names:
        for folder in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin"]:
            candidate = Path(folder) / name
            if not (candidate.is_file() and os.access(candidate, os.X_OK)):
                continue
            check = subprocess.run(
                ["sh", str(ROOT / "tools" / "check_python.sh"), str(candidate)],
                capture_output=True,
                text=True,
            )
            if check.returncode != 0:
                continue
            real = subprocess.run(
                [str(candidate), "-c", "import sys; print(sys.executable)"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            found.setdefault(os.path.realpath(real or candidate), str(candidate))
    return sorted(found.values())


def copy_of_the_kit(destination: Path) -> Path:
    """The repository's files as a clone would have them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.mark.slow
def test_every_python_in_range_on_this_machine_sets_up_and_grades(tmp_path: Path) -> None:
    """make grade with each interpreter found: .venv built from the lock, samples graded.
    The version running this suite is left out: make built this suite's .venv from the lock
    with it, and the suite grades with it."""
    running = platform.python_version()
    interpreters = [
        python
        for python in interpreters_in_range()
        if subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        != running
    ]
    if not interpreters:
        pytest.skip(f"no Python in the supported range on this machine but {running}")
    expected = sorted(p.stem for p in (ROOT / "submissions").glob("*.ipynb"))
    for index, python in enumerate(interpreters):
        repo = copy_of_the_kit(tmp_path / f"kit{index}")
        done = make("grade", f"PYTHON={python}", cwd=repo)
        assert done.returncode == 0, f"{python}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        version = subprocess.run(
            [
                str(repo / ".venv" / "bin" / "python"),
                "-c",
                "import platform; print(platform.python_version())",
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
        wanted = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert version == wanted, python
        with open(repo / "grades" / "grades.csv", newline="") as handle:
            rows = {row["submission"]: row for row in csv.DictReader(handle)}
        assert sorted(rows) == expected, python
        assert float(rows["correct"]["total"]) >= float(rows["correct"]["max_total"]) == 100
        assert float(rows["blank"]["total"]) == 0
        shutil.rmtree(repo)
