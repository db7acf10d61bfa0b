"""q8_flipnet (14 points): FlipNet, make_flip_data, train_flipnet, compare_optimizers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from . import oracles
from .artifacts import record_flipnet_curves
from .harness import close, fail, numeric, uniform

BUILDS_ON = pytest.mark.builds_on("FlipNet", "make_flip_data", "train_flipnet")
KEYS = ("layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias")


def device_tol(device: str) -> float:
    """The contract's 1e-5 on CPU; looser on cuda (other kernels, same float32)."""
    return 1e-5 if device == "cpu" else 1e-4


def _random_state(rng) -> dict[str, np.ndarray]:
    shapes = {
        "layer1.weight": (3, 4),
        "layer1.bias": (3,),
        "layer2.weight": (4, 3),
        "layer2.bias": (4,),
    }
    return {k: rng.uniform(-0.6, 0.6, size=s).astype(np.float32) for k, s in shapes.items()}


@pytest.mark.points(1)
def test_flipnet_architecture(student, rng):
    """An nn.Module with layer1 = Linear(4, 3) and layer2 = Linear(3, 4): 31 parameters."""
    info = student.probe("flipnet_init", seed=int(rng.integers(0, 10_000)))
    if not info.get("is_module"):
        fail("`FlipNet()` should be a torch.nn.Module.")
    for attr, (n_in, n_out) in (("layer1", (4, 3)), ("layer2", (3, 4))):
        layer = info["layers"].get(attr)
        if not layer or layer["type"] != "Linear" or (layer["in"], layer["out"]) != (n_in, n_out):
            fail(f"`FlipNet.{attr}` should be nn.Linear({n_in}, {n_out}).")
    if info["n_params"] != 31:
        fail(f"FlipNet should have 31 parameters, not {info['n_params']}.")


@pytest.mark.points(1)
def test_flipnet_initialisation_order(student, rng):
    """Right after manual_seed, FlipNet() has the weights of Linear(4,3) then Linear(3,4)."""
    seed = int(rng.integers(0, 10_000))
    state = student.probe("flipnet_init", seed=seed)["state"]
    expected = oracles.flipnet_state(seed)
    if sorted(state) != sorted(KEYS):
        fail("FlipNet's parameters should be exactly layer1.weight/bias and layer2.weight/bias.")
    if not all(close(state[k], expected[k], 1e-7) for k in KEYS):
        swapped = oracles.flipnet_state(seed, layer2_first=True)
        fail(
            "FlipNet() should create layer1 then layer2 with PyTorch's default initialisation "
            "(so that the same random state reproduces the chapter's experiment).",
            "flipnet_layer_order" if all(close(state[k], swapped[k], 1e-7) for k in KEYS) else "",
        )


@pytest.mark.points(2)
def test_flipnet_forward(student, rng):
    """layer1 -> ReLU -> layer2 on drawn weights and a batch of drawn inputs."""
    state = _random_state(rng)
    x = rng.uniform(-1.5, 1.5, size=(6, 4)).astype(np.float32)
    got = student.probe("flipnet_forward", state=state, x=x)
    expected = oracles.flipnet_forward(state, x)
    if not close(got, expected, 1e-5):
        import torch

        lin = oracles.load_state(oracles.ref_flipnet(), state)
        with torch.no_grad():
            no_relu = lin.layer2(lin.layer1(torch.as_tensor(x))).double().numpy()
            others = [
                lin.layer2(act(lin.layer1(torch.as_tensor(x)))).double().numpy()
                for act in (torch.sigmoid, torch.tanh, torch.nn.functional.leaky_relu)
            ]
        if close(got, no_relu, 1e-5):
            fail(
                "FlipNet's forward pass differs from the chapter's network.", "flipnet_missing_relu"
            )
        if any(close(got, other, 1e-5) for other in others):
            fail(
                "FlipNet's forward pass differs from the chapter's network.",
                "flipnet_wrong_activation",
            )
        fail("FlipNet's forward pass should be layer2(relu(layer1(x))).")


