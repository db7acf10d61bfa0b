"""Public self-checks for the "Adam and Its Variants" notebook.

Call ``check("q4_adam_step")`` in a notebook cell: it looks up your functions in
the notebook's namespace, runs the question's public checks and prints one line
per check. A failed check says where the difference shows and, when it
recognises the mistake, names it in the same words as the hidden checks.
Passing them does not mean full marks: the hidden checks probe every function
with fresh inputs.

This file ships to students: standard library, NumPy and PyTorch only. Its
expected values are the chapter's printed numbers, worked examples of the
contract's formulas, properties every correct implementation has, and
torch.optim run on fixed public inputs.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

PASS, FAIL = "\u2714", "\u2718"
NOT_IMPLEMENTED = (
    "not implemented yet \u2014 replace the `raise NotImplementedError` with your code"
)


MISTAKES: dict[str, str] = {
    # ------------------------------------------------------------------ every step function
    "step_sign_flipped": (
        "the update seems to go uphill: the step is subtracted from w (w - lr * ...), not added."
    ),
    "modifies_arguments": (
        "the function changes an argument in place (for example m *= beta1 or w -= ...); "
        "compute new arrays and leave the inputs unchanged."
    ),
    "eps_inside_sqrt": (
        "eps seems to be inside the square root: the update divides by sqrt(...) + eps, "
        "not sqrt(... + eps) (the difference shows with tiny gradients)."
    ),
    "decay_missing": (
        "the weight decay seems to be missing: with weight_decay > 0 your update is the "
        "plain Adam step."
    ),
    "outputs_swapped": (
        "the values come back in another order than the contract's: return the tuple in the "
        "order of the signature (for example (w_new, m_new, v_new), (w_new, velocity_new) or "
        "(clipped, total_norm))."
    ),
    "sqrt_missing": (
        "the update seems to divide by the running average itself, not by its square root: "
        "divide by sqrt(...) + eps."
    ),
    "float32_intermediate": (
        "a value seems computed in float32 somewhere (for example 1 - torch.tensor(beta)**t "
        "or an np.float32 constant): near beta=1 that loses about 5 digits; compute in "
        "float64 (plain Python floats or NumPy)."
    ),
    # ------------------------------------------------------------------ q1 momentum
    "momentum_dampened": (
        "the momentum update looks dampened by (1 - beta): PyTorch's convention is "
        "velocity = beta * velocity + grad."
    ),
    "momentum_other_convention": (
        "the velocity seems to include the learning rate (v = beta*v - lr*g, w = w + v); the "
        "contract uses PyTorch's convention velocity = beta * velocity + grad, "
        "w = w - lr * velocity."
    ),
    "momentum_velocity_negated": (
        "the velocity seems to point downhill (v = beta*v - g, w = w + lr*v); in the "
        "contract's convention it points uphill: velocity = beta * velocity + grad, "
        "w = w - lr * velocity."
    ),
    "momentum_old_velocity": (
        "the weight seems to be stepped with the velocity from before this step's update; "
        "update the velocity first, then step w with the new velocity."
    ),
    # ------------------------------------------------------------------ q2, q3
    "adagrad_accumulates_grad": ("AdaGrad seems to accumulate g (or |g|) instead of g**2."),
    "adagrad_old_accumulator": (
        "the AdaGrad step seems to use the accumulator before adding this step's g**2."
    ),
    "v_from_abs_grad": ("the second moment seems to be built from |g| instead of g**2."),
    "v_from_grad": ("the second moment seems to be built from g instead of g**2."),
    "rho_swapped": (
        "RMSprop's rho and 1 - rho look swapped: v_new = rho * v + (1 - rho) * grad**2."
    ),
    "rmsprop_bias_corrected": (
        "RMSprop has no bias correction; the running average is used as it is."
    ),
    "old_second_moment": (
        "the step seems to divide by the running average from before this step's update; "
        "update v first, then step w with the new v."
    ),
    # ------------------------------------------------------------------ q4 Adam
    "bias_correction_missing": (
        "Adam's bias correction seems to be missing: m and v must be divided by "
        "1 - beta1**t and 1 - beta2**t before the update."
    ),
    "bias_correction_off_by_one": (
        "the bias correction looks off by one step: use 1 - beta**t with t the 1-based "
        "step number (the first update has t=1)."
    ),
    "bias_correction_inverted": (
        "`bias_correction` should return the divisor 1 - beta**t itself, not beta**t or "
        "1 / (1 - beta**t)."
    ),
    "one_moment_corrected": (
        "only one of the two moments is bias-corrected: both m and v need their own correction."
    ),
    "eps_closed_form": (
        "eps seems added to sqrt(v) before the bias correction (the closed form "
        "lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + eps)); PyTorch and the "
        "contract add eps to sqrt(v_hat), after the correction (it shows with tiny gradients "
        "in the first steps)."
    ),
    "update_uses_grad": (
        "the update seems to use the raw gradient where the bias-corrected first moment "
        "belongs: w - lr * m_hat / (sqrt(v_hat) + eps)."
    ),
    "bias_correction_betas_mixed": (
        "each moment needs its own correction: m_hat = m / (1 - beta1**t) and "
        "v_hat = v / (1 - beta2**t); both seem corrected with the same beta."
    ),
    "betas_swapped": (
        "beta1 and beta2 look swapped: beta1 belongs to the first moment m, beta2 to the "
        "second moment v (and to their corrections)."
    ),
    # ------------------------------------------------------------------ q5 trace
    "trace_step_sign": (
        "`step` should be the positive amount subtracted from w (w before the step minus w "
        "after it)."
    ),
    "trace_t_from_zero": ("`t` should count the steps from 1, the t the bias correction uses."),
    "trace_hats_uncorrected": (
        "`m_hat` and `v_hat` should be the bias-corrected moments m / (1 - beta1**t) and "
        "v / (1 - beta2**t), not m and v."
    ),
    "trace_w_before_step": ("`w` should be the weight after the step, not before it."),
    "trace_ignores_hyperparameters": (
        "the trace seems to ignore some of its arguments (beta1, beta2 or eps): pass them "
        "on to adam_step."
    ),
    "trace_w_not_carried": (
        "every step seems to start again from w0: continue from the weight the previous step "
        "returned (w = w_new at the end of each step)."
    ),
    "state_not_carried": (
        "the optimizer state (m and v) seems to restart from zero at every step: create it "
        "once before the loop and keep what each step returns."
    ),
    "trace_moments_before_step": (
        "`m`, `v`, `m_hat` and `v_hat` seem recorded before this step's update; record the "
        "moments the step returns."
    ),
    "trace_grad_not_2w": (
        "the gradient of f(w) = w**2 is 2 * w (10 at w=5 in the chapter's first row)."
    ),
    "trace_step_recomputed": (
        "`step` seems recomputed from a formula without eps; record what the step really "
        "subtracted: w before the step minus w after it."
    ),
    "trace_wrong_number_of_steps": (
        "the loop runs one step too few or too many: range(1, steps + 1) gives t = 1, ..., "
        "steps, one dict each."
    ),
    # ------------------------------------------------------------------ q6 weight decay
    "adamw_as_l2": (
        "the AdamW decay seems folded into the gradient: that is Adam with L2, not "
        "decoupled weight decay."
    ),
    "decay_after_step": (
        "the weight decay seems applied to the already-updated weight; decay the weight "
        "from before the step: w - lr*update - lr*weight_decay*w."
    ),
    "decay_not_scaled_by_lr": (
        "the decoupled decay seems not scaled by the learning rate: subtract lr * weight_decay * w."
    ),
    "l2_as_decoupled": (
        "Adam with L2 seems implemented as decoupled decay; L2 adds weight_decay * w to the "
        "gradient before the moments are updated."
    ),
    "l2_doubled": (
        "L2 seems added as 2 * weight_decay * w; the contract and PyTorch add "
        "weight_decay * w to the gradient."
    ),
    "decay_sign_flipped": (
        "the decay seems to grow the weight: subtract lr * weight_decay * w, do not add it."
    ),
    # ------------------------------------------------------------------ q7 Rosenbrock
    "rosenbrock_dfdx_wrong": (
        "df/dx looks wrong: both terms of (1 - x)**2 + 100 * (y - x**2)**2 depend on x; "
        "differentiate each with the chain rule."
    ),
    "rosenbrock_dfdy_wrong": (
        "df/dy looks wrong: only the term 100 * (y - x**2)**2 depends on y; differentiate it "
        "with the chain rule."
    ),
    "path_ignores_hyperparameters": (
        "`optimize_rosenbrock` seems to ignore the hyperparameters given in **hparams: pass "
        "them on to the step function."
    ),
    "path_state_not_carried": (
        "`optimize_rosenbrock` seems to restart the optimizer state (velocity, m, v) at "
        "every step: keep it from one step to the next."
    ),
    "path_aliased": (
        "every row of the path seems to be the same array, changed in place at each step: "
        "append a copy (w.copy()) or compute a new array each step."
    ),
    # ------------------------------------------------------------------ q8 FlipNet
    "flipnet_missing_relu": (
        "FlipNet's forward pass seems to miss the ReLU between the two layers."
    ),
    "flipnet_wrong_activation": (
        "FlipNet's hidden activation seems to be another function than ReLU (sigmoid or "
        "tanh); the chapter's network uses nn.ReLU between the layers."
    ),
    "flip_data_dtype": (
        "X and Y should be float32 tensors: build them with dtype=torch.float32 (integer "
        "lists give int64)."
    ),
    "flipnet_layer_order": (
        "FlipNet seems to create layer2 before layer1; create layer1 first, so that the same "
        "random state gives the chapter's weights."
    ),
    "flip_inputs_order": (
        "X should list the 16 images in the chapter's order "
        "(for a in [0,1] for b in [0,1] for c in [0,1] for d in [0,1])."
    ),
    "flip_targets_wrong": ("Y should be X with its four pixels reversed: X[:, [3, 2, 1, 0]]."),
    "flipnet_loss_summed": (
        "the loss seems summed instead of averaged: use torch.mean((model(x) - y) ** 2)."
    ),
    "epoch_loss_not_averaged": (
        "each epoch's loss should be the mean over the 16 steps, not their sum."
    ),
    "missing_zero_grad": (
        "gradients seem to accumulate across steps: call optimizer.zero_grad() before "
        "each backward()."
    ),
    "samples_out_of_order": (
        "the samples seem to be fed in another order than 0, 1, ..., 15; feed them in order "
        "in every epoch, without shuffling."
    ),
    "not_batch_size_one": (
        "the model seems to see several samples in one step; use batch size 1: one sample per step."
    ),
    "epoch_loss_after_epoch": (
        "each epoch's loss seems recomputed on all 16 samples after the epoch; it should be "
        "the mean of the 16 losses computed during the epoch's steps."
    ),
    "epoch_loss_last_sample": (
        "each epoch's loss seems to be the loss of its last sample; it should be the mean of "
        "the 16 losses of the epoch."
    ),
    "step_before_backward": (
        "optimizer.step() seems to run before loss.backward(), so it never sees this "
        "sample's gradient: zero_grad(), backward(), then step()."
    ),
    "flipnets_not_identical": (
        "the two FlipNets do not seem to start from identical weights: copy the first "
        "model's weights into the second (load_state_dict or copy.deepcopy)."
    ),
    "flipnets_shared": (
        "both optimizers seem to train one and the same FlipNet (the second name refers to "
        "the first model): make a second model and copy the weights into it."
    ),
    # ------------------------------------------------------------------ q9 ScratchAdamW
    "state_names_wrong": (
        "the per-parameter state should use PyTorch's names: step, exp_avg and exp_avg_sq."
    ),
    "closure_loss_not_returned": (
        "step(closure) should call the closure (with gradients enabled) and return the loss "
        "it returns."
    ),
    "closure_without_grad": (
        "step(closure) seems to run the closure with gradients disabled (step runs under "
        "torch.no_grad()): call it inside `with torch.enable_grad():` so that its backward() "
        "works."
    ),
    "step_count_shared": (
        "the step count t seems shared by all parameters (counted once per parameter "
        "updated); keep it per parameter in state['step'] and add 1 per step() call."
    ),
    "grad_none_not_skipped": (
        "a parameter whose .grad is None must be skipped (no decay, no state update), as "
        "torch.optim.AdamW does."
    ),
    "group_hyperparameters_ignored": (
        "each param group's own settings should be used (group['lr'], group['betas'], "
        "group['eps'], group['weight_decay']), not the constructor's arguments."
    ),
    "delegates_to_torch": (
        "ScratchAdamW must compute the update with tensor operations; the grader read that "
        "it uses torch's own Adam/AdamW, so its results are torch's and cannot count."
    ),
    # ------------------------------------------------------------------ q10 recipe
    "warmup_off_by_one": (
        "the warmup looks off by one step: the rate is lr_max * step / warmup_steps, 0 at "
        "step 0 and lr_max at step warmup_steps."
    ),
    "cosine_ignores_lr_min": (
        "the cosine part seems to ignore lr_min: lr_min + 0.5*(lr_max - lr_min)*(1 + cos(...))."
    ),
    "clip_per_tensor": (
        "the gradients seem clipped tensor by tensor; clip_grad_norm uses one global norm "
        "over all of them."
    ),
    "clip_epsilon_missing": (
        "the clip scale should be max_norm / (total_norm + 1e-6), as clip_grad_norm_ computes "
        "it (the 1e-6 shows when the total norm is small)."
    ),
    "clip_scales_up": (
        "gradients whose total norm is below max_norm must stay unchanged: the scale is "
        "min(1, max_norm / (total_norm + 1e-6))."
    ),
    "biases_in_decay_group": (
        "biases or normalisation parameters (ndim < 2) are in the decay group; they belong "
        "in the group with weight_decay 0."
    ),
    "matrices_in_no_decay_group": (
        "a weight matrix or embedding (ndim >= 2) is in the group without decay; those decay."
    ),
    "decay_group_missing_params": (
        "some parameters are missing from the groups or appear twice; every parameter "
        "must appear exactly once."
    ),
    "integer_division": (
        "an integer division (//) seems to truncate the warmup fraction to 0; use / ."
    ),
    "cosine_progress_from_zero": (
        "the cosine's progress should count from the end of the warmup: "
        "(step - warmup_steps) / (total_steps - warmup_steps)."
    ),
    "clip_norm_sum_of_norms": (
        "the global norm seems to add the per-tensor norms; it is the square root of the sum "
        "of all squared entries: sqrt(sum over tensors of sum(g**2))."
    ),
    "memory_total_wrong": (
        "`total` should add all four buffers: weights + adam_m + adam_v + grads."
    ),
    "gb_as_gib": (
        "the sizes look computed in GiB (2**30 bytes); the contract uses GB = 1e9 bytes."
    ),
    "mixed_precision_moments_halved": (
        "in mixed precision Adam's m and v stay in fp32 (4 bytes each); only the weights and "
        "the gradients take 2 bytes."
    ),
    # ------------------------------------------------------------------ q11
    "answer_wrong": (
        "the answer does not match what the computation shows; run it and read the numbers "
        "rather than the text's printout."
    ),
    # ------------------------------------------------------------------ bonus
    "lion_sign_of_momentum": (
        "Lion's update direction should interpolate with beta1, sign(beta1*m + (1-beta1)*grad); "
        "beta2 is only for the momentum's own update."
    ),
    "lion_momentum_wrong_beta": (
        "Lion's momentum is updated with beta2: m_new = beta2*m + (1-beta2)*grad; beta1 is "
        "only for the sign's interpolation."
    ),
    "lion_momentum_updated_first": (
        "Lion's sign should use the momentum from before this step: compute "
        "u = sign(beta1*m + (1-beta1)*grad) first, then update m with beta2."
    ),
    "lamb_trust_ratio_per_element": (
        "LAMB's trust ratio is one number per array (norm(w) / norm(u)), not per element."
    ),
    "lamb_no_trust_ratio": ("LAMB's trust ratio norm(w) / norm(u) seems missing."),
    "lamb_norm_squared": (
        "LAMB's trust ratio uses L2 norms, sqrt(sum(w**2)) / sqrt(sum(u**2)), not the sums "
        "of squares."
    ),
    "adafactor_no_normalisation": (
        "the factored estimate must be divided by the mean of the row statistics."
    ),
    "adafactor_rows_cols_swapped": (
        "rows and columns look swapped: row statistics are means over axis 1."
    ),
    "quantize_wrong_range": (
        "int8 codes should use the range [-127, 127]: code = round(x / absmax * 127)."
    ),
    "quantize_one_block": (
        "each block of `block` values needs its own absmax scale, not one for the whole array."
    ),
    "dequantize_last_block": (
        "the last block may be shorter than `block` (the array's size need not be a multiple "
        "of it): repeat each scale over its block and cut to the number of codes, e.g. "
        "np.repeat(scales, block)[:codes.size]."
    ),
}
"""Known mistakes: label -> the sentence that explains it. The hidden checks use the same
sentences, so a mistake reads the same before and after submission."""


class CheckFailed(AssertionError):
    """A public check's reason for failing."""


