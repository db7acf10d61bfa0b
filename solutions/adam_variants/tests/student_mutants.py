"""Student-written single bugs: whole functions written the way students write them, each
with one mistake from the catalogue of ``solutions/adam_variants/checks/README.md``.

Unlike the textual mutants of ``mutants.py`` (one replacement inside the solution's own
text), each :class:`Rewrite` replaces a whole definition with another formulation (loops,
torch instead of NumPy, helper variables, other names) that carries one mistake a class of
students makes. They are graded by :func:`mutants.grade_mutant` like the others, under
:data:`SEEDS`; ``diagnosis`` is the label the checks must give, or ``""`` where no catalogued
mistake fits and the message must only state where the function differs (never a wrong
name).
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from checks_support import solution_definitions
from mutants import SEEDS as ALL_SEEDS

SEEDS = ALL_SEEDS[:3]
"""Three grading seeds for the student-written mutants."""


@dataclass(frozen=True)
class Rewrite:
    """One function of the solution replaced by a student's buggy version of it."""

    id: str
    function: str
    question: str
    diagnosis: str
    code: str

    def source(self) -> str:
        return replace_definition(
            solution_definitions(), self.function, textwrap.dedent(self.code).strip("\n")
        )


def replace_definition(source: str, name: str, code: str) -> str:
    """``source`` with the top-level definition (or assignment) of ``name`` replaced by
    ``code``."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        names = (
            [node.name]
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            else [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        )
        if name in names:
            start = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
            return "\n".join(lines[: start - 1] + code.splitlines() + lines[node.end_lineno :])
    raise AssertionError(f"{name} is not defined in the source")


def _r(id_: str, function: str, question: str, diagnosis: str, code: str) -> Rewrite:
    return Rewrite(id_, function, question, diagnosis, code)


STUDENT_MUTANTS: tuple[Rewrite, ...] = (
    # ------------------------------------------------------------------ q1
    _r(
        "s_sgd_in_place",
        "sgd_step",
        "q1_baselines",
        "modifies_arguments",
        """
        def sgd_step(w, grad, lr):
            w -= lr * grad
            return w
    """,
    ),
    _r(
        "s_momentum_in_place",
        "momentum_step",
        "q1_baselines",
        "modifies_arguments",
        """
        def momentum_step(w, grad, velocity, lr, beta=0.9):
            velocity *= beta
            velocity += grad
            w_new = w - lr * velocity
            return w_new, velocity
    """,
    ),
    _r(
        "s_momentum_returns_swapped",
        "momentum_step",
        "q1_baselines",
        "outputs_swapped",
        """
        def momentum_step(w, grad, velocity, lr, beta=0.9):
            v = beta * velocity + grad
            new_w = w - lr * v
            return v, new_w
    """,
    ),
    _r(
        "s_momentum_sutskever_lr",
        "momentum_step",
        "q1_baselines",
        "momentum_other_convention",
        """
        def momentum_step(w, grad, velocity, lr, beta=0.9):
            # velocity carries the learning rate
            velocity = beta * velocity + lr * grad
            return w - velocity, velocity
    """,
    ),
    # ------------------------------------------------------------------ q2
    _r(
        "s_adagrad_in_place",
        "adagrad_step",
        "q2_adagrad",
        "modifies_arguments",
        """
        def adagrad_step(w, grad, accum, lr, eps=1e-8):
            accum += grad * grad
            return w - lr * grad / (np.sqrt(accum) + eps), accum
    """,
    ),
    _r(
        "s_adagrad_no_sqrt",
        "adagrad_step",
        "q2_adagrad",
        "sqrt_missing",
        """
        def adagrad_step(w, grad, accum, lr, eps=1e-8):
            G = accum + np.square(grad)
            adjusted_lr = lr / (G + eps)
            return w - adjusted_lr * grad, G
    """,
    ),
    _r(
        "s_adagrad_returns_swapped",
        "adagrad_step",
        "q2_adagrad",
        "outputs_swapped",
        """
        def adagrad_step(w, grad, accum, lr, eps=1e-8):
            accum_new = accum + grad ** 2
            w_new = w - lr * grad / (accum_new ** 0.5 + eps)
            return accum_new, w_new
    """,
    ),
    # ------------------------------------------------------------------ q3
    _r(
        "s_rmsprop_in_place",
        "rmsprop_step",
        "q3_rmsprop",
        "modifies_arguments",
        """
        def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
            v *= rho
            v += (1 - rho) * grad ** 2
            return w - lr * grad / (np.sqrt(v) + eps), v
    """,
    ),
    _r(
        "s_rmsprop_no_sqrt",
        "rmsprop_step",
        "q3_rmsprop",
        "sqrt_missing",
        """
        def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
            v_new = rho * v + (1 - rho) * grad ** 2
            return w - lr * grad / (v_new + eps), v_new
    """,
    ),
    _r(
        "s_rmsprop_lerp_swapped",
        "rmsprop_step",
        "q3_rmsprop",
        "rho_swapped",
        """
        def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
            # exponential moving average written as an interpolation
            v_new = v + rho * (grad ** 2 - v)
            return w - lr * grad / (np.sqrt(v_new) + eps), v_new
    """,
    ),
    _r(
        "s_rmsprop_old_v",
        "rmsprop_step",
        "q3_rmsprop",
        "old_second_moment",
        """
        def rmsprop_step(w, grad, v, lr, rho=0.9, eps=1e-8):
            w_new = w - lr * grad / (np.sqrt(v) + eps)
            v_new = rho * v + (1 - rho) * grad ** 2
            return w_new, v_new
    """,
    ),
    # ------------------------------------------------------------------ q4
    _r(
        "s_bias_correction_float32",
        "bias_correction",
        "q4_adam_step",
        "float32_intermediate",
        """
        def bias_correction(beta, t):
            return float(1 - torch.tensor(beta) ** t)
    """,
    ),
    _r(
        "s_bias_correction_loop_off_by_one",
        "bias_correction",
        "q4_adam_step",
        "bias_correction_off_by_one",
        """
        def bias_correction(beta, t):
            power = 1.0
            for _ in range(t + 1):
                power *= beta
            return 1 - power
    """,
    ),
    _r(
        "s_adam_w_in_place",
        "adam_step",
        "q4_adam_step",
        "modifies_arguments",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad ** 2
            w -= lr * (m / bias_correction(beta1, t)) / (np.sqrt(v / bias_correction(beta2, t))
                                                          + eps)
            return w, m, v
    """,
    ),
    _r(
        "s_adam_no_sqrt",
        "adam_step",
        "q4_adam_step",
        "sqrt_missing",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m_new = beta1 * m + (1 - beta1) * grad
            v_new = beta2 * v + (1 - beta2) * grad * grad
            m_hat = m_new / (1 - beta1 ** t)
            v_hat = v_new / (1 - beta2 ** t)
            return w - lr * m_hat / (v_hat + eps), m_new, v_new
    """,
    ),
    _r(
        "s_adam_uses_grad",
        "adam_step",
        "q4_adam_step",
        "update_uses_grad",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m_new = beta1 * m + (1 - beta1) * grad
            v_new = beta2 * v + (1 - beta2) * grad ** 2
            v_hat = v_new / bias_correction(beta2, t)
            return w - lr * grad / (np.sqrt(v_hat) + eps), m_new, v_new
    """,
    ),
    _r(
        "s_adam_returns_v_m",
        "adam_step",
        "q4_adam_step",
        "outputs_swapped",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad ** 2
            update = (m / bias_correction(beta1, t)) / (np.sqrt(v / bias_correction(beta2, t))
                                                       + eps)
            return w - lr * update, v, m
    """,
    ),
    _r(
        "s_adam_beta1_for_both",
        "adam_step",
        "q4_adam_step",
        "bias_correction_betas_mixed",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m_new = beta1 * m + (1 - beta1) * grad
            v_new = beta2 * v + (1 - beta2) * grad ** 2
            correction = bias_correction(beta1, t)
            m_hat, v_hat = m_new / correction, v_new / correction
            return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    """,
    ),
    _r(
        "s_adam_betas_swapped",
        "adam_step",
        "q4_adam_step",
        "betas_swapped",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m_new = beta2 * m + (1 - beta2) * grad
            v_new = beta1 * v + (1 - beta1) * grad ** 2
            m_hat = m_new / bias_correction(beta2, t)
            v_hat = v_new / bias_correction(beta1, t)
            return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    """,
    ),
    _r(
        "s_adam_t_zero_based",
        "adam_step",
        "q4_adam_step",
        "bias_correction_off_by_one",
        """
        def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            step = t - 1  # 0-based step counter
            m_new = beta1 * m + (1 - beta1) * grad
            v_new = beta2 * v + (1 - beta2) * grad ** 2
            m_hat = m_new / (1 - beta1 ** (step + 2))
            v_hat = v_new / (1 - beta2 ** (step + 2))
            return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    """,
    ),
    # ------------------------------------------------------------------ q5
    _r(
        "s_trace_w_not_carried",
        "adam_trace",
        "q5_adam_trace",
        "trace_w_not_carried",
        """
        def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
            m = v = 0.0
            out = []
            for t in range(1, steps + 1):
                g = 2 * w0
                w_next, m, v = adam_step(w0, g, m, v, t, lr, beta1, beta2, eps)
                out.append(dict(t=t, grad=g, m=m, v=v, m_hat=m / (1 - beta1 ** t),
                                v_hat=v / (1 - beta2 ** t), step=w0 - w_next, w=w_next))
            return out
    """,
    ),
    _r(
        "s_trace_state_reset",
        "adam_trace",
        "q5_adam_trace",
        "state_not_carried",
        """
        def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
            w = w0
            rows = []
            for t in range(1, steps + 1):
                m, v = 0.0, 0.0
                grad = 2 * w
                new_w, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
                rows.append({"t": t, "grad": grad, "m": m, "v": v,
                             "m_hat": m / bias_correction(beta1, t),
                             "v_hat": v / bias_correction(beta2, t),
                             "step": w - new_w, "w": new_w})
                w = new_w
            return rows
    """,
    ),
    _r(
        "s_trace_moments_before_step",
        "adam_trace",
        "q5_adam_trace",
        "trace_moments_before_step",
        """
        def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
            w, m, v = w0, 0.0, 0.0
            rows = []
            for t in range(1, steps + 1):
                grad = 2 * w
                row = {"t": t, "grad": grad, "m": m, "v": v,
                       "m_hat": m / bias_correction(beta1, t),
                       "v_hat": v / bias_correction(beta2, t)}
                w_new, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
                row["step"] = w - w_new
                row["w"] = w_new
                rows.append(row)
                w = w_new
            return rows
    """,
    ),
    _r(
        "s_trace_range_short",
        "adam_trace",
        "q5_adam_trace",
        "trace_wrong_number_of_steps",
        """
        def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
            w, m, v = w0, 0.0, 0.0
            rows = []
            for t in range(1, steps):
                grad = 2 * w
                w_new, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
                rows.append({"t": t, "grad": grad, "m": m, "v": v,
                             "m_hat": m / bias_correction(beta1, t),
                             "v_hat": v / bias_correction(beta2, t),
                             "step": w - w_new, "w": w_new})
                w = w_new
            return rows
    """,
    ),
    _r(
        "s_trace_grad_is_w",
        "adam_trace",
        "q5_adam_trace",
        "trace_grad_not_2w",
        """
        def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
            w, m, v = w0, 0.0, 0.0
            rows = []
            for t in range(1, steps + 1):
                grad = w  # derivative of w**2
                w_new, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
                rows.append({"t": t, "grad": grad, "m": m, "v": v,
                             "m_hat": m / bias_correction(beta1, t),
                             "v_hat": v / bias_correction(beta2, t),
                             "step": w - w_new, "w": w_new})
                w = w_new
            return rows
    """,
    ),
    _r(
        "s_trace_step_without_eps",
        "adam_trace",
        "q5_adam_trace",
        "trace_step_recomputed",
        """
        def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
            w, m, v = w0, 0.0, 0.0
            rows = []
            for t in range(1, steps + 1):
                grad = 2 * w
                w_new, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
                m_hat = m / bias_correction(beta1, t)
                v_hat = v / bias_correction(beta2, t)
                rows.append({"t": t, "grad": grad, "m": m, "v": v, "m_hat": m_hat,
                             "v_hat": v_hat, "step": lr * m_hat / np.sqrt(v_hat), "w": w_new})
                w = w_new
            return rows
    """,
    ),
    # ------------------------------------------------------------------ q6
    _r(
        "s_l2_doubled",
        "adam_l2_step",
        "q6_weight_decay",
        "l2_doubled",
        """
        def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                         weight_decay=0.01):
            # gradient of the penalty weight_decay * w**2
            g = grad + 2 * weight_decay * w
            return adam_step(w, g, m, v, t, lr, beta1, beta2, eps)
    """,
    ),
    _r(
        "s_adamw_decay_sign",
        "adamw_step",
        "q6_weight_decay",
        "decay_sign_flipped",
        """
        def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01):
            new_w, new_m, new_v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
            return new_w + lr * weight_decay * w, new_m, new_v
    """,
    ),
    _r(
        "s_adamw_two_updates",
        "adamw_step",
        "q6_weight_decay",
        "decay_after_step",
        """
        def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01):
            w, m, v = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
            w = w - lr * weight_decay * w
            return w, m, v
    """,
    ),
    _r(
        "s_adamw_scratch_eps_inside",
        "adamw_step",
        "q6_weight_decay",
        "eps_inside_sqrt",
        """
        def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01):
            m_new = beta1 * m + (1 - beta1) * grad
            v_new = beta2 * v + (1 - beta2) * grad ** 2
            m_hat = m_new / (1 - beta1 ** t)
            v_hat = v_new / (1 - beta2 ** t)
            w_new = w - lr * (m_hat / np.sqrt(v_hat + eps) + weight_decay * w)
            return w_new, m_new, v_new
    """,
    ),
    _r(
        "s_adamw_decays_in_place",
        "adamw_step",
        "q6_weight_decay",
        "modifies_arguments",
        """
        def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01):
            w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
            w *= lr * weight_decay
            return w_adam - w, m_new, v_new
    """,
    ),
    _r(
        "s_l2_scratch_no_bias_correction",
        "adam_l2_step",
        "q6_weight_decay",
        "bias_correction_missing",
        """
        def adam_l2_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                         weight_decay=0.01):
            g = grad + weight_decay * w
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            return w - lr * m / (np.sqrt(v) + eps), m, v
    """,
    ),
    _r(
        "s_adamw_float32_bias_correction",
        "adamw_step",
        "q6_weight_decay",
        "float32_intermediate",
        """
        def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01):
            m_new = beta1 * m + (1 - beta1) * grad
            v_new = beta2 * v + (1 - beta2) * grad ** 2
            m_hat = m_new / float(1 - torch.tensor(beta1) ** t)
            v_hat = v_new / float(1 - torch.tensor(beta2) ** t)
            return w - lr * m_hat / (np.sqrt(v_hat) + eps) - lr * weight_decay * w, m_new, v_new
    """,
    ),
    # ------------------------------------------------------------------ q7
    _r(
        "s_rosenbrock_grad_sign",
        "rosenbrock_grad",
        "q7_rosenbrock",
        "rosenbrock_dfdx_wrong",
        """
        def rosenbrock_grad(x, y):
            dfdx = 2 * (1 - x) - 400 * x * (y - x ** 2)
            dfdy = 200 * (y - x ** 2)
            return dfdx, dfdy
    """,
    ),
    _r(
        "s_rosenbrock_path_aliased",
        "optimize_rosenbrock",
        "q7_rosenbrock",
        "path_aliased",
        """
        def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
            w = np.array(start, dtype=float)
            s1, s2 = np.zeros(2), np.zeros(2)
            path = [w]
            for t in range(1, steps + 1):
                g = np.array(rosenbrock_grad(w[0], w[1]))
                if optimizer == "sgd":
                    w[:] = sgd_step(w, g, lr)
                elif optimizer == "momentum":
                    w[:], s1 = momentum_step(w, g, s1, lr, **hparams)
                elif optimizer == "rmsprop":
                    w[:], s1 = rmsprop_step(w, g, s1, lr, **hparams)
                else:
                    w[:], s1, s2 = adam_step(w, g, s1, s2, t, lr, **hparams)
                path.append(w)
            return np.array(path)
    """,
    ),
    _r(
        "s_rosenbrock_adam_t_from_zero",
        "optimize_rosenbrock",
        "q7_rosenbrock",
        "bias_correction_off_by_one",
        """
        def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
            x, y = start
            vel = np.zeros(2)
            m, v = np.zeros(2), np.zeros(2)
            path = [[x, y]]
            for i in range(steps):
                w = np.array([x, y])
                g = np.array(rosenbrock_grad(x, y))
                if optimizer == "sgd":
                    w = sgd_step(w, g, lr)
                elif optimizer == "momentum":
                    w, vel = momentum_step(w, g, vel, lr, **hparams)
                elif optimizer == "rmsprop":
                    w, v = rmsprop_step(w, g, v, lr, **hparams)
                elif optimizer == "adam":
                    w, m, v = adam_step(w, g, m, v, i + 2, lr, **hparams)
                x, y = w
                path.append([x, y])
            return np.array(path)
    """,
    ),
    # ------------------------------------------------------------------ q8
    _r(
        "s_flipnet_sigmoid",
        "FlipNet",
        "q8_flipnet",
        "flipnet_wrong_activation",
        """
        class FlipNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer1 = nn.Linear(4, 3)
                self.layer2 = nn.Linear(3, 4)

            def forward(self, x):
                return self.layer2(torch.sigmoid(self.layer1(x)))
    """,
    ),
    _r(
        "s_train_loss_after_epoch",
        "train_flipnet",
        "q8_flipnet",
        "epoch_loss_after_epoch",
        """
        def train_flipnet(model, optimizer, X, Y, epochs=30):
            losses = []
            for epoch in range(epochs):
                for i in range(len(X)):
                    optimizer.zero_grad()
                    loss = torch.mean((model(X[i]) - Y[i]) ** 2)
                    loss.backward()
                    optimizer.step()
                losses.append(torch.mean((model(X) - Y) ** 2).item())
            return losses
    """,
    ),
    _r(
        "s_train_last_sample_loss",
        "train_flipnet",
        "q8_flipnet",
        "epoch_loss_last_sample",
        """
        def train_flipnet(model, optimizer, X, Y, epochs=30):
            history = []
            for _ in range(epochs):
                for x, y in zip(X, Y):
                    optimizer.zero_grad()
                    loss = ((model(x) - y) ** 2).mean()
                    loss.backward()
                    optimizer.step()
                history.append(loss.item())
            return history
    """,
    ),
    _r(
        "s_train_step_before_backward",
        "train_flipnet",
        "q8_flipnet",
        "step_before_backward",
        """
        def train_flipnet(model, optimizer, X, Y, epochs=30):
            history = []
            for _ in range(epochs):
                epoch_loss = 0.0
                for i in range(16):
                    optimizer.zero_grad()
                    loss = torch.mean((model(X[i]) - Y[i]) ** 2)
                    optimizer.step()
                    loss.backward()
                    epoch_loss += loss.item()
                history.append(epoch_loss / 16)
            return history
    """,
    ),
    _r(
        "s_compare_one_model",
        "compare_optimizers",
        "q8_flipnet",
        "flipnets_shared",
        """
        def compare_optimizers(epochs=30, seed=42, device="cpu"):
            torch.manual_seed(seed)
            net = FlipNet().to(device)
            twin = net  # the same starting weights
            X, Y = make_flip_data()
            X, Y = X.to(device), Y.to(device)
            sgd = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
            adam = torch.optim.Adam(twin.parameters(), lr=0.001)
            return {"momentum": train_flipnet(net, sgd, X, Y, epochs),
                    "adam": train_flipnet(twin, adam, X, Y, epochs)}
    """,
    ),
    _r(
        "s_compare_adam_lr",
        "compare_optimizers",
        "q8_flipnet",
        "",
        """
        def compare_optimizers(epochs=30, seed=42, device="cpu"):
            import copy
            torch.manual_seed(seed)
            a = FlipNet()
            b = copy.deepcopy(a)
            a.to(device)
            b.to(device)
            X, Y = make_flip_data()
            X, Y = X.to(device), Y.to(device)
            curves = {}
            curves["momentum"] = train_flipnet(
                a, torch.optim.SGD(a.parameters(), lr=0.05, momentum=0.9), X, Y, epochs)
            curves["adam"] = train_flipnet(b, torch.optim.Adam(b.parameters(), lr=0.01), X, Y,
                                           epochs)
            return curves
    """,
    ),
    _r(
        "s_flip_data_int",
        "make_flip_data",
        "q8_flipnet",
        "flip_data_dtype",
        """
        def make_flip_data():
            import itertools
            X = torch.tensor(list(itertools.product([0, 1], repeat=4)))
            Y = X[:, [3, 2, 1, 0]]
            return X, Y
    """,
    ),
    # ------------------------------------------------------------------ q9
    _r(
        "s_scratch_closure_no_grad",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "closure_without_grad",
        """
        class ScratchAdamW(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                          "weight_decay": weight_decay})

            @torch.no_grad()
            def step(self, closure=None):
                loss = closure() if closure is not None else None
                for group in self.param_groups:
                    b1, b2 = group["betas"]
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        st = self.state[p]
                        if len(st) == 0:
                            st["step"] = 0
                            st["exp_avg"] = torch.zeros_like(p)
                            st["exp_avg_sq"] = torch.zeros_like(p)
                        st["step"] += 1
                        t = st["step"]
                        p.mul_(1 - group["lr"] * group["weight_decay"])
                        st["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                        st["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                        m_hat = st["exp_avg"] / (1 - b1 ** t)
                        v_hat = st["exp_avg_sq"] / (1 - b2 ** t)
                        p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
                return loss
    """,
    ),
    _r(
        "s_scratch_shared_step_count",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "step_count_shared",
        """
        class ScratchAdamW(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                              weight_decay=weight_decay))
                self.t = 0

            def step(self, closure=None):
                loss = None
                if closure is not None:
                    with torch.enable_grad():
                        loss = closure()
                with torch.no_grad():
                    for group in self.param_groups:
                        beta1, beta2 = group["betas"]
                        for p in group["params"]:
                            if p.grad is None:
                                continue
                            self.t += 1
                            state = self.state[p]
                            if "exp_avg" not in state:
                                state["exp_avg"] = torch.zeros_like(p)
                                state["exp_avg_sq"] = torch.zeros_like(p)
                            state["step"] = self.t
                            m, v = state["exp_avg"], state["exp_avg_sq"]
                            m.mul_(beta1).add_((1 - beta1) * p.grad)
                            v.mul_(beta2).add_((1 - beta2) * p.grad * p.grad)
                            m_hat = m / (1 - beta1 ** self.t)
                            v_hat = v / (1 - beta2 ** self.t)
                            p -= group["lr"] * (m_hat / (torch.sqrt(v_hat) + group["eps"])
                                                + group["weight_decay"] * p)
                return loss
    """,
    ),
    _r(
        "s_scratch_t_before_increment",
        "ScratchAdamW",
        "q9_scratch_adamw",
        "bias_correction_off_by_one",
        """
        class ScratchAdamW(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                              weight_decay=weight_decay))

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
                            state["step"] = 0
                            state["exp_avg"] = torch.zeros_like(p)
                            state["exp_avg_sq"] = torch.zeros_like(p)
                        t = state["step"]
                        p.mul_(1 - group["lr"] * group["weight_decay"])
                        state["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                        state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                        m_hat = state["exp_avg"] / (1 - beta1 ** t)
                        v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)
                        p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
                        state["step"] += 1
                return loss
    """,
    ),
    # ------------------------------------------------------------------ q10
    _r(
        "s_warmup_integer_division",
        "warmup_cosine_lr",
        "q10_recipe",
        "integer_division",
        """
        def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
            if step < warmup_steps:
                return lr_max * (step // warmup_steps)
            if step >= total_steps:
                return lr_min
            progress = (step - warmup_steps) / (total_steps - warmup_steps)
            return lr_min + (lr_max - lr_min) * 0.5 * (1 + math.cos(math.pi * progress))
    """,
    ),
    _r(
        "s_cosine_progress_from_zero",
        "warmup_cosine_lr",
        "q10_recipe",
        "cosine_progress_from_zero",
        """
        def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
            if step < warmup_steps:
                return lr_max * step / warmup_steps
            if step >= total_steps:
                return lr_min
            cos_term = math.cos(math.pi * step / total_steps)
            return lr_min + 0.5 * (lr_max - lr_min) * (1 + cos_term)
    """,
    ),
    _r(
        "s_clip_sum_of_norms",
        "clip_grad_norm",
        "q10_recipe",
        "clip_norm_sum_of_norms",
        """
        def clip_grad_norm(grads, max_norm):
            total_norm = 0.0
            for g in grads:
                total_norm += np.linalg.norm(np.ravel(g))
            scale = min(1.0, max_norm / (total_norm + 1e-6))
            return [g * scale for g in grads], float(total_norm)
    """,
    ),
    _r(
        "s_clip_in_place",
        "clip_grad_norm",
        "q10_recipe",
        "modifies_arguments",
        """
        def clip_grad_norm(grads, max_norm):
            norm = np.sqrt(sum(float((g ** 2).sum()) for g in grads))
            coef = max_norm / (norm + 1e-6)
            if coef < 1:
                for g in grads:
                    g *= coef
            return grads, norm
    """,
    ),
    _r(
        "s_clip_returns_swapped",
        "clip_grad_norm",
        "q10_recipe",
        "outputs_swapped",
        """
        def clip_grad_norm(grads, max_norm):
            norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
            scale = min(1.0, max_norm / (norm + 1e-6))
            return norm, [np.array(g) * scale for g in grads]
    """,
    ),
    _r(
        "s_memory_total_without_grads",
        "adam_memory_gb",
        "q10_recipe",
        "memory_total_wrong",
        """
        def adam_memory_gb(n_params, mixed_precision=False):
            half = 2 if mixed_precision else 4
            res = {"weights": n_params * half / 1e9, "adam_m": n_params * 4 / 1e9,
                   "adam_v": n_params * 4 / 1e9, "grads": n_params * half / 1e9}
            res["total"] = res["weights"] + res["adam_m"] + res["adam_v"]
            return res
    """,
    ),
    # ------------------------------------------------------------------ bonus
    _r(
        "s_lamb_norm_squared",
        "lamb_step",
        "bonus_variants",
        "lamb_norm_squared",
        """
        def lamb_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6,
                      weight_decay=0.01):
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad ** 2
            adam_dir = (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
            u = adam_dir + weight_decay * w
            w_norm = np.sum(w ** 2)
            u_norm = np.sum(u ** 2)
            trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            return w - lr * trust * u, m, v
    """,
    ),
    _r(
        "s_dequantize_reshape_blocks",
        "dequantize_blockwise",
        "bonus_variants",
        "dequantize_last_block",
        """
        def dequantize_blockwise(codes, scales, shape, block=64):
            blocks = np.asarray(codes, dtype=np.float64).reshape(-1, block)
            return (blocks * np.asarray(scales)[:, None] / 127).reshape(shape)
    """,
    ),
    _r(
        "s_lion_momentum_beta1",
        "lion_step",
        "bonus_variants",
        "lion_momentum_wrong_beta",
        """
        def lion_step(w, grad, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
            c = beta1 * m + (1 - beta1) * grad
            w_new = w - lr * (np.sign(c) + weight_decay * w)
            m_new = beta1 * m + (1 - beta1) * grad
            return w_new, m_new
    """,
    ),
)
