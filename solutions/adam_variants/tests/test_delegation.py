"""ScratchAdamW's no-delegation rule is decided grader-side, from the source.

Hostile notebooks that hand the update to torch's AdamW in ways the runtime tripwire of the
assignment's probes cannot see (the trap replaced from the notebook, a getattr with a
built name, the fused kernel, a module-level alias) earn none of q9's behaviour points and
lose the no-delegation point; legitimate code that merely looks similar (the five correct
variants, getattr on a literal, a local variable called adam) keeps every point.
"""

from __future__ import annotations

import pytest
from adam import ASSIGNMENT, checks_module
from checks_support import VARIANTS_DIR, namespace_from, solution_definitions

from autograder.checks.run_checks import run_checks
from autograder.checks.student import InProcessStudent
from autograder.inside import probes

Q9 = "q9_scratch_adamw"
findings = checks_module("delegation").findings
verdict = checks_module("delegation").verdict
subclasses_optimizer = checks_module("delegation").subclasses_optimizer

HANDWRITTEN_STEP = """
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"].item()
                p.mul_(1 - group["lr"] * group["weight_decay"])
                state["exp_avg"].lerp_(p.grad, 1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt_().add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1**t))
        return loss
"""

INIT = """
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
"""

WRAPPER = """
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        params = list(params)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.inner = {make}(self.param_groups, lr=lr, betas=betas, eps=eps,
                                  weight_decay=weight_decay)
        self.state = self.inner.state

    def step(self, closure=None):
        return self.inner.step(closure)
"""

HOSTILE = {
    "trap_replaced": (
        """
import torch
import _assignment_adam_variants_probes as grader_probes

grader_probes._delegation_trap = lambda: ((lambda: None), [])


class ScratchAdamW(torch.optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
""",
        "refers to the grader's own modules",
        0,
    ),
    "fused_kernel": (
        """
import torch


class ScratchAdamW(torch.optim.Optimizer):"""
        + INIT
        + """
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            for p in ps:
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
            beta1, beta2 = group["betas"]
            torch._fused_adamw_(ps, [p.grad for p in ps],
                                [self.state[p]["exp_avg"] for p in ps],
                                [self.state[p]["exp_avg_sq"] for p in ps], [],
                                [self.state[p]["step"] for p in ps], lr=group["lr"],
                                beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                                eps=group["eps"], amsgrad=False, maximize=False)
        return loss
""",
        "uses torch's Adam/AdamW",
        1,
    ),
    "module_level_alias": (
        """
import torch

_Impl = torch.optim.AdamW


def make_inner(*args, **kwargs):
    return _Impl(*args, **kwargs)


class ScratchAdamW(torch.optim.Optimizer):"""
        + WRAPPER.format(make="make_inner"),
        "uses torch's Adam/AdamW",
        0,
    ),
    "rebound_after_class": (
        """
import torch


class ScratchAdamW(torch.optim.Optimizer):"""
        + INIT
        + HANDWRITTEN_STEP
        + """

ScratchAdamW = torch.optim.AdamW
""",
        "rebinds ScratchAdamW",
        0,
    ),
    "handwritten_but_tampering": (
        """
import torch
import sys

sys.modules["_assignment_adam_variants_probes"].PROBES.clear


class ScratchAdamW(torch.optim.Optimizer):"""
        + INIT
        + HANDWRITTEN_STEP,
        "refers to the grader's own modules",
        1,
    ),
}
"""Name -> (the q9 cell, the reason the grader must give, q9's points: at most the subclass
point, which the source earns or not on its own)."""

LEGITIMATE = {
    "getattr_on_a_literal_and_a_local_adam": """
import torch
from torch.optim import Optimizer


def adam_direction(exp_avg, exp_avg_sq, t, beta1, beta2, eps):
    adam = exp_avg / (1 - beta1**t)
    return adam / ((exp_avg_sq / (1 - beta2**t)).sqrt() + eps)


class ScratchAdamW(Optimizer):"""
    + INIT
    + """
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = getattr(group, "get")("betas")
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = getattr(torch, "zeros_like")(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                adam = adam_direction(state["exp_avg"].lerp_(p.grad, 1 - beta1),
                                      state["exp_avg_sq"].mul_(beta2).addcmul_(
                                          p.grad, p.grad, value=1 - beta2),
                                      state["step"], beta1, beta2, group["eps"])
                p.mul_(1 - group["lr"] * group["weight_decay"]).sub_(group["lr"] * adam)
        return loss
""",
    "optimizer_through_a_module_alias": """
import torch
import torch.optim as optim

Base = optim.Optimizer


class ScratchAdamW(Base):"""
    + INIT
    + HANDWRITTEN_STEP,
}