class _NotAnswered(Exception):
    """A q11 constant is still None."""


class _Missing(Exception):
    """A name the check needs is not defined in the notebook."""


@dataclass(frozen=True)
class PublicCheck:
    """One public check: the name it is about, what it shows, and how to run it."""

    name: str
    description: str
    run: Callable[[dict[str, Any]], None]


class CheckSummary(NamedTuple):
    """How many of a question's public checks passed (no extra notebook output)."""

    passed: int
    total: int

    def _ipython_display_(self) -> None:
        """Display nothing: check() has printed its lines already."""


def _get(ns: dict[str, Any], name: str) -> Any:
    if name not in ns:
        raise _Missing(name)
    return ns[name]


def _expect(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def _close(actual: Any, expected: float, tol: float = 1e-6) -> bool:
    try:
        return bool(abs(float(actual) - expected) <= tol * max(1.0, abs(expected)))
    except (TypeError, ValueError):
        return False


def _tuple_of(result: Any, n: int, names: str) -> tuple:
    _expect(
        isinstance(result, tuple) and len(result) == n,
        f"should return a tuple {names}, got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, tuple) else ""),
    )
    return result


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) or (
        isinstance(x, np.ndarray) and x.shape == ()
    )


def _same_shape(results: tuple, shape: tuple[int, ...], names: str) -> None:
    for value in results:
        _expect(
            np.shape(value) == shape,
            f"with arrays of shape {shape} in, {names} should all have shape {shape}, "
            f"got {np.shape(value)}",
        )


def normalise_answer(answer: Any) -> str:
    """A q11 answer as the grader reads it: case, spaces and quotes do not matter."""
    return "".join(str(answer).split()).lower().strip("\"'")


# ---------------------------------------------------------------- worked examples
def _flat(value: Any) -> list[float]:
    """Every number of a result, in order (a dict's values by sorted key)."""
    if isinstance(value, dict):
        return [x for key in sorted(value) for x in _flat(value[key])]
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _flat(item)]
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return [float(x) for x in np.asarray(value, dtype=np.float64).ravel()]


def _agree(got: list[float], expected: list[float], rtol: float) -> bool:
    if len(got) != len(expected):
        return False
    for a, e in zip(got, expected, strict=True):
        if np.isnan(e) or np.isinf(e):
            if not (a == e or (np.isnan(a) and np.isnan(e))):
                return False
        elif not abs(a - e) <= rtol * abs(e) + 1e-15:
            return False
    return True


def named_mistake(
    name: str, got: list[float], rtol: float = 1e-6, spans: list[tuple[int, int]] | None = None
) -> str:
    """The text " This looks like a known mistake: <sentence>" when ``got`` is what a known
    mistake of ``name`` gives (the hidden checks' sentence), else "". With ``spans`` (one
    slice of ``got`` per example), the mistake must explain every example that is wrong."""
    expected = EXPECTED.get(name)
    spans = spans or [(0, len(got))]
    wrong = [
        (a, b) for a, b in spans if expected is None or not _agree(got[a:b], expected[a:b], rtol)
    ]
    for key, outputs in KNOWN.get(name, {}).items():
        if len(outputs) == len(got) and all(_agree(got[a:b], outputs[a:b], rtol) for a, b in wrong):
            return f" This looks like a known mistake: {MISTAKES[key.split('#')[0]]}"
    return ""


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, np.ndarray):
        return "np.array(" + _short(value.tolist()) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


OUTPUT_NAMES: dict[str, tuple[str, ...]] = {
    "sgd_step": ("w_new",),
    "momentum_step": ("w_new", "velocity_new"),
    "adagrad_step": ("w_new", "accum_new"),
    "rmsprop_step": ("w_new", "v_new"),
    "bias_correction": ("1 - beta**t",),
    "adam_step": ("w_new", "m_new", "v_new"),
    "adam_l2_step": ("w_new", "m_new", "v_new"),
    "adamw_step": ("w_new", "m_new", "v_new"),
    "optimize_rosenbrock": ("path",),
    "warmup_cosine_lr": ("lr",),
    "clip_grad_norm": ("clipped", "total_norm"),
    "lion_step": ("w_new", "m_new"),
    "lamb_step": ("w_new", "m_new", "v_new"),
    "factored_second_moment": ("v_approx", "row_new", "col_new"),
}
"""The names of each function's outputs, in the contract's order (for labelled results)."""


def _labels(value: Any, names: tuple[str, ...] = ()) -> list[str]:
    """A name for every number of ``value``, in the order of :func:`_flat` (``names``: the
    function's outputs): ``w_new``, ``m_new[1]``, ``step 2: v``, ``path[3, 0]``."""
    if len(names) == 1:
        return [names[0] + sub for sub in _labels(value)]
    if isinstance(value, dict):
        return [f"{key}{sub}" for key in sorted(value) for sub in _labels(value[key])]
    if isinstance(value, (list, tuple)):
        if names and len(names) == len(value):
            return [n + sub for n, item in zip(names, value, strict=True) for sub in _labels(item)]
        if value and all(isinstance(item, dict) for item in value):
            return [f"step {i + 1}: {sub}" for i, item in enumerate(value) for sub in _labels(item)]
        return [f"[{i}]{sub}" for i, item in enumerate(value) for sub in _labels(item)]
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 1:
        return [""]
    return ["[" + ", ".join(map(str, index)) + "]" for index in np.ndindex(arr.shape)]


def _pairs(
    labels: list[str], got: list[float], expected: list[float], rtol: float, most: int = 4
) -> str:
    """The values that differ, each as ``label: got x, expected y``."""
    if len(labels) != len(got) or len(got) != len(expected):
        return (
            f"gives {len(got)} numbers {_short(got)}, expected {len(expected)}: {_short(expected)}"
        )
    wrong = [
        f"{label or 'result'}: got {g:.6g}, expected {e:.6g}"
        for label, g, e in zip(labels, got, expected, strict=True)
        if not _agree([g], [e], rtol)
    ]
    more = f" and {len(wrong) - most} more" if len(wrong) > most else ""
    return "; ".join(wrong[:most]) + more


def _call_text(name: str, args: tuple, kwargs: dict) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _examples(name: str, rtol: float = 1e-6) -> Callable[[dict[str, Any]], None]:
    """A check: ``name`` on its worked examples (EXAMPLES) against EXPECTED."""

    def run(ns: dict[str, Any]) -> None:
        fn = _get(ns, name)
        got, spans, labelled = [], [], []
        for args, kwargs in EXAMPLES[name]:
            start = len(got)
            value = fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            got += _flat(value)
            labelled.append(_labels(value, OUTPUT_NAMES.get(name, ())))
            spans.append((args, kwargs, start, len(got)))
        expected = EXPECTED[name]
        if _agree(got, expected, rtol):
            return
        for (args, kwargs, a, b), labels in zip(spans, labelled, strict=True):
            if not _agree(got[a:b], expected[a:b], rtol):
                raise CheckFailed(
                    f"{_call_text(name, args, kwargs)}: "
                    f"{_pairs(labels, got[a:b], expected[a:b], rtol)}."
                    + named_mistake(name, got, rtol, [(a, b) for _, _, a, b in spans])
                )
        raise CheckFailed(
            f"{name} returns {len(got)} numbers on its examples, expected {len(expected)}."
        )

    return run


