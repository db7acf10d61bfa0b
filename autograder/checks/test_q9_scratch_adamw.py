"""q9_scratch_adamw (10 points): ScratchAdamW against torch.optim.AdamW, GPU-optional."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.harness import close, fail
from autograder.checks.static import defines_class, forbidden_references

DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}


def device_tol(device: str) -> float:
    """The contract's 1e-6 on CPU (relative to each tensor's scale); 1e-4 on cuda."""
    return 1e-6 if device == "cpu" else 1e-4


def _groups(rng, specs: list[dict]) -> list[dict]:
    shapes = [(3,), (2, 3), (4, 2), (5,), (2, 2, 2)]
    groups = []
    for i, spec in enumerate(specs):
        params = [rng.normal(size=shapes[(i + j) % len(shapes)]).astype(np.float32)
                  for j in range(2)]
        groups.append({"params": params, **spec})
    return groups


def _grads(rng, groups: list[dict], steps: int) -> list[list[np.ndarray]]:
    shapes = [p.shape for g in groups for p in g["params"]]
    scales = [float(rng.choice([1e-3, 1.0, 10.0])) for _ in shapes]
    return [[(rng.normal(size=s) * sc).astype(np.float32) for s, sc in zip(shapes, scales,
                                                                              strict=True)]
            for _ in range(steps)]


def torch_adamw(groups: list[dict], grads: list[list[np.ndarray]], device: str) -> dict:
    """torch.optim.AdamW on the same groups/gradients, float32 on ``device``."""
    import torch

    tensors, torch_groups = [], []
    for group in groups:
        params = [torch.tensor(p, dtype=torch.float32, device=device, requires_grad=True)
                  for p in group["params"]]
        tensors += params
        spec = {k: (tuple(v) if k == "betas" else v) for k, v in group.items() if k != "params"}
        torch_groups.append({**spec, "params": params})
    opt = torch.optim.AdamW(torch_groups, **DEFAULTS)
    history = []
    for step_grads in grads:
        for p, g in zip(tensors, step_grads, strict=True):
            p.grad = torch.tensor(g, dtype=torch.float32, device=device)
        opt.step()
        history.append([p.detach().cpu().double().numpy() for p in tensors])
    state = [{"step": float(opt.state[p]["step"]),
              "exp_avg": opt.state[p]["exp_avg"].detach().cpu().double().numpy(),
              "exp_avg_sq": opt.state[p]["exp_avg_sq"].detach().cpu().double().numpy()}
             for p in tensors]
    return {"history": history, "state": state}


def _run(student, groups, grads, device, what: str, **extra) -> dict:
    got = student.probe("scratch_adamw", groups=groups, grads=grads, device=device, **extra)
    if got.get("delegated"):
        fail("`ScratchAdamW` calls torch's Adam/AdamW; write the update with tensor operations.")
    expected = torch_adamw(groups, grads, device)
    tol = device_tol(device)
    for i, (g_step, e_step) in enumerate(zip(got["history"], expected["history"], strict=True)):
        for j, (a, e) in enumerate(zip(g_step, e_step, strict=True)):
            if not close(a, e, tol):
                fail(f"`ScratchAdamW` differs from torch.optim.AdamW at step {i + 1} of "
                     f"{len(grads)}, parameter {j + 1} ({what}).")
    return got


@pytest.mark.points(2)
def test_state_names_and_values(student, rng, device):
    """PyTorch's state names per parameter: step, exp_avg, exp_avg_sq, with AdamW's values."""
    groups = _groups(rng, [{"lr": float(rng.uniform(1e-3, 1e-2)),
                            "weight_decay": float(rng.uniform(0.01, 0.1))}])
    grads = _grads(rng, groups, int(rng.integers(3, 6)))
    got = student.probe("scratch_adamw", groups=groups, grads=grads, device=device)
    expected = torch_adamw(groups, grads, device)
    for s, e in zip(got["state"], expected["state"], strict=True):
        missing = {"step", "exp_avg", "exp_avg_sq"} - set(s["keys"])
        if missing:
            fail("`ScratchAdamW`'s per-parameter state should use PyTorch's names step, "
                 f"exp_avg, exp_avg_sq (missing: {', '.join(sorted(missing))}).")
        if s["step"] != e["step"]:
            fail("state['step'] should count the optimizer steps taken.")
        for key in ("exp_avg", "exp_avg_sq"):
            if not close(s[key], e[key], device_tol(device)):
                fail(f"state['{key}'] differs from torch.optim.AdamW's.")


@pytest.mark.points(3)
def test_matches_adamw_param_groups(student, rng, device):
    """Three param groups (own lr/weight_decay, weight_decay 0, the defaults), many steps."""
    groups = _groups(rng, [
        {"lr": float(rng.uniform(1e-3, 5e-2)), "weight_decay": float(rng.uniform(0.01, 0.2))},
        {"lr": float(rng.uniform(1e-3, 5e-2)), "weight_decay": 0.0,
         "betas": (float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.9, 0.99)))},
        {},
    ])
    _run(student, groups, _grads(rng, groups, int(rng.integers(10, 20))), device,
         "several param groups")


@pytest.mark.points(1)
def test_large_lr_and_weight_decay(student, rng, device):
    """Large lr and weight decay: the decay uses the weight from before the step."""
    groups = _groups(rng, [{"lr": float(rng.uniform(0.05, 0.2)),
                            "weight_decay": float(rng.uniform(0.5, 2.0)), "eps": 1e-6}])
    _run(student, groups, _grads(rng, groups, 5), device, "a large lr and weight decay")


@pytest.mark.points(1)
def test_closure_returns_loss(student, rng, device):
    """step(closure) evaluates the closure and returns its loss."""
    groups = _groups(rng, [{"lr": 1e-3}])
    got = _run(student, groups, _grads(rng, groups, 2), device, "with a closure",
               use_closure=True)
    if got["closure_values"] != [1.5, 1.5]:
        fail("`step(closure)` should call the closure and return the loss it returns.")


@pytest.mark.points(1)
def test_is_optimizer_without_delegation(student, rng, device):
    """A torch.optim.Optimizer subclass that never reaches torch's Adam/AdamW at run time."""
    groups = _groups(rng, [{"weight_decay": 0.05}])
    got = student.probe("scratch_adamw", groups=groups, grads=_grads(rng, groups, 2),
                        device=device)
    if not got.get("is_optimizer"):
        fail("`ScratchAdamW` should subclass torch.optim.Optimizer.")
    if got.get("delegated"):
        fail("`ScratchAdamW` calls torch's Adam/AdamW; write the update with tensor operations.")


@pytest.mark.points(1)
def test_no_delegation_in_source(student, rng, device, source):
    """The ScratchAdamW class runs, and its source does not refer to torch's Adam, AdamW or
    their functional forms (the source check is skipped when the engine has no source)."""
    groups = _groups(rng, [{"weight_decay": 0.01}])
    _run(student, groups, _grads(rng, groups, 2), device, "a short run")
    if source and not defines_class(source, "ScratchAdamW"):
        fail("The class statement of `ScratchAdamW` was not found in your code cells.")
    found = forbidden_references(source)
    if found:
        fail("`ScratchAdamW` refers to torch's Adam/AdamW implementation "
             f"({', '.join(sorted(set(found)))}); it must be written with tensor operations.")


@pytest.mark.cuda_only(twin="test_matches_adamw_param_groups")
@pytest.mark.points(1)
def test_matches_adamw_on_cuda(student, rng):
    """On a GPU: parameters and state on cuda, against torch.optim.AdamW on cuda."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no GPU on the grading machine")
    groups = _groups(rng, [{"lr": float(rng.uniform(1e-3, 5e-2)), "weight_decay": 0.1},
                           {"weight_decay": 0.0}])
    _run(student, groups, _grads(rng, groups, 8), "cuda", "on cuda")