DEMO_WITH_ADAMW = """
# Demo: the same FlipNet-like steps with torch's AdamW, locals named like the class's.
torch.manual_seed(0)
w_a = torch.nn.Parameter(torch.randn(3))
w_b = torch.nn.Parameter(w_a.detach().clone())
opt_a = ScratchAdamW([w_a], lr=0.01, weight_decay=0.1)
opt_b = torch.optim.AdamW([w_b], lr=0.01, weight_decay=0.1)
for i in range(5):
    for p, opt in ((w_a, opt_a), (w_b, opt_b)):
        opt.zero_grad()
        (p ** 2).sum().backward()
        opt.step()
t = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])
group = torch.optim.AdamW
state = {"opt": torch.optim.AdamW}


def run_demo(opt, steps=3):
    for t in range(steps):
        opt.step()
    return opt


run_demo(torch.optim.AdamW([torch.nn.Parameter(torch.ones(2))]))
"""
"""A demo cell that uses torch.optim.AdamW with module-level names ``i``, ``p``, ``opt``,
``t``, ``group``, ``state`` and a function whose parameter is ``opt``: the names every correct
class below also uses as locals."""

CORRECT_STYLES = {
    "solution_class_then_demo": HANDWRITTEN_STEP,
    "loop_index_i_and_locals_t_opt": """
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for opt in self.param_groups:
            for i in range(len(opt["params"])):
                p = opt["params"][i]
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                b1, b2 = opt["betas"]
                p.mul_(1 - opt["lr"] * opt["weight_decay"])
                state["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(opt["lr"] * m_hat / (v_hat.sqrt() + opt["eps"]))
        return loss
""",
    "module_level_helper": """
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        adamw_update(p, p.grad, self.state[p], group)
        return loss
""",
    "foreach_lists": """
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            for p in params:
                if not self.state[p]:
                    self.state[p].update(step=torch.tensor(0.0),
                                         exp_avg=torch.zeros_like(p),
                                         exp_avg_sq=torch.zeros_like(p))
            ms = [self.state[p]["exp_avg"] for p in params]
            vs = [self.state[p]["exp_avg_sq"] for p in params]
            steps = [self.state[p]["step"] for p in params]
            beta1, beta2 = group["betas"]
            torch._foreach_add_(steps, 1.0)
            torch._foreach_mul_(params, 1 - group["lr"] * group["weight_decay"])
            torch._foreach_lerp_(ms, grads, 1 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, grads, grads, value=1 - beta2)
            for p, m, v, t in zip(params, ms, vs, steps):
                denom = (v / (1 - beta2 ** t.item())).sqrt() + group["eps"]
                p.addcdiv_(m, denom, value=-group["lr"] / (1 - beta1 ** t.item()))
        return loss
""",
    "private_method_and_self_calls": """
    def _init_state(self, p):
        st = self.state[p]
        if not st:
            st["step"] = 0
            st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return st

    def _update(self, p, group):
        st = self._init_state(p)
        st["step"] += 1
        opt = group
        t = st["step"]
        beta1, beta2 = opt["betas"]
        g = p.grad
        p.data.mul_(1 - opt["lr"] * opt["weight_decay"])
        st["exp_avg"].mul_(beta1).add_((1 - beta1) * g)
        st["exp_avg_sq"].mul_(beta2).add_((1 - beta2) * g * g)
        corr1 = 1 - beta1 ** t
        corr2 = 1 - beta2 ** t
        p.data.add_(-(opt["lr"] / corr1) * st["exp_avg"]
                    / ((st["exp_avg_sq"] / corr2).sqrt() + opt["eps"]))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, group)
        return loss
""",
}
"""Name -> the class body after ``__init__`` (each a correct AdamW written differently)."""