# ---------------------------------------------------------------- q1_baselines
def _sgd_scalar(ns: dict[str, Any]) -> None:
    w = _get(ns, "sgd_step")(5.0, 10.0, 0.01)
    _expect(_is_scalar(w), f"scalar in should give a scalar out, got {type(w).__name__}")
    _expect(
        _close(w, 4.9),
        "sgd_step(5.0, 10.0, lr=0.01) should move w by lr*grad = 0.1, got "
        f"{w}." + named_mistake("sgd_step", _flat(w)),
    )


def _sgd_eight(ns: dict[str, Any]) -> None:
    sgd_step = _get(ns, "sgd_step")
    w = 5.0
    for _ in range(8):
        w = sgd_step(w, 2 * w, 0.01)
    _expect(round(float(w), 4) == 4.2538, f"8 steps on f(w)=w² from 5 should give 4.2538, got {w}")


def _momentum_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "momentum_step")(np.ones(3), np.ones(3), np.zeros(3), 0.01)
    _same_shape(_tuple_of(result, 2, "(w_new, velocity_new)"), (3,), "w_new and velocity_new")


def _momentum_eight(ns: dict[str, Any]) -> None:
    momentum_step = _get(ns, "momentum_step")
    w, velocity = 5.0, 0.0
    for _ in range(8):
        w, velocity = momentum_step(w, 2 * w, velocity, 0.01)
    _expect(round(float(w), 4) == 2.4421, f"8 steps on f(w)=w² from 5 should give 2.4421, got {w}")


# ---------------------------------------------------------------- q2_adagrad
def _adagrad_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "adagrad_step")(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3)), 0.1)
    _same_shape(_tuple_of(result, 2, "(w_new, accum_new)"), (2, 3), "w_new and accum_new")


def _adagrad_table(ns: dict[str, Any]) -> None:
    adagrad_step = _get(ns, "adagrad_step")
    w, accum = 0.0, 0.0
    for _ in range(100):
        w, accum = adagrad_step(w, 10.0, accum, 0.01)
    _expect(
        _close(accum, 10_000.0),
        f"with a constant gradient of 10 the accumulator after 100 steps is 10,000, got {accum}",
    )


# ---------------------------------------------------------------- q3_rmsprop
def _rmsprop_pair(ns: dict[str, Any]) -> None:
    result = _get(ns, "rmsprop_step")(np.ones(4), np.ones(4), np.zeros(4), 0.01)
    _same_shape(_tuple_of(result, 2, "(w_new, v_new)"), (4,), "w_new and v_new")


def _rmsprop_scalar(ns: dict[str, Any]) -> None:
    w_new, v_new = _tuple_of(_get(ns, "rmsprop_step")(1.0, 2.0, 0.0, 0.01), 2, "(w_new, v_new)")
    _expect(_is_scalar(w_new) and _is_scalar(v_new), "scalars in should give scalars out")
    _expect(float(w_new) < 1.0, "a positive gradient should decrease w")
    _expect(float(v_new) > 0.0, "v should grow from 0 after a nonzero gradient")


def _pure(name: str, n_args: int) -> Callable[[dict[str, Any]], None]:
    """A check: ``name`` leaves its array arguments as they were."""

    def run(ns: dict[str, Any]) -> None:
        args = [np.array([1.0, 2.0, 0.5]) * (i + 1) for i in range(n_args)]
        before = [a.copy() for a in args]
        adam_like = name in ("adam_step", "adam_l2_step", "adamw_step")
        _get(ns, name)(*args, *([] if adam_like else [0.01]), *((1,) if adam_like else ()))
        _expect(
            all(np.array_equal(a, b) for a, b in zip(args, before, strict=True)),
            "changed an argument in place." + f" This looks like a known mistake: "
            f"{MISTAKES['modifies_arguments']}",
        )

    return run


def _all_pure(*specs: tuple[str, int]) -> Callable[[dict[str, Any]], None]:
    """A check: each ``(name, number of array arguments)`` leaves its arguments unchanged."""

    def run(ns: dict[str, Any]) -> None:
        for name, n_args in specs:
            try:
                _pure(name, n_args)(ns)
            except CheckFailed as failed:
                raise CheckFailed(f"{name} {failed}") from None

    return run


# ---------------------------------------------------------------- q4_adam_step
def _adam_triple(ns: dict[str, Any]) -> None:
    result = _get(ns, "adam_step")(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 1)
    _same_shape(_tuple_of(result, 3, "(w_new, m_new, v_new)"), (3,), "w_new, m_new and v_new")


# ---------------------------------------------------------------- q5_adam_trace
_TRACE_KEYS = ("t", "grad", "m", "v", "m_hat", "v_hat", "step", "w")


def _trace_shape(ns: dict[str, Any]) -> None:
    rows = _get(ns, "adam_trace")()
    _expect(isinstance(rows, list) and len(rows) == 8, "the default trace is a list of 8 dicts")
    for row in rows:
        _expect(
            isinstance(row, dict) and set(row) == set(_TRACE_KEYS),
            f"each row is a dict with exactly the keys {', '.join(_TRACE_KEYS)}",
        )


def _trace_first(ns: dict[str, Any]) -> None:
    first = _get(ns, "adam_trace")()[0]
    expected = {
        "t": 1,
        "grad": 10.0,
        "m": 1.0,
        "v": 0.1,
        "m_hat": 10.0,
        "v_hat": 100.0,
        "step": 0.01,
        "w": 4.99,
    }
    wrong = [k for k, x in expected.items() if not _close(first.get(k), x)]
    _expect(
        not wrong,
        "the chapter's t=1 row is g=10, m=1.0, v=0.1, m_hat=10, v_hat=100, "
        f"step=0.01, w=4.99; these differ: {', '.join(wrong)}",
    )


def _trace_last(ns: dict[str, Any]) -> None:
    w = _get(ns, "adam_trace")()[-1]["w"]
    _expect(round(float(w), 4) == 4.92, f"after 8 steps the chapter has w=4.9200, got {w}")


# ---------------------------------------------------------------- q6_weight_decay
def _decay_triples(ns: dict[str, Any]) -> None:
    for name in ("adam_l2_step", "adamw_step"):
        result = _get(ns, name)(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 1)
        _same_shape(
            _tuple_of(result, 3, f"{name} -> (w_new, m_new, v_new)"), (3,), "w_new, m_new and v_new"
        )


def _decay_zero(ns: dict[str, Any]) -> None:
    adam_step = _get(ns, "adam_step")
    args = (np.array([1.0, -2.0]), np.array([0.5, 3.0]), np.zeros(2), np.zeros(2), 1)
    reference = adam_step(*args, lr=0.01)
    for name in ("adam_l2_step", "adamw_step"):
        result = _tuple_of(
            _get(ns, name)(*args, lr=0.01, weight_decay=0.0), 3, "(w_new, m_new, v_new)"
        )
        _expect(
            all(np.allclose(a, b) for a, b in zip(result, reference, strict=True)),
            f"{name} with weight_decay=0 should be exactly adam_step",
        )


# ---------------------------------------------------------------- q7_rosenbrock
def _rosenbrock_min(ns: dict[str, Any]) -> None:
    f = _get(ns, "rosenbrock")(1.0, 1.0)
    _expect(_close(f, 0.0), f"the minimum at (1, 1) has f = 0, got {f}")
    grad = _get(ns, "rosenbrock_grad")(1.0, 1.0)
    _expect(
        len(grad) == 2 and _close(grad[0], 0.0) and _close(grad[1], 0.0),
        f"the gradient at the minimum (1, 1) is (0, 0), got {grad}",
    )


def _rosenbrock_autograd(ns: dict[str, Any]) -> None:
    import torch

    grad_fn = _get(ns, "rosenbrock_grad")
    for x, y in ((-1.2, 1.0), (0.5, -0.3)):
        p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
        got = _flat(grad_fn(x, y))
        _expect(len(got) == 2, "should return the pair (df/dx, df/dy)")
        for i, part in enumerate(("dfdx", "dfdy")):
            _expect(
                _close(got[i], float(p.grad[i]), 1e-9),
                f"at ({x}, {y}) torch's autograd gives df/{part[-1]} = {float(p.grad[i]):.6g}, "
                f"got {got[i]:.6g}. This looks like a known mistake: "
                f"{MISTAKES[f'rosenbrock_{part}_wrong']}",
            )


def _rosenbrock_path(ns: dict[str, Any]) -> None:
    path = _get(ns, "optimize_rosenbrock")("sgd", 1e-4, 5)
    _expect(
        isinstance(path, np.ndarray) and path.shape == (6, 2),
        f"5 steps should give an array of shape (6, 2), got {np.shape(path)}",
    )
    _expect(np.allclose(path[0], [-1.2, 1.0]), "the path starts with the start point (-1.2, 1.0)")


# ---------------------------------------------------------------- q8_flipnet
def _flipnet_params(ns: dict[str, Any]) -> None:
    model = _get(ns, "FlipNet")()
    _expect(
        hasattr(model, "layer1") and hasattr(model, "layer2"),
        "FlipNet needs attributes layer1 and layer2",
    )
    n = sum(p.numel() for p in model.parameters())
    _expect(n == 31, f"FlipNet has 31 parameters in the chapter, got {n}")


def _flipnet_relu(ns: dict[str, Any]) -> None:
    import torch

    model = _get(ns, "FlipNet")()
    with torch.no_grad():
        model.layer1.weight.zero_()
        model.layer1.bias.fill_(-1.0)
        out = model(torch.ones(4))
        hidden = torch.full((3,), -1.0)
        linear = model.layer2(hidden)
        other = [model.layer2(act(hidden)) for act in (torch.sigmoid, torch.tanh)]
    label = (
        "flipnet_missing_relu"
        if torch.allclose(out, linear)
        else "flipnet_wrong_activation"
        if any(torch.allclose(out, o) for o in other)
        else ""
    )
    _expect(
        torch.allclose(out, model.layer2.bias.detach()),
        "with every hidden pre-activation negative the ReLU outputs zeros, so the network "
        "should output layer2's bias."
        + (f" This looks like a known mistake: {MISTAKES[label]}" if label else ""),
    )


def _flipnet_seeded(ns: dict[str, Any]) -> None:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = _get(ns, "FlipNet")()
        torch.manual_seed(0)
        first, second = torch.nn.Linear(4, 3), torch.nn.Linear(3, 4)
        torch.manual_seed(0)
        swapped_second, swapped_first = torch.nn.Linear(3, 4), torch.nn.Linear(4, 3)
    same = torch.equal(model.layer1.weight, first.weight) and torch.equal(
        model.layer2.weight, second.weight
    )
    swapped = torch.equal(model.layer1.weight, swapped_first.weight) and torch.equal(
        model.layer2.weight, swapped_second.weight
    )
    _expect(
        same,
        "with torch's random state set to 0, FlipNet() should hold the weights of "
        "nn.Linear(4, 3) then nn.Linear(3, 4) created from the same random state."
        + (
            f" This looks like a known mistake: {MISTAKES['flipnet_layer_order']}"
            if swapped
            else ""
        ),
    )


def _flip_data(ns: dict[str, Any]) -> None:
    import torch

    X, Y = _tuple_of(_get(ns, "make_flip_data")(), 2, "(X, Y)")
    _expect(
        isinstance(X, torch.Tensor) and tuple(X.shape) == (16, 4) and X.dtype == torch.float32,
        "X is a float32 tensor of shape (16, 4)",
    )
    _expect(
        isinstance(Y, torch.Tensor) and torch.equal(Y, X[:, [3, 2, 1, 0]]),
        "Y is X with its pixels reversed: X[:, [3, 2, 1, 0]]." + " This looks like a known "
        f"mistake: {MISTAKES['flip_targets_wrong']}",
    )


