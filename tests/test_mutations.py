"""Mutation suite: single-bug variants of the solution, graded in-process by the hidden checks.

Each mutant is the solution's definitions with one source replacement inside one
function. It must lose points in its own question and in no other (the
no-double-jeopardy substitution), and a named mistake must be named in the
feedback (its diagnosis label). The last test prints the mutation score.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import pytest
from checks_support import failures, full_marks, grade, mutate, namespace_from, points
from checks_support import solution_definitions as solution


@dataclass(frozen=True)
class Mutant:
    id: str
    function: str
    replacements: tuple[tuple[str, str], ...]
    question: str
    diagnosis: str = ""


MUTANTS = (
    Mutant("sgd_ascends", "sgd_step", (("return w - lr * grad", "return w + lr * grad"),),
           "q1_baselines"),
    Mutant("momentum_dampened", "momentum_step",
           (("velocity_new = beta * velocity + grad",
             "velocity_new = beta * velocity + (1 - beta) * grad"),), "q1_baselines",
           "momentum_dampened"),
    Mutant("adagrad_accumulates_g", "adagrad_step",
           (("accum_new = accum + grad**2", "accum_new = accum + grad"),), "q2_adagrad",
           "adagrad_accumulates_grad"),
    Mutant("adagrad_eps_inside", "adagrad_step",
           (("np.sqrt(accum_new) + eps", "np.sqrt(accum_new + eps)"),), "q2_adagrad",
           "eps_inside_sqrt"),
    Mutant("rmsprop_rho_swapped", "rmsprop_step",
           (("v_new = rho * v + (1 - rho) * grad**2", "v_new = (1 - rho) * v + rho * grad**2"),),
           "q3_rmsprop", "rho_swapped"),
    Mutant("rmsprop_eps_inside", "rmsprop_step",
           (("np.sqrt(v_new) + eps", "np.sqrt(v_new + eps)"),), "q3_rmsprop", "eps_inside_sqrt"),
    Mutant("rmsprop_abs_grad", "rmsprop_step",
           (("(1 - rho) * grad**2", "(1 - rho) * abs(grad)"),), "q3_rmsprop", "v_from_abs_grad"),
    Mutant("bias_correction_missing", "adam_step",
           (("m_hat = m_new / bias_correction(beta1, t)", "m_hat = m_new"),
            ("v_hat = v_new / bias_correction(beta2, t)", "v_hat = v_new")), "q4_adam_step",
           "bias_correction_missing"),
    Mutant("bias_correction_t_plus_one", "bias_correction",
           (("return 1 - beta**t", "return 1 - beta ** (t + 1)"),), "q4_adam_step",
           "bias_correction_off_by_one"),
    Mutant("adam_t_off_by_one", "adam_step",
           (("bias_correction(beta1, t)", "bias_correction(beta1, t + 1)"),
            ("bias_correction(beta2, t)", "bias_correction(beta2, t + 1)")), "q4_adam_step",
           "bias_correction_off_by_one"),
    Mutant("one_moment_corrected", "adam_step",
           (("v_hat = v_new / bias_correction(beta2, t)", "v_hat = v_new"),), "q4_adam_step",
           "one_moment_corrected"),
    Mutant("adam_eps_inside", "adam_step",
           (("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),), "q4_adam_step",
           "eps_inside_sqrt"),
    Mutant("adam_v_from_abs_grad", "adam_step",
           (("(1 - beta2) * grad**2", "(1 - beta2) * np.abs(grad)"),), "q4_adam_step",
           "v_from_abs_grad"),
    Mutant("adam_v_from_grad", "adam_step",
           (("(1 - beta2) * grad**2", "(1 - beta2) * grad"),), "q4_adam_step", "v_from_grad"),
    Mutant("trace_step_sign", "adam_trace",
           (('"step": float(w - w_new)', '"step": float(w_new - w)'),), "q5_adam_trace"),
    Mutant("trace_t_from_zero", "adam_trace",
           (('"t": t,', '"t": t - 1,'),), "q5_adam_trace"),
    Mutant("adamw_as_l2", "adamw_step",
           (("w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)",
             "w_adam, m_new, v_new = adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, "
             "beta2, eps)"),
            ("return w_adam - lr * weight_decay * w, m_new, v_new",
             "return w_adam, m_new, v_new")), "q6_weight_decay", "adamw_as_l2"),
    Mutant("decay_after_step", "adamw_step",
           (("return w_adam - lr * weight_decay * w, m_new, v_new",
             "return w_adam - lr * weight_decay * w_adam, m_new, v_new"),), "q6_weight_decay",
           "decay_after_step"),
    Mutant("decay_not_scaled_by_lr", "adamw_step",
           (("return w_adam - lr * weight_decay * w, m_new, v_new",
             "return w_adam - weight_decay * w, m_new, v_new"),), "q6_weight_decay",
           "decay_not_scaled_by_lr"),
    Mutant("l2_as_decoupled", "adam_l2_step",
           (("return adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, beta2, eps)",
             "w_adam, m_new, v_new = adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)\n"
             "    return w_adam - lr * weight_decay * w, m_new, v_new"),), "q6_weight_decay",
           "l2_as_decoupled"),
    Mutant("rosenbrock_grad_y", "rosenbrock_grad",
           (("200 * (y - x**2)", "100 * (y - x**2)"),), "q7_rosenbrock"),
    Mutant("rosenbrock_adam_t", "optimize_rosenbrock",
           (("state[1], t, lr", "state[1], t + 1, lr"),), "q7_rosenbrock"),
    Mutant("flipnet_no_relu", "FlipNet",
           (("return self.layer2(self.relu(self.layer1(x)))",
             "return self.layer2(self.layer1(x))"),), "q8_flipnet"),
    Mutant("flip_data_wrong_flip", "make_flip_data",
           (("X[:, [3, 2, 1, 0]]", "X[:, [0, 2, 1, 3]]"),), "q8_flipnet"),
    Mutant("flipnet_loss_summed", "train_flipnet",
           (("torch.mean((model(X[i]) - Y[i]) ** 2)", "torch.sum((model(X[i]) - Y[i]) ** 2)"),),
           "q8_flipnet", "flipnet_loss_summed"),
    Mutant("missing_zero_grad", "train_flipnet",
           (("optimizer.zero_grad()", "pass"),), "q8_flipnet", "missing_zero_grad"),
    Mutant("flipnets_not_identical", "compare_optimizers",
           (("model_adam.load_state_dict(model_mom.state_dict())", "pass"),), "q8_flipnet",
           "flipnets_not_identical"),
    Mutant("scratch_decay_not_scaled", "ScratchAdamW",
           (('p.mul_(1 - group["lr"] * group["weight_decay"])',
             'p.mul_(1 - group["weight_decay"])'),), "q9_scratch_adamw"),
    Mutant("scratch_state_names", "ScratchAdamW",
           (('state["exp_avg"]', 'state["m"]'), ('state["exp_avg_sq"]', 'state["v"]')),
           "q9_scratch_adamw"),
    Mutant("scratch_no_closure", "ScratchAdamW",
           (("loss = closure()", "closure()"),), "q9_scratch_adamw"),
    Mutant("warmup_off_by_one", "warmup_cosine_lr",
           (("return lr_max * step / warmup_steps", "return lr_max * (step + 1) / warmup_steps"),),
           "q10_recipe", "warmup_off_by_one"),
    Mutant("cosine_ignores_lr_min", "warmup_cosine_lr",
           (("return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))",
             "return 0.5 * lr_max * (1 + math.cos(math.pi * progress))"),), "q10_recipe",
           "cosine_ignores_lr_min"),
    Mutant("clip_per_tensor", "clip_grad_norm",
           (("return [np.asarray(g) * scale for g in grads], total_norm",
             "return [np.asarray(g) * min(1.0, max_norm / (np.linalg.norm(np.ravel(g)) + 1e-6)) "
             "for g in grads], total_norm"),), "q10_recipe", "clip_per_tensor"),
    Mutant("biases_in_decay_group", "decay_param_groups",
           (("if p.ndim >= 2]", "if p.ndim >= 1]"), ("if p.ndim < 2]", "if p.ndim < 1]")),
           "q10_recipe", "biases_in_decay_group"),
    Mutant("gb_as_gib", "adam_memory_gb",
           (("n_params * b / 1e9", "n_params * b / 2**30"),), "q10_recipe", "gb_as_gib"),
    Mutant("answer_decoupled_wrong", "ANSWER_DECOUPLED",
           (('"adamw"', '"adam_l2"'),), "q11_concepts"),
    Mutant("answer_flipnet_wrong", "ANSWER_FLIPNET_WINNER",
           (('"momentum"', '"adam"'),), "q11_concepts"),
    Mutant("lion_sign_of_new_momentum", "lion_step",
           (("u = np.sign(beta1 * m + (1 - beta1) * grad)",
             "u = np.sign(beta2 * m + (1 - beta2) * grad)"),), "bonus_variants",
           "lion_sign_of_momentum"),
    Mutant("lamb_no_trust_ratio", "lamb_step",
           (("return w - lr * ratio * u, m_new, v_new", "return w - lr * u, m_new, v_new"),),
           "bonus_variants", "lamb_no_trust_ratio"),
    Mutant("quantize_255", "quantize_blockwise",
           (("flat / safe * 127", "flat / safe * 255"),), "bonus_variants"),
)

KILLED: dict[str, bool] = {}


def test_mutants_are_many_and_distinct():
    assert len(MUTANTS) >= 25
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_costs_points_in_its_own_question_only(mutant: Mutant):
    source = mutate(solution(), mutant.function, list(mutant.replacements))
    results = grade(namespace_from(source), seed=zlib.crc32(mutant.id.encode()) % 10_000, source=source)
    got, expected = points(results), full_marks()
    lost_elsewhere = {q: p for q, p in got.items() if q != mutant.question and p != expected[q]}
    killed = got[mutant.question] < expected[mutant.question]
    KILLED[mutant.id] = killed and not lost_elsewhere
    assert killed, f"{mutant.id} survived"
    assert not lost_elsewhere, (lost_elsewhere, failures(results))
    if mutant.diagnosis:
        labels = {c.diagnosis for c in results[mutant.question].checks if not c.passed}
        assert mutant.diagnosis in labels, (labels, failures(results))
        texts = [c.message for c in results[mutant.question].checks
                 if c.diagnosis == mutant.diagnosis]
        assert all("known mistake" in t for t in texts)


def test_mutation_score(capsys):
    """Prints killed/total for the mutants run in this session (shown without -s)."""
    if not KILLED:
        pytest.skip("no mutants ran in this selection")
    killed = sum(KILLED.values())
    with capsys.disabled():
        print(f"\nmutation score: {killed}/{len(KILLED)} mutants killed in their own question "
              "only")
    assert killed == len(KILLED)
