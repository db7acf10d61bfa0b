"""bonus_variants (10 extra points): Lion, LAMB, Adafactor's factored moment, blockwise int8."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.student import StudentError

from . import oracles
from .harness import Case, check_cases, close, draw, fail, numeric, uniform


def _sign_sensitive(rng, m: np.ndarray, beta1: float, beta2: float) -> np.ndarray:
    """Gradients against the momentum whose ratio |g|/|m| puts the Lion mistakes on the other
    side of zero: half the elements between beta1*beta2/(1 - beta1*beta2) and
    beta1/(1 - beta1) (there the sign flips when m is updated before the interpolation),
    half between beta1/(1 - beta1) and beta2/(1 - beta2) (there it flips when beta2
    interpolates)."""
    low, mid, high = (beta1 * beta2 / (1 - beta1 * beta2), beta1 / (1 - beta1), beta2 / (1 - beta2))
    ratio = np.where(
        np.arange(m.size).reshape(m.shape) % 2 == 0,
        low + (mid - low) * rng.uniform(0.2, 0.8, size=m.shape),
        mid + (high - mid) * rng.uniform(0.2, 0.8, size=m.shape),
    )
    return -ratio * m


@pytest.mark.points(2)
def test_lion_step(student, rng):
    """u = sign(beta1 m + (1-beta1) g); decoupled decay scaled by lr; m updated with beta2;
    gradients placed where the order of the two momentum formulas flips the sign."""
    cases = []
    situations = (
        ((), 1e-6, np.float64, {}, "Python floats with the defaults"),
        ((6,), 1.0, np.float64, "betas", "given betas and weight decay"),
        ((3, 4), 10.0, np.float32, "decay", "float32 arrays with weight decay"),
        ((2, 2, 2), 1e-3, np.float64, "betas", "small values with given betas"),
    )
    for shape, scale, dtype, hp, what in situations:
        kwargs = {}
        if hp:
            kwargs = {"lr": uniform(rng, 1e-4, 1e-2), "weight_decay": uniform(rng, 0.1, 1.0)}
        if hp == "betas":
            kwargs.update(beta1=uniform(rng, 0.5, 0.95), beta2=uniform(rng, 0.9, 0.999))
        cases.append(
            Case(
                (
                    draw(rng, shape, 1.0, dtype),
                    draw(rng, shape, scale, dtype),
                    draw(rng, shape, scale, dtype),
                ),
                kwargs,
                what=what,
            )
        )
    for shape, hp, what in (
        ((8,), {}, "gradients against the momentum, the defaults"),
        (
            (6,),
            {"beta1": uniform(rng, 0.6, 0.9), "beta2": uniform(rng, 0.95, 0.995)},
            "gradients against the momentum, given betas",
        ),
    ):
        m = draw(rng, shape, 1.0)
        g = _sign_sensitive(rng, m, hp.get("beta1", 0.9), hp.get("beta2", 0.99))
        cases.append(Case((draw(rng, shape, 1.0), g, m), hp, what=what))
    check_cases(student, "lion_step", cases, oracles.lion, ("w_new", "m_new"))


@pytest.mark.points(3)
def test_lamb_step(student, rng):
    """The Adam direction plus decay, scaled by one trust ratio ||w|| / ||u|| per array."""
    cases = []
    for i, shape in enumerate(((8,), (3, 4), (2, 3, 2))):
        dtype = np.float32 if i == 1 else np.float64
        w = draw(rng, shape, float(rng.choice([0.1, 1.0, 10.0])), dtype)
        g = draw(rng, shape, 1.0, dtype)
        m = draw(rng, shape, 1.0, dtype)
        v = draw(rng, shape, 1.0, dtype, positive=True)
        cases.append(
            Case(
                (w, g, m, v, int(rng.integers(1, 100))),
                {"lr": float(rng.uniform(1e-3, 1e-1)), "weight_decay": float(rng.uniform(0, 0.1))}
                if i
                else {},
            )
        )
    z = np.zeros(5)
    cases.append(
        Case(
            (z, draw(rng, (5,), 1.0), z, z, 1),
            {"weight_decay": 0.0},
            what="a zero weight (trust ratio 1)",
        )
    )
    check_cases(student, "lamb_step", cases, oracles.lamb, ("w_new", "m_new", "v_new"))


@pytest.mark.points(2)
def test_factored_second_moment(student, rng):
    """Running row/column means of grad**2 and outer(row, col) / mean(row)."""
    cases = []
    for n, k in ((3, 5), (6, 2), (4, 4)):
        gs = np.abs(draw(rng, (n, k), float(rng.choice([1e-3, 1.0, 10.0]))))
        row = np.abs(draw(rng, (n,), 1.0))
        col = np.abs(draw(rng, (k,), 1.0))
        cases.append(
            Case((gs, row, col), {"beta2": float(rng.uniform(0.9, 0.999))} if n == 6 else {})
        )
    check_cases(
        student,
        "factored_second_moment",
        cases,
        oracles.factored,
        ("v_approx", "row_new", "col_new"),
    )


@pytest.mark.points(2)
def test_quantize_blockwise(student, rng):
    """int8 codes in [-127, 127], per-block absmax scales, round trip within absmax/127."""
    for shape, block in (((10, 13), 64), ((200,), int(rng.integers(16, 50))), ((3, 3), 4)):
        x = rng.normal(size=shape) * float(rng.choice([1e-3, 1.0, 100.0]))
        if x.size > block:
            x.reshape(-1)[:block] = 0.0  # a whole block of zeros
        args = (x, block) if block != 64 else (x,)
        value = student.call("quantize_blockwise", *args)
        if not isinstance(value, list) or len(value) != 2:
            fail("`quantize_blockwise` should return (codes, scales).")
        codes, scales = value
        if not isinstance(codes, np.ndarray) or codes.dtype != np.int8 or codes.shape != (x.size,):
            fail("`codes` should be a flat int8 array with one code per value.")
        if np.abs(codes.astype(int)).max() > 127:
            fail("Codes must lie in [-127, 127].", "quantize_wrong_range")
        exp_scales = oracles.block_absmax(x, block)
        if not close(scales, exp_scales, 1e-6):
            one = numeric(scales)
            label = (
                "quantize_one_block"
                if one is not None
                and one.size == 1
                or (one is not None and np.allclose(one, np.abs(x).max()))
                else ""
            )
            fail(
                "`scales` should hold each block's absolute maximum (the last block may be "
                "shorter).",
                label,
            )
        per_value = np.repeat(exp_scales, block)[: x.size]
        x_hat = codes.astype(np.float64) * per_value / 127
        if np.any(np.abs(x_hat - x.reshape(-1)) > per_value / 127 + 1e-12):
            scaled = np.round(x.reshape(-1) / np.where(per_value > 0, per_value, 1) * 255)
            label = (
                "quantize_wrong_range"
                if any(
                    np.array_equal(codes, c)
                    for c in (
                        np.clip(scaled, -127, 127).astype(np.int8),
                        scaled.astype(np.int64).astype(np.int8),
                    )
                )
                else ""
            )
            fail("Decoding codes * absmax / 127 does not come back within absmax/127 of x.", label)


@pytest.mark.points(1)
def test_dequantize_blockwise(student, rng):
    """codes * absmax / 127 per block, reshaped; a block of zeros comes back as zeros. The
    size is never a multiple of the block (the last block is shorter under every seed), and
    a second call has whole blocks only."""
    shape = (5, 9)
    size = int(np.prod(shape))
    short = int(rng.choice([b for b in range(8, 20) if size % b]))
    whole = int(rng.choice([b for b in range(3, 16) if size % b == 0]))
    results = []
    for block in (short, whole):
        codes = rng.integers(-127, 128, size=size).astype(np.int8)
        scales = np.abs(rng.normal(size=-(-size // block))) + 0.1
        scales[0] = 0.0
        codes[:block] = 0
        expected = (codes.astype(np.float64) * np.repeat(scales, block)[:size] / 127).reshape(shape)
        try:
            got = numeric(student.call("dequantize_blockwise", codes, scales, list(shape), block))
        except StudentError as exc:
            if exc.kind != "raised":
                raise
            got = exc
        results.append((block, got, expected))
    (_, short_got, short_exp), (_, whole_got, whole_exp) = results
    whole_ok = (
        not isinstance(whole_got, StudentError)
        and whole_got is not None
        and whole_got.shape == shape
        and close(whole_got, whole_exp, 1e-6)
    )
    for got, expected in ((short_got, short_exp), (whole_got, whole_exp)):
        if isinstance(got, StudentError):
            if whole_ok:
                fail(
                    "`dequantize_blockwise` fails when the size is not a multiple of the "
                    "block (the last block is shorter); with whole blocks it is right.",
                    "dequantize_last_block",
                )
            raise got
        if got is None or got.shape != shape or not close(got, expected, 1e-6):
            fail(
                "`dequantize_blockwise` should return codes * absmax / 127 (per block), "
                "reshaped"
                + ("; it is right when the size is a multiple of the block." if whole_ok else "."),
                "dequantize_last_block" if whole_ok else "",
            )
