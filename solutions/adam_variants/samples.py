"""Sample submissions: real notebooks made from the released one by filling its stubs.

``python -m autograder samples`` (``make samples``) regenerates ``submissions/``:

* ``correct.ipynb``: complete and correct; several functions written differently
  from the solution.
* ``blank.ipynb``: the released notebook untouched.
* ``no_bias_correction.ipynb``: ``adam_step`` without bias correction; the rest
  correct (``adam_l2_step``/``adamw_step`` call ``adam_step``, so a grader
  without substitution would also fail them).
* ``adamw_as_l2.ipynb``: ``adamw_step`` folds the decay into the gradient, and
  ``train_flipnet`` sums the squared errors instead of averaging them.
* ``broken_syntax.ipynb``: correct except a syntax error in the q3 cell.

Every stubbed cell of the released notebook is matched, by position, with the
solution cell it came from (the release keeps the cell order); its source is the
solution's with the marker lines removed, unless a variant below replaces it.
The generator is deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import ast
import copy
from pathlib import Path

import nbformat

from autograder.assignment.model import SUBMISSIONS as SUBMISSIONS_DIR
from autograder.assignment.model import load
from autograder.assignment.notebook import read_notebook
from autograder.assignment.release import BEGIN_CODE, END_CODE, notebook_text

ASSIGNMENT = load(str(Path(__file__).resolve().parent))
FREE_RESPONSE_TAG = ASSIGNMENT.free_response_tag
SOLUTION_NOTEBOOK = ASSIGNMENT.solution_notebook
RELEASED_NOTEBOOK = ASSIGNMENT.released_notebook

# ---------------------------------------------------------------- alternative cells
# Correct implementations written differently from the solution, keyed by the
# first name the cell defines.
ALTERNATIVES: dict[str, str] = {
    "sgd_step": '''
def sgd_step(w, grad, lr):
    """Gradient descent step."""
    step = lr * grad
    return w - step
''',
    "momentum_step": '''
def momentum_step(w, grad, velocity, lr, beta=0.9):
    """Heavy ball (PyTorch convention)."""
    v = velocity * beta + grad
    return w - v * lr, v
''',
    "adagrad_step": '''
def adagrad_step(w, grad, accum, lr, eps=1e-8):
    """AdaGrad."""
    acc = accum + grad * grad
    denom = np.sqrt(acc) + eps
    return w - lr * grad / denom, acc
''',
    "adam_trace": '''
def adam_trace(w0=5.0, lr=0.01, steps=8, beta1=0.9, beta2=0.999, eps=1e-8):
    """The chapter's loop, written out."""
    out = []
    w, m, v = w0, 0.0, 0.0
    for t in range(1, steps + 1):
        g = 2.0 * w
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        m_hat = m / (1.0 - beta1 ** t)
        v_hat = v / (1.0 - beta2 ** t)
        step = lr * m_hat / (v_hat ** 0.5 + eps)
        w = w - step
        out.append(dict(t=float(t), grad=g, m=m, v=v, m_hat=m_hat, v_hat=v_hat,
                        step=step, w=w))
    return out
''',
    "rosenbrock": '''
def rosenbrock(x, y):
    """Banana function."""
    a = 1 - x
    b = y - x * x
    return a * a + 100 * b * b


def rosenbrock_grad(x, y):
    """Its gradient."""
    b = y - x * x
    return 2 * (x - 1) - 400 * x * b, 200 * b
''',
    "optimize_rosenbrock": '''
def optimize_rosenbrock(optimizer, lr, steps, start=(-1.2, 1.0), **hparams):
    """Run one optimizer from start; return the (steps+1, 2) path."""
    if optimizer not in ("sgd", "momentum", "rmsprop", "adam"):
        raise ValueError(optimizer)
    xy = np.asarray(start, dtype=np.float64)
    buf1 = np.zeros(2)
    buf2 = np.zeros(2)
    path = np.empty((steps + 1, 2))
    path[0] = xy
    for t in range(1, steps + 1):
        g = np.asarray(rosenbrock_grad(*xy))
        if optimizer == "sgd":
            xy = sgd_step(xy, g, lr)
        elif optimizer == "momentum":
            xy, buf1 = momentum_step(xy, g, buf1, lr, **hparams)
        elif optimizer == "rmsprop":
            xy, buf1 = rmsprop_step(xy, g, buf1, lr, **hparams)
        else:
            xy, buf1, buf2 = adam_step(xy, g, buf1, buf2, t, lr, **hparams)
        path[t] = xy
    return path
''',
    "warmup_cosine_lr": '''
def warmup_cosine_lr(step, lr_max, total_steps, warmup_steps, lr_min=0.0):
    """Warmup then cosine."""
    if step >= total_steps:
        return lr_min
    if step <= warmup_steps:
        return lr_max * step / warmup_steps if warmup_steps else lr_max
    frac = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * frac)) / 2
''',
    "clip_grad_norm": '''
def clip_grad_norm(grads, max_norm):
    """Global-norm clipping."""
    arrays = [np.array(g, dtype=np.float64) for g in grads]
    norm = math.sqrt(sum(float((a * a).sum()) for a in arrays))
    factor = max_norm / (norm + 1e-6)
    if factor > 1.0:
        factor = 1.0
    return [a * factor for a in arrays], norm
''',
    "adam_memory_gb": '''
