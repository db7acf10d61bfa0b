"""What a sandboxed student process may see of the host: an allow-list, computed once.

The student's root filesystem (see :mod:`autograder.sandbox.jail`) holds exactly:

* the Python runtime: the base interpreter's ``lib`` and ``bin`` folders;
* the virtual environment the grader runs from (site-packages: numpy, torch,
  IPython, matplotlib, ...), with the kit's own package and the repository
  covered by empty folders wherever they lie inside an exposed tree;
* the system's shared libraries and commands (``/usr/lib``, ``/usr/bin``; the
  ``/bin``, ``/lib``, ``/lib64`` and ``/sbin`` links of a merged-/usr system);
* ``/etc/ld.so.cache`` and ``/etc/localtime``;
* with ``device="cuda"``: the NVIDIA device nodes and ``/sys`` (read-only).

Everything is read-only. Nothing else exists inside: not the repository, its
``.git``, ``dist/`` or ``nbgrader_course/``, not the submissions or grades
folders wherever they are, not ``/home``, ``/root``, ``/srv``, ``/run``, ``/var``.
"""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
"""The kit's package folder (``autograder/``)."""
REPOSITORY = PACKAGE.parent
SYSTEM = ("/usr/bin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec")
MERGED_USR = ("/bin", "/lib", "/lib32", "/lib64", "/sbin")
ETC = ("/etc/ld.so.cache", "/etc/localtime")
CUDA_DEVICES = (
    "nvidia*",
    "nvidiactl",
    "nvidia-uvm",
    "nvidia-uvm-tools",
    "nvidia-modeset",
    "nvidia-caps",
)


@dataclass(frozen=True)
class AllowList:
    """Host paths the sandbox shows (read-only), links it recreates, paths it covers."""

    expose: tuple[str, ...]
    links: dict[str, str] = field(default_factory=dict)
    cover: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()


def _real(path: str | Path) -> str:
    return os.path.realpath(str(path))


def _within(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def _prune(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another listed path; keep order of depth."""
    out: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(_within(path, kept) for kept in out):
            out.append(path)
    return out


def python_paths() -> list[str]:
    """The interpreter's own folders and the virtual environment, resolved."""
    base = _real(sys.base_prefix)
    paths = [os.path.join(base, "lib"), os.path.join(base, "bin")]
    prefix = _real(sys.prefix)
    if prefix != base:
        paths.append(prefix)
    for entry in sys.path:  # installed packages only: never a working folder on PYTHONPATH
        real = _real(entry) if entry else ""
        if os.path.basename(real) in ("site-packages", "dist-packages") and os.path.isdir(real):
            paths.append(real)
    return [p for p in paths if os.path.exists(p)]


def system_paths() -> tuple[list[str], dict[str, str]]:
    """System library folders (exposed) and the merged-/usr links (recreated)."""
    expose, links = [p for p in SYSTEM if os.path.isdir(p)], {}
    for path in MERGED_USR:
        if os.path.islink(path):
            links[path] = os.readlink(path)
        elif os.path.isdir(path):
            expose.append(path)
    return expose, links


def cuda_devices() -> list[str]:
    """The NVIDIA device node names under /dev (none on a machine without a GPU)."""
    found: list[str] = []
    for pattern in CUDA_DEVICES:
        found += [os.path.basename(p) for p in glob.glob(os.path.join("/dev", pattern))]
    return sorted(set(found))


def build(device: str = "cpu") -> AllowList:
    """The allow-list for a sandbox that runs on ``device`` (``cpu`` or ``cuda``)."""
    system, links = system_paths()
    expose = _prune([*python_paths(), *system, *[p for p in ETC if os.path.exists(p)]])
    devices: list[str] = []
    if device == "cuda":
        devices = cuda_devices()
        if os.path.isdir("/sys"):
            expose = _prune([*expose, "/sys"])
    secret = [str(PACKAGE), str(REPOSITORY)]
    cover = sorted({s for s in secret for tree in expose if _within(s, tree)})
    return AllowList(tuple(expose), links, tuple(cover), tuple(devices))
