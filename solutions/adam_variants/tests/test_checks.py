"""The hidden check suite grades the solution, correct variants, hard-coding and stubs right."""

from __future__ import annotations

import contextlib
import io
import math
from collections import defaultdict

import adam as contract
import pytest
from adam import ASSIGNMENT, SOLUTION_NOTEBOOK, checks_module
from checks_support import (
    VARIANTS_DIR,
    failures,
    full_marks,
    grade,
    namespace_from,
    points,
    solution_definitions,
)

from autograder.assignment.notebook import code_sources, exec_notebook
from autograder.checks.reference_source import reference_source
from autograder.checks.run_checks import checks_fingerprint, suite_table
from autograder.checks.student import InProcessStudent

oracles = checks_module("oracles")


@pytest.fixture(scope="module")
def solution_ns():
    with contextlib.redirect_stdout(io.StringIO()):
        return exec_notebook(SOLUTION_NOTEBOOK)


def test_points_per_question_equal_the_contract():
    table = suite_table(ASSIGNMENT)
    per_q: dict[str, float] = defaultdict(float)
    for row in table:
        assert row["points"] > 0, row
        per_q[row["question"]] += row["points"]
    assert dict(per_q) == {q.id: float(q.points) for q in contract.QUESTIONS}
    assert sum(p for q, p in per_q.items() if q != "bonus_variants") == contract.CORE_POINTS


def test_solution_notebook_scores_exactly_the_contract(solution_ns):
    source = "\n\n".join(code_sources(SOLUTION_NOTEBOOK))
    artifacts: dict = {}
    results = grade(solution_ns, seed=1, source=source, artifacts=artifacts)
    assert points(results) == full_marks(), failures(results)
    core = sum(r.points for q, r in results.items() if q != "bonus_variants")
    assert core == 100 and results["bonus_variants"].points == 10
    assert {
        "adam_trace",
        "adam_trace_reference",
        "flipnet_curves",
        "flipnet_curves_reference",
    } <= set(artifacts)
    assert math.isclose(artifacts["adam_trace"][-1]["w"], 4.92, abs_tol=1e-4)
    assert results["q6_weight_decay"].note.startswith("Graded with the reference")


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_solution_full_marks_for_other_seeds(seed):
    source = solution_definitions()
    results = grade(namespace_from(source), seed=seed, source=source)
    assert points(results) == full_marks(), failures(results)


def test_grading_is_reproducible_from_the_seed():
    bad = solution_definitions().replace(
        "v_new = rho * v + (1 - rho) * grad**2", "v_new = (1 - rho) * v + rho * grad**2"
    )
    first, second = grade(namespace_from(bad), seed=9), grade(namespace_from(bad), seed=9)
    assert [c.message for c in first["q3_rmsprop"].checks] == [
        c.message for c in second["q3_rmsprop"].checks
    ]
    assert first["q3_rmsprop"].points < 8


@pytest.mark.parametrize("path", sorted(VARIANTS_DIR.glob("correct_*.py")), ids=lambda p: p.stem)
def test_correct_variants_score_full_marks(path):
    """Each variant file overrides many definitions of the solution, written differently."""
    source = solution_definitions() + "\n\n" + path.read_text()
    results = grade(namespace_from(source), seed=5, source=source)
    assert points(results) == full_marks(), failures(results)


def test_there_are_at_least_five_correct_variants():
    assert len(list(VARIANTS_DIR.glob("correct_*.py"))) >= 5