HELPER = """
def adamw_update(p, grad, state, group):
    # One AdamW step of one parameter (a module-level helper, locals t and opt).
    opt = group
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
    state["step"] += 1
    t = state["step"]
    beta1, beta2 = opt["betas"]
    p.mul_(1 - opt["lr"] * opt["weight_decay"])
    state["exp_avg"].lerp_(grad, 1 - beta1)
    state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (state["exp_avg_sq"] / (1 - beta2 ** t)).sqrt() + opt["eps"]
    p.addcdiv_(state["exp_avg"], denom, value=-opt["lr"] / (1 - beta1 ** t))
"""


def _correct_notebook(body: str) -> str:
    return (
        "import torch\n\n"
        + HELPER
        + "\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + INIT
        + body
        + "\n"
        + DEMO_WITH_ADAMW
    )


REAL_DELEGATIONS = {
    "instance_stored_in_self": (
        "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + WRAPPER.format(make="torch.optim.AdamW"),
        "`torch.optim.AdamW`",
    ),
    "via_helper_function": (
        """
import torch


def make_inner(params, **kwargs):
    return torch.optim.AdamW(params, **kwargs)


class ScratchAdamW(torch.optim.Optimizer):"""
        + WRAPPER.format(make="make_inner"),
        "(in `make_inner`)",
    ),
    "via_alias": (
        """
import torch

A = torch.optim.AdamW


class ScratchAdamW(torch.optim.Optimizer):"""
        + WRAPPER.format(make="A"),
        "`torch.optim.AdamW`",
    ),
    "via_from_import_alias": (
        """
import torch
from torch.optim import AdamW as Fast


class ScratchAdamW(torch.optim.Optimizer):"""
        + WRAPPER.format(make="Fast"),
        "imports torch's Adam/AdamW",
    ),
    "via_functional": (
        """
import torch


class ScratchAdamW(torch.optim.Optimizer):"""
        + INIT
        + """
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            for p in ps:
                if not self.state[p]:
                    self.state[p].update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p),
                                         exp_avg_sq=torch.zeros_like(p))
            beta1, beta2 = group["betas"]
            torch.optim._functional.adamw(
                ps, [p.grad for p in ps], [self.state[p]["exp_avg"] for p in ps],
                [self.state[p]["exp_avg_sq"] for p in ps], [],
                [self.state[p]["step"] for p in ps], amsgrad=False, beta1=beta1,
                beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                eps=group["eps"], maximize=False)
""",
        "`torch.optim._functional",
    ),
    "super_step_of_an_adamw_subclass": (
        """
import torch


class ScratchAdamW(torch.optim.AdamW):
    def step(self, closure=None):
        return super().step(closure)
""",
        "`torch.optim.AdamW`",
    ),
}
"""Name -> (the q9 cell, what the student's message must quote)."""

UNDECIDABLE = {
    "exec_in_a_demo_cell": (
        "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + INIT
        + HANDWRITTEN_STEP
        + '\nexec("print(1)")\n',
        10,
        "runs code or looks names up dynamically",
    ),
    "getattr_with_a_computed_name_in_the_class": (
        "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + INIT
        + HANDWRITTEN_STEP.replace("torch.zeros_like(p)", 'getattr(torch, "zeros" + "_like")(p)'),
        10,
        "getattr with a computed name",
    ),
    "computed_getattr_that_does_delegate": (
        "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + WRAPPER.format(make='getattr(torch.optim, "Ada" + "mW")'),
        0,
        "getattr with a computed name",
    ),
}
"""Name -> (the q9 cell, q9's points, the staff note): the source cannot decide, so the source
costs nothing; the last one still loses its points to the run-time tripwire."""

UNIMPLEMENTED = {
    "empty_class": "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):\n    pass\n",
    "step_does_nothing": (
        "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + INIT
        + "\n    def step(self, closure=None):\n        return None\n"
    ),
    "step_left_as_stub": (
        "import torch\n\n\nclass ScratchAdamW(torch.optim.Optimizer):"
        + INIT
        + "\n    def step(self, closure=None):\n"
        + "        raise NotImplementedError('loop over the groups')\n"
    ),
}


