# ruff: noqa  (student code, written the way students write it; not linted)
"""q11 computed from the student's own functions rather than typed."""


# %% ANSWER_1D_WINNER
def _final_loss(name):
    w, vel = 5.0, 0.0
    if name == "adam":
        return adam_trace()[-1]["w"] ** 2
    for _ in range(8):
        if name == "sgd":
            w = sgd_step(w, 2 * w, 0.01)
        else:
            w, vel = momentum_step(w, 2 * w, vel, 0.01)
    return float(w) ** 2


ANSWER_1D_WINNER = min(["sgd", "momentum", "adam"], key=_final_loss)
_cpu_curves = compare_optimizers()
ANSWER_FLIPNET_WINNER = min(_cpu_curves, key=lambda k: _cpu_curves[k][-1])
ANSWER_DECOUPLED = "adamw"
print(ANSWER_1D_WINNER, ANSWER_FLIPNET_WINNER, ANSWER_DECOUPLED)