def _train_history(ns: dict[str, Any]) -> None:
    import torch

    torch.manual_seed(0)
    model = _get(ns, "FlipNet")()
    X, Y = _get(ns, "make_flip_data")()
    history = _get(ns, "train_flipnet")(
        model, torch.optim.SGD(model.parameters(), lr=0.05), X, Y, epochs=2
    )
    _expect(
        isinstance(history, list)
        and len(history) == 2
        and all(isinstance(x, float) for x in history),
        "train_flipnet(..., epochs=2) returns a list of 2 floats",
    )


def _spy_data():
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        return torch.rand(16, 4), torch.rand(16, 4)


def _train_mean_loss(ns: dict[str, Any]) -> None:
    import torch

    X, Y = _spy_data()
    model = _get(ns, "FlipNet")()
    with torch.no_grad():
        mean_loss = float(torch.mean((model(X) - Y) ** 2))
    history = _get(ns, "train_flipnet")(
        model, torch.optim.SGD(model.parameters(), lr=0.0), X, Y, epochs=1
    )
    got = float(history[0])
    label = {4.0: "flipnet_loss_summed", 16.0: "epoch_loss_not_averaged"}.get(
        round(got / mean_loss, 3) if mean_loss else 0.0
    )
    _expect(
        _close(got, mean_loss),
        "with lr=0 the model does not change, so the epoch's loss "
        f"should be the mean squared error over the 16 samples, {mean_loss:.6g}; got "
        f"{got:.6g}." + (f" This looks like a known mistake: {MISTAKES[label]}" if label else ""),
    )


def _train_one_sample_per_step(ns: dict[str, Any]) -> None:
    import torch

    X, Y = _spy_data()
    model = _get(ns, "FlipNet")()
    fed: list = []
    spying = [False]
    model.register_forward_hook(
        lambda _m, inputs, _out: (
            fed.append(inputs[0].detach().reshape(-1, 4))
            if torch.is_grad_enabled() and not spying[0]
            else None
        )
    )
    params = list(model.parameters())
    problems: list[str] = []

    class SpySGD(torch.optim.SGD):
        """SGD(lr=0) that checks each step's gradient is one sample's, freshly computed."""

        def step(self, closure=None):
            x = fed[-1] if fed else None
            if x is not None and x.shape[0] == 1:
                row = [i for i in range(16) if torch.equal(X[i], x[0])]
                if row:
                    spying[0] = True
                    with torch.set_grad_enabled(True):
                        sample_loss = torch.mean((model(x[0]) - Y[row[0]]) ** 2)
                        fresh = torch.autograd.grad(sample_loss, params)
                    spying[0] = False
                    if not all(
                        torch.allclose(p.grad, g, atol=1e-7)
                        or torch.allclose(p.grad, 4 * g, atol=1e-7)
                        for p, g in zip(params, fresh, strict=True)
                    ):
                        problems.append("missing_zero_grad")
            return super().step(closure)

    _get(ns, "train_flipnet")(model, SpySGD(params, lr=0.0), X, Y, epochs=2)
    order = [
        ([i for i in range(16) if torch.equal(X[i], x[0])] or [-2])[0]
        for x in fed
        if x.shape[0] == 1
    ]
    if order != list(range(16)) * 2:
        # forwards on several samples beside one-sample steps in order are an evaluation
        # outside the steps, not batched training
        problems.insert(
            0, "not_batch_size_one" if any(x.shape[0] != 1 for x in fed) else "samples_out_of_order"
        )
    _expect(
        not problems,
        "training should take one step per sample, samples 0..15 in order, "
        "each with the gradient of that sample's loss alone."
        + (f" This looks like a known mistake: {MISTAKES[problems[0]]}" if problems else ""),
    )


def _compare_keys(ns: dict[str, Any]) -> None:
    curves = _get(ns, "compare_optimizers")(epochs=2)
    _expect(
        isinstance(curves, dict) and set(curves) == {"momentum", "adam"},
        'compare_optimizers returns a dict with keys "momentum" and "adam"',
    )
    _expect(all(len(curves[k]) == 2 for k in curves), "epochs=2 gives two losses per optimizer")


# ---------------------------------------------------------------- q9_scratch_adamw
def _scratch_first(ns: dict[str, Any]) -> None:
    import torch

    cls = _get(ns, "ScratchAdamW")
    _expect(
        isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer),
        "ScratchAdamW subclasses torch.optim.Optimizer",
    )
    w = torch.nn.Parameter(torch.tensor([5.0], dtype=torch.float64))
    opt = cls([w], lr=0.01)
    (w**2).sum().backward()
    opt.step()
    _expect(
        _close(w.item(), 4.99),
        f"the chapter's first Adam step (w=5, g=10, lr=0.01) gives w=4.99, got {w.item()}",
    )
    state = opt.state[w]
    _expect(
        {"step", "exp_avg", "exp_avg_sq"} <= set(state),
        "state per parameter holds step, exp_avg and exp_avg_sq." + " This looks like a "
        f"known mistake: {MISTAKES['state_names_wrong']}",
    )


SCRATCH_EXAMPLE = {
    "groups": [
        {"params": [[1.0, -2.0], [0.25]], "lr": 0.1, "weight_decay": 0.5},
        {"params": [[0.5, 3.0]]},
    ],
    "grads": [
        [[0.5, -1e-6], [1.0], [1.0, -2.0]],
        [[0.3, 2e-6], [-0.5], [-1.0, 0.5]],
        [[-0.2, 1e-6], [0.25], [0.5, 0.5]],
    ],
}
"""Two param groups (the first with its own lr and weight_decay), three steps, float32."""


def _scratch_run(make: Callable[[list], Any], example: dict) -> list[float]:
    """The parameters after running the optimizer ``make(groups)`` on ``example``."""
    import torch

    tensors = []
    groups = []
    for group in example["groups"]:
        params = [torch.tensor(p, dtype=torch.float32, requires_grad=True) for p in group["params"]]
        tensors += params
        groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": params})
    opt = make(groups)
    for step in example["grads"]:
        for p, g in zip(tensors, step, strict=True):
            p.grad = None if g is None else torch.tensor(g, dtype=torch.float32)
        opt.step()
    return _flat([p.detach() for p in tensors])


def _scratch_matches(ns: dict[str, Any]) -> None:
    import torch

    got = _scratch_run(_get(ns, "ScratchAdamW"), SCRATCH_EXAMPLE)
    expected = _scratch_run(
        lambda groups: torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.0), SCRATCH_EXAMPLE
    )
    _expect(
        _agree(got, expected, 1e-5),
        "after three steps on two param groups the parameters "
        f"are {_short(got)}, torch.optim.AdamW gives {_short(expected)}."
        + named_mistake("ScratchAdamW", got, 1e-5),
    )


def _scratch_no_grad(ns: dict[str, Any]) -> None:
    import torch

    cls = _get(ns, "ScratchAdamW")
    with_grad = torch.tensor([1.0, 2.0], requires_grad=True)
    without = torch.tensor([3.0, -1.0], requires_grad=True)
    opt = cls([with_grad, without], lr=0.1, weight_decay=0.5)
    with_grad.grad = torch.tensor([0.5, 0.5])
    try:
        opt.step()
    except Exception as err:  # reported as the check's reason
        raise CheckFailed(
            f"step() raised {type(err).__name__} with a parameter whose .grad is "
            f"None. This looks like a known mistake: "
            f"{MISTAKES['grad_none_not_skipped']}"
        ) from None
    state = opt.state.get(without) or {}
    untouched = all(
        float(v) == 0 if not hasattr(v, "abs") or v.numel() == 1 else float(v.abs().sum()) == 0
        for k, v in state.items()
        if k in ("step", "exp_avg", "exp_avg_sq")
    )
    _expect(
        torch.equal(without.detach(), torch.tensor([3.0, -1.0])) and untouched,
        "a parameter whose .grad is None should stay unchanged and its state (if any) "
        "should not be updated. This looks like a known mistake: "
        f"{MISTAKES['grad_none_not_skipped']}",
    )


def _scratch_closure(ns: dict[str, Any]) -> None:
    import torch

    w = torch.tensor([1.0], requires_grad=True)
    opt = _get(ns, "ScratchAdamW")([w])

    def closure():
        if not torch.is_grad_enabled():
            raise CheckFailed(
                "step(closure) ran the closure with gradients disabled, so its "
                "backward() cannot work. This looks like a known mistake: "
                f"{MISTAKES['closure_without_grad']}"
            )
        opt.zero_grad()
        value = (w**2).sum()
        value.backward()
        return value

    loss = opt.step(closure)
    loss = loss.detach() if hasattr(loss, "detach") else loss
    _expect(
        loss is not None and _close(float(loss), 1.0),
        f"step(closure) should return the closure's loss (1.0 here), got {loss}. This looks "
        f"like a known mistake: {MISTAKES['closure_loss_not_returned']}",
    )


# ---------------------------------------------------------------- q10_recipe
def _schedule_ends(ns: dict[str, Any]) -> None:
    lr = _get(ns, "warmup_cosine_lr")
    start, peak = lr(0, 1e-3, 1000, 100), lr(100, 1e-3, 1000, 100)
    _expect(
        _close(start, 0.0) and _close(peak, 1e-3),
        f"warmup starts at 0 and reaches lr_max at warmup_steps, got {start} and {peak}",
    )


def _clip_small(ns: dict[str, Any]) -> None:
    grads = [np.array([0.3, 0.0]), np.array([[0.4]])]
    result = _tuple_of(_get(ns, "clip_grad_norm")(grads, 10.0), 2, "(clipped, total_norm)")
    clipped, norm = result
    _expect(isinstance(clipped, list) and len(clipped) == 2, "clipped is a list like grads")
    _expect(_close(norm, 0.5), f"the global norm of [0.3, 0] and [[0.4]] is 0.5, got {norm}")
    _expect(
        all(np.shape(c) == np.shape(g) for c, g in zip(clipped, grads, strict=True)),
        "clipped gradients keep their shapes",
    )


def _groups_cover(ns: dict[str, Any]) -> None:
    model = _get(ns, "FlipNet")()
    groups = _get(ns, "decay_param_groups")(model, 0.1)
    _expect(
        isinstance(groups, list)
        and len(groups) == 2
        and all(isinstance(g, dict) and {"params", "weight_decay"} <= set(g) for g in groups),
        'two dicts with keys "params" and "weight_decay"',
    )
    ids = [id(p) for g in groups for p in g["params"]]
    _expect(
        sorted(ids) == sorted(id(p) for p in model.parameters()),
        "every parameter appears exactly once." + " This looks like a known mistake: "
        f"{MISTAKES['decay_group_missing_params']}",
    )
    biases = {id(model.layer1.bias), id(model.layer2.bias)}
    _expect(
        not biases & {id(p) for p in groups[0]["params"]},
        "FlipNet's biases belong in the second group (weight_decay 0). This looks like a "
        f"known mistake: {MISTAKES['biases_in_decay_group']}",
    )


def _memory_table(ns: dict[str, Any]) -> None:
    mem = _get(ns, "adam_memory_gb")(7e9)
    expected = {"weights": 28, "adam_m": 28, "adam_v": 28, "grads": 28, "total": 112}
    _expect(isinstance(mem, dict) and set(mem) == set(expected), f"keys {', '.join(expected)}")
    _expect(
        all(_close(mem[k], x) for k, x in expected.items()),
        f"the chapter's fp32 table for 7B parameters is 28/28/28/28/112 GB, got {mem}",
    )


def _quantize_roundtrip(ns: dict[str, Any]) -> None:
    x = np.linspace(-1.0, 2.0, 100).reshape(10, 10)
    codes, scales = _tuple_of(_get(ns, "quantize_blockwise")(x), 2, "(codes, scales)")
    _expect(
        isinstance(codes, np.ndarray) and codes.dtype == np.int8 and codes.size == 100,
        "codes is a flat int8 array with one code per value",
    )
    x_hat = _get(ns, "dequantize_blockwise")(codes, scales, x.shape)
    _expect(np.shape(x_hat) == x.shape, "dequantize_blockwise restores the shape")
    _expect(
        np.max(np.abs(x_hat - x)) <= 2.0 / 127 + 1e-12,
        "every value comes back within absmax/127 of the original."
        + (
            f" This looks like a known mistake: {MISTAKES['quantize_wrong_range']}"
            if np.abs(codes.astype(int)).max() == 127 and np.max(np.abs(x_hat - x)) > 0.5
            else ""
        ),
    )