def _grade_q9(source: str, seed: int = 8) -> tuple[float, dict]:
    full = solution_definitions() + "\n\n" + source
    result = run_checks(
        InProcessStudent(namespace_from(full), ASSIGNMENT),
        assignment=ASSIGNMENT,
        seed=seed,
        questions=[Q9],
        source=full,
    )[Q9]
    return result.points, {c.name: c for c in result.checks}


@pytest.fixture
def restore_probes(monkeypatch):
    """A hostile cell rebinds names in the assignment's probes; put them back afterwards."""
    assignment_probes = ASSIGNMENT.module("probes")
    monkeypatch.setattr(assignment_probes, "_delegation_trap", assignment_probes._delegation_trap)
    monkeypatch.setattr(probes, "PROBES", dict(probes.PROBES))


@pytest.mark.parametrize("name", HOSTILE)
def test_delegation_earns_nothing_however_it_is_hidden(name, restore_probes):
    source, reason, q9_points = HOSTILE[name]
    assert any(reason in str(f) for f in findings(solution_definitions() + "\n\n" + source))
    points, checks = _grade_q9(source)
    assert points == q9_points, {n: c.message for n, c in checks.items() if not c.passed}
    assert not checks["test_no_delegation"].passed
    assert reason in checks["test_no_delegation"].message
    gated = [
        c
        for c in checks.values()
        if c.name not in ("test_no_delegation", "test_is_optimizer_subclass")
    ]
    assert all(not c.passed and c.diagnosis in ("delegates_to_torch", "") for c in gated)
    assert sum("known mistake" in c.message for c in checks.values()) == 1


def test_the_bypasses_do_run_like_adamw(restore_probes):
    """Without the source the runtime tripwire alone would let the fused kernel and the
    replaced trap through: that is why the source decides."""
    for name in ("fused_kernel", "trap_replaced"):
        full = solution_definitions() + "\n\n" + HOSTILE[name][0]
        result = run_checks(
            InProcessStudent(namespace_from(full), ASSIGNMENT),
            assignment=ASSIGNMENT,
            seed=8,
            questions=[Q9],
        )[Q9]
        passed = {c.name for c in result.checks if c.passed}
        assert "test_matches_adamw_param_groups" in passed, name


@pytest.mark.parametrize("name", LEGITIMATE)
def test_legitimate_code_is_not_flagged(name):
    source = LEGITIMATE[name]
    assert findings(solution_definitions() + "\n\n" + source) == ()
    assert subclasses_optimizer(source)
    points, checks = _grade_q9(source)
    assert points == 10, {n: c.message for n, c in checks.items() if not c.passed}


@pytest.mark.parametrize("path", sorted(VARIANTS_DIR.glob("correct_*.py")), ids=lambda p: p.stem)
def test_correct_variants_are_not_flagged(path):
    source = solution_definitions() + "\n\n" + path.read_text()
    assert findings(source) == ()
    assert subclasses_optimizer(source)


def test_the_solution_notebook_is_not_flagged():
    from adam import SOLUTION_NOTEBOOK

    from autograder.assignment.notebook import code_sources

    source = "\n\n".join(code_sources(SOLUTION_NOTEBOOK))
    assert findings(source) == () and subclasses_optimizer(source)


def test_the_tripwire_can_cost_points_without_the_source():
    """Runtime evidence alone (no source to read) still fails a class that calls AdamW."""
    full = (
        solution_definitions()
        + "\n\n"
        + HOSTILE["rebound_after_class"][0].replace(
            "\nScratchAdamW = torch.optim.AdamW\n",
            "\n\nclass ScratchAdamW(torch.optim.AdamW):\n    pass\n",
        )
    )
    result = run_checks(
        InProcessStudent(namespace_from(full), ASSIGNMENT),
        assignment=ASSIGNMENT,
        seed=8,
        questions=[Q9],
    )[Q9]
    failed = {c.name: c for c in result.checks if not c.passed}
    assert "test_matches_adamw_param_groups" in failed
    assert "test_no_delegation" in failed  # no source: the grader cannot award it


