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
subclasses_optimizer = checks_module("delegation").subclasses_optimizer

HANDWRITTEN_STEP = '''
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
'''

INIT = '''
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
'''

WRAPPER = '''
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        params = list(params)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.inner = {make}(self.param_groups, lr=lr, betas=betas, eps=eps,
                                  weight_decay=weight_decay)
        self.state = self.inner.state

    def step(self, closure=None):
        return self.inner.step(closure)
'''

HOSTILE = {
    "trap_replaced": ('''
import torch
import _assignment_adam_variants_probes as grader_probes

grader_probes._delegation_trap = lambda: ((lambda: None), [])


class ScratchAdamW(torch.optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
''', "refers to the grader's own modules", 0),
    "getattr_built_name": ('''
import torch


class ScratchAdamW(torch.optim.Optimizer):''' + WRAPPER.format(
        make='getattr(torch.optim, "Ada" + "mW")'), "getattr with a computed name", 1),
    "fused_kernel": ('''
import torch


class ScratchAdamW(torch.optim.Optimizer):''' + INIT + '''
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
''', "reaches torch's Adam/AdamW", 1),
    "module_level_alias": ('''
import torch

_Impl = torch.optim.AdamW


def make_inner(*args, **kwargs):
    return _Impl(*args, **kwargs)


class ScratchAdamW(torch.optim.Optimizer):''' + WRAPPER.format(make="make_inner"),
                           "reaches torch's Adam/AdamW", 1),
    "rebound_after_class": ('''
import torch


class ScratchAdamW(torch.optim.Optimizer):''' + INIT + HANDWRITTEN_STEP + '''

ScratchAdamW = torch.optim.AdamW
''', "rebinds ScratchAdamW", 0),
    "handwritten_but_tampering": ('''
import torch
import sys

sys.modules["_assignment_adam_variants_probes"].PROBES.clear


class ScratchAdamW(torch.optim.Optimizer):''' + INIT + HANDWRITTEN_STEP,
                                  "sys.modules", 1),
}
"""Name -> (the q9 cell, the reason the grader must give, q9's points: at most the subclass
point, which the source earns or not on its own)."""

LEGITIMATE = {
    "getattr_on_a_literal_and_a_local_adam": '''
import torch
from torch.optim import Optimizer


def adam_direction(exp_avg, exp_avg_sq, t, beta1, beta2, eps):
    adam = exp_avg / (1 - beta1**t)
    return adam / ((exp_avg_sq / (1 - beta2**t)).sqrt() + eps)


class ScratchAdamW(Optimizer):''' + INIT + '''
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
''',
    "optimizer_through_a_module_alias": '''
import torch
import torch.optim as optim

Base = optim.Optimizer


class ScratchAdamW(Base):''' + INIT + HANDWRITTEN_STEP,
}


def _grade_q9(source: str, seed: int = 8) -> tuple[float, dict]:
    full = solution_definitions() + "\n\n" + source
    result = run_checks(InProcessStudent(namespace_from(full)), seed=seed, questions=[Q9],
                        source=full)[Q9]
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
    gated = [c for c in checks.values() if c.name not in ("test_no_delegation",
                                                           "test_is_optimizer_subclass")]
    assert all(not c.passed and c.diagnosis in ("delegates_to_torch", "") for c in gated)
    assert sum("known mistake" in c.message for c in checks.values()) == 1


def test_the_bypasses_do_run_like_adamw(restore_probes):
    """Without the source the runtime tripwire alone would let the fused kernel and the
    replaced trap through: that is why the source decides."""
    for name in ("fused_kernel", "trap_replaced"):
        full = solution_definitions() + "\n\n" + HOSTILE[name][0]
        result = run_checks(InProcessStudent(namespace_from(full)), seed=8, questions=[Q9])[Q9]
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
    full = solution_definitions() + "\n\n" + HOSTILE["rebound_after_class"][0].replace(
        "\nScratchAdamW = torch.optim.AdamW\n",
        "\n\nclass ScratchAdamW(torch.optim.AdamW):\n    pass\n")
    result = run_checks(InProcessStudent(namespace_from(full)), seed=8, questions=[Q9])[Q9]
    failed = {c.name: c for c in result.checks if not c.passed}
    assert "test_matches_adamw_param_groups" in failed
    assert "test_no_delegation" in failed  # no source: the grader cannot award it


def test_reading_the_source_is_robust():
    assert findings("") == () and not subclasses_optimizer("")
    assert findings("def broken(:\n    pass\nclass ScratchAdamW(torch.optim.AdamW):\n"
                    "    pass\n")
    star = "from torch.optim import *\nclass ScratchAdamW(Optimizer):\n    def step(self):\n" \
           "        return AdamW\n"
    assert subclasses_optimizer(star) and findings(star)