def _quantize_blocks(ns: dict[str, Any]) -> None:
    x = np.concatenate([np.full(4, 0.5), np.full(4, -8.0), np.array([2.0, 1.0])])
    _, scales = _tuple_of(_get(ns, "quantize_blockwise")(x, 4), 2, "(codes, scales)")
    got = _flat(scales)
    _expect(
        got == [0.5, 8.0, 2.0],
        "blocks of 4 values with absmax 0.5, 8 and 2 (the last "
        f"block shorter) give scales [0.5, 8, 2], got {_short(got)}."
        + (
            f" This looks like a known mistake: {MISTAKES['quantize_one_block']}"
            if got == [8.0, 8.0, 8.0]
            else ""
        ),
    )


# ---------------------------------------------------------------- q11_concepts
_CHOICES = {
    "ANSWER_1D_WINNER": ("sgd", "momentum", "adam"),
    "ANSWER_FLIPNET_WINNER": ("momentum", "adam"),
    "ANSWER_DECOUPLED": ("adam_l2", "adamw"),
}


def _answer(name: str) -> Callable[[dict[str, Any]], None]:
    def run(ns: dict[str, Any]) -> None:
        value = _get(ns, name)
        if value is None:
            raise _NotAnswered(", ".join(f'"{c}"' for c in _CHOICES[name]))
        _expect(
            isinstance(value, str) and normalise_answer(value) in _CHOICES[name],
            f"should be one of {', '.join(map(repr, _CHOICES[name]))}, got {value!r}",
        )

    return run


CHECKS: dict[str, tuple[PublicCheck, ...]] = {
    "q1_baselines": (
        PublicCheck("sgd_step", "takes a scalar step of lr * grad", _sgd_scalar),
        PublicCheck("sgd_step", "reaches 4.2538 after 8 steps on f(w)=w²", _sgd_eight),
        PublicCheck(
            "momentum_step", "returns (w_new, velocity_new) of the input shape", _momentum_pair
        ),
        PublicCheck("momentum_step", "reaches 2.4421 after 8 steps on f(w)=w²", _momentum_eight),
        PublicCheck(
            "momentum_step",
            "follows PyTorch's convention on two worked examples",
            _examples("momentum_step"),
        ),
        PublicCheck(
            "sgd_step/momentum_step",
            "leave their arguments unchanged",
            _all_pure(("sgd_step", 2), ("momentum_step", 3)),
        ),
    ),
    "q2_adagrad": (
        PublicCheck("adagrad_step", "returns (w_new, accum_new) of the input shape", _adagrad_pair),
        PublicCheck(
            "adagrad_step", "accumulates 10,000 after 100 steps of gradient 10", _adagrad_table
        ),
        PublicCheck(
            "adagrad_step",
            "is right on a tiny gradient and a non-zero accumulator",
            _examples("adagrad_step"),
        ),
        PublicCheck("adagrad_step", "leaves its arguments unchanged", _pure("adagrad_step", 3)),
    ),
    "q3_rmsprop": (
        PublicCheck("rmsprop_step", "returns (w_new, v_new) of the input shape", _rmsprop_pair),
        PublicCheck(
            "rmsprop_step", "gives scalars for scalars and steps downhill", _rmsprop_scalar
        ),
        PublicCheck("rmsprop_step", "leaves its arguments unchanged", _pure("rmsprop_step", 3)),
        PublicCheck(
            "rmsprop_step",
            "is right on a tiny gradient and with a given rho",
            _examples("rmsprop_step"),
        ),
    ),
    "q4_adam_step": (
        PublicCheck(
            "bias_correction",
            "matches the chapter's table at t=1 and t=5",
            _examples("bias_correction"),
        ),
        PublicCheck("adam_step", "returns (w_new, m_new, v_new)", _adam_triple),
        PublicCheck(
            "adam_step",
            "reproduces the chapter's first step and is right on a tiny gradient and at t=3",
            _examples("adam_step"),
        ),
        PublicCheck("adam_step", "leaves its arguments unchanged", _pure("adam_step", 4)),
    ),
    "q5_adam_trace": (
        PublicCheck("adam_trace", "returns 8 rows with the trace's keys", _trace_shape),
        PublicCheck("adam_trace", "reproduces the chapter's t=1 row", _trace_first),
        PublicCheck("adam_trace", "ends at w=4.9200", _trace_last),
        PublicCheck(
            "adam_trace", "follows Adam with given hyperparameters", _examples("adam_trace")
        ),
    ),
    "q6_weight_decay": (
        PublicCheck("adam_l2_step/adamw_step", "return (w_new, m_new, v_new)", _decay_triples),
        PublicCheck("adam_l2_step/adamw_step", "equal adam_step when weight_decay=0", _decay_zero),
        PublicCheck(
            "adam_l2_step",
            "folds a large weight decay into the gradient, at t=1 and t=3",
            _examples("adam_l2_step"),
        ),
        PublicCheck(
            "adamw_step", "decouples a large weight decay, at t=1 and t=3", _examples("adamw_step")
        ),
        PublicCheck(
            "adam_l2_step/adamw_step",
            "leave their arguments unchanged",
            _all_pure(("adam_l2_step", 4), ("adamw_step", 4)),
        ),
    ),
    "q7_rosenbrock": (
        PublicCheck("rosenbrock", "is 0 with zero gradient at the minimum (1, 1)", _rosenbrock_min),
        PublicCheck("rosenbrock_grad", "agrees with torch's autograd", _rosenbrock_autograd),
        PublicCheck("optimize_rosenbrock", "returns the path, start first", _rosenbrock_path),
        PublicCheck(
            "optimize_rosenbrock",
            "follows torch.optim for 3 steps of adam, momentum and rmsprop",
            _examples("optimize_rosenbrock"),
        ),
    ),
    "q8_flipnet": (
        PublicCheck("FlipNet", "has layer1, layer2 and 31 parameters", _flipnet_params),
        PublicCheck("FlipNet", "puts a ReLU between the layers", _flipnet_relu),
        PublicCheck("FlipNet", "creates layer1, then layer2", _flipnet_seeded),
        PublicCheck("make_flip_data", "returns the 16 images and their flips", _flip_data),
        PublicCheck("train_flipnet", "returns one float per epoch", _train_history),
        PublicCheck(
            "train_flipnet", "averages the per-sample mean squared errors", _train_mean_loss
        ),
        PublicCheck(
            "train_flipnet",
            "takes one step per sample, in order, with fresh gradients",
            _train_one_sample_per_step,
        ),
        PublicCheck("compare_optimizers", "returns both loss curves", _compare_keys),
    ),
    "q9_scratch_adamw": (
        PublicCheck("ScratchAdamW", "takes the chapter's first Adam step", _scratch_first),
        PublicCheck(
            "ScratchAdamW", "matches torch.optim.AdamW on two param groups", _scratch_matches
        ),
        PublicCheck("ScratchAdamW", "skips a parameter without a gradient", _scratch_no_grad),
        PublicCheck("ScratchAdamW", "returns the closure's loss", _scratch_closure),
    ),
    "q10_recipe": (
        PublicCheck("warmup_cosine_lr", "starts at 0 and peaks at warmup_steps", _schedule_ends),
        PublicCheck(
            "warmup_cosine_lr",
            "follows the schedule on worked examples",
            _examples("warmup_cosine_lr"),
        ),
        PublicCheck("clip_grad_norm", "returns (clipped, total_norm)", _clip_small),
        PublicCheck(
            "clip_grad_norm", "matches torch.nn.utils.clip_grad_norm_", _examples("clip_grad_norm")
        ),
        PublicCheck("decay_param_groups", "splits FlipNet into two groups", _groups_cover),
        PublicCheck("adam_memory_gb", "reproduces the chapter's 7B fp32 table", _memory_table),
        PublicCheck(
            "adam_memory_gb",
            "reproduces the chapter's 7B tables (fp32 and mixed)",
            _examples("adam_memory_gb"),
        ),
    ),
    "q11_concepts": tuple(
        PublicCheck(name, "is one of the allowed answers", _answer(name)) for name in _CHOICES
    ),
    "bonus_variants": (
        PublicCheck(
            "lion_step",
            "follows the contract's formula on a worked example",
            _examples("lion_step"),
        ),
        PublicCheck(
            "lamb_step", "scales its first step by one trust ratio", _examples("lamb_step")
        ),
        PublicCheck(
            "factored_second_moment",
            "follows the contract's formula on worked examples",
            _examples("factored_second_moment"),
        ),
        PublicCheck("quantize_blockwise", "round-trips within absmax/127", _quantize_roundtrip),
        PublicCheck("quantize_blockwise", "keeps one absmax per block", _quantize_blocks),
    ),
}


EXAMPLES: dict[str, list[tuple[tuple, dict]]] = {
    "sgd_step": [((5.0, 10.0, 0.01), {})],
    "momentum_step": [((1.0, 2.0, 0.5, 0.1), {"beta": 0.9}), ((1.0, 2.0, 0.0, 0.1), {})],
    "adagrad_step": [((1.0, -1e-6, 0.0, 0.1), {}), ((1.0, 3.0, 4.0, 0.1), {})],
    "rmsprop_step": [((1.0, -1e-6, 0.0, 0.01), {}), ((1.0, 3.0, 4.0, 0.01), {"rho": 0.8})],
    "bias_correction": [((0.9, 1), {}), ((0.999, 1), {}), ((0.9, 5), {})],
    "adam_step": [
        ((5.0, 10.0, 0.0, 0.0, 1), {"lr": 0.01}),
        ((1.0, -1e-6, 0.0, 0.0, 1), {}),
        ((1.0, 0.5, 0.2, 0.1, 3), {"lr": 0.01}),
    ],
    "adam_l2_step": [
        ((2.0, 0.5, 0.0, 0.0, 1), {"lr": 0.1, "weight_decay": 0.5}),
        ((2.0, 0.5, 0.2, 0.1, 3), {"lr": 0.1, "weight_decay": 0.5}),
    ],
    "adamw_step": [
        ((2.0, 0.5, 0.0, 0.0, 1), {"lr": 0.1, "weight_decay": 0.5}),
        ((2.0, 0.5, 0.2, 0.1, 3), {"lr": 0.1, "weight_decay": 0.5}),
    ],
    "adam_trace": [
        ((), {"w0": 1.0, "lr": 0.1, "steps": 2, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3})
    ],
    "optimize_rosenbrock": [
        (("adam", 0.01, 3), {}),
        (("momentum", 1e-4, 3), {"beta": 0.5}),
        (("rmsprop", 1e-3, 3), {"rho": 0.5}),
    ],
    "warmup_cosine_lr": [
        ((0, 1e-3, 1000, 100), {}),
        ((1, 1e-3, 1000, 100), {}),
        ((100, 1e-3, 1000, 100), {}),
        ((550, 1e-3, 1000, 100), {"lr_min": 1e-4}),
        ((1200, 1e-3, 1000, 100), {"lr_min": 1e-4}),
    ],
    "clip_grad_norm": [
        (([np.array([3.0, 4.0]), np.array([12.0])], 6.5), {}),
        (([np.array([3e-4, 4e-4])], 2.5e-4), {}),
        (([np.array([0.3]), np.array([0.4])], 10.0), {}),
    ],
    "adam_memory_gb": [((7e9,), {}), ((7e9, True), {})],
    "lion_step": [
        (
            (np.array([1.0, 1.0, -1.0]), np.array([-8.5, -20.0, 0.5]), np.array([1.0, 1.0, 0.2])),
            {"lr": 0.1},
        )
    ],
    "lamb_step": [
        (
            (np.array([3.0, 4.0]), np.array([1.0, -1.0]), np.zeros(2), np.zeros(2), 1),
            {"lr": 0.01, "weight_decay": 0.0},
        )
    ],
    "factored_second_moment": [
        ((np.ones((3, 4)), np.zeros(3), np.zeros(4)), {}),
        (
            (
                np.array([[1.0, 4.0], [9.0, 16.0], [0.0, 1.0]]),
                np.array([1.0, 2.0, 0.5]),
                np.array([0.5, 0.25]),
            ),
            {"beta2": 0.9},
        ),
    ],
}
"""Worked examples of each function: (args, kwargs) per call. The expected numbers
(EXPECTED) and what known mistakes give (KNOWN) are below; the kit's tests recompute
both from torch.optim, the contract's formulas and the catalogue of known mistakes."""