@pytest.mark.fixed
@pytest.mark.points(2)
def test_make_flip_data(student):
    """X: the 16 binary images in the chapter's order, float32 (16, 4); Y = X[:, [3, 2, 1, 0]]."""
    value = student.call("make_flip_data")
    if not isinstance(value, list) or len(value) != 2:
        fail("`make_flip_data()` should return the pair (X, Y).")
    X, Y = value
    ex, ey = oracles.flip_data()
    for name, got, exp in (("X", X, ex), ("Y", Y, ey)):
        arr = numeric(got)
        if arr is None or arr.shape != (16, 4):
            fail(f"`{name}` should have shape (16, 4).")
        if not isinstance(got, np.ndarray) or got.dtype != np.float32:
            fail(
                f"`{name}` should be a float32 tensor.",
                "flip_data_dtype" if arr.shape == (16, 4) else "",
            )
        if not np.array_equal(arr, exp):
            label = "flip_inputs_order" if name == "X" else "flip_targets_wrong"
            fail(f"`{name}` has the wrong values or order.", label)


def _train_variants(state, spec, epochs) -> list[tuple[str, dict]]:
    return [
        (label, oracles.train_from_state(state, spec, epochs, **flags))
        for label, flags in (
            ("flipnet_loss_summed", {"summed": True}),
            ("missing_zero_grad", {"zero_grad": False}),
            ("epoch_loss_not_averaged", {"epoch_total": True}),
            ("epoch_loss_after_epoch", {"loss_after_epoch": True}),
            ("epoch_loss_last_sample", {"last_sample": True}),
            ("step_before_backward", {"step_first": True}),
        )
    ]


def _feeding_mistake(forward_inputs, X: np.ndarray, epochs: int) -> str:
    """What the probe's model saw during training: batches larger than one sample, or the
    samples in another order than 0..15 every epoch ("" when training fed them as it should)."""
    if not isinstance(forward_inputs, list) or not forward_inputs:
        return ""
    rows = {tuple(np.asarray(r, dtype=np.float64)): i for i, r in enumerate(X)}
    order, batched = [], False
    for batch in forward_inputs:
        arr = numeric(batch)
        if arr is None or arr.ndim != 2 or arr.shape[1] != X.shape[1]:
            return ""
        if arr.shape[0] != 1:
            batched = True
            continue
        order.append(rows.get(tuple(arr[0]), -1))
    expected = list(range(len(X))) * epochs
    if batched:
        # forwards on several samples beside one-sample steps in the right order are an
        # evaluation (a loss computed outside the steps), not batched training
        return "" if order == expected else "not_batch_size_one"
    return "samples_out_of_order" if order[: len(expected)] != expected[: len(order)] else ""


@pytest.mark.points(3)
def test_train_flipnet(student, rng, artifacts):
    """Batch size 1, in order, mean MSE; per-epoch mean losses and the trained weights. (Also
    records the student's own compare_optimizers() curves for the feedback plot.)"""
    try:
        _train_flipnet(student, rng)
    finally:
        record_flipnet_curves(student, artifacts)