HARDCODED = """
import numpy as np

CHAPTER_TRACE = {trace!r}
KEYS = ("t", "grad", "m", "v", "m_hat", "v_hat", "step", "w")
BIAS = {bias!r}
MEMORY = {memory!r}


def sgd_step(w, grad, lr):
    return 4.2538


def momentum_step(w, grad, velocity, lr, beta=0.9):
    return 2.4421, 0.0


def adagrad_step(w, grad, accum, lr, eps=1e-8):
    return w - lr * 10 / np.sqrt(accum + 100), accum + 100


def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
    return w - 0.01, v


def bias_correction(beta, t):
    return BIAS[beta][t]


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return w - 0.01, m, v


def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    return [dict(zip(KEYS, row)) for row in CHAPTER_TRACE]


def adam_memory_gb(n_params, mixed_precision=False):
    return dict(MEMORY[mixed_precision])


def make_flip_data():
    import torch

    X = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 1, 1], [0, 1, 0, 0],
                      [0, 1, 0, 1], [0, 1, 1, 0], [0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 1],
                      [1, 0, 1, 0], [1, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 1], [1, 1, 1, 0],
                      [1, 1, 1, 1]], dtype=torch.float32)
    return X, X[:, [3, 2, 1, 0]]


def compare_optimizers(epochs=30, seed=42, device="cpu"):
    return {{"momentum": [0.4141, 0.1961, 0.1964] + [0.199] * 27,
            "adam": [0.9312, 0.6546, 0.4659] + [0.2287] * 27}}


ANSWER_1D_WINNER = "momentum"
ANSWER_FLIPNET_WINNER = "momentum"
ANSWER_DECOUPLED = "adamw"
"""


def test_hardcoded_notebook_scores_at_most_the_fixed_checks():
    source = HARDCODED.format(
        trace=oracles.CHAPTER_ADAM_TRACE,
        bias=oracles.CHAPTER_BIAS_TABLE,
        memory=oracles.CHAPTER_MEMORY_7B,
    )
    results = grade(namespace_from(source), seed=11)
    fixed = sum(r["points"] for r in suite_table(ASSIGNMENT) if r["fixed"])
    total = sum(points(results).values())
    assert 0 < total <= fixed, failures(results)
    passed = {c.name for r in results.values() for c in r.checks if c.passed}
    fixed_names = {r["name"] for r in suite_table(ASSIGNMENT) if r["fixed"]}
    assert passed <= fixed_names
    assert "test_default_trace_matches_chapter" in passed  # the trace itself is what it hard-codes


def _stub_source() -> str:
    lines = ["import torch", ""]
    for q in contract.QUESTIONS:
        for name, sig in q.functions.items():
            lines += [f"def {name}{sig}:", "    raise NotImplementedError", ""]
        for name in q.classes:
            base = "torch.nn.Module" if name == "FlipNet" else "torch.optim.Optimizer"
            lines += [
                f"class {name}({base}):",
                "    def __init__(self, *args, **kwargs):",
                "        raise NotImplementedError",
                "",
                "    def step(self, closure=None):",
                "        raise NotImplementedError",
                "",
            ]
        lines += [f"{name} = None" for name in q.constants]
    return "\n".join(lines) + "\n"


def test_stub_scores_zero_with_not_implemented_messages():
    source = _stub_source()
    results = grade(namespace_from(source), seed=12, source=source)
    assert sum(points(results).values()) == 0, failures(results)
    for qid, result in results.items():
        assert result.checks, qid
        for check in result.checks:
            assert "not implemented" in check.message, (check.name, check.message)
            assert "GPU" not in check.message
    assert "Traceback" not in str([c.message for r in results.values() for c in r.checks])


@pytest.mark.parametrize("value", ["None", "'x'", "(1, 2)", "[[1], [2, 3]]"])
def test_odd_return_values_fail_cleanly(value):
    """Every function returns the same odd value: 0 points, no check crashes."""
    src = "import torch\n"
    for q in contract.QUESTIONS:
        src += "".join(f"def {n}(*a, **k):\n    return {value}\n" for n in q.functions)
        src += "".join(f"{n} = lambda *a, **k: {value}\n" for n in q.classes)
        src += "".join(f"{n} = {value}\n" for n in q.constants)
    results = grade(namespace_from(src), seed=31)
    assert sum(points(results).values()) == 0
    crashed = [c.name for r in results.values() for c in r.checks if "could not run" in c.message]
    assert crashed == []


def test_the_released_notebook_scores_zero_in_every_question():
    """The blank notebook students start from, run cell by cell (its demo cells fail on the
    stubs and are skipped), graded with its own code cells as the source: 0 in every
    question, bonus included."""
    from adam import RELEASED_NOTEBOOK

    cells = code_sources(RELEASED_NOTEBOOK)
    ns: dict = {"__name__": "__submission__"}
    for cell in cells:
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(cell, "<cell>", "exec"), ns)  # our own notebook
    results = grade(ns, seed=5, source="\n\n".join(cells))
    assert {q: p for q, p in points(results).items() if p} == {}, failures(results)


