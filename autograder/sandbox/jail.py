"""Enter the sandbox: an allow-list root filesystem in fresh namespaces, then the uid drop.

Runs in the student-side process, as root, right after it was forked (single
threaded) and before it reads anything the submission wrote. :func:`enter`:

1. joins the submission's cgroups (memory and process caps for all it starts);
2. ``unshare``s mount, PID, IPC, UTS and network namespaces, and forks: the
   parent stays outside as the *keeper* (it reports the sandbox's first process
   and waits for it), the child is PID 1 of the new PID namespace;
3. in the child, builds a new root on a small tmpfs holding only what the
   :class:`JailSpec` allows: the exposed host paths, read-only at the same place
   (the Python runtime, the virtual environment, system libraries), a few
   device nodes, a fresh ``/proc`` that shows the sandbox's processes only,
   size-limited tmpfs for the work folder, ``/tmp`` and ``/dev/shm``, and a
   minimal ``/etc``; ``pivot_root``s into it and detaches the host tree;
4. remounts the new root read-only, sets the rlimits, forbids new privileges and
   drops to the slot's uid, starts a fresh session keyring (and empties the uid's
   user keyring), and loads the system-call filter (:mod:`syscall_filter`).

Without root (``userns``), step 2 also makes a user namespace in which the
grader's user is root (``0 -> host uid``): that is what lets an ordinary user
mount, and the tree built is the same. The drop is then to a nested user
namespace in which the student is uid 65534 (root of it is unmapped), with every
capability cleared: the mounts belong to the outer namespace, so nothing inside
can remount, unmount or write through them.

Nothing of the host is visible afterwards unless the spec names it. Any failure
raises :class:`JailError`: the caller must then refuse to run student code
(the sandbox fails closed).
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import stat
from dataclasses import asdict, dataclass, field

from autograder.sandbox import syscalls as sc

NAMESPACES = sc.CLONE_NEWNS | sc.CLONE_NEWPID | sc.CLONE_NEWIPC | sc.CLONE_NEWUTS | sc.CLONE_NEWNET
DEVICES = ("null", "zero", "full", "random", "urandom")
MAX_FD = 1 << 16
WORKDIR = "/submission"
USERNS_STUDENT = 65534
"""The student's uid inside a user-namespace sandbox (a nested namespace maps only it)."""


class JailError(RuntimeError):
    """The sandbox could not be set up; no student code may run."""


@dataclass
class JailSpec:
    """What a sandbox holds (plain data: it travels as JSON to the zygote)."""

    stage: str
    """A root-only host folder: ``stage/root`` becomes the new root's mount point and
    ``stage/files`` holds the files copied into the work folder."""
    uid: int
    expose: list[str] = field(default_factory=list)
    """Host paths (folders or files) shown read-only at the same place."""
    links: dict[str, str] = field(default_factory=dict)
    """Symbolic links to create, e.g. ``/lib -> usr/lib`` (merged-/usr systems)."""
    cover: list[str] = field(default_factory=list)
    """Paths inside exposed trees replaced by an empty read-only folder."""
    devices: list[str] = field(default_factory=lambda: list(DEVICES))
    """Device nodes under /dev bound into the sandbox's /dev."""
    workdir_mb: int = 128
    tmp_mb: int = 64
    shm_mb: int = 64
    hostname: str = "sandbox"
    cgroup_procs: list[str] = field(default_factory=list)
    """``cgroup.procs`` files this process joins before anything else."""
    memory_mb: int | None = None
    """Address-space rlimit per process (None: no rlimit; the cgroup caps the total)."""
    nproc: int = 512
    fsize_mb: int = 64
    isolate: bool = True
    """False where namespaces cannot be made (a container that forbids ``unshare``): then
    only the cgroups, the rlimits and the uid drop apply, in the host folder ``workdir``."""
    workdir: str = WORKDIR
    userns: bool = False
    """Build the sandbox in a user namespace (no root needed); the student is then
    :data:`USERNS_STUDENT` inside, and ``uid`` is 0 (the outer namespace's root)."""
    seccomp: bool = True
    """Load the system-call filter before serving."""

    @property
    def student_uid(self) -> int:
        """The uid the student process has inside."""
        return USERNS_STUDENT if self.userns else self.uid

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> JailSpec:
        return cls(**data)


def enter(spec: JailSpec, report_fd: int) -> None:
    """Confine this process (see the module docstring); returns in the sandbox's PID 1.

    The keeper writes ``init <host pid>`` to ``report_fd`` and never returns: it
    exits with its child's status. Raises JailError (in the calling process,
    before the fork, or in the child) when any step fails.
    """
    try:
        for procs in spec.cgroup_procs:
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))
        if not spec.isolate:
            os.umask(0o077)
            _drop(spec)
            return
        if spec.userns:
            uid, gid = os.getuid(), os.getgid()
            sc.unshare(sc.CLONE_NEWUSER | NAMESPACES)
            map_ids(0, uid, gid)
        else:
            sc.unshare(NAMESPACES)
    except OSError as exc:
        raise JailError(f"namespaces: {exc}") from None
    pid = os.fork()
    if pid:
        _keep(pid, report_fd)
    try:
        sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
        _build(spec)
        _drop(spec)
    except OSError as exc:
        raise JailError(str(exc)) from None


