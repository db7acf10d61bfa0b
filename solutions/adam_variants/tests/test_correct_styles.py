"""Correct notebooks written in many students' styles earn every point, whatever the seed.

The corpus is built by ``solutions/adam_variants/tests/correct_styles/build_corpus.py`` from snippets written from the
contract alone (numpy or torch, loops or vectorised, in-place on copies or new arrays, classes
holding state, helper functions, float64 internals, equivalent arrangements of the formulas,
several ``ScratchAdamW`` designs) and from demo cells that print, compare with
``torch.optim.Adam``/``AdamW`` and reuse the local names of the graded code. The batch grades
the corpus as it grades a class; every notebook must get 100 core points and the 10 bonus
points. ``ScratchAdamW`` is also checked here against ``torch.optim.AdamW`` directly, so its
correctness does not rest on the grader alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from adam import QUESTIONS

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parents[2]
sys.path.insert(0, str(TESTS / "correct_styles"))
import build_corpus as build  # noqa: E402

SEEDS = (1, 20261202, 77)
FAST_SAMPLE = ("style_07", "style_30", "style_40")
"""One notebook per kind of ScratchAdamW the fast tier meets: no shared local names, a loop
variable ``i`` shared with a demo cell, a ``closure`` defined by a demo cell."""

NAMES = list(build.plan())
Q9 = "q9_scratch_adamw"


def grade_corpus(folder: Path, out: Path, seed: int) -> dict[str, dict]:
    """Grade ``folder`` with the batch command; each notebook's result JSON by name."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(folder),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def deductions(result: dict, questions: set[str]) -> list[str]:
    """Every check of ``questions`` that lost points, with its message."""
    assert result["status"] == "graded", result.get("message")
    lost = []
    for qid in questions:
        question = result["questions"][qid]
        for check in question["checks"]:
            if check["points"] < check["max_points"]:
                lost.append(
                    f"{qid}::{check['name']} -{check['max_points'] - check['points']:g}: "
                    f"{check['message'][:300]}"
                )
        if question["points"] < question["max_points"] and not lost:
            lost.append(f"{qid}: {question['points']}/{question['max_points']} {question['note']}")
    return lost


ALL_QUESTIONS = {q.id for q in QUESTIONS}


def public_failures(result: dict) -> list[str]:
    """The ✘ lines the public self-checks printed in the notebook's cells."""
    return [
        line
        for cell in result["cells"]
        for line in cell["output"].splitlines()
        if line.startswith("✘")
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("correct_styles")
    build.build(out)
    return out


SEED_OF = {name: SEEDS[i % len(SEEDS)] for i, name in enumerate(NAMES)}
"""Each notebook is graded under one of the three seeds, in turn: every seed grades a third
of the corpus (all of it under every seed took three times as long)."""


@pytest.fixture(scope="module")
def graded(corpus, tmp_path_factory) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"corpus_{seed}")
        for name in NAMES:
            if SEED_OF[name] == seed:
                shutil.copyfile(corpus / f"{name}.ipynb", folder / f"{name}.ipynb")
        results |= grade_corpus(folder, tmp_path_factory.mktemp(f"grades_{seed}"), seed)
    return results