def test_missing_names_score_zero():
    results = grade({}, seed=13)
    assert sum(points(results).values()) == 0
    msgs = [c.message for c in results["q4_adam_step"].checks]
    assert any("is not defined" in m for m in msgs)


def test_builds_on_questions_are_graded_with_the_reference():
    """A broken adam_step costs q4 only; q5/q6/q7 get the reference substituted, and each of
    them says so once, in its note (never in every failed check's message)."""
    src = solution_definitions().replace(
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new",
        "return w + lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new",
    )
    results = grade(namespace_from(src), seed=14, source=src)
    got, expected = points(results), full_marks()
    assert got["q4_adam_step"] < expected["q4_adam_step"]
    assert {k: v for k, v in got.items() if k != "q4_adam_step"} == {
        k: v for k, v in expected.items() if k != "q4_adam_step"
    }
    for qid in ("q5_adam_trace", "q6_weight_decay", "q7_rosenbrock"):
        assert results[qid].note.startswith("Graded with the reference")
    messages = [c.message for r in results.values() for c in r.checks]
    assert not any("substituted" in m for m in messages)


def test_a_mistake_is_named_once_per_question():
    """The first failed check names the mistake; the others say they fail because of it."""
    src = solution_definitions().replace("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)")
    checks = [
        c
        for c in grade(namespace_from(src), seed=3, source=src)["q4_adam_step"].checks
        if not c.passed
    ]
    assert len(checks) >= 2 and {c.diagnosis for c in checks} == {"eps_inside_sqrt"}
    assert "known mistake" in checks[0].message
    for later in checks[1:]:
        assert "known mistake" not in later.message
        assert "same mistake as in the first failed check" in later.message
        assert not any(c.name in later.message for c in checks)  # no hidden check's name


def test_feedback_plots_come_from_the_students_own_functions():
    """The artifacts for the plots are the student's own adam_trace and compare_optimizers,
    recorded before the reference is substituted for q5 and q8."""
    src = (
        solution_definitions()
        .replace("np.sqrt(v_hat) + eps", "np.sqrt(v_hat) + eps + 1.0")
        .replace("torch.mean((model(X[i]) - Y[i]) ** 2)", "torch.sum((model(X[i]) - Y[i]) ** 2)")
    )
    artifacts: dict = {}
    results = grade(namespace_from(src), seed=4, source=src, artifacts=artifacts)
    assert results["q5_adam_trace"].points == 8 and results["q8_flipnet"].points < 14
    mine = [row["w"] for row in artifacts["adam_trace"]]
    reference = [row["w"] for row in artifacts["adam_trace_reference"]]
    assert mine != pytest.approx(reference)
    curves, ref_curves = artifacts["flipnet_curves"], artifacts["flipnet_curves_reference"]
    assert curves["adam"] != pytest.approx(ref_curves["adam"])
    assert ref_curves == oracles.compare(30, 42, "cpu")


def test_substitution_keeps_the_students_other_functions():
    ns = namespace_from(solution_definitions())
    ns["marker_helper"] = lambda: 42
    student = InProcessStudent(ns, ASSIGNMENT)
    student.substitute(["adam_step"], reference_source(["adam_step"], SOLUTION_NOTEBOOK))
    assert ns["marker_helper"]() == 42 and ns["adamw_step"].__globals__ is ns


def test_runtime_delegation_is_caught():
    src = (
        solution_definitions()
        + """

class ScratchAdamW(torch.optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
"""
    )
    results = grade(namespace_from(src), seed=16)
    assert results["q9_scratch_adamw"].points < 10
    assert any("Adam" in c.message for c in results["q9_scratch_adamw"].checks if not c.passed)


