# ruff: noqa: F821 - completed by the solution's other definitions (solutions/adam_variants/tests/test_checks.py)
"""Correct solution, style: torch._foreach_* in ScratchAdamW, F.relu / F.mse_loss,
copy.deepcopy for the second FlipNet, zero_grad after the step."""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class FlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        return self.layer2(F.relu(self.layer1(x)))


def train_flipnet(model, optimizer, X, Y, epochs=30):
    optimizer.zero_grad()
    means = []
    for _epoch in range(epochs):
        losses = []
        for x, y in zip(X, Y, strict=True):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
        means.append(sum(losses) / len(losses))
    return means


def compare_optimizers(epochs=30, seed=42, device="cpu"):
    torch.manual_seed(seed)
    momentum_net = FlipNet()
    adam_net = copy.deepcopy(momentum_net)
    X, Y = (t.to(device) for t in make_flip_data())
    momentum_net, adam_net = momentum_net.to(device), adam_net.to(device)
    curves = {}
    for key, net, opt in (
        (
            "momentum",
            momentum_net,
            torch.optim.SGD(momentum_net.parameters(), lr=0.05, momentum=0.9),
        ),
        ("adam", adam_net, torch.optim.Adam(adam_net.parameters(), lr=0.001)),
    ):
        curves[key] = train_flipnet(net, opt, X, Y, epochs=epochs)
    return curves


class ScratchAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if not params:
                    continue
                grads = [p.grad for p in params]
                for p in params:
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                    state["step"] += 1
                exp_avgs = [self.state[p]["exp_avg"] for p in params]
                exp_avg_sqs = [self.state[p]["exp_avg_sq"] for p in params]
                steps = [self.state[p]["step"] for p in params]
                beta1, beta2 = group["betas"]
                lr, eps = group["lr"], group["eps"]
                torch._foreach_mul_(params, 1 - lr * group["weight_decay"])
                torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
                torch._foreach_mul_(exp_avg_sqs, beta2)
                torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
                denoms = torch._foreach_sqrt(exp_avg_sqs)
                torch._foreach_div_(denoms, [math.sqrt(1 - beta2**t) for t in steps])
                torch._foreach_add_(denoms, eps)
                torch._foreach_addcdiv_(
                    params, exp_avgs, denoms, [-lr / (1 - beta1**t) for t in steps]
                )
        return loss
