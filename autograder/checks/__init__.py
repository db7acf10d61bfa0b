"""The check API that an assignment's hidden checks use (``checking``: comparisons and
failures, ``student``: calling the submission's functions), the reference solution substituted
into a submission (``reference_source``, ``reference_calls``, answered in a confined child
process, ``reference_process``, that accepts only the argument kinds an assignment declares,
``argument_kinds``), the hidden suite's private copy and fingerprint (``suite_guard``), what
kept a submission's cells from running (``broken_cells``), and the grader-side pytest runner
that runs the checks and scores them (``run_checks``). It runs in the grader, never in the
student's process, and may import ``assignment``, ``inside`` (for the probes' plain-data
names), ``sandbox`` (the reference process confines itself), ``wire`` and ``results``; never
the engine, batch, staff tools or integrations.
"""