# BEGIN GENERATED TABLES (public_tables.py --write, in the assignment folder's tests/)
EXPECTED: dict[str, list[float]] = {
    "sgd_step": [4.9],
    "momentum_step": [0.755, 2.45, 0.8, 2.0],
    "adagrad_step": [1.099009900990099, 1e-12, 0.9167949707969848, 13.0],
    "rmsprop_step": [1.0306534300317156, 9.999999999999998e-14, 0.9865835921950012, 5.0],
    "bias_correction": [0.09999999999999998, 0.0010000000000000009, 0.40950999999999993],
    "adam_step": [
        4.99000000001,
        0.9999999999999998,
        0.10000000000000009,
        1.000990099009901,
        -9.999999999999997e-08,
        1.0000000000000009e-15,
        0.9985318294392321,
        0.23,
        0.10015,
    ],
    "adam_l2_step": [
        1.9000000006666666,
        0.14999999999999997,
        0.002250000000000002,
        1.9791421804099496,
        0.32999999999999996,
        0.10215,
    ],
    "adamw_step": [
        1.800000002,
        0.04999999999999999,
        0.0002500000000000002,
        1.8853182943923208,
        0.23,
        0.10015,
    ],
    "adam_trace": [
        2.0,
        1.0,
        2.0,
        0.09995002498750627,
        1.0,
        0.3999999999999999,
        4.0,
        0.9000499750124937,
        1.8000999500249875,
        1.4000499750124937,
        1.8667333000166584,
        0.09833107210574643,
        2.0,
        0.6840359830079961,
        3.600189384252612,
        0.8017189029067473,
    ],
    "optimize_rosenbrock": [
        -1.2,
        1.0,
        -1.1900000000004638,
        1.0099999999988636,
        -1.1800319627914446,
        1.0199711121251558,
        -1.1701205476626875,
        1.029890618969127,
        -1.2,
        1.0,
        -1.17844,
        1.0088,
        -1.1493157557140965,
        1.0207984166719999,
        -1.1205260835383009,
        1.0328001908012132,
        -1.2,
        1.0,
        -1.1985857864377196,
        1.0014142135621458,
        -1.1974357036881216,
        1.0025646633355447,
        -1.196373006370407,
        1.00362786152393,
    ],
    "warmup_cosine_lr": [0.0, 1e-05, 0.001, 0.00055, 0.0001],
    "clip_grad_norm": [
        1.4999998846153937,
        1.9999998461538582,
        5.999999538461575,
        13.0,
        0.00014970059880239518,
        0.0001996007984031936,
        0.0005,
        0.3,
        0.4,
        0.5,
    ],
    "adam_memory_gb": [28.0, 28.0, 28.0, 112.0, 28.0, 28.0, 28.0, 14.0, 84.0, 14.0],
    "lion_step": [0.9, 1.1, -1.1, 0.9049999999999999, 0.7899999999999998, 0.203],
    "lamb_step": [
        2.9646446609406727,
        4.035355339059327,
        0.09999999999999998,
        -0.09999999999999998,
        0.0010000000000000009,
        0.0010000000000000009,
    ],
    "factored_second_moment": [
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.0010000000000000009,
        0.575,
        0.6789893617021276,
        1.525,
        1.8007978723404252,
        0.25,
        0.2952127659574468,
        1.15,
        3.05,
        0.5,
        0.7833333333333332,
        0.9249999999999998,
    ],
}
"""What each worked example gives when the function is right, flattened."""

