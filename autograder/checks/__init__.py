"""The check API that an assignment's hidden checks use (``checking``: comparisons and
failures, ``student``: calling the submission's functions), the reference solution substituted
into a submission (``reference_source``, ``reference_calls``), and the grader-side pytest runner
that runs the checks and scores them (``run_checks``). It runs in the grader, never in the
student's process, and may import ``assignment``, ``inside`` (for the probes' plain-data
names), ``wire`` and ``results``; never the engine, sandbox, batch, staff tools or integrations.
"""
