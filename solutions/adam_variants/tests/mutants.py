"""The kit's mutation suite: single-bug variants of the solution and how the checks take them.

Each :class:`Mutant` is the solution's definitions with one mistake written into one
function, the kind of bug students make. :func:`grade_mutant` grades it in-process under
every seed of :data:`SEEDS`: the questions whose code can reach the mutated function (its
own, and those that build on it) are graded; every other question runs the solution's own
code, whose points under each seed come from grading the solution once. It also runs the
public checks of the mutant's question.
``solutions/adam_variants/tests/test_mutations.py`` asserts on the outcome; ``solutions/adam_variants/tests/mutation_report.py``
(``make mutants``) prints the summary.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
from dataclasses import dataclass, field

import adam as contract
from checks_support import grade, mutate, namespace_from, points, solution_definitions

from autograder.checks.run_checks import run_checks
from autograder.checks.student import InProcessStudent
from autograder.results import QuestionResult

MISTAKES = contract.public_checks.MISTAKES
public_check = contract.public_checks.check

SEEDS = (20261128, 1, 77, 4242, 90001)
"""Five grading seeds: every mutant must lose the same points under each of them."""


@dataclass(frozen=True)
class Mutant:
    id: str
    function: str
    replacements: tuple[tuple[str, str], ...]
    question: str
    diagnosis: str
    """The label the checks must give it (every mutant stands for a named mistake)."""

    def source(self) -> str:
        return mutate(solution_definitions(), self.function, list(self.replacements))


def _m(id_: str, function: str, question: str, diagnosis: str, *pairs: tuple[str, str]):
    return Mutant(id_, function, tuple(pairs), question, diagnosis)


_ADAM_HATS = (
    "m_hat = m_new / bias_correction(beta1, t)\n"
    "    v_hat = v_new / bias_correction(beta2, t)\n"
    "    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new"
)
_SCRATCH_DECAY = 'p.mul_(1 - group["lr"] * group["weight_decay"])'
_SCRATCH_DENOM = 'denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt_().add_(group["eps"])'
_SCRATCH_STEP = 'p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1**t))'

MUTANTS: tuple[Mutant, ...] = (
    # q1
    _m(
        "sgd_ascends",
        "sgd_step",
        "q1_baselines",
        "step_sign_flipped",
        ("return w - lr * grad", "return w + lr * grad"),
    ),
    _m(
        "momentum_dampened",
        "momentum_step",
        "q1_baselines",
        "momentum_dampened",
        (
            "velocity_new = beta * velocity + grad",
            "velocity_new = beta * velocity + (1 - beta) * grad",
        ),
    ),
    _m(
        "momentum_lr_in_velocity",
        "momentum_step",
        "q1_baselines",
        "momentum_other_convention",
        (
            "velocity_new = beta * velocity + grad\n    return w - lr * velocity_new, velocity_new",
            "velocity_new = beta * velocity - lr * grad\n    return w + velocity_new, velocity_new",
        ),
    ),
    _m(
        "momentum_negated_velocity",
        "momentum_step",
        "q1_baselines",
        "momentum_velocity_negated",
        (
            "velocity_new = beta * velocity + grad\n    return w - lr * velocity_new, velocity_new",
            "velocity_new = beta * velocity - grad\n    return w + lr * velocity_new, velocity_new",
        ),
    ),
    _m(
        "momentum_old_velocity",
        "momentum_step",
        "q1_baselines",
        "momentum_old_velocity",
        ("return w - lr * velocity_new, velocity_new", "return w - lr * velocity, velocity_new"),
    ),
    # q2
    _m(
        "adagrad_accumulates_g",
        "adagrad_step",
        "q2_adagrad",
        "adagrad_accumulates_grad",
        ("accum_new = accum + grad**2", "accum_new = accum + grad"),
    ),
    _m(
        "adagrad_eps_inside",
        "adagrad_step",
        "q2_adagrad",
        "eps_inside_sqrt",
        ("np.sqrt(accum_new) + eps", "np.sqrt(accum_new + eps)"),
    ),
    _m(
        "adagrad_old_accumulator",
        "adagrad_step",
        "q2_adagrad",
        "adagrad_old_accumulator",
        ("np.sqrt(accum_new) + eps", "np.sqrt(accum) + eps"),
    ),
    # q3
    _m(
        "rmsprop_rho_swapped",
        "rmsprop_step",
        "q3_rmsprop",
        "rho_swapped",
        ("v_new = rho * v + (1 - rho) * grad**2", "v_new = (1 - rho) * v + rho * grad**2"),
    ),
    _m(
        "rmsprop_eps_inside",
        "rmsprop_step",
        "q3_rmsprop",
        "eps_inside_sqrt",
        ("np.sqrt(v_new) + eps", "np.sqrt(v_new + eps)"),
    ),
    _m(
        "rmsprop_abs_grad",
        "rmsprop_step",
        "q3_rmsprop",
        "v_from_abs_grad",
        ("(1 - rho) * grad**2", "(1 - rho) * abs(grad)"),
    ),
    _m(
        "rmsprop_bias_corrected",
        "rmsprop_step",
        "q3_rmsprop",
        "rmsprop_bias_corrected",
        ("np.sqrt(v_new) + eps", "np.sqrt(v_new / (1 - rho)) + eps"),
    ),
    # q4
    _m(
        "bias_correction_missing",
        "adam_step",
        "q4_adam_step",
        "bias_correction_missing",
        ("m_hat = m_new / bias_correction(beta1, t)", "m_hat = m_new"),
        ("v_hat = v_new / bias_correction(beta2, t)", "v_hat = v_new"),
    ),
    _m(
        "bias_correction_t_plus_one",
        "bias_correction",
        "q4_adam_step",
        "bias_correction_off_by_one",
        ("return 1 - beta**t", "return 1 - beta ** (t + 1)"),
    ),
    _m(
        "bias_correction_power",
        "bias_correction",
        "q4_adam_step",
        "bias_correction_inverted",
        ("return 1 - beta**t", "return beta**t"),
    ),
    _m(
        "adam_t_off_by_one",
        "adam_step",
        "q4_adam_step",
        "bias_correction_off_by_one",
        ("bias_correction(beta1, t)", "bias_correction(beta1, t + 1)"),
        ("bias_correction(beta2, t)", "bias_correction(beta2, t + 1)"),
    ),
    _m(
        "one_moment_corrected",
        "adam_step",
        "q4_adam_step",
        "one_moment_corrected",
        ("v_hat = v_new / bias_correction(beta2, t)", "v_hat = v_new"),
    ),
    _m(
        "adam_eps_inside",
        "adam_step",
        "q4_adam_step",
        "eps_inside_sqrt",
        ("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),
    ),
    _m(
        "adam_closed_form_eps",
        "adam_step",
        "q4_adam_step",
        "eps_closed_form",
        (
            _ADAM_HATS,
            "step_size = lr * np.sqrt(bias_correction(beta2, t)) / "
            "bias_correction(beta1, t)\n"
            "    return w - step_size * m_new / (np.sqrt(v_new) + eps), m_new, v_new",
        ),
    ),
    _m(
        "adam_v_from_abs_grad",
        "adam_step",
        "q4_adam_step",
        "v_from_abs_grad",
        ("(1 - beta2) * grad**2", "(1 - beta2) * np.abs(grad)"),
    ),
    _m(
        "adam_v_from_grad",
        "adam_step",
        "q4_adam_step",
        "v_from_grad",
        ("(1 - beta2) * grad**2", "(1 - beta2) * grad"),
    ),
    _m(
        "adam_updates_m_in_place",
        "adam_step",
        "q4_adam_step",
        "modifies_arguments",
        (
            "m_new = beta1 * m + (1 - beta1) * grad",
            "m *= beta1\n    m += (1 - beta1) * grad\n    m_new = m",
        ),
    ),
    # q5
    _m(
        "trace_step_sign",
        "adam_trace",
        "q5_adam_trace",
        "trace_step_sign",
        ('"step": float(w - w_new)', '"step": float(w_new - w)'),
    ),
    _m(
        "trace_t_from_zero",
        "adam_trace",
        "q5_adam_trace",
        "trace_t_from_zero",
        ('"t": t,', '"t": t - 1,'),
    ),
    _m(
        "trace_hats_uncorrected",
        "adam_trace",
        "q5_adam_trace",
        "trace_hats_uncorrected",
        ("float(m / bias_correction(beta1, t))", "float(m)"),
        ("float(v / bias_correction(beta2, t))", "float(v)"),
    ),
    _m(
        "trace_w_before_step",
        "adam_trace",
        "q5_adam_trace",
        "trace_w_before_step",
        ('"w": float(w_new)', '"w": float(w)'),
    ),
    _m(
        "trace_ignores_betas",
        "adam_trace",
        "q5_adam_trace",
        "trace_ignores_hyperparameters",
        ("adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)", "adam_step(w, grad, m, v, t, lr)"),
    ),
    # q6
    _m(
        "adamw_as_l2",
        "adamw_step",
        "q6_weight_decay",
        "adamw_as_l2",
        (
            "w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)",
            "w_adam, m_new, v_new = adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, "
            "beta2, eps)",
        ),
        ("return w_adam - lr * weight_decay * w, m_new, v_new", "return w_adam, m_new, v_new"),
    ),
    _m(
        "adamw_no_decay",
        "adamw_step",
        "q6_weight_decay",
        "decay_missing",
        ("return w_adam - lr * weight_decay * w, m_new, v_new", "return w_adam, m_new, v_new"),
    ),
    _m(
        "decay_after_step",
        "adamw_step",
        "q6_weight_decay",
        "decay_after_step",
        (
            "return w_adam - lr * weight_decay * w, m_new, v_new",
            "return w_adam - lr * weight_decay * w_adam, m_new, v_new",
        ),
    ),
    _m(
        "decay_not_scaled_by_lr",
        "adamw_step",
        "q6_weight_decay",
        "decay_not_scaled_by_lr",
        (
            "return w_adam - lr * weight_decay * w, m_new, v_new",
            "return w_adam - weight_decay * w, m_new, v_new",
        ),
    ),
    _m(
        "l2_as_decoupled",
        "adam_l2_step",
        "q6_weight_decay",
        "l2_as_decoupled",
        (
            "return adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, beta2, eps)",
            "w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)\n"
            "    return w_adam - lr * weight_decay * w, m_new, v_new",
        ),
    ),
    _m(
        "l2_no_decay",
        "adam_l2_step",
        "q6_weight_decay",
        "decay_missing",
        ("adam_step(w, grad + weight_decay * w, m,", "adam_step(w, grad, m,"),
    ),
    # q7
    _m(
        "rosenbrock_grad_y",
        "rosenbrock_grad",
        "q7_rosenbrock",
        "rosenbrock_dfdy_wrong",
        ("200 * (y - x**2)", "100 * (y - x**2)"),
    ),
    _m(
        "rosenbrock_grad_x",
        "rosenbrock_grad",
        "q7_rosenbrock",
        "rosenbrock_dfdx_wrong",
        ("- 400 * x * (y - x**2)", "- 200 * x * (y - x**2)"),
    ),
    _m(
        "rosenbrock_adam_t",
        "optimize_rosenbrock",
        "q7_rosenbrock",
        "bias_correction_off_by_one",
        ("state[1], t, lr", "state[1], t + 1, lr"),
    ),
    _m(
        "rosenbrock_hparams_ignored",
        "optimize_rosenbrock",
        "q7_rosenbrock",
        "path_ignores_hyperparameters",
        ("momentum_step(w, g, state[0], lr, **hparams)", "momentum_step(w, g, state[0], lr)"),
    ),
    _m(
        "rosenbrock_state_reset",
        "optimize_rosenbrock",
        "q7_rosenbrock",
        "path_state_not_carried",
        (
            "        g = np.array(rosenbrock_grad(w[0], w[1]))",
            "        state = [np.zeros(2), np.zeros(2)]\n"
            "        g = np.array(rosenbrock_grad(w[0], w[1]))",
        ),
    ),
    # q8
    _m(
        "flipnet_no_relu",
        "FlipNet",
        "q8_flipnet",
        "flipnet_missing_relu",
        ("return self.layer2(self.relu(self.layer1(x)))", "return self.layer2(self.layer1(x))"),
    ),
    _m(
        "flipnet_layer_order",
        "FlipNet",
        "q8_flipnet",
        "flipnet_layer_order",
        (
            "self.layer1 = nn.Linear(4, 3)\n        self.relu = nn.ReLU()\n"
            "        self.layer2 = nn.Linear(3, 4)",
            "self.layer2 = nn.Linear(3, 4)\n        self.relu = nn.ReLU()\n"
            "        self.layer1 = nn.Linear(4, 3)",
        ),
    ),
    _m(
        "flip_data_wrong_flip",
        "make_flip_data",
        "q8_flipnet",
        "flip_targets_wrong",
        ("X[:, [3, 2, 1, 0]]", "X[:, [0, 2, 1, 3]]"),
    ),
    _m(
        "flipnet_loss_summed",
        "train_flipnet",
        "q8_flipnet",
        "flipnet_loss_summed",
        ("torch.mean((model(X[i]) - Y[i]) ** 2)", "torch.sum((model(X[i]) - Y[i]) ** 2)"),
    ),
    _m(
        "missing_zero_grad",
        "train_flipnet",
        "q8_flipnet",
        "missing_zero_grad",
        ("optimizer.zero_grad()", "pass"),
    ),
    _m(
        "train_reversed_order",
        "train_flipnet",
        "q8_flipnet",
        "samples_out_of_order",
        ("for i in range(len(X)):", "for i in reversed(range(len(X))):"),
    ),
    _m(
        "epoch_loss_summed",
        "train_flipnet",
        "q8_flipnet",
        "epoch_loss_not_averaged",
        ("history.append(total / len(X))", "history.append(total)"),
    ),
    _m(
        "flipnets_not_identical",
        "compare_optimizers",
        "q8_flipnet",
        "flipnets_not_identical",
        ("model_adam.load_state_dict(model_mom.state_dict())", "pass"),
    ),
    # q9
    _m(
        "scratch_decay_not_scaled",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "decay_not_scaled_by_lr",
        (_SCRATCH_DECAY, 'p.mul_(1 - group["weight_decay"])'),
    ),
    _m(
        "scratch_decay_after_step",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "decay_after_step",
        ("                " + _SCRATCH_DECAY + "\n", ""),
        (_SCRATCH_STEP, _SCRATCH_STEP + "\n                " + _SCRATCH_DECAY),
    ),
    _m(
        "scratch_bias_missing",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "bias_correction_missing",
        (_SCRATCH_DENOM, 'denom = state["exp_avg_sq"].sqrt().add_(group["eps"])'),
        (_SCRATCH_STEP, 'p.addcdiv_(state["exp_avg"], denom, value=-group["lr"])'),
    ),
    _m(
        "scratch_eps_inside",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "eps_inside_sqrt",
        ('.sqrt_().add_(group["eps"])', '.add_(group["eps"]).sqrt_()'),
    ),
    _m(
        "scratch_grad_none_crash",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "grad_none_not_skipped",
        ("                if p.grad is None:\n                    continue\n", ""),
    ),
    _m(
        "scratch_grad_none_zero",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "grad_none_not_skipped",
        ("                    continue\n", "                    p.grad = torch.zeros_like(p)\n"),
    ),
    _m(
        "scratch_group_settings_ignored",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "group_hyperparameters_ignored",
        (
            "for group in self.param_groups:\n",
            "for group in self.param_groups:\n            group = {**group, **self.defaults}\n",
        ),
    ),
    _m(
        "scratch_state_names",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "state_names_wrong",
        ('state["exp_avg"]', 'state["m"]'),
        ('state["exp_avg_sq"]', 'state["v"]'),
    ),
    _m(
        "scratch_no_closure",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "closure_loss_not_returned",
        ("loss = closure()", "closure()"),
    ),
    # q10
    _m(
        "warmup_off_by_one",
        "warmup_cosine_lr",
        "q10_recipe",
        "warmup_off_by_one",
        ("return lr_max * step / warmup_steps", "return lr_max * (step + 1) / warmup_steps"),
    ),
    _m(
        "cosine_ignores_lr_min",
        "warmup_cosine_lr",
        "q10_recipe",
        "cosine_ignores_lr_min",
        (
            "return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))",
            "return 0.5 * lr_max * (1 + math.cos(math.pi * progress))",
        ),
    ),
    _m(
        "clip_per_tensor",
        "clip_grad_norm",
        "q10_recipe",
        "clip_per_tensor",
        (
            "return [np.asarray(g) * scale for g in grads], total_norm",
            "return [np.asarray(g) * min(1.0, max_norm / (np.linalg.norm(np.ravel(g)) + 1e-6)) "
            "for g in grads], total_norm",
        ),
    ),
    _m(
        "clip_no_epsilon",
        "clip_grad_norm",
        "q10_recipe",
        "clip_epsilon_missing",
        ("max_norm / (total_norm + 1e-6)", "max_norm / total_norm"),
    ),
    _m(
        "clip_scales_up",
        "clip_grad_norm",
        "q10_recipe",
        "clip_scales_up",
        (
            "scale = min(1.0, max_norm / (total_norm + 1e-6))",
            "scale = max_norm / (total_norm + 1e-6)",
        ),
    ),
    _m(
        "biases_in_decay_group",
        "decay_param_groups",
        "q10_recipe",
        "biases_in_decay_group",
        ("if p.ndim >= 2]", "if p.ndim >= 1]"),
        ("if p.ndim < 2]", "if p.ndim < 1]"),
    ),
    _m(
        "gb_as_gib",
        "adam_memory_gb",
        "q10_recipe",
        "gb_as_gib",
        ("n_params * b / 1e9", "n_params * b / 2**30"),
    ),
    _m(
        "mixed_moments_halved",
        "adam_memory_gb",
        "q10_recipe",
        "mixed_precision_moments_halved",
        ('"adam_m": 4, "adam_v": 4', '"adam_m": low, "adam_v": low'),
    ),
    # q11
    _m(
        "answer_1d_wrong",
        "ANSWER_1D_WINNER",
        "q11_concepts",
        "answer_wrong",
        ('"momentum"', '"adam"'),
    ),
    _m(
        "answer_flipnet_wrong",
        "ANSWER_FLIPNET_WINNER",
        "q11_concepts",
        "answer_wrong",
        ('"momentum"', '"adam"'),
    ),
    _m(
        "answer_decoupled_wrong",
        "ANSWER_DECOUPLED",
        "q11_concepts",
        "answer_wrong",
        ('"adamw"', '"adam_l2"'),
    ),
    # bonus
    _m(
        "lion_sign_of_new_momentum",
        "lion_step",
        "bonus_variants",
        "lion_sign_of_momentum",
        (
            "u = np.sign(beta1 * m + (1 - beta1) * grad)",
            "u = np.sign(beta2 * m + (1 - beta2) * grad)",
        ),
    ),
    _m(
        "lion_momentum_updated_first",
        "lion_step",
        "bonus_variants",
        "lion_momentum_updated_first",
        (
            "u = np.sign(beta1 * m + (1 - beta1) * grad)\n"
            "    return w - lr * (u + weight_decay * w), beta2 * m + (1 - beta2) * grad",
            "m = beta2 * m + (1 - beta2) * grad\n    u = np.sign(beta1 * m + (1 - beta1) * grad)\n"
            "    return w - lr * (u + weight_decay * w), m",
        ),
    ),
    _m(
        "lamb_no_trust_ratio",
        "lamb_step",
        "bonus_variants",
        "lamb_no_trust_ratio",
        ("return w - lr * ratio * u, m_new, v_new", "return w - lr * u, m_new, v_new"),
    ),
    _m(
        "lamb_trust_per_element",
        "lamb_step",
        "bonus_variants",
        "lamb_trust_ratio_per_element",
        (
            "ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0",
            "ratio = np.abs(w) / np.abs(u)",
        ),
    ),
    _m(
        "adafactor_no_normalisation",
        "factored_second_moment",
        "bonus_variants",
        "adafactor_no_normalisation",
        (" / row_new.mean()", ""),
    ),
    _m(
        "quantize_255",
        "quantize_blockwise",
        "bonus_variants",
        "quantize_wrong_range",
        ("flat / safe * 127", "flat / safe * 255"),
    ),
    _m(
        "quantize_one_block",
        "quantize_blockwise",
        "bonus_variants",
        "quantize_one_block",
        (
            "scales = np.array([np.abs(flat[i:i + block]).max(initial=0.0)\n"
            "                       for i in range(0, flat.size, block)])",
            "scales = np.full(-(-flat.size // block), np.abs(flat).max(initial=0.0))",
        ),
    ),
)


# --------------------------------------------------------------------------- grading
@dataclass
class Outcome:
    """How the suite took one mutant."""

    mutant: Mutant
    points: dict[int, dict[str, float]] = field(default_factory=dict)
    """seed -> question -> points."""
    labels: dict[int, set[str]] = field(default_factory=dict)
    """seed -> the diagnosis labels of the failed checks of the mutant's own question."""
    messages: list[str] = field(default_factory=list)
    public_flagged: bool = False
    public_lines: list[str] = field(default_factory=list)

    @property
    def caught(self) -> bool:
        """Loses points in its own question under every seed."""
        full = float(contract.question(self.mutant.question).points)
        return all(p[self.mutant.question] < full for p in self.points.values())

    @property
    def lost_elsewhere(self) -> dict[str, float]:
        """Questions other than its own that lose points under some seed."""
        out = {}
        for per_q in self.points.values():
            for q, p in per_q.items():
                full = float(contract.question(q).points)
                if q != self.mutant.question and p < full:
                    out[q] = min(out.get(q, full), p)
        return out

    @property
    def public_naming(self) -> str:
        """How the public checks name the mistake: ``right``, ``wrong`` or ``vague``."""
        said = {
            label
            for label, sentence in MISTAKES.items()
            for line in self.public_lines
            if sentence in line
        }
        if said - {self.mutant.diagnosis}:
            return "wrong"
        return "right" if said else "vague"

    @property
    def seed_independent(self) -> bool:
        first = next(iter(self.points.values()))
        return all(p == first for p in self.points.values())

    @property
    def naming(self) -> str:
        """``right`` (only its own label, under every seed), ``wrong`` (another label shows)
        or ``vague`` (no label)."""
        if any(labels - {self.mutant.diagnosis} for labels in self.labels.values()):
            return "wrong"
        if all(self.mutant.diagnosis in labels for labels in self.labels.values()):
            return "right"
        return "vague"