def adam_memory_gb(n_params, mixed_precision=False):
    """Bytes per parameter times the count, in GB."""
    half = 2 if mixed_precision else 4
    gb = n_params / 1e9
    weights, grads, m, v = half * gb, half * gb, 4 * gb, 4 * gb
    return {"weights": weights, "adam_m": m, "adam_v": v, "grads": grads,
            "total": weights + grads + m + v}
''',
}

NO_BIAS_CORRECTION_ADAM = '''
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam, forgetting the bias correction."""
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new
'''

ADAMW_AS_L2 = '''
def adamw_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
               weight_decay=0.01):
    """'AdamW' that is really Adam + L2: the decay goes into the gradient."""
    return adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, beta2, eps)
'''

SUMMED_LOSS_TRAIN = '''
def train_flipnet(model, optimizer, X, Y, epochs=30):
    """Trains with the summed squared error instead of the mean."""
    history = []
    for _ in range(epochs):
        total = 0.0
        for i in range(len(X)):
            loss = torch.sum((model(X[i]) - Y[i]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(total / len(X))
    return history
'''

FREE_RESPONSE_ANSWER = (
    "With L2 in Adam the decay term is added to the gradient, so it is divided by "
    "sqrt(v_hat) like the gradient: parameters with large gradients are hardly decayed and "
    "parameters with small gradients are decayed a lot. AdamW subtracts lr * weight_decay * w "
    "from the weights directly, outside the adaptive scaling, so every weight shrinks by the "
    "same factor each step and the regularisation strength no longer depends on the gradient "
    "history. That is why large transformers are trained with AdamW."
)

SAMPLE_NAMES = ("correct", "blank", "no_bias_correction", "adamw_as_l2", "broken_syntax")


def _without_markers(source: str) -> str:
    """A solution cell's source with its marker lines removed."""
    return "\n".join(
        line for line in source.split("\n") if line.strip() not in (BEGIN_CODE, END_CODE)
    )


def _first_name(source: str) -> str | None:
    """The first function, class or constant a cell defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return node.name
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id
    return None


def _solved_sources(
    solution: nbformat.NotebookNode, released: nbformat.NotebookNode
) -> dict[int, str]:
    """Cell index -> the solution's source, for every released cell that differs."""
    if len(solution.cells) != len(released.cells):
        raise ValueError("the released notebook is stale: run `python -m autograder release`")
    out: dict[int, str] = {}
    for index, sol in enumerate(solution.cells):
        if sol.cell_type == "code" and BEGIN_CODE in sol.source:
            out[index] = _without_markers(sol.source)
    return out


def _fill(
    released: nbformat.NotebookNode,
    solved: dict[int, str],
    replace: dict[str, str],
    free_response: str | None,
) -> nbformat.NotebookNode:
    """The released notebook with solved cells, ``replace`` overriding by first name."""
    nb = copy.deepcopy(released)
    for index, source in solved.items():
        name = _first_name(source)
        nb.cells[index].source = replace.get(name, source).strip("\n") if name else source
    if free_response is not None:
        for cell in nb.cells:
            if FREE_RESPONSE_TAG in cell.metadata.get("tags", []):
                cell.source = free_response
    return nb


def _break_syntax(nb: nbformat.NotebookNode, question_id: str) -> nbformat.NotebookNode:
    """Drop the colon of the first ``def`` line of the question's first tagged cell."""
    for cell in nb.cells:
        if cell.cell_type == "code" and question_id in cell.metadata.get("tags", []):
            lines = cell.source.split("\n")
            for i, line in enumerate(lines):
                if line.startswith("def ") and line.rstrip().endswith(":"):
                    lines[i] = line.rstrip()[:-1]
                    cell.source = "\n".join(lines)
                    return nb
    raise ValueError(f"no def line in a {question_id} cell")


def build_samples(
    solution: nbformat.NotebookNode, released: nbformat.NotebookNode
) -> dict[str, nbformat.NotebookNode]:
    """The sample submissions by name (see the module docstring)."""
    solved = _solved_sources(solution, released)
    correct = dict(ALTERNATIVES)
    samples = {
        "correct": _fill(released, solved, correct, FREE_RESPONSE_ANSWER),
        "blank": copy.deepcopy(released),
        "no_bias_correction": _fill(
            released,
            solved,
            {**correct, "adam_step": NO_BIAS_CORRECTION_ADAM},
            FREE_RESPONSE_ANSWER,
        ),
        "adamw_as_l2": _fill(
            released,
            solved,
            {**correct, "adamw_step": ADAMW_AS_L2, "train_flipnet": SUMMED_LOSS_TRAIN},
            FREE_RESPONSE_ANSWER,
        ),
        "broken_syntax": _break_syntax(
            _fill(released, solved, correct, FREE_RESPONSE_ANSWER), "q3_rmsprop"
        ),
    }
    return samples


def write_samples(
    out_dir: str | Path = SUBMISSIONS_DIR,
    solution: str | Path = SOLUTION_NOTEBOOK,
    released: str | Path = RELEASED_NOTEBOOK,
) -> list[Path]:
    """Write every sample notebook into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, nb in build_samples(read_notebook(solution), read_notebook(released)).items():
        nbformat.validate(nb)
        path = out_dir / f"{name}.ipynb"
        path.write_text(notebook_text(nb), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m autograder samples [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m autograder samples", description=__doc__)
    parser.add_argument("--out", default=str(SUBMISSIONS_DIR), help="folder to write")
    args = parser.parse_args(argv)
    for path in write_samples(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