KNOWN: dict[str, dict[str, list[float]]] = {
    "sgd_step": {
        "step_sign_flipped": [5.1],
    },
    "momentum_step": {
        "momentum_dampened": [0.935, 0.6499999999999999, 0.98, 0.19999999999999996],
        "momentum_other_convention": [1.25, 0.25, 0.8, -0.2],
        "momentum_other_convention#2": [0.35, 0.65, 0.8, 0.2],
        "momentum_velocity_negated": [0.845, -1.55, 0.8, -2.0],
        "momentum_old_velocity": [0.95, 2.45, 1.0, 2.0],
        "step_sign_flipped": [1.245, 2.45, 1.2, 2.0],
        "outputs_swapped#0": [2.45, 0.755, 2.0, 0.8],
    },
    "adagrad_step": {
        "adagrad_accumulates_grad": [float("nan"), -1e-06, 0.8866106585258032, 7.0],
        "adagrad_accumulates_grad#2": [1.00009999900001, 1e-06, 0.8866106585258032, 7.0],
        "eps_inside_sqrt": [1.0009999500037496, 1e-12, 0.9167949705982176, 13.0],
        "adagrad_old_accumulator": [11.0, 1e-12, 0.8500000007499999, 13.0],
        "sqrt_missing": [10.99900009999, 1e-12, 0.9769230769408284, 13.0],
        "outputs_swapped#0": [1e-12, 1.099009900990099, 13.0, 0.9167949707969848],
    },
    "rmsprop_step": {
        "rho_swapped": [1.0104309734198302, 9e-13, 0.9893933983197017, 8.0],
        "eps_inside_sqrt": [1.0000999995000037, 9.999999999999998e-14, 0.9865835921484176, 5.0],
        "v_from_abs_grad": [1.0000316217766334, 9.999999999999997e-08, 0.9846103247976701, 3.8],
        "v_from_grad": [float("nan"), -9.999999999999997e-08, 0.9846103247976701, 3.8],
        "rmsprop_bias_corrected": [1.00990099009901, 9.999999999999998e-14, 0.994000000012, 5.0],
        "sqrt_missing": [1.999990000099999, 9.999999999999998e-14, 0.994000000012, 5.0],
        "old_second_moment": [2.0, 9.999999999999998e-14, 0.985000000075, 5.0],
        "outputs_swapped#0": [9.999999999999998e-14, 1.0306534300317156, 5.0, 0.9865835921950012],
    },
    "bias_correction": {
        "bias_correction_off_by_one": [
            0.18999999999999995,
            0.001998999999999973,
            0.46855899999999995,
        ],
        "bias_correction_off_by_one#2": [0.0, 0.0, 0.3439],
        "bias_correction_inverted": [0.9, 0.999, 0.5904900000000001],
        "bias_correction_inverted#2": [10.000000000000002, 999.9999999999991, 2.4419428096993974],
        "float32_intermediate": [0.10000002384185791, 0.0009999871253967285, 0.40951007604599],
    },
    "adam_step": {
        "bias_correction_missing": [
            4.968377224398316,
            0.9999999999999998,
            0.10000000000000009,
            1.0024025307335205,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9927322104110979,
            0.23,
            0.10015,
        ],
        "bias_correction_off_by_one": [
            4.992558631774851,
            0.9999999999999998,
            0.10000000000000009,
            1.0007337624500492,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9986644060897061,
            0.23,
            0.10015,
        ],
        "bias_correction_off_by_one#2": [
            float("nan"),
            0.9999999999999998,
            0.10000000000000009,
            float("nan"),
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.998289767501945,
            0.23,
            0.10015,
        ],
        "one_moment_corrected": [
            4.683772243983162,
            0.9999999999999998,
            0.10000000000000009,
            1.0240253073352041,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9731815882328335,
            0.23,
            0.10015,
        ],
        "one_moment_corrected#2": [
            4.999000000001,
            0.9999999999999998,
            0.10000000000000009,
            1.00009900990099,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9996021257780319,
            0.23,
            0.10015,
        ],
        "eps_inside_sqrt": [
            4.9900000000005,
            0.9999999999999998,
            0.10000000000000009,
            1.0000099995000375,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.998531829436912,
            0.23,
            0.10015,
        ],
        "eps_closed_form": [
            4.990000000316228,
            0.9999999999999998,
            0.10000000000000009,
            1.000759746926648,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9985318294830852,
            0.23,
            0.10015,
        ],
        "v_from_abs_grad": [
            4.968377223498316,
            0.9999999999999998,
            0.010000000000000009,
            1.0000009999900001,
            -9.999999999999997e-08,
            1.0000000000000009e-09,
            0.9985336584801293,
            0.23,
            0.1004,
        ],
        "v_from_grad": [
            4.968377223498316,
            0.9999999999999998,
            0.010000000000000009,
            float("nan"),
            -9.999999999999997e-08,
            -1.0000000000000009e-09,
            0.9985336584801293,
            0.23,
            0.1004,
        ],
        "step_sign_flipped": [
            5.00999999999,
            0.9999999999999998,
            0.10000000000000009,
            0.999009900990099,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            1.0014681705607678,
            0.23,
            0.10015,
        ],
        "sqrt_missing": [
            4.9990000000001,
            0.9999999999999998,
            0.10000000000000009,
            1.0999900009999,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9997460229472052,
            0.23,
            0.10015,
        ],
        "update_uses_grad": [
            4.99000000001,
            0.9999999999999998,
            0.10000000000000009,
            1.000990099009901,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9991350560391998,
            0.23,
            0.10015,
        ],
        "bias_correction_betas_mixed": [
            4.900000001,
            0.9999999999999998,
            0.10000000000000009,
            1.009090909090909,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.9860389620823581,
            0.23,
            0.10015,
        ],
        "bias_correction_betas_mixed#2": [
            4.000000001000001,
            0.9999999999999998,
            0.10000000000000009,
            1.0990099009900989,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            0.8672425461425932,
            0.23,
            0.10015,
        ],
        "betas_swapped": [
            4.99000000001,
            0.010000000000000009,
            9.999999999999998,
            1.000990099009901,
            -1.0000000000000009e-09,
            9.999999999999998e-14,
            -0.02595846717140926,
            0.2003,
            0.115,
        ],
        "outputs_swapped#0": [
            4.99000000001,
            0.10000000000000009,
            0.9999999999999998,
            1.000990099009901,
            1.0000000000000009e-15,
            -9.999999999999997e-08,
            0.9985318294392321,
            0.10015,
            0.23,
        ],
        "outputs_swapped#1": [
            0.9999999999999998,
            4.99000000001,
            0.10000000000000009,
            -9.999999999999997e-08,
            1.000990099009901,
            1.0000000000000009e-15,
            0.23,
            0.9985318294392321,
            0.10015,
        ],
        "outputs_swapped#2": [
            0.9999999999999998,
            0.10000000000000009,
            4.99000000001,
            -9.999999999999997e-08,
            1.0000000000000009e-15,
            1.000990099009901,
            0.23,
            0.10015,
            0.9985318294392321,
        ],
        "outputs_swapped#3": [
            0.10000000000000009,
            4.99000000001,
            0.9999999999999998,
            1.0000000000000009e-15,
            1.000990099009901,
            -9.999999999999997e-08,
            0.10015,
            0.9985318294392321,
            0.23,
        ],
        "outputs_swapped#4": [
            0.10000000000000009,
            0.9999999999999998,
            4.99000000001,
            1.0000000000000009e-15,
            -9.999999999999997e-08,
            1.000990099009901,
            0.10015,
            0.23,
            0.9985318294392321,
        ],
    },
    "adam_l2_step": {
        "l2_as_decoupled": [
            1.800000002,
            0.04999999999999999,
            0.0002500000000000002,
            1.8853182943923208,
            0.23,
            0.10015,
        ],
        "decay_missing": [
            1.900000002,
            0.04999999999999999,
            0.0002500000000000002,
            1.9853182943923209,
            0.23,
            0.10015,
        ],
        "l2_doubled": [
            1.9000000004,
            0.24999999999999994,
            0.0062500000000000056,
            1.9733386209947315,
            0.42999999999999994,
            0.10615000000000001,
        ],
        "bias_correction_missing": [
            1.6837723006498149,
            0.14999999999999997,
            0.002250000000000002,
            1.8967488872484781,
            0.32999999999999996,
            0.10215,
        ],
        "bias_correction_off_by_one": [
            1.9255863183447053,
            0.14999999999999997,
            0.002250000000000002,
            1.9810256535780264,
            0.32999999999999996,
            0.10215,
        ],
    },
    "adamw_step": {
        "adamw_as_l2": [
            1.9000000006666666,
            0.14999999999999997,
            0.002250000000000002,
            1.9791421804099496,
            0.32999999999999996,
            0.10215,
        ],
        "decay_missing": [
            1.900000002,
            0.04999999999999999,
            0.0002500000000000002,
            1.9853182943923209,
            0.23,
            0.10015,
        ],
        "decay_after_step": [
            1.8050000019,
            0.04999999999999999,
            0.0002500000000000002,
            1.886052379672705,
            0.23,
            0.10015,
        ],
        "decay_not_scaled_by_lr": [
            0.9000000020000001,
            0.04999999999999999,
            0.0002500000000000002,
            0.9853182943923209,
            0.23,
            0.10015,
        ],
        "decay_sign_flipped": [
            2.000000002,
            0.04999999999999999,
            0.0002500000000000002,
            2.0853182943923207,
            0.23,
            0.10015,
        ],
        "bias_correction_missing": [
            1.5837724339830357,
            0.04999999999999999,
            0.0002500000000000002,
            1.8273221041109786,
            0.23,
            0.10015,
        ],
        "bias_correction_off_by_one": [
            1.8255863197475122,
            0.04999999999999999,
            0.0002500000000000002,
            1.8866440608970607,
            0.23,
            0.10015,
        ],
    },
    "adam_trace": {
        "trace_step_sign": [
            2.0,
            1.0,
            2.0,
            -0.09995002498750627,
            1.0,
            0.3999999999999999,
            4.0,
            0.9000499750124937,
            1.8000999500249875,
            1.4000499750124937,
            1.8667333000166584,
            -0.09833107210574643,
            2.0,
            0.6840359830079961,
            3.600189384252612,
            0.8017189029067473,
        ],
        "trace_t_from_zero": [
            2.0,
            1.0,
            2.0,
            0.09995002498750627,
            0.0,
            0.3999999999999999,
            4.0,
            0.9000499750124937,
            1.8000999500249875,
            1.4000499750124937,
            1.8667333000166584,
            0.09833107210574643,
            1.0,
            0.6840359830079961,
            3.600189384252612,
            0.8017189029067473,
        ],
        "trace_hats_uncorrected": [
            2.0,
            1.0,
            1.0,
            0.09995002498750627,
            1.0,
            0.3999999999999999,
            0.3999999999999999,
            0.9000499750124937,
            1.8000999500249875,
            1.4000499750124937,
            1.4000499750124937,
            0.09833107210574643,
            2.0,
            0.6840359830079961,
            0.6840359830079961,
            0.8017189029067473,
        ],
        "trace_w_before_step": [
            2.0,
            1.0,
            2.0,
            0.09995002498750627,
            1.0,
            0.3999999999999999,
            4.0,
            1.0,
            1.8000999500249875,
            1.4000499750124937,
            1.8667333000166584,
            0.09833107210574643,
            2.0,
            0.6840359830079961,
            3.600189384252612,
            0.9000499750124937,
        ],
        "trace_ignores_hyperparameters": [
            2.0,
            0.19999999999999996,
            2.0,
            0.09999999950000005,
            1.0,
            0.0040000000000000036,
            4.0,
            0.9000000005,
            1.800000001,
            0.3600000000999999,
            1.894736842631579,
            0.0995877718082071,
            2.0,
            0.007236000003600007,
            3.619809906753429,
            0.8004122286917928,
        ],
        "trace_ignores_hyperparameters#2": [
            2.0,
            0.19999999999999996,
            0.3999999999999999,
            0.09999999950000005,
            1.0,
            0.0040000000000000036,
            0.04000000000000004,
            0.9000000005,
            1.800000001,
            0.3600000000999999,
            0.48000000013333316,
            0.0995877718082071,
            2.0,
            0.007236000003600007,
            0.0380842105452632,
            0.8004122286917928,
        ],
        "trace_w_not_carried": [
            2.0,
            1.0,
            2.0,
            0.09995002498750627,
            1.0,
            0.3999999999999999,
            4.0,
            0.9000499750124937,
            2.0,
            1.5,
            2.0,
            0.09995002498750627,
            2.0,
            0.7599999999999998,
            4.0,
            0.9000499750124937,
        ],
        "state_not_carried": [
            2.0,
            1.0,
            2.0,
            0.09995002498750627,
            1.0,
            0.3999999999999999,
            4.0,
            0.9000499750124937,
            1.8000999500249875,
            0.9000499750124937,
            1.2000666333499916,
            0.09182334572523632,
            2.0,
            0.3240359830079962,
            1.7054525421473488,
            0.8082266292872574,
        ],
        "trace_moments_before_step": [
            2.0,
            0.0,
            0.0,
            0.09995002498750627,
            1.0,
            0.0,
            0.0,
            0.9000499750124937,
            1.8000999500249875,
            1.0,
            1.3333333333333333,
            0.09833107210574643,
            2.0,
            0.3999999999999999,
            2.105263157894737,
            0.8017189029067473,
        ],
        "trace_grad_not_2w": [
            1.0,
            0.5,
            1.0,
            0.09990009990009996,
            1.0,
            0.09999999999999998,
            1.0,
            0.9000999000999,
            0.9000999000999,
            0.70004995004995,
            0.9333999333999333,
            0.09828022782977719,
            2.0,
            0.17101798301598498,
            0.9000946474525527,
            0.8018196722701229,
        ],
        "trace_step_recomputed": [
            2.0,
            1.0,
            2.0,
            0.1,
            1.0,
            0.3999999999999999,
            4.0,
            0.9000499750124937,
            1.8000999500249875,
            1.4000499750124937,
            1.8667333000166584,
            0.09838289576806422,
            2.0,
            0.6840359830079961,
            3.600189384252612,
            0.8017189029067473,
        ],
    },
    "optimize_rosenbrock": {
        "path_ignores_hyperparameters": [
            -1.2,
            1.0,
            -1.1900000000004638,
            1.0099999999988636,
            -1.1800319627914446,
            1.0199711121251558,
            -1.1701205476626875,
            1.029890618969127,
            -1.2,
            1.0,
            -1.17844,
            1.0088,
            -1.1406917557140965,
            1.0243184166719999,
            -1.0936577542678771,
            1.043822176974442,
            -1.2,
            1.0,
            -1.1968377223402955,
            1.003162277659032,
            -1.1945729315515219,
            1.0054293870259816,
            -1.1926913621874247,
            1.0073140160317193,
        ],
        "path_state_not_carried": [
            -1.2,
            1.0,
            -1.1900000000004638,
            1.0099999999988636,
            -1.1825586317653263,
            1.017441368233238,
            -1.1761704957719403,
            1.023829504225772,
            -1.2,
            1.0,
            -1.17844,
            1.0088,
            -1.1600957557140965,
            1.016398416672,
            -1.144377212991734,
            1.0229868915870772,
            -1.2,
            1.0,
            -1.1985857864377196,
            1.0014142135621458,
            -1.1971715728754404,
            1.002828427124289,
            -1.1957573593131623,
            1.0042426406864298,
        ],
        "bias_correction_off_by_one": [
            -1.2,
            1.0,
            -1.192558631764818,
            1.0074413682344743,
            -1.1839927060620659,
            1.0160090396239578,
            -1.174955471377302,
            1.025051662293134,
            -1.2,
            1.0,
            -1.17844,
            1.0088,
            -1.1493157557140965,
            1.0207984166719999,
            -1.1205260835383009,
            1.0328001908012132,
            -1.2,
            1.0,
            -1.1985857864377196,
            1.0014142135621458,
            -1.1974357036881216,
            1.0025646633355447,
            -1.196373006370407,
            1.00362786152393,
        ],
        "bias_correction_off_by_one#2": [
            -1.2,
            1.0,
            float("nan"),
            float("nan"),
            float("nan"),
            float("nan"),
            float("nan"),
            float("nan"),
            -1.2,
            1.0,
            -1.17844,
            1.0088,
            -1.1493157557140965,
            1.0207984166719999,
            -1.1205260835383009,
            1.0328001908012132,
            -1.2,
            1.0,
            -1.1985857864377196,
            1.0014142135621458,
            -1.1974357036881216,
            1.0025646633355447,
            -1.196373006370407,
            1.00362786152393,
        ],
    },
    "warmup_cosine_lr": {
        "warmup_off_by_one": [1e-05, 2e-05, 0.001, 0.00055, 0.0001],
        "warmup_off_by_one#2": [0.0, 9.900990099009901e-06, 0.0009900990099009901, 0.00055, 0.0001],
        "cosine_ignores_lr_min": [0.0, 1e-05, 0.001, 0.0005, 0.0001],
        "cosine_ignores_lr_min#2": [0.0, 1e-05, 0.001, 0.0005, 0.0],
        "integer_division": [0.0, 0.0, 0.001, 0.00055, 0.0001],
        "cosine_progress_from_zero": [
            0.0,
            1e-05,
            0.0009755282581475768,
            0.000479604490731896,
            0.0001,
        ],
    },
    "clip_grad_norm": {
        "clip_per_tensor": [
            3.0,
            4.0,
            6.499999458333379,
            13.0,
            0.00014970059880239518,
            0.0001996007984031936,
            0.0005,
            0.3,
            0.4,
            0.5,
        ],
        "clip_epsilon_missing": [1.5, 2.0, 6.0, 13.0, 0.00015, 0.0002, 0.0005, 0.3, 0.4, 0.5],
        "clip_scales_up": [
            1.4999998846153937,
            1.9999998461538582,
            5.999999538461575,
            13.0,
            0.00014970059880239518,
            0.0001996007984031936,
            0.0005,
            5.999988000024,
            7.999984000032,
            0.5,
        ],
        "clip_norm_sum_of_norms": [
            1.1470587560553671,
            1.5294116747404896,
            4.5882350242214684,
            17.0,
            0.00014970059880239518,
            0.0001996007984031936,
            0.0005,
            0.3,
            0.4,
            0.7,
        ],
        "outputs_swapped#0": [
            13.0,
            1.4999998846153937,
            1.9999998461538582,
            5.999999538461575,
            0.0005,
            0.00014970059880239518,
            0.0001996007984031936,
            0.5,
            0.3,
            0.4,
        ],
    },
    "adam_memory_gb": {
        "gb_as_gib": [
            26.0770320892334,
            26.0770320892334,
            26.0770320892334,
            104.3081283569336,
            26.0770320892334,
            26.0770320892334,
            26.0770320892334,
            13.0385160446167,
            78.2310962677002,
            13.0385160446167,
        ],
        "mixed_precision_moments_halved": [
            28.0,
            28.0,
            28.0,
            112.0,
            28.0,
            14.0,
            14.0,
            14.0,
            56.0,
            14.0,
        ],
        "memory_total_wrong": [28.0, 28.0, 28.0, 84.0, 28.0, 28.0, 28.0, 14.0, 70.0, 14.0],
    },
    "lion_step": {
        "lion_sign_of_momentum": [0.9, 0.9, -1.1, 0.9049999999999999, 0.7899999999999998, 0.203],
        "lion_momentum_updated_first": [
            1.1,
            1.1,
            -1.1,
            0.9049999999999999,
            0.7899999999999998,
            0.203,
        ],
        "lion_momentum_wrong_beta": [
            0.9,
            1.1,
            -1.1,
            0.050000000000000155,
            -1.0999999999999996,
            0.23,
        ],
    },
    "lamb_step": {
        "lamb_trust_ratio_per_element": [
            2.97,
            4.04,
            0.09999999999999998,
            -0.09999999999999998,
            0.0010000000000000009,
            0.0010000000000000009,
        ],
        "lamb_no_trust_ratio": [
            2.99000000999999,
            4.00999999000001,
            0.09999999999999998,
            -0.09999999999999998,
            0.0010000000000000009,
            0.0010000000000000009,
        ],
        "lamb_norm_squared": [
            2.874999875,
            4.125000125,
            0.09999999999999998,
            -0.09999999999999998,
            0.0010000000000000009,
            0.0010000000000000009,
        ],
    },
    "factored_second_moment": {
        "adafactor_no_normalisation": [
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            1.0000000000000019e-06,
            0.0010000000000000009,
            0.0010000000000000009,
            0.0010000000000000009,
            0.0010000000000000009,
            0.0010000000000000009,
            0.0010000000000000009,
            0.0010000000000000009,
            0.9008333333333332,
            1.0637499999999998,
            2.389166666666666,
            2.821249999999999,
            0.3916666666666666,
            0.4624999999999999,
            1.15,
            3.05,
            0.5,
            0.7833333333333332,
            0.9249999999999998,
        ],
    },
    "ScratchAdamW": {
        "decay_not_scaled_by_lr": [
            0.0028633587062358856,
            -0.2949971854686737,
            -0.04110976681113243,
            0.4988779127597809,
            3.001671314239502,
        ],
        "decay_after_step": [
            0.6384249329566956,
            -1.711676001548767,
            0.0722285583615303,
            0.4988779127597809,
            3.001671314239502,
        ],
        "adamw_as_l2": [
            0.7166091203689575,
            -1.7006233930587769,
            0.07058622688055038,
            0.4988779127597809,
            3.001671314239502,
        ],
        "decay_missing": [
            0.7549888491630554,
            -1.9889298677444458,
            0.08932338654994965,
            0.4988779127597809,
            3.001671314239502,
        ],
        "bias_correction_missing": [
            -0.058428794145584106,
            -1.8550420999526978,
            -0.3470953106880188,
            0.4961964786052704,
            3.006157159805298,
        ],
        "bias_correction_off_by_one": [
            0.6673157215118408,
            -1.725008487701416,
            0.09449572116136551,
            0.4991421103477478,
            3.001330852508545,
        ],
        "bias_correction_off_by_one#2": [
            float("nan"),
            float("nan"),
            float("nan"),
            float("nan"),
            float("nan"),
        ],
        "step_count_shared": [
            0.6570398211479187,
            -1.693034052848816,
            0.10221858322620392,
            0.4992644190788269,
            3.0011227130889893,
        ],
        "eps_inside_sqrt": [
            0.6269012689590454,
            -1.7151316404342651,
            0.06474879384040833,
            0.4988779127597809,
            3.001671314239502,
        ],
        "eps_closed_form": [
            0.626901388168335,
            -1.7226375341415405,
            0.0647488534450531,
            0.4988779127597809,
            3.001671314239502,
        ],
        "group_hyperparameters_ignored": [
            0.9975498914718628,
            -1.9998892545700073,
            0.2483932226896286,
            0.4988779127597809,
            3.001671314239502,
        ],
    },
}
"""What each known mistake gives on the same examples (label#n: another way to make it)."""
# END GENERATED TABLES