def test_reading_the_source_is_robust():
    assert findings("") == () and not subclasses_optimizer("")
    assert findings("def broken(:\n    pass\nclass ScratchAdamW(torch.optim.AdamW):\n    pass\n")
    star = (
        "from torch.optim import *\nclass ScratchAdamW(Optimizer):\n    def step(self):\n"
        "        return AdamW\n"
    )
    assert subclasses_optimizer(star) and findings(star)


@pytest.mark.parametrize("style", CORRECT_STYLES)
def test_correct_styles_next_to_an_adamw_demo_keep_full_q9(style):
    """Locals named like the demo cell's module-level names (i, t, opt, p, group, state)
    are not the demo's names: the class is judged by what it reaches."""
    source = _correct_notebook(CORRECT_STYLES[style])
    full = solution_definitions() + "\n\n" + source
    assert findings(full) == ()
    assert verdict(full).review == ()
    points, checks = _grade_q9(source)
    assert points == 10, {n: c.message for n, c in checks.items() if not c.passed}
    assert all(c.review == "" for c in checks.values())


def test_a_module_level_name_the_class_really_uses_is_followed():
    """The same demo, but the class calls the module-level ``opt`` (an AdamW instance)."""
    body = CORRECT_STYLES["solution_class_then_demo"].replace(
        "        return loss\n", "        opt.step()\n        return loss\n"
    )
    found = findings(solution_definitions() + "\n\n" + _correct_notebook(body))
    assert any("torch.optim.AdamW" in str(f) for f in found), found


@pytest.mark.parametrize("name", REAL_DELEGATIONS)
def test_real_delegations_are_caught(name, restore_probes):
    source, quoted = REAL_DELEGATIONS[name]
    full = solution_definitions() + "\n\n" + source
    assert findings(full), name
    points, checks = _grade_q9(source)
    assert points == 0, {n: (c.passed, c.message) for n, c in checks.items()}
    message = checks["test_no_delegation"].message
    assert quoted in message and "uses torch's own optimizer code" in message, message
    for word in ("cheat", "misconduct", "not count as written by hand", "plagiar"):
        assert word not in message


@pytest.mark.parametrize("name", UNDECIDABLE)
def test_undecidable_code_is_flagged_for_staff_not_deducted(name, restore_probes):
    source, q9_points, note = UNDECIDABLE[name]
    full = solution_definitions() + "\n\n" + source
    assert findings(full) == ()
    assert any(note in str(f) for f in verdict(full).review)
    points, checks = _grade_q9(source)
    assert points == q9_points, {n: c.message for n, c in checks.items() if not c.passed}
    flagged = checks["test_no_delegation"]
    assert note in flagged.review and note not in flagged.message
    if q9_points == 0:
        assert "torch's Adam/AdamW" in flagged.message


@pytest.mark.parametrize("name", UNIMPLEMENTED)
def test_an_unimplemented_scratch_adamw_earns_nothing(name):
    points, checks = _grade_q9(UNIMPLEMENTED[name])
    assert points == 0, {n: c.message for n, c in checks.items() if c.passed}


def test_the_staff_flag_is_in_the_report_and_not_on_the_students_page(restore_probes):
    from autograder.results import SubmissionResult
    from autograder.staff.feedback import render_feedback
    from autograder.staff.final_grades import final_grade
    from autograder.staff.report import render_report

    source, _, note = UNDECIDABLE["exec_in_a_demo_cell"]
    full = solution_definitions() + "\n\n" + source
    questions = run_checks(
        InProcessStudent(namespace_from(full), ASSIGNMENT),
        assignment=ASSIGNMENT,
        seed=8,
        questions=[Q9],
        source=full,
    )
    result = SubmissionResult(
        submission="ada", status="graded", questions=questions, max_total=100.0
    )
    result.recompute_total()
    assert note in render_report([result], [final_grade(result, ASSIGNMENT)], ASSIGNMENT)
    assert "For staff to review" in render_report(
        [result], [final_grade(result, ASSIGNMENT)], ASSIGNMENT
    )
    page = render_feedback(result, ASSIGNMENT)
    assert note not in page and "review" not in page.lower()
