"""What runs inside the student's process: the worker that executes the submission's cells,
the fixed probes the checks call, and the stand-ins that forward calls of substituted names to
the grader. Everything here is reachable by student code, so it imports ``wire`` and nothing
else of the kit (no assignment, checks, reference or grading module may be in that memory).
"""
