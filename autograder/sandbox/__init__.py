"""Containment only, knowing nothing of grading: the jail spec and its mounts and allow-list,
cgroups, raw system calls, the seccomp filter (``syscall_filter``), process-tree cleanup, uids
and slots (``isolation``), the confinement of a student process (``confine``) and the zygote
that forks sandboxed processes. It may import ``inside`` (the zygote forks the worker) and
``wire``; never ``assignment``, ``checks``, ``engine``, ``batch``, ``staff`` or
``integrations``.
"""
