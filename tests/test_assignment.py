"""The instructor solution and the released notebook against the chapter, torch.optim and the contract.

Expected values come from ``solutions/adam_variants/data/chapter_values.json`` (the chapter's
numbers, recomputed by the chapter's own code), from ``torch.optim``, and from
the contract table in ``autograder.contract``; never from the notebooks under test.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import adam as contract
import nbformat
import numpy as np
import pytest
import torch
from adam import RELEASE_DIR, RELEASED_NOTEBOOK, SOLUTION_NOTEBOOK

from autograder.assignment.model import SUBMISSIONS as SUBMISSIONS_DIR
from autograder.assignment.notebook import exec_notebook, read_notebook

CHECKS, check = contract.public_checks.CHECKS, contract.public_checks.check

VALUES = json.loads(
    (contract.ASSIGNMENT.data_dir / "chapter_values.json").read_text(encoding="utf-8")
)


def _quiet_exec(path: Path) -> dict[str, Any]:
    with contextlib.redirect_stdout(io.StringIO()):
        return exec_notebook(path)


@pytest.fixture(scope="module")
def sol() -> dict[str, Any]:
    return _quiet_exec(SOLUTION_NOTEBOOK)


@pytest.fixture(scope="module")
def released() -> dict[str, Any]:
    return _quiet_exec(RELEASED_NOTEBOOK)


def _rel(a: Any, b: Any, tol: float = 1e-6) -> bool:
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=tol, atol=1e-12))


# ---------------------------------------------------------------- the chapter's values
def test_eight_steps_match_chapter(sol: dict[str, Any]) -> None:
    ref = VALUES["eight_steps"]
    w_sgd, w_mom, velocity = 5.0, 5.0, 0.0
    for _ in range(8):
        w_sgd = sol["sgd_step"](w_sgd, 2 * w_sgd, 0.01)
        w_mom, velocity = sol["momentum_step"](w_mom, 2 * w_mom, velocity, 0.01)
    assert _rel(w_sgd, ref["sgd"]["w_computed"])
    assert round(w_sgd, 4) == 4.2538  # the chapter prints 4.2539 (errata)
    assert _rel(w_mom, ref["momentum"]["w_computed"])
    assert round(w_mom, 4) == ref["momentum"]["w_printed"]
    w_adam = sol["adam_trace"]()[-1]["w"]
    assert _rel(w_adam, ref["adam"]["w_computed"])
    assert round(w_adam, 4) == ref["adam"]["w_printed"]
    assert round(w_adam**2, 2) == ref["adam"]["loss_printed"]


def test_adam_trace_matches_chapter_trace(sol: dict[str, Any]) -> None:
    rows = sol["adam_trace"]()
    computed = VALUES["adam_trace"]["computed"]
    assert len(rows) == len(computed) == 8
    for row, ref in zip(rows, computed, strict=True):
        assert set(row) == {"t", "grad", "m", "v", "m_hat", "v_hat", "step", "w"}
        for key, expected in ref.items():
            assert _rel(row[key], expected), (row["t"], key, row[key], expected)


def test_printed_trace_differs_from_computed_only_where_the_errata_say() -> None:
    trace = VALUES["adam_trace"]
    decimals = trace["printed_decimals"]
    differing = set()
    for printed, computed in zip(trace["printed"], trace["computed"], strict=True):
        for key, places in decimals.items():
            if round(computed[key], places) != printed[key]:
                differing.add((printed["t"], key))
    recorded = {(d["t"], d["key"]) for d in trace["printed_vs_computed"]}
    assert differing == recorded
    assert {(6, "v"), (7, "v"), (8, "v")} <= recorded  # the errata of the issue


def test_bias_correction_table(sol: dict[str, Any]) -> None:
    for row in VALUES["bias_correction"]["rows"]:
        b1 = sol["bias_correction"](0.9, row["t"])
        b2 = sol["bias_correction"](0.999, row["t"])
        assert _rel(b1, row["divisor_beta1_computed"]) and _rel(b2, row["divisor_beta2_computed"])
        assert round(b2, 3) == row["divisor_beta2_printed"]
        if isinstance(row["divisor_beta1_printed"], float):
            assert round(b1, 3) == row["divisor_beta1_printed"]


def test_adagrad_table(sol: dict[str, Any]) -> None:
    targets = {
        r["step"]: r["accum_printed"] for r in VALUES["adagrad"]["rows"] if r["step"] <= 10_000
    }
    w, accum = 0.0, 0.0
    for step in range(1, 10_001):
        w, accum = sol["adagrad_step"](w, 10.0, accum, 0.01)
        if step in targets:
            assert _rel(accum, targets[step])


@pytest.mark.parametrize("mixed", [False, True])
def test_memory_table(sol: dict[str, Any], mixed: bool) -> None:
    table = VALUES["memory_7b"]["mixed_precision" if mixed else "fp32"]
    got = sol["adam_memory_gb"](VALUES["memory_7b"]["n_params"], mixed_precision=mixed)
    assert set(got) == set(table)
    assert all(_rel(got[k], v) for k, v in table.items())


def test_flipnet_curves_match_the_measured_chapter_run(sol: dict[str, Any]) -> None:
    measured = VALUES["flipnet"]["measured"]
    curves = sol["compare_optimizers"]()
    for key in ("momentum", "adam"):
        assert np.allclose(curves[key], measured[key], rtol=1e-5, atol=1e-7)
    assert measured["last_epoch_winner"] == sol["ANSWER_FLIPNET_WINNER"] == "momentum"
    assert sum(p.numel() for p in sol["FlipNet"]().parameters()) == VALUES["flipnet"]["parameters"]


def test_concept_answers(sol: dict[str, Any]) -> None:
    assert sol["ANSWER_1D_WINNER"] == VALUES["eight_steps"]["winner"]
    assert sol["ANSWER_DECOUPLED"] == "adamw"


# ---------------------------------------------------------------- torch.optim
def _torch_run(make_opt, w0: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = make_opt([p])
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return p.detach().numpy()


def _numpy_run(
    step, w0: np.ndarray, grads: list[np.ndarray], n_state: int, takes_t: bool, **hp: Any
) -> np.ndarray:
    w, state = w0.copy(), [np.zeros_like(w0) for _ in range(n_state)]
    for t, g in enumerate(grads, start=1):
        args = (w, g, *state, t) if takes_t else (w, g, *state)
        out = step(*args, **hp)
        if n_state == 0:
            w = out
        else:
            w, *state = out
    return w


TORCH_CASES = [
    ("sgd_step", 0, False, {"lr": 0.05}, lambda ps: torch.optim.SGD(ps, lr=0.05)),
    (
        "momentum_step",
        1,
        False,
        {"lr": 0.02, "beta": 0.8},
        lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.8),
    ),
    (
        "adagrad_step",
        1,
        False,
        {"lr": 0.1, "eps": 1e-10},
        lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-10),
    ),
    (
        "rmsprop_step",
        1,
        False,
        {"lr": 0.01, "rho": 0.95, "eps": 1e-8},
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.95, eps=1e-8),
    ),
    (
        "adam_step",
        2,
        True,
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7},
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-7),
    ),
    (
        "adam_l2_step",
        2,
        True,
        {"lr": 0.01, "weight_decay": 0.1},
        lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
    ),
    (
        "adamw_step",
        2,
        True,
        {"lr": 0.01, "weight_decay": 0.1},
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    ),
]


@pytest.mark.parametrize(
    ("name", "n_state", "takes_t", "hp", "make_opt"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES]
)
def test_numpy_steps_match_torch_optim(
    sol: dict[str, Any], name: str, n_state: int, takes_t: bool, hp: dict, make_opt
) -> None:
    rng = np.random.default_rng(7)
    w0 = rng.normal(size=(3, 4))
    grads = [rng.normal(scale=rng.choice([0.01, 1.0, 10.0]), size=(3, 4)) for _ in range(12)]
    expected = _torch_run(make_opt, w0, grads)
    got = _numpy_run(sol[name], w0, grads, n_state, takes_t, **hp)
    assert np.allclose(got, expected, rtol=1e-6, atol=1e-10), np.max(np.abs(got - expected))


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_scratch_adamw_matches_torch_adamw(sol: dict[str, Any], weight_decay: float) -> None:
    torch.manual_seed(3)
    net_a, net_b = sol["FlipNet"](), sol["FlipNet"]()
    net_b.load_state_dict(net_a.state_dict())

    def groups(net):
        return [
            {"params": [net.layer1.weight, net.layer2.weight], "lr": 0.02},
            {"params": [net.layer1.bias, net.layer2.bias], "weight_decay": 0.0},
        ]

    opt_a = sol["ScratchAdamW"](groups(net_a), lr=0.01, weight_decay=weight_decay)
    opt_b = torch.optim.AdamW(groups(net_b), lr=0.01, weight_decay=weight_decay)
    X, Y = sol["make_flip_data"]()
    for i in range(40):
        for net, opt in ((net_a, opt_a), (net_b, opt_b)):
            opt.zero_grad()
            torch.mean((net(X[i % 16]) - Y[i % 16]) ** 2).backward()
            opt.step()
    for pa, pb in zip(net_a.parameters(), net_b.parameters(), strict=True):
        assert torch.allclose(pa, pb, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- the contract
def _signature_from_contract(params: str) -> inspect.Signature:
    scope: dict[str, Any] = {}
    exec(f"def _f{params}:\n    pass", scope)  # the contract's own text
    return inspect.signature(scope["_f"])


@pytest.mark.parametrize("which", ["solution", "released"])
def test_every_contract_name_has_the_contract_signature(sol, released, which: str) -> None:
    ns = sol if which == "solution" else released
    bases = {"nn.Module": torch.nn.Module, "torch.optim.Optimizer": torch.optim.Optimizer}
    for q in contract.QUESTIONS:
        for name, params in q.functions.items():
            assert name in ns, f"{which}: {name} missing"
            assert inspect.signature(ns[name]) == _signature_from_contract(params), name
        for name, base in q.classes.items():
            assert isinstance(ns[name], type) and issubclass(ns[name], bases[base]), name
        for name in q.constants:
            assert name in ns, f"{which}: {name} missing"
    for cls, methods in contract.METHOD_SIGNATURES.items():
        for method, params in methods.items():
            got = inspect.signature(getattr(ns[cls], method))
            assert got == _signature_from_contract(params), (cls, method)


def test_question_cells_are_tagged_in_contract_order() -> None:
    nb = read_notebook(SOLUTION_NOTEBOOK)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    headings = [c.source.split("\n")[0] for c in nb.cells if c.cell_type == "markdown"]
    for q in contract.QUESTIONS:
        assert any(h.startswith(f"## {q.id}:") and f"({q.points} " in h for h in headings), q.id
        tagged = "\n".join(c.source for c, t in zip(nb.cells, tags, strict=True) if q.id in t)
        for name in [*q.functions, *q.classes, *q.constants]:
            assert f"def {name}(" in tagged or f"class {name}(" in tagged or f"{name} =" in tagged
    free = [c for c, t in zip(nb.cells, tags, strict=True) if t == [contract.FREE_RESPONSE_TAG]]
    assert len(free) == 1 and free[0].cell_type == "markdown"


# ---------------------------------------------------------------- public checks
def _run_check(question_id: str, ns: dict[str, Any]) -> tuple[tuple[int, int], list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        summary = check(question_id, namespace=ns)
    return tuple(summary), out.getvalue().splitlines()


@pytest.mark.parametrize("question_id", contract.QUESTION_IDS)
def test_public_checks_pass_on_solution(sol, question_id: str) -> None:
    (passed, total), lines = _run_check(question_id, sol)
    assert total == len(CHECKS[question_id]) > 0
    assert passed == total, lines


@pytest.mark.parametrize("question_id", contract.QUESTION_IDS)
def test_public_checks_say_not_implemented_on_release(released, question_id: str) -> None:
    (passed, total), lines = _run_check(question_id, released)
    assert passed == 0 and total > 0
    assert all("not implemented yet" in line for line in lines[:-1]), lines


def _exec_question_cells(path: Path) -> dict[str, Any]:
    """Run only the imports and the question cells of a (trusted) sample notebook."""
    nb = read_notebook(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    ns: dict[str, Any] = {}
    for cell in [
        code[0],
        *[c for c in code if set(c.metadata.get("tags", [])) & set(contract.QUESTION_IDS)],
    ]:
        exec(cell.source, ns)  # our own sample
    return ns


def test_public_checks_catch_a_missing_bias_correction() -> None:
    ns = _exec_question_cells(SUBMISSIONS_DIR / "no_bias_correction.ipynb")
    (passed, total), lines = _run_check("q4_adam_step", ns)
    assert passed < total
    assert any(line.startswith("\u2718 adam_step:") and "4.99" in line for line in lines)
    # the sample's trace is written inline, so every q5 check passes
    assert _run_check("q5_adam_trace", ns)[0][0] == len(CHECKS["q5_adam_trace"])


def test_check_never_raises_and_explains() -> None:
    def boom(*args, **kwargs):
        raise ValueError("bad")

    ns = {"sgd_step": boom, "momentum_step": lambda *a, **k: "nonsense"}
    (passed, total), lines = _run_check("q1_baselines", ns)
    assert passed == 0 and total == len(CHECKS["q1_baselines"])
    # the two sgd_step checks fail alike: one line says so
    assert "ValueError" in lines[0] and "tuple" in lines[1]
    assert _run_check("q2_adagrad", {})[1][0].endswith("is not defined \u2014 run its cell first")
    assert tuple(check("no_such_question", namespace={})) == (0, 0)


def test_public_checks_ship_only_allowed_imports() -> None:
    import ast

    tree = ast.parse((RELEASE_DIR / "public_checks.py").read_text(encoding="utf-8"))
    modules = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    modules |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert modules <= {
        "__future__",
        "copy",
        "sys",
        "collections",
        "dataclasses",
        "typing",
        "numpy",
        "torch",
    }


def test_check_import_cell_survives_without_public_checks(monkeypatch) -> None:
    nb = read_notebook(RELEASED_NOTEBOOK)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "public_checks" in c.source)
    monkeypatch.setitem(sys.modules, "public_checks", None)
    ns: dict[str, Any] = {}
    exec(cell, ns)  # our own notebook
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ns["check"]("q1_baselines")
    assert "unavailable" in out.getvalue()


# ---------------------------------------------------------------- real kernel runs
@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory) -> str:
    """A kernelspec that runs this interpreter, whatever ``python`` is on PATH."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("kernel")
    install(kernel_name="adam-variants-test", prefix=str(prefix))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    yield "adam-variants-test"
    mp.undo()


