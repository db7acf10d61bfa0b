"""Fixed probes of "Adam and Its Variants", run inside the student's process.

Each builds models and optimizers with this fixed code around one student name, so
that a check exercises exactly that name (:func:`autograder.inside.probes.run_probe` runs
them; replies are plain data the grader checks). ``PROBE_NAMES`` says which name
a probe is about, for messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.inside.probes import lookup


def _torch():
    import torch

    return torch


MAX_LOGGED_FORWARDS = 200


def _reference_flipnet():
    """A FlipNet built by the probe itself, so train_flipnet is probed on its own.

    It logs the inputs of its forward calls made with gradients enabled (rows of X, at most
    ``MAX_LOGGED_FORWARDS`` calls): the grader reads the order and batch size of training from
    the log, for its diagnosis only (points come from the losses and weights)."""
    torch = _torch()
    nn = torch.nn

    class ProbeFlipNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = nn.Linear(4, 3)
            self.relu = nn.ReLU()
            self.layer2 = nn.Linear(3, 4)
            self.forward_log: list[list[list[float]]] = []

        def forward(self, x):
            if torch.is_grad_enabled() and len(self.forward_log) < MAX_LOGGED_FORWARDS:
                self.forward_log.append(x.detach().cpu().reshape(-1, 4).double().tolist())
            return self.layer2(self.relu(self.layer1(x)))

    return ProbeFlipNet()


def _state_to_plain(module) -> dict[str, Any]:
    return {k: v.detach().cpu().double().numpy() for k, v in module.state_dict().items()}


def _load_plain_state(module, state: dict[str, Any], device: str = "cpu") -> None:
    torch = _torch()
    module.load_state_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in state.items()})
    module.to(device)


def probe_flipnet_init(ns: dict, seed: int) -> dict:
    """Build the student's FlipNet right after ``manual_seed(seed)``; describe it."""
    torch = _torch()
    cls = lookup(ns, "FlipNet")
    torch.manual_seed(seed)
    model = cls()
    layers = {}
    for attr in ("layer1", "layer2"):
        layer = getattr(model, attr, None)
        layers[attr] = (
            None
            if layer is None
            else {
                "type": type(layer).__name__,
                "in": getattr(layer, "in_features", None),
                "out": getattr(layer, "out_features", None),
            }
        )
    return {
        "is_module": isinstance(model, torch.nn.Module),
        "n_params": int(sum(p.numel() for p in model.parameters())),
        "layers": layers,
        "state": _state_to_plain(model),
    }


def probe_flipnet_forward(ns: dict, state: dict, x: Any) -> Any:
    """The student's FlipNet, loaded with ``state``, applied to ``x``."""
    torch = _torch()
    model = lookup(ns, "FlipNet")()
    _load_plain_state(model, state)
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float32)).double()


def _make_optimizer(params, spec: dict):
    torch = _torch()
    spec = dict(spec)
    name = spec.pop("name")
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    return cls(params, **spec)


def probe_train_flipnet(
    ns: dict, state: dict, optimizer: dict, X: Any, Y: Any, epochs: int, pass_epochs: bool = True
) -> dict:
    """Train the probe's own FlipNet with the student's ``train_flipnet``."""
    torch = _torch()
    train = lookup(ns, "train_flipnet")
    model = _reference_flipnet()
    _load_plain_state(model, state)
    opt = _make_optimizer(model.parameters(), optimizer)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    Yt = torch.as_tensor(Y, dtype=torch.float32)
    losses = train(model, opt, Xt, Yt, epochs) if pass_epochs else train(model, opt, Xt, Yt)
    return {
        "losses": [float(v) for v in losses],
        "state": _state_to_plain(model),
        "forward_inputs": model.forward_log,
    }


def _delegation_trap():
    """Replace torch's Adam/AdamW entry points by tripwires; return (restore, tripped)."""
    torch = _torch()
    import torch.optim.adam as adam_mod
    import torch.optim.adamw as adamw_mod

    tripped: list[str] = []
    targets = [
        (torch.optim, "Adam"),
        (torch.optim, "AdamW"),
        (adam_mod, "Adam"),
        (adam_mod, "adam"),
        (adamw_mod, "AdamW"),
        (adamw_mod, "adamw"),
    ]
    functional = getattr(torch.optim, "_functional", None)
    if functional is not None:
        targets += [(functional, n) for n in ("adam", "adamw") if hasattr(functional, n)]
    saved = []
    for owner, attr in targets:
        if hasattr(owner, attr):
            saved.append((owner, attr, getattr(owner, attr)))

            def wire_trip(*_a, _name=f"{owner.__name__}.{attr}", **_k):
                tripped.append(_name)
                raise RuntimeError("ScratchAdamW must not call torch's Adam/AdamW")

            setattr(owner, attr, wire_trip)

    def restore() -> None:
        for owner, attr, original in saved:
            setattr(owner, attr, original)

    return restore, tripped