def _keep(child: int, report_fd: int) -> None:
    """The keeper: report the sandbox's PID 1, hold nothing open, exit as it exits.

    It shares the sandbox's mount namespace, so once the child has pivoted its
    filesystem is the sandbox's: it touches no path, and never returns.
    """
    status = None
    try:
        with contextlib.suppress(OSError):
            os.write(report_fd, f"init {child}\n".encode())
        os.closerange(0, MAX_FD)
        while status is None:
            with contextlib.suppress(InterruptedError):
                _, status = os.waitpid(child, 0)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            os._exit(128 + sig)
    except BaseException:  # the keeper must never run the caller's code
        os._exit(70)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


# --------------------------------------------------------------------------- the new root


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _mount_point(target: str, like: str) -> None:
    """Create ``target`` as a folder or an empty file, whichever ``like`` is."""
    if os.path.isdir(like):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))


def _bind_readonly(source: str, target: str) -> None:
    """Bind ``source`` read-only (keeping the flags of its mount: in a user namespace they
    are locked, and a remount that drops one is refused)."""
    sc.mount(source, target, None, sc.MS_BIND | sc.MS_REC)
    sc.mount(
        None,
        target,
        None,
        sc.mount_flags(source)
        | sc.MS_BIND
        | sc.MS_REMOUNT
        | sc.MS_RDONLY
        | sc.MS_NOSUID
        | sc.MS_NODEV,
    )


def _tmpfs(target: str, size_mb: int, mode: int, uid: int = 0, flags: int = 0) -> None:
    os.makedirs(target, mode=0o755, exist_ok=True)
    sc.mount(
        "tmpfs",
        target,
        "tmpfs",
        sc.MS_NOSUID | sc.MS_NODEV | flags,
        f"size={size_mb}m,mode={mode:o},uid={uid},gid={uid}",
    )


def _build(spec: JailSpec) -> None:
    """Make the new root under ``stage/root``, pivot into it, detach the host."""
    socket.sethostname(spec.hostname)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    root = os.path.join(spec.stage, "root")
    _tmpfs(root, 8, 0o755)
    # the writable places first: a host path exposed below one of them (a virtual
    # environment under /tmp) is then bound on top, not hidden by it
    _make_dev(root, spec)
    proc = _inside(root, "/proc")
    os.makedirs(proc, exist_ok=True)
    sc.mount("proc", proc, "proc", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    _tmpfs(_inside(root, "/tmp"), spec.tmp_mb, 0o1777)
    _tmpfs(_inside(root, WORKDIR), spec.workdir_mb, 0o700, uid=spec.uid)
    for path in sorted(spec.expose, key=lambda p: (p.count("/"), p)):
        if not os.path.lexists(path) or any(
            path == top or path.startswith(top + "/") for top in ("/dev", "/proc")
        ):
            continue
        target = _inside(root, path)
        _mount_point(target, path)
        _bind_readonly(path, target)
    for path in spec.cover:
        target = _inside(root, path)
        if os.path.isdir(target):
            sc.mount(
                "tmpfs",
                target,
                "tmpfs",
                sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV,
                "size=4k,mode=0755",
            )
    for link, dest in spec.links.items():
        target = _inside(root, link)
        if not os.path.lexists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(dest, target)
    _install_files(os.path.join(spec.stage, "files"), _inside(root, WORKDIR), spec.uid)
    _make_etc(root, spec.student_uid)
    os.chdir(root)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")
    sc.mount(None, "/", None, sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV)


def _make_dev(root: str, spec: JailSpec) -> None:
    dev = _inside(root, "/dev")
    _tmpfs(dev, 1, 0o755, flags=0)
    for name in spec.devices:
        host = os.path.join("/dev", name)
        if not os.path.exists(host) or not stat.S_ISCHR(os.stat(host).st_mode):
            continue
        target = os.path.join(dev, name)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o666))
        sc.mount(host, target, None, sc.MS_BIND)
    for name, dest in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(dest, os.path.join(dev, name))
    pts = os.path.join(dev, "pts")  # a private pty instance (IPython's ! shell escapes)
    os.makedirs(pts)
    sc.mount(
        "devpts", pts, "devpts", sc.MS_NOSUID | sc.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"
    )
    os.symlink("pts/ptmx", os.path.join(dev, "ptmx"))
    _tmpfs(os.path.join(dev, "shm"), spec.shm_mb, 0o1777)
    # the tmpfs on /dev was mounted with nodev; the bound nodes carry their own mount flags
    sc.mount(None, dev, None, sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NOSUID)