def _execute(path: Path, workdir: Path, kernel_name: str) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = read_notebook(path)
    NotebookClient(
        nb, kernel_name=kernel_name, timeout=120, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return nb


def _stream_text(nb: nbformat.NotebookNode) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )


@pytest.mark.slow
def test_solution_executes_top_to_bottom(kernel_env: str, tmp_path: Path) -> None:
    shutil.copy(contract.PUBLIC_CHECKS, tmp_path / "public_checks.py")  # as it sits in its folder
    nb = _execute(SOLUTION_NOTEBOOK, tmp_path, kernel_env)
    text = _stream_text(nb)
    assert "\u2718" not in text and "not implemented" not in text
    # one per public check, and one per row of the closing check_all() table
    assert text.count("\u2714") == sum(len(c) for c in CHECKS.values()) + len(CHECKS)
    assert "total" in text.splitlines()[-2] and "100 + 10 extra" in text
    assert any(
        o.output_type == "display_data"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    ), "the plots are displayed"


@pytest.mark.slow
def test_released_notebook_executes_and_every_check_says_not_implemented(
    kernel_env: str, tmp_path: Path
) -> None:
    shutil.copy(RELEASE_DIR / "public_checks.py", tmp_path / "public_checks.py")
    nb = _execute(RELEASED_NOTEBOOK, tmp_path, kernel_env)
    check_lines = [
        line
        for c in nb.cells
        if c.cell_type == "code" and c.source.startswith("check(")
        for o in c.outputs
        if o.output_type == "stream"
        for line in o.text.splitlines()
    ]
    marks = [line for line in check_lines if line.startswith(("\u2714", "\u2718"))]
    assert all(line.startswith("\u2718") and "not implemented yet" in line for line in marks)
    # one line per function still to write (or per earlier function a check needs), not
    # one per check
    assert len(marks) == len(set(marks)) < sum(len(c) for c in CHECKS.values())


