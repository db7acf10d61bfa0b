"""The student-facing contract, transcribed from ``shared/spec/ASSIGNMENT.md``.

This table is written from the contract's text, never from the solution: the
tests compare the solution's and the released notebook's signatures against it.
Every grader in the kit (native engine, otter, nbgrader) takes question ids and
points from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ASSIGNMENT_ID = "adam_variants"
NOTEBOOK_NAME = "adam_variants.ipynb"
CORE_POINTS = 100
BONUS_POINTS = 10
FREE_RESPONSE_POINTS = 5
"""Most points course staff may give the free-response answer (``manual.csv``).

The maximum of the assignment is CORE_POINTS; the bonus and the free response
count on top of it as extra credit."""

# The late policy (read by autograder/late.py; README "Late policy"). The penalty is
# in points of the CORE_POINTS maximum, per started LATE_PENALTY_UNIT ("hour" or
# "day") after the deadline, once a submission is more than LATE_GRACE_MINUTES late.
DEADLINE = ""
"""ISO 8601 with its UTC offset, e.g. "2026-03-13T23:59:00-05:00"; "" = no deadline."""
LATE_GRACE_MINUTES = 15.0
LATE_PENALTY_POINTS = 10.0
LATE_PENALTY_UNIT = "day"
LATE_PENALTY_CAP = 50.0
"""Most points the penalty takes; the total never drops below 0."""
LATE_CUTOFF_HOURS: float | None = None
"""Hours after the deadline from which a submission is not accepted (total 0); None = never."""


@dataclass(frozen=True)
class Question:
    """One question of the contract: its id, points and the names it defines."""

    id: str
    points: int
    functions: dict[str, str] = field(default_factory=dict)
    """Function name -> its signature as the contract writes it (parameters only)."""
    classes: dict[str, str] = field(default_factory=dict)
    """Class name -> base class as the contract writes it."""
    constants: tuple[str, ...] = ()
    bonus: bool = False


_ADAM_SIGNATURE = "(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)"
_DECAY_SIGNATURE = (
    "(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01)"
)

QUESTIONS: tuple[Question, ...] = (
    Question(
        "q1_baselines",
        4,
        {
            "sgd_step": "(w, grad, lr)",
            "momentum_step": "(w, grad, velocity, lr, beta=0.9)",
        },
    ),
    Question("q2_adagrad", 6, {"adagrad_step": "(w, grad, accum, lr, eps=1e-8)"}),
    Question("q3_rmsprop", 8, {"rmsprop_step": "(w, grad, v, lr, rho=0.9, eps=1e-8)"}),
    Question(
        "q4_adam_step",
        14,
        {"bias_correction": "(beta, t)", "adam_step": _ADAM_SIGNATURE},
    ),
    Question(
        "q5_adam_trace",
        8,
        {"adam_trace": "(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8)"},
    ),
    Question(
        "q6_weight_decay",
        14,
        {"adam_l2_step": _DECAY_SIGNATURE, "adamw_step": _DECAY_SIGNATURE},
    ),
    Question(
        "q7_rosenbrock",
        6,
        {
            "rosenbrock": "(x, y)",
            "rosenbrock_grad": "(x, y)",
            "optimize_rosenbrock": "(optimizer, lr, steps, start=(-1.2, 1.0), **hparams)",
        },
    ),
    Question(
        "q8_flipnet",
        14,
        {
            "make_flip_data": "()",
            "train_flipnet": "(model, optimizer, X, Y, epochs=30)",
            "compare_optimizers": "(epochs=30, seed=42, device='cpu')",
        },
        classes={"FlipNet": "nn.Module"},
    ),
    Question(
        "q9_scratch_adamw",
        10,
        classes={"ScratchAdamW": "torch.optim.Optimizer"},
    ),
    Question(
        "q10_recipe",
        10,
        {
            "warmup_cosine_lr": "(step, lr_max, total_steps, warmup_steps, lr_min=0.0)",
            "clip_grad_norm": "(grads, max_norm)",
            "decay_param_groups": "(model, weight_decay)",
            "adam_memory_gb": "(n_params, mixed_precision=False)",
        },
    ),
    Question(
        "q11_concepts",
        6,
        constants=("ANSWER_1D_WINNER", "ANSWER_FLIPNET_WINNER", "ANSWER_DECOUPLED"),
    ),
    Question(
        "bonus_variants",
        10,
        {
            "lion_step": "(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0)",
            "lamb_step": "(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01)",
            "factored_second_moment": "(grad_sq, row, col, beta2=0.999)",
            "quantize_blockwise": "(x, block=64)",
            "dequantize_blockwise": "(codes, scales, shape, block=64)",
        },
        bonus=True,
    ),
)

METHOD_SIGNATURES: dict[str, dict[str, str]] = {
    "ScratchAdamW": {
        "__init__": "(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)",
        "step": "(self, closure=None)",
    },
}

QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS)
POINTS: dict[str, int] = {q.id: q.points for q in QUESTIONS}
FREE_RESPONSE_PROMPT = 'Why is weight decay "done right" in AdamW?'
FREE_RESPONSE_TAG = "free_response"


def question(question_id: str) -> Question:
    """The question with this id; a KeyError names the valid ids."""
    for q in QUESTIONS:
        if q.id == question_id:
            return q
    raise KeyError(f"unknown question {question_id!r}; valid ids: {', '.join(QUESTION_IDS)}")


def all_names() -> list[str]:
    """Every name a submission must define, in contract order."""
    names: list[str] = []
    for q in QUESTIONS:
        names += [*q.functions, *q.classes, *q.constants]
    return names


def owner(name: str) -> str:
    """The id of the question that defines ``name``."""
    for q in QUESTIONS:
        if name in q.functions or name in q.classes or name in q.constants:
            return q.id
    raise KeyError(f"{name!r} is not a name of the contract")


assert sum(q.points for q in QUESTIONS if not q.bonus) == CORE_POINTS
assert sum(q.points for q in QUESTIONS if q.bonus) == BONUS_POINTS