def _install_files(source: str, dest: str, uid: int) -> None:
    """Copy the staged files (notebook, public checks, font cache) into the work folder."""
    if not os.path.isdir(source):
        return
    for dirpath, dirnames, filenames in os.walk(source):
        rel = os.path.relpath(dirpath, source)
        here = dest if rel == "." else os.path.join(dest, rel)
        os.makedirs(here, mode=0o700, exist_ok=True)
        os.chown(here, uid, uid)
        for name in filenames:
            target = os.path.join(here, name)
            shutil.copyfile(os.path.join(dirpath, name), target, follow_symlinks=False)
            os.chown(target, uid, uid)
            os.chmod(target, 0o600)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]


def _make_etc(root: str, uid: int) -> None:
    etc = _inside(root, "/etc")
    os.makedirs(etc, mode=0o755, exist_ok=True)
    files = {
        "passwd": f"root:x:0:0:root:/root:/bin/sh\nstudent:x:{uid}:{uid}:student:{WORKDIR}:"
        "/bin/sh\n"
        + (
            "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" if uid != USERNS_STUDENT else ""
        ),
        "group": f"root:x:0:\nstudent:x:{uid}:\n"
        + ("nogroup:x:65534:\n" if uid != USERNS_STUDENT else ""),
        "hostname": "sandbox\n",
        "hosts": "127.0.0.1 localhost sandbox\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    }
    for name, text in files.items():
        path = os.path.join(etc, name)
        if not os.path.lexists(path):
            with open(path, "w") as fh:
                fh.write(text)


# --------------------------------------------------------------------------- privileges


def _drop(spec: JailSpec) -> None:
    """rlimits, no new privileges, then the slot's uid (or, in a user namespace, a nested one
    with every capability cleared); verified. Then a fresh keyring and the syscall filter."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = spec.fsize_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NPROC, (spec.nproc, spec.nproc))
    if spec.memory_mb:
        limit = spec.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
    if spec.userns:
        _drop_in_userns()
    else:
        os.setgroups([])
        os.setgid(spec.uid)
        os.setuid(spec.uid)
        if os.getuid() != spec.uid or os.geteuid() != spec.uid or os.getgid() != spec.uid:
            raise JailError("could not drop privileges")
        with contextlib.suppress(PermissionError):
            os.setuid(0)
            raise JailError("privileges could be regained after the drop")
    fresh_keyrings()
    if spec.seccomp:
        from autograder.sandbox import syscall_filter

        syscall_filter.install()
    os.chdir(spec.workdir)


def map_ids(inside: int, uid: int, gid: int) -> None:
    """Write this process's (fresh) user namespace's maps: ``inside`` is ``uid``/``gid`` of the
    parent namespace, nothing else is mapped."""
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{inside} {uid} 1\n"),
        ("gid_map", f"{inside} {gid} 1\n"),
    ):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def _drop_in_userns() -> None:
    """From root of the outer user namespace to :data:`USERNS_STUDENT` of a nested one that
    maps nothing else, with no capability left (bounding and ambient sets included)."""
    sc.unshare(sc.CLONE_NEWUSER)
    map_ids(USERNS_STUDENT, 0, 0)
    sc.drop_capabilities()
    if os.getuid() != USERNS_STUDENT or os.getgid() != USERNS_STUDENT:
        raise JailError("could not enter the student's user namespace")
    with open("/proc/self/status") as fh:
        caps = {k: v.strip() for k, _, v in (line.partition(":") for line in fh)}
    if any(
        int(caps.get(key, "0"), 16) for key in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb")
    ):
        raise JailError("capabilities remained after the drop")
    with contextlib.suppress(OSError):  # EINVAL: uid 0 is not even mapped here
        os.setuid(0)
        raise JailError("privileges could be regained after the drop")


def fresh_keyrings() -> None:
    """Start a new anonymous session keyring and empty this uid's user keyrings: nothing a
    previous submission of the same uid stored there is left (the filter then forbids
    keyrings altogether)."""
    with contextlib.suppress(OSError):
        sc.keyctl(sc.KEYCTL_JOIN_SESSION_KEYRING, 0)
    for ring in (sc.KEY_SPEC_USER_KEYRING, sc.KEY_SPEC_USER_SESSION_KEYRING):
        with contextlib.suppress(OSError):
            sc.keyctl(sc.KEYCTL_CLEAR, ring)


_AVAILABLE: tuple[bool, str] | None = None


def namespaces_available() -> tuple[bool, str]:
    """Whether this machine lets root make the sandbox's namespaces (and why not); probed once
    per process in a short-lived child (Docker's default seccomp profile forbids it)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                sc.unshare(NAMESPACES)
                sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
                os.write(write, b"ok")
            except BaseException as exc:  # reported to the parent
                os.write(write, str(exc).encode()[:500])
            os._exit(0)
        os.close(write)
        answer = os.read(read, 600).decode(errors="replace")
        os.close(read)
        os.waitpid(pid, 0)
        _AVAILABLE = (answer == "ok", "" if answer == "ok" else answer)
    return _AVAILABLE