POINTS: dict[str, int] = {
    "q1_baselines": 4,
    "q2_adagrad": 6,
    "q3_rmsprop": 8,
    "q4_adam_step": 14,
    "q5_adam_trace": 8,
    "q6_weight_decay": 14,
    "q7_rosenbrock": 6,
    "q8_flipnet": 14,
    "q9_scratch_adamw": 10,
    "q10_recipe": 10,
    "q11_concepts": 6,
    "bonus_variants": 10,
}
"""What each question is worth (contract.md); the bonus is extra credit on top of 100."""
BONUS = ("bonus_variants",)


@dataclass
class _Outcome:
    """One check's result: passed, the line to print, and the function that is missing or
    not written yet ("" when the check ran)."""

    passed: bool
    line: str
    missing: str = ""
    not_written: bool = False


def _raised_in(err: BaseException) -> str:
    """The name of the function (or of the class, for a method) whose frame raised ``err``
    (the innermost frame)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    owner = tb.tb_frame.f_locals.get("self")
    return type(owner).__name__ if owner is not None else tb.tb_frame.f_code.co_name


def _names(item: PublicCheck) -> list[str]:
    return item.name.split("/")


def _run_one(item: PublicCheck, ns: dict[str, Any]) -> _Outcome:
    """Run one check; never raises."""
    try:
        item.run(ns)
    except NotImplementedError as err:
        where = _raised_in(err)
        missing = where if where in ns else _names(item)[0]
        return _Outcome(False, f"{FAIL} {missing}: {NOT_IMPLEMENTED}", missing, True)
    except _NotAnswered as choices:
        return _Outcome(
            False,
            f"{FAIL} {item.name}: not implemented yet \u2014 set it to one of {choices}",
            item.name,
        )
    except _Missing as missing:
        return _Outcome(
            False,
            f"{FAIL} {item.name}: `{missing}` is not defined \u2014 run its cell first",
            str(missing),
        )
    except CheckFailed as failed:
        return _Outcome(False, f"{FAIL} {item.name}: {failed}")
    except (Exception, SystemExit) as err:  # a check must never raise
        return _Outcome(False, f"{FAIL} {item.name}: raised {type(err).__name__}: {err}")
    return _Outcome(True, f"{PASS} {item.name} {item.description}")


# ---------------------------------------------------------------- what a function builds on
def _code_names(obj: Any) -> set[str]:
    """The global names the code of a function (or of a class's methods) refers to."""
    if isinstance(obj, type):
        codes = [
            getattr(v, "__func__", v).__code__
            for v in vars(obj).values()
            if hasattr(getattr(v, "__func__", v), "__code__")
        ]
    elif hasattr(obj, "__code__"):
        codes = [obj.__code__]
    else:
        return set()
    names: set[str] = set()
    code_type = type(_code_names.__code__)
    while codes:
        code = codes.pop()
        names |= set(code.co_names)
        codes += [c for c in code.co_consts if isinstance(c, code_type)]
    return names


def _defined_in(obj: Any, ns: dict[str, Any]) -> bool:
    """Whether ``obj`` is a function or class written in the notebook ``ns``."""
    if isinstance(obj, type):
        return obj.__module__ == ns.get("__name__", obj.__module__ + "?")
    return getattr(obj, "__globals__", None) is ns


def _question_of(name: str) -> str:
    for qid, checks in CHECKS.items():
        if any(name in _names(item) for item in checks):
            return qid
    return ""


def _builds_on(ns: dict[str, Any], name: str, question_id: str) -> list[str]:
    """The functions of earlier questions that ``name`` calls, directly or through helper
    functions of the notebook (in the order found)."""
    order = list(CHECKS)
    earlier = {
        n for q in order[: order.index(question_id)] for item in CHECKS[q] for n in _names(item)
    }
    found: list[str] = []
    todo, seen = [name], set()
    while todo:
        current = todo.pop(0)
        if current in seen or current not in ns:
            continue
        seen.add(current)
        for ref in sorted(_code_names(ns[current])):
            if ref in earlier and ref != name:
                if ref not in found:
                    found.append(ref)
            elif ref in ns and _defined_in(ns[ref], ns):
                todo.append(ref)
    return found


def _fails_own_checks(name: str, ns: dict[str, Any], cache: dict[str, bool]) -> bool:
    """Whether any public check of ``name``'s own question that is about ``name`` fails."""
    if name not in cache:
        qid = _question_of(name)
        cache[name] = any(
            not _run_one(item, ns).passed for item in CHECKS.get(qid, ()) if name in _names(item)
        )
    return cache[name]


def _blame(
    item: PublicCheck,
    outcome: _Outcome,
    ns: dict[str, Any],
    question_id: str,
    cache: dict[str, bool],
) -> str:
    """The line for a failed check whose cause is a function of an earlier question ("" when
    no earlier function it builds on fails its own checks)."""
    if outcome.not_written and outcome.missing not in _names(item):
        qid = _question_of(outcome.missing)
        if qid and qid != question_id:
            return (
                f"{FAIL} {item.name}: this uses your `{outcome.missing}`, which is not "
                f"implemented yet ({qid}): write that first"
            )
    if outcome.passed or outcome.missing:
        return ""
    broken = [
        dep
        for name in _names(item)
        for dep in _builds_on(ns, name, question_id)
        if _fails_own_checks(dep, ns, cache)
    ]
    if not broken:
        return ""
    deps = ", ".join(f"`{d}`" for d in dict.fromkeys(broken))
    qids = ", ".join(dict.fromkeys(_question_of(d) for d in broken))
    return f"{FAIL} {item.name}: this uses your {deps}, which fails {qids}'s checks: fix that first"


def _results(question_id: str, ns: dict[str, Any]) -> tuple[int, list[str]]:
    """Run a question's checks: how many passed and the lines to print (one line per
    function that is missing or not written yet, however many checks need it)."""
    passed, lines, said, cache = 0, [], set(), {}
    for item in CHECKS[question_id]:
        outcome = _run_one(item, ns)
        passed += outcome.passed
        line = _blame(item, outcome, ns, question_id, cache) or outcome.line
        key = outcome.missing or line
        if key not in said:
            said.add(key)
            lines.append(line)
    return passed, lines


def _caller_namespace() -> dict[str, Any]:
    """The notebook's namespace: the globals of the code that called check()."""
    frame = sys._getframe(2)
    return frame.f_globals


def check(question_id: str, namespace: dict[str, Any] | None = None) -> CheckSummary:
    """Run the public checks of one question and print one line per check (one per function
    that is not written yet).

    ``namespace`` defaults to the caller's globals (the notebook). Returns
    ``(passed, total)``; never raises.
    """
    try:
        ns = namespace if namespace is not None else _caller_namespace()
    except Exception:
        ns = {}
    checks = CHECKS.get(question_id)
    if checks is None:
        print(f"{FAIL} unknown question {question_id!r}; valid ids: {', '.join(CHECKS)}")
        return CheckSummary(0, 0)
    passed, lines = _results(question_id, ns)
    for line in lines:
        print(line)
    summary = "all passed" if passed == len(checks) else f"{passed}/{len(checks)} passed"
    print(f"{question_id}: {summary} (public checks only; the hidden tests are more thorough)")
    return CheckSummary(passed, len(checks))


class CheckTable(dict):
    """``{question: CheckSummary}`` from :func:`check_all` (no extra notebook output)."""

    def _ipython_display_(self) -> None:
        """Display nothing: check_all() has printed its table already."""


def check_all(namespace: dict[str, Any] | None = None) -> CheckTable:
    """Run every question's public checks and print one table row per question: the checks
    passed and what the question is worth. Returns ``{question: (passed, total)}``; never
    raises."""
    try:
        ns = namespace if namespace is not None else _caller_namespace()
    except Exception:
        ns = {}
    out = CheckTable()
    width = max(len(q) for q in CHECKS)
    print(f"{'question':<{width}}  public checks  points")
    for qid, checks in CHECKS.items():
        passed, _ = _results(qid, ns)
        out[qid] = CheckSummary(passed, len(checks))
        mark = PASS if passed == len(checks) else FAIL
        worth = f"+{POINTS[qid]} extra" if qid in BONUS else str(POINTS[qid])
        print(f"{qid:<{width}}  {mark} {passed:>2}/{len(checks):<2}        {worth}")
    core = sum(p for q, p in POINTS.items() if q not in BONUS)
    print(
        f"{'total':<{width}}    {sum(r.passed for r in out.values()):>2}/"
        f"{sum(r.total for r in out.values()):<2}        {core}"
        f" + {sum(POINTS[q] for q in BONUS)} extra"
    )
    print(
        "Passing the public checks does not guarantee the points: the hidden tests probe "
        "more inputs."
    )
    return out


__all__ = ["check", "check_all", "CHECKS", "CheckSummary", "PublicCheck"]