def test_messages_do_not_leak_inputs_or_tracebacks():
    src = solution_definitions().replace(
        "v_new = beta2 * v + (1 - beta2) * grad**2\n    m_hat",
        "v_new = beta2 * v + (1 - beta2) * abs(grad)\n    m_hat",
    )
    results = grade(namespace_from(src), seed=17)
    for check in results["q4_adam_step"].checks:
        assert "Traceback" not in check.message and "assert" not in check.message.lower()
        assert "[" not in check.message  # no arrays printed


def test_run_checks_is_repeatable_and_restores_the_namespace():
    """Same namespace graded twice in one process (as in a kernel); its own adam_step is back
    after each run, so a broken one is graded again (not the reference)."""
    ns = namespace_from(
        solution_definitions().replace(
            "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new",
            "return w + lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new",
        )
    )
    own = ns["adam_step"]
    for seed in (21, 22):
        got = points(grade(ns, seed=seed))
        assert got["q4_adam_step"] < 14 and got["q6_weight_decay"] == 14
        assert ns["adam_step"] is own


def test_questions_filter_and_every_question_present():
    results = grade(namespace_from(solution_definitions()), seed=23)
    assert list(results) == list(contract.QUESTION_IDS)
    from autograder.checks.run_checks import run_checks

    only = run_checks(
        InProcessStudent(namespace_from(solution_definitions()), ASSIGNMENT),
        assignment=ASSIGNMENT,
        seed=23,
        questions=["q1_baselines"],
    )
    assert list(only) == list(contract.QUESTION_IDS)
    assert only["q1_baselines"].points == 4 and only["q2_adagrad"].points == 0
    assert only["q2_adagrad"].note == "not graded in this run"


def test_fingerprint_is_stable():
    assert (
        checks_fingerprint(ASSIGNMENT) == checks_fingerprint(ASSIGNMENT)
        and len(checks_fingerprint(ASSIGNMENT)) == 64
    )


def test_oracle_constants_agree_with_the_chapter_values_file():
    """The suite's transcription of the chapter matches the chapter_values.json, and the
    grader's FlipNet oracle reproduces the measured chapter run."""
    import json

    data = json.loads((contract.ASSIGNMENT.data_dir / "chapter_values.json").read_text())
    steps = data["eight_steps"]
    assert abs(steps["sgd"]["w_computed"] - oracles.CHAPTER_SGD_W8) < 5e-5
    assert abs(steps["momentum"]["w_computed"] - oracles.CHAPTER_MOMENTUM_W8) < 5e-5
    for printed, computed, mine in zip(
        data["adam_trace"]["printed"],
        data["adam_trace"]["computed"],
        oracles.CHAPTER_ADAM_TRACE,
        strict=True,
    ):
        for key, value, tol in zip(
            oracles.TRACE_KEYS, mine, oracles.CHAPTER_TRACE_TOL, strict=True
        ):
            assert printed[key] == pytest.approx(value, abs=1e-12)
            assert abs(computed[key] - value) <= tol
    rows = {r["t"]: r for r in data["bias_correction"]["rows"]}
    for t, printed in oracles.CHAPTER_BIAS_TABLE[0.9].items():
        assert rows[t]["divisor_beta1_printed"] == pytest.approx(printed)
    for t, printed in oracles.CHAPTER_BIAS_TABLE[0.999].items():
        assert rows[t]["divisor_beta2_printed"] == pytest.approx(printed)
    assert data["memory_7b"]["fp32"] == oracles.CHAPTER_MEMORY_7B[False]
    assert data["memory_7b"]["mixed_precision"] == oracles.CHAPTER_MEMORY_7B[True]
    measured = data["flipnet"]["measured"]
    ours = oracles.compare(30, 42, "cpu")
    for key in ("momentum", "adam"):
        assert ours[key] == pytest.approx(measured[key], rel=1e-6, abs=1e-9)


def test_reference_source_pulls_in_dependencies_only():
    src = reference_source(["adamw_step"], SOLUTION_NOTEBOOK)
    ns = namespace_from(src)
    assert {"adamw_step", "adam_step", "bias_correction"} <= set(ns)
    assert "compare_optimizers" not in ns and "ANSWER_1D_WINNER" not in ns
    assert src.startswith("import math")
    with pytest.raises(KeyError, match="does not define"):
        reference_source(["no_such_function"], SOLUTION_NOTEBOOK)