def probe_scratch_adamw(
    ns: dict,
    groups: list[dict],
    grads: list[list[Any]],
    device: str = "cpu",
    use_closure: bool = False,
) -> dict:
    """Run the student's ScratchAdamW on fixed parameters and gradients.

    ``groups``: ``[{"params": [array, ...], <hyperparameters>}]``; ``grads``: one
    list per step with one array (or None: no gradient) per parameter, in group order.
    Returns the parameters after each step, the state's keys and values after the last
    step, and whether the tripwire on torch's own Adam/AdamW was reached (evidence that can
    only cost points: the grader decides delegation from the source).
    """
    torch = _torch()
    cls = lookup(ns, "ScratchAdamW")
    tensors: list = []
    torch_groups = []
    for group in groups:
        params = [
            torch.tensor(p, dtype=torch.float32, device=device, requires_grad=True)
            for p in group["params"]
        ]
        tensors += params
        torch_groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": params})
    restore, tripped = _delegation_trap()
    history = []
    closure_values: list = []
    grad_enabled: list[bool] = []

    def closure_for(step_grads: list) -> Callable[[], Any]:
        """A closure that needs gradients: it recomputes each parameter's .grad (the probe's
        gradient g) by backward() through sum(p * g), and returns the loss 1.5."""
        given = [
            None if g is None else torch.tensor(g, dtype=torch.float32, device=device)
            for g in step_grads
        ]

        def closure():
            grad_enabled.append(torch.is_grad_enabled())
            for p in tensors:
                p.grad = None
            terms = [(p * g).sum() for p, g in zip(tensors, given, strict=True) if g is not None]
            if torch.is_grad_enabled() and terms:
                sum(terms).backward()
            else:  # no backward possible: put the gradients back so that the run goes on
                for p, g in zip(tensors, given, strict=True):
                    p.grad = None if g is None else g.clone()
            return torch.tensor(1.5)

        return closure

    try:
        opt = cls(torch_groups)
        for step_grads in grads:
            for p, g in zip(tensors, step_grads, strict=True):
                p.grad = None if g is None else torch.tensor(g, dtype=torch.float32, device=device)
            if use_closure:
                closure_values.append(opt.step(closure_for(step_grads)))
            else:
                opt.step()
            history.append([p.detach().cpu().double().numpy() for p in tensors])
    finally:
        restore()
    state = []
    for p in tensors:
        s = opt.state.get(p, {}) if hasattr(opt, "state") else {}
        state.append(
            {
                "keys": sorted(str(k) for k in s),
                "step": float(s["step"]) if "step" in s else None,
                "exp_avg": s["exp_avg"].detach().cpu().double().numpy() if "exp_avg" in s else None,
                "exp_avg_sq": (
                    s["exp_avg_sq"].detach().cpu().double().numpy() if "exp_avg_sq" in s else None
                ),
            }
        )
    return {
        "history": history,
        "state": state,
        "delegated": tripped,
        "is_optimizer": isinstance(opt, torch.optim.Optimizer),
        "closure_values": [None if v is None else float(v) for v in closure_values],
        "closure_grad_enabled": grad_enabled,
    }


def probe_decay_param_groups(ns: dict, weight_decay: float) -> dict:
    """Call decay_param_groups on a fixed model with weights, biases and a LayerNorm."""
    torch = _torch()
    nn = torch.nn
    decay_groups = lookup(ns, "decay_param_groups")
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 2), nn.Embedding(5, 3)
    )
    names = {id(p): n for n, p in model.named_parameters()}
    groups = decay_groups(model, weight_decay)
    out = []
    for group in groups:
        params = list(group["params"])
        out.append(
            {
                "weight_decay": float(group.get("weight_decay", float("nan"))),
                "params": [names.get(id(p), "<not a parameter of the model>") for p in params],
                "keys": sorted(str(k) for k in group),
            }
        )
    return {"groups": out, "all": list(names.values())}


def probe_compare_optimizers(
    ns: dict, epochs: int = 30, seed: int = 42, device: str = "cpu", use_defaults: bool = False
) -> dict:
    """Call compare_optimizers (with no arguments when ``use_defaults``); return plain lists."""
    fn = lookup(ns, "compare_optimizers")
    result = fn() if use_defaults else fn(epochs=epochs, seed=seed, device=device)
    return {k: [float(v) for v in vals] for k, vals in dict(result).items()}


PROBES: dict[str, Callable[..., Any]] = {
    "flipnet_init": probe_flipnet_init,
    "flipnet_forward": probe_flipnet_forward,
    "train_flipnet": probe_train_flipnet,
    "scratch_adamw": probe_scratch_adamw,
    "decay_param_groups": probe_decay_param_groups,
    "compare_optimizers": probe_compare_optimizers,
}


PROBE_NAMES = {
    "flipnet_init": "FlipNet",
    "flipnet_forward": "FlipNet",
    "scratch_adamw": "ScratchAdamW",
}