@pytest.fixture(scope="module")
def graded_sample(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("sample")
    released = json.loads(build.RELEASED.read_text())
    plan = build.plan()
    for name in FAST_SAMPLE:
        (folder / f"{name}.ipynb").write_text(json.dumps(build.compose(released, plan[name])))
    return grade_corpus(folder, tmp_path_factory.mktemp("sample_grades"), SEEDS[0])


# The corpus itself -----------------------------------------------------------------------


def test_corpus_has_forty_notebooks_and_uses_every_file(corpus):
    notebooks = sorted(corpus.glob("*.ipynb"))
    assert len(notebooks) >= 40
    manifest = json.loads((corpus / "manifest.json").read_text())
    used = {f for files in manifest.values() for f in files}
    files = {
        str(p.relative_to(build.HERE))
        for p in [*build.SNIPPETS.glob("*/*.py"), *build.DEMOS.glob("*.py")]
    }
    assert files == used
    sources = {p.read_text() for p in notebooks}
    assert len(sources) == len(notebooks)  # no two notebooks alike
    for path in notebooks:
        cells = json.loads(path.read_text())["cells"]
        stubs = [c for c in cells if "raise NotImplementedError" in build.cell_text(c)]
        assert stubs == [], path


def test_every_question_has_several_styles():
    for q in build.questions():
        assert len(list((build.SNIPPETS / q).glob("*.py"))) >= 4, q
    assert set(build.questions()) == ALL_QUESTIONS


def test_build_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    build.build(first, count=4)
    build.build(second, count=4)
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes()


@pytest.mark.parametrize("style", sorted((build.SNIPPETS / Q9).glob("*.py")), ids=lambda p: p.stem)
def test_scratch_adamw_styles_match_torch(style):
    """Each ScratchAdamW style against torch.optim.AdamW: two param groups (decay and none),
    a parameter without a gradient, a closure that needs gradients, 25 steps."""
    namespace = {"torch": torch, "math": __import__("math")}
    source = "\n\n".join(s.source for s in build.read_sections(style) if not s.insert)
    exec(compile(source, str(style), "exec"), namespace)  # the corpus's own code
    torch.manual_seed(0)
    start = [torch.randn(3, 4), torch.randn(4), torch.randn(2, 2), torch.randn(5)]
    target = torch.randn(3)

    def run(cls):
        params = [p.clone().requires_grad_(True) for p in start]
        opt = cls(
            [{"params": params[:2], "weight_decay": 0.1}, {"params": params[2:], "lr": 0.05}],
            lr=0.02,
            betas=(0.8, 0.99),
            eps=1e-7,
            weight_decay=0.0,
        )

        def closure():
            opt.zero_grad()
            loss = ((params[0] @ params[1] - target) ** 2).sum() + params[2].pow(3).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(25)]
        return params, losses, opt

    scratch = namespace["ScratchAdamW"]
    assert scratch([torch.zeros(1, requires_grad=True)]).defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
    }
    mine, my_losses, my_opt = run(scratch)
    ref, ref_losses, ref_opt = run(torch.optim.AdamW)
    assert my_losses == pytest.approx(ref_losses, rel=1e-5)
    for a, b in zip(mine, ref, strict=True):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-6, atol=1e-6)
    assert mine[3].grad is None and torch.equal(mine[3].detach(), start[3])
    state, ref_state = my_opt.state[mine[0]], ref_opt.state[ref[0]]
    assert float(state["step"]) == float(ref_state["step"]) == 25
    for key in ("exp_avg", "exp_avg_sq"):
        torch.testing.assert_close(state[key], ref_state[key], rtol=1e-5, atol=1e-6)


# Grading: a sample in the fast tier, the whole corpus (three seeds in turn) in the slow tier


@pytest.mark.parametrize("name", FAST_SAMPLE)
def test_sample_full_marks_outside_q9(graded_sample, name):
    assert deductions(graded_sample[name], ALL_QUESTIONS - {Q9}) == []


@pytest.mark.parametrize("name", FAST_SAMPLE)
def test_sample_q9_full_marks(graded_sample, name):
    assert deductions(graded_sample[name], {Q9}) == []


@pytest.mark.parametrize("name", FAST_SAMPLE)
def test_sample_public_checks_all_pass(graded_sample, name):
    assert public_failures(graded_sample[name]) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_corpus_full_marks_outside_q9(graded, name):
    assert graded[name]["seed"] == SEED_OF[name]
    assert deductions(graded[name], ALL_QUESTIONS - {Q9}) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_corpus_q9_full_marks(graded, name):
    assert deductions(graded[name], {Q9}) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_corpus_public_checks_all_pass(graded, name):
    """The self-checks in the notebook never send a student after correct code."""
    assert public_failures(graded[name]) == []