def _train_flipnet(student, rng) -> None:
    X, Y = oracles.flip_data()
    specs = [
        {"name": "sgd", "lr": uniform(rng, 0.01, 0.1), "momentum": uniform(rng, 0.5, 0.9)},
        {"name": "adam", "lr": uniform(rng, 1e-3, 1e-2)},
    ]
    for spec in specs:
        state = _random_state(rng)
        epochs = int(rng.integers(2, 4))
        got = student.probe("train_flipnet", state=state, optimizer=spec, X=X, Y=Y, epochs=epochs)
        expected = oracles.train_from_state(state, spec, epochs)
        losses = got.get("losses")
        if not isinstance(losses, list) or len(losses) != epochs:
            fail("`train_flipnet` should return one mean loss per epoch.")
        ok_losses = close(losses, expected["losses"], 1e-5)
        ok_state = all(close(got["state"][k], expected["state"][k], 1e-5) for k in KEYS)
        if ok_losses and ok_state:
            continue
        optimizer = "SGD with momentum" if spec["name"] == "sgd" else "Adam"
        label = _feeding_mistake(got.get("forward_inputs"), X, epochs)
        for name, variant in [] if label else _train_variants(state, spec, epochs):
            if close(losses, variant["losses"], 1e-5):
                label = name
                break
        if not ok_losses:
            fail(
                f"`train_flipnet` returns wrong per-epoch losses (training with {optimizer}).",
                label,
            )
        fail(
            f"`train_flipnet` leaves the model with different weights than the chapter's loop "
            f"(training with {optimizer}); the per-epoch losses are right.",
            label,
        )


@pytest.mark.points(1)
def test_train_flipnet_default_epochs(student, rng):
    """Called without `epochs`, it trains for 30 epochs (probed on one drawn sample)."""
    X, Y = oracles.flip_data()
    row = int(rng.integers(0, 16))
    X, Y = X[row : row + 1], Y[row : row + 1]
    got = student.probe(
        "train_flipnet",
        state=_random_state(rng),
        optimizer={"name": "adam", "lr": 1e-3},
        X=X,
        Y=Y,
        epochs=0,
        pass_epochs=False,
    )
    if not isinstance(got.get("losses"), list) or len(got["losses"]) != 30:
        fail("`train_flipnet` should train for 30 epochs by default.")


def _curves(value: Any, epochs: int) -> dict[str, list[float]]:
    if not isinstance(value, dict) or set(value) != {"momentum", "adam"}:
        fail('`compare_optimizers` should return {"momentum": [...], "adam": [...]}.')
    for key in ("momentum", "adam"):
        if len(value[key]) != epochs:
            fail(f"`compare_optimizers` should return {epochs} losses per optimizer.")
    return value


def _check_curves(got: dict, epochs: int, seed: int, device: str, what: str) -> None:
    expected = oracles.compare(epochs, seed, device)
    tol = device_tol(device)
    for key in ("momentum", "adam"):
        if not close(got[key], expected[key], tol):
            other = oracles.compare(epochs, seed, device, identical=False)
            if close(got["momentum"], other["momentum"], tol) and close(
                got["adam"], other["adam"], tol
            ):
                fail(
                    f"The {key} curve differs from the chapter's experiment ({what}).",
                    "flipnets_not_identical",
                )
            shared = oracles.compare(epochs, seed, device, shared=True)
            if close(got["momentum"], shared["momentum"], tol) and close(
                got["adam"], shared["adam"], tol
            ):
                fail(
                    f"The {key} curve differs from the chapter's experiment ({what}).",
                    "flipnets_shared",
                )
            fail(
                f"The {key} curve differs from the chapter's experiment ({what}): "
                "torch's random state set from the given argument, two FlipNets with "
                "identical weights, "
                "SGD(lr=0.05, momentum=0.9) vs Adam(lr=0.001)."
            )


@BUILDS_ON
@pytest.mark.points(3)
def test_compare_optimizers_fresh(student, rng, device):
    """A drawn seed and epoch count, on the grading device, against the grader's own run."""
    seed, epochs = int(rng.integers(0, 100_000)), int(rng.integers(2, 5))
    got = _curves(
        student.probe("compare_optimizers", epochs=epochs, seed=seed, device=device), epochs
    )
    _check_curves(got, epochs, seed, device, f"other arguments, on {device}")


@BUILDS_ON
@pytest.mark.fixed
@pytest.mark.points(1)
def test_compare_optimizers_defaults(student):
    """compare_optimizers() with its defaults (30 epochs, seed 42, CPU): the chapter's run."""
    got = _curves(student.probe("compare_optimizers", use_defaults=True), 30)
    _check_curves(got, 30, 42, "cpu", "the defaults")