@functools.lru_cache(maxsize=len(SEEDS))
def solution_points(seed: int) -> dict[str, float]:
    """Per-question points of the solution itself under ``seed``."""
    source = solution_definitions()
    return points(grade(namespace_from(source), seed=seed, source=source))


def reaching_questions(source: str, function: str) -> list[str]:
    """The questions whose names reach ``function`` through the source's top-level names."""
    tree = ast.parse(source)
    uses: dict[str, set[str]] = {}
    for node in tree.body:
        names = (
            [node.name]
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            else [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        )
        loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for name in names:
            uses.setdefault(name, set()).update(loaded)
    out = []
    for q in contract.QUESTIONS:
        todo, seen = [*q.functions, *q.classes, *q.constants], set()
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += list(uses.get(name, ()))
        if function in seen:
            out.append(q.id)
    return out


def _labels(result: QuestionResult) -> set[str]:
    return {c.diagnosis for c in result.checks if not c.passed and c.diagnosis}


def public_lines(question: str, source: str) -> list[str]:
    """The lines the public checks of ``question`` print for ``source``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        public_check(question, namespace=namespace_from(source))
    return out.getvalue().splitlines()


GRADED: dict[str, Outcome] = {}
"""Mutant id -> its outcome, for every mutant graded in this process."""


def grade_mutant(mutant: Mutant, seeds: tuple[int, ...] = SEEDS) -> Outcome:
    """Grade ``mutant`` under every seed of ``seeds`` and run its question's public checks
    (once per process). ``mutant`` is any object with ``id``, ``function``, ``question``,
    ``diagnosis`` and ``source()`` (a :class:`Mutant` or a student-written rewrite)."""
    if mutant.id in GRADED:
        return GRADED[mutant.id]
    source = mutant.source()
    outcome = Outcome(mutant)
    graded = reaching_questions(source, mutant.function)
    for i, seed in enumerate(seeds):
        results = run_checks(
            InProcessStudent(namespace_from(source), contract.ASSIGNMENT),
            assignment=contract.ASSIGNMENT,
            seed=seed,
            device="cpu",
            questions=graded,
            source=source,
        )
        outcome.points[seed] = {
            q: (r.points if q in graded else solution_points(seed)[q]) for q, r in results.items()
        }
        outcome.labels[seed] = _labels(results[mutant.question])
        if i == 0:
            outcome.messages = [
                f"{q}/{c.name}: {c.message} [{c.diagnosis}]"
                for q, r in results.items()
                for c in r.checks
                if not c.passed
            ]
    outcome.public_lines = public_lines(mutant.question, source)
    outcome.public_flagged = any(line.startswith("\u2718") for line in outcome.public_lines)
    GRADED[mutant.id] = outcome
    return outcome