def test_the_contract_page_agrees_with_the_assignment_file() -> None:
    """contract.md (what students and other graders read) states the points and signatures
    of assignment.toml (what the kit reads)."""
    page = contract.ASSIGNMENT.contract.read_text(encoding="utf-8")
    headings = {
        qid: int(points)
        for qid, points in re.findall(r"^### (\w+): (?:up to )?(\d+)", page, re.MULTILINE)
    }
    assert headings == contract.POINTS
    text = " ".join(page.split())

    def stated(name: str) -> str | None:
        found = re.search(r"`" + re.escape(name) + r"(\((?:[^()]|\([^()]*\))*\))", text)
        return found and found.group(1).replace('"', "'").replace(" ", "")

    checked = 0
    for q in contract.QUESTIONS:
        for name, signature in q.functions.items():
            if stated(name) == "(...samesignature...)":
                continue
            assert stated(name) == signature.replace('"', "'").replace(" ", ""), name
            checked += 1
        for name in [*q.classes, *q.constants]:
            assert f"`class {name}(" in text or f"`{name}`" in text, name
    assert checked >= 20


def test_the_released_contract_speaks_to_students_and_staff_notes_stay_behind() -> None:
    """contract.md is for students (no assignment.toml, no "what a grader may assume", no
    staff); what graders need is in grading_notes.md, which is never released."""
    page = contract.ASSIGNMENT.contract.read_text(encoding="utf-8")
    for staff_text in (
        "assignment.toml",
        "What a grader may assume",
        "other graders",
        "Course staff and other graders write submissions",
    ):
        assert staff_text not in page, staff_text
    assert "## How your notebook is graded" in page
    notes = contract.ASSIGNMENT.folder / "grading_notes.md"
    assert "What a grader may assume of a submission" in notes.read_text(encoding="utf-8")
    released = contract.ASSIGNMENT.release_dir
    assert (released / "contract.md").read_text(encoding="utf-8") == page
    assert not (released / "grading_notes.md").exists()
