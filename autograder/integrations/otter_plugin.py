"""The otter-grader plugin that makes ``otter run -a <zip>`` grade in the kit's sandbox.

otter 7 reads the notebook and then, before anything executes, hands it to
each plugin's ``before_execution``: this plugin grades the submission file with
:func:`autograder.engine.grade_one` (the sandbox; the hidden checks in the
grader) and returns an empty notebook, so otter's own kernel runs no student
code. ``after_grading`` then makes otter write the kit's results
(:func:`autograder.integrations.gradescope.results_json`) as ``results.json``, the same
JSON the zip's ``run_autograder`` writes on Gradescope, and prints the kit's
headline ("Core 90 / 100 · extra credit +10") in place of otter's "Total Score"
line, which the zip's ``otter_config.json`` turns off (``print_score``): otter
adds the tests' maximums or divides by ``points_possible``, and either way a
notebook that fails a core check but earns the bonus would read 100 / 100.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import nbformat
from otter.plugins import AbstractOtterPlugin

from autograder.assignment.model import current
from autograder.integrations import gradescope
from autograder.staff.final_grades import final_grade


def _fixed_results(data: dict[str, Any], ag_config: Any) -> dict[str, Any]:
    """Stands in for ``GradingResults.to_gradescope_dict``: the kit's results as they are."""
    return data


class SandboxPlugin(AbstractOtterPlugin):
    """Grade in the sandbox first; leave nothing for otter's kernel to run."""

    def before_execution(self, submission: Any) -> nbformat.NotebookNode:
        start = time.monotonic()
        config = dict(self.plugin_config or {})
        # otter's process: the zip's configuration and the environment name the assignment
        assignment = gradescope.assignment_of(config, current())
        result = gradescope.grade_submission_file(
            self.submission_path,
            assignment,
            seed=gradescope.seed_of(config),
            limits=gradescope.limits_of(config),
        )
        self.results = gradescope.results_json(
            result, assignment, gradescope.visibility_of(config), time.monotonic() - start
        )
        self.headline = (
            final_grade(result, assignment).headline
            if result.status == "graded"
            else f"{result.status}: {result.message}"
        )
        return nbformat.v4.new_notebook()

    def after_grading(self, results: Any) -> None:
        results.to_gradescope_dict = functools.partial(_fixed_results, self.results)
        print(self.headline, flush=True)
