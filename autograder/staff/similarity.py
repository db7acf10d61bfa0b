"""Code similarity between submissions: MOSS-style winnowing with an inverted index.

For staff who look for copying (what Gradescope's code similarity or MOSS give a
course). It reads the notebook files themselves (JSON, never executed), keeps each
student's own code and compares every pair of submissions:

1. **Own code only.** Code cells identical to a cell of the released notebook
   (imports, demos, ``check(...)`` cells) are dropped; magics (``%``, ``!``) too.
2. **Normalised tokens.** A small Python lexer drops comments, docstrings and
   whitespace; every identifier becomes ``V`` except keywords, builtins, the usual
   module names (``np``, ``torch``, ...) and attribute names after a dot; strings
   become ``S``; numbers their value (``2`` and ``2.0`` alike). Renaming variables,
   adding comments or re-indenting changes nothing.
3. **Winnowing** (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for
   document fingerprinting", SIGMOD 2003, the algorithm behind MOSS): every run of
   :data:`K` tokens is hashed; in each window of :data:`WINDOW` consecutive hashes
   the smallest is kept. Any match of at least ``K + WINDOW - 1`` tokens shares a
   fingerprint, wherever it sits, so reordered functions still match.
4. **Boilerplate removed.** Every k-gram hash of the released notebook's code is
   removed from every submission, and so is a fingerprint that more than
   :func:`common_limit` submissions share (MOSS's ``-m``): code most of the class
   writes alike is not evidence of copying.
5. **Inverted index.** Fingerprints are grouped by hash (a sort), and only
   submissions that share a fingerprint are ever paired, so the work grows with
   the shared fingerprints, not with all N² pairs of files.

A pair's ``similarity`` is ``shared / sqrt(n_a * n_b)`` (the cosine of the two
fingerprint sets: 1 for identical code, and a small submission that shares a few
lines with a large one stays low); ``a_in_b`` and ``b_in_a`` say which share of
each submission's fingerprints the other one has. A pair is flagged when its
similarity is at least :data:`FLAG_THRESHOLD` and it shares at least
:data:`MIN_SHARED` fingerprints. A flag is a reason to read both notebooks, not a
verdict.
"""

from __future__ import annotations

import builtins
import json
import keyword
import math
import re
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograder.assignment.notebook import read_notebook_bytes
from autograder.staff.atomic import write_text_atomic
from autograder.staff.csv_cells import table

K = 12
"""Tokens per hashed k-gram (the noise threshold: shorter matches are ignored)."""
WINDOW = 8
"""Hashes per winnowing window: every match of K + WINDOW - 1 = 19 tokens is found."""
FLAG_THRESHOLD = 0.5
"""Similarity from which a pair is flagged in the report."""
MIN_SHARED = 10
"""Fewest shared fingerprints for a flag (two near-empty notebooks are not a case)."""
COMMON_SHARE = 0.2
"""A fingerprint in more than this share of the submissions (and more than
COMMON_MIN of them) counts as common code, like the template."""
COMMON_MIN = 10
MAX_CODE_CHARS = 300_000
"""Code of one submission beyond this many characters is not compared."""
CSV_COLUMNS = (
    "submission_a",
    "submission_b",
    "similarity",
    "a_in_b",
    "b_in_a",
    "shared_fingerprints",
    "flagged",
)
FILE_NAME = "similarity.csv"
_PAIR_CHUNK = 4_000_000

_TOKEN = re.compile(
    r"""
 (?P<nl>\r?\n)
|(?P<ws>[ \t\f]+|\\\r?\n)
|(?P<comment>\#[^\r\n]*)
|(?P<string>[rRbBuUfF]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                           |'(?:\\.|[^'\\\r\n])*'|"(?:\\.|[^"\\\r\n])*"))
|(?P<number>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+
            |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)
|(?P<name>[^\W\d]\w*)
|(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%&|^@<>!=]=|[-+*/%&|^~@<>=.,:;()\[\]{}])
|(?P<other>.)
""",
    re.VERBOSE | re.DOTALL,
)
_KEPT_NAMES = (
    frozenset(keyword.kwlist)
    | frozenset(dir(builtins))
    | {"np", "numpy", "torch", "nn", "F", "math", "plt", "optim", "self"}
)
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_HASH_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)


# ---------------------------------------------------------------- reading code
def _template(released: Path) -> tuple[frozenset[str], np.ndarray]:
    """The released notebook: its normalised code cells and every k-gram hash of its code."""
    return _template_of(str(released))


@lru_cache(maxsize=4)
def _template_of(path: str) -> tuple[frozenset[str], np.ndarray]:
    cells = code_cells(json.loads(Path(path).read_text(encoding="utf-8")))
    ids, _ = tokenize("\n\n".join(cells))
    return frozenset(_normalise_cell(c) for c in cells), np.unique(_kgram_hashes(ids))


def _normalise_cell(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def code_cells(nb: object) -> list[str]:
    """The source of every code cell of a notebook read as JSON; ValueError if it is none."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("not a notebook (no list of cells)")
    cells = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            cells.append(source)
    return cells


def own_code(nb_bytes: bytes, released: Path) -> str:
    """The student's own code: code cells that differ from those of the ``released``
    notebook, without magics, cut to MAX_CODE_CHARS."""
    template_cells, _ = _template(released)
    kept = []
    for source in code_cells(json.loads(nb_bytes.decode("utf-8", errors="replace"))):
        if _normalise_cell(source) in template_cells:
            continue
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        kept.append("\n".join(lines).strip("\n"))
    return "\n\n".join(k for k in kept if k.strip())[:MAX_CODE_CHARS]


# ---------------------------------------------------------------- tokens and fingerprints
@lru_cache(maxsize=65536)
def _token_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) + 1


def _number(text: str) -> str:
    text = text.replace("_", "")
    try:
        if text[:2].lower() in ("0x", "0o", "0b"):
            return repr(float(int(text, 0)))
        return repr(float(text))
    except (ValueError, OverflowError):
        return "N"


def tokenize(code: str) -> tuple[list[int], list[int]]:
    """Normalised token ids of ``code`` and the 1-based line of each token."""
    ids: list[int] = []
    lines: list[int] = []
    line, depth, line_start, previous = 1, 0, 0, ""
    for match in _TOKEN.finditer(code):
        kind, text = match.lastgroup, match.group()
        if kind == "nl":
            if depth == 0:
                if len(ids) - line_start == 1 and previous == "S":  # a docstring statement
                    ids.pop()
                    lines.pop()
                line_start = len(ids)
            line += 1
            continue
        if kind in ("ws", "comment"):
            line += text.count("\n")
            continue
        if kind == "string":
            token = "S"
        elif kind == "number":
            token = _number(text)
        elif kind == "name":
            token = text if text in _KEPT_NAMES or previous == "." else "V"
        else:
            token = text
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE:
                depth = max(0, depth - 1)
        ids.append(_token_id(token))
        lines.append(line)
        line += text.count("\n")
        previous = token
    if len(ids) - line_start == 1 and previous == "S":
        ids.pop()
        lines.pop()
    return ids, lines


def _kgram_hashes(ids: Sequence[int]) -> np.ndarray:
    """A hash of every run of K tokens (a polynomial rolling hash, then mixed)."""
    n = len(ids) - K + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    tokens = np.asarray(ids, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    for j in range(K):
        h = h * _HASH_BASE + tokens[j : j + n]
    h ^= h >> np.uint64(29)
    h *= _MIX
    h ^= h >> np.uint64(32)
    return h


def winnow(hashes: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Positions of the fingerprints: in each window, the rightmost smallest hash."""
    n = len(hashes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= window:
        return np.array([n - 1 - int(np.argmin(hashes[::-1]))])
    windows = sliding_window_view(hashes, window)[:, ::-1]
    chosen = np.arange(n - window + 1) + (window - 1 - np.argmin(windows, axis=1))
    return np.unique(chosen)


@dataclass
class Document:
    """One submission's code, its token lines and its fingerprints."""

    submission: str
    code: str
    token_lines: np.ndarray
    hashes: np.ndarray
    """The selected fingerprint hashes, in code order (template hashes removed)."""
    positions: np.ndarray
    """The token index where each fingerprint's k-gram starts."""

    def lines_of(self, wanted: np.ndarray) -> set[int]:
        """The code lines covered by the k-grams of the fingerprints in ``wanted``."""
        lines: set[int] = set()
        for pos in self.positions[np.isin(self.hashes, wanted)]:
            lines.update(self.token_lines[pos : pos + K].tolist())
        return lines


def fingerprint(submission: str, code: str, released: Path) -> Document:
    """The winnowed fingerprints of ``code``, less every k-gram of the ``released``
    notebook."""
    _, template_hashes = _template(released)
    ids, lines = tokenize(code)
    hashes = _kgram_hashes(ids)
    positions = winnow(hashes)
    selected = hashes[positions]
    keep = ~np.isin(selected, template_hashes)
    return Document(
        submission, code, np.asarray(lines, dtype=np.int32), selected[keep], positions[keep]
    )


# ---------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Pair:
    """Two submissions and how much of their code they share."""

    a: str
    b: str
    similarity: float
    a_in_b: float
    b_in_a: float
    shared: int
    flagged: bool


@dataclass
class SimilarityReport:
    """Every pair of compared submissions, most similar first (as parallel arrays: a class
    of 1,000 has 499,500 pairs)."""

    names: list[str]
    first: np.ndarray
    """Index into ``names`` of each pair's first submission (the one first by name)."""
    second: np.ndarray
    shared: np.ndarray
    similarity: np.ndarray
    a_in_b: np.ndarray
    b_in_a: np.ndarray
    documents: dict[str, Document]
    not_compared: list[tuple[str, str]] = field(default_factory=list)
    common: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    """Fingerprints left out as common code (shared by too many submissions)."""
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.first)

    @property
    def is_flagged(self) -> np.ndarray:
        return (self.similarity >= FLAG_THRESHOLD) & (self.shared >= MIN_SHARED)

    def pair(self, k: int) -> Pair:
        """The ``k``-th most similar pair."""
        return Pair(
            self.names[int(self.first[k])],
            self.names[int(self.second[k])],
            float(self.similarity[k]),
            float(self.a_in_b[k]),
            float(self.b_in_a[k]),
            int(self.shared[k]),
            bool(self.is_flagged[k]),
        )

    def top(self, count: int) -> list[Pair]:
        """The ``count`` most similar pairs."""
        return [self.pair(k) for k in range(min(count, len(self)))]

    @property
    def flagged(self) -> list[Pair]:
        return [self.pair(int(k)) for k in np.flatnonzero(self.is_flagged)]

    def csv_rows(self) -> Iterable[tuple[str, ...]]:
        """The rows of ``similarity.csv`` (names guarded against spreadsheet formulas)."""
        from autograder.staff.csv_cells import guard

        names = [guard(n) for n in self.names]
        flags = np.where(self.is_flagged, "yes", "").tolist()
        for i, j, sim, ab, ba, shared, flag in zip(
            self.first.tolist(),
            self.second.tolist(),
            self.similarity.tolist(),
            self.a_in_b.tolist(),
            self.b_in_a.tolist(),
            self.shared.tolist(),
            flags,
            strict=True,
        ):
            yield names[i], names[j], f"{sim:.4f}", f"{ab:.4f}", f"{ba:.4f}", str(shared), flag

    def shared_lines(self, pair: Pair) -> tuple[set[int], set[int]]:
        """The lines of a and of b that their shared fingerprints cover."""
        a, b = self.documents[pair.a], self.documents[pair.b]
        shared = np.setdiff1d(np.intersect1d(a.hashes, b.hashes), self.common)
        return a.lines_of(shared), b.lines_of(shared)


def common_limit(n_documents: int) -> int:
    """Most submissions a fingerprint may be in before it counts as common code."""
    return max(COMMON_MIN, math.ceil(COMMON_SHARE * n_documents))


def compare(documents: Sequence[Document]) -> SimilarityReport:
    """Every pair of ``documents`` by shared fingerprints (see the module docstring);
    ``documents`` come sorted by submission name."""
    start = time.perf_counter()
    n = len(documents)
    unique = [np.unique(d.hashes) for d in documents]
    sizes = np.array([len(u) for u in unique], dtype=np.int64)
    overlap = np.zeros((n, n), dtype=np.int64)
    common = np.zeros(0, dtype=np.uint64)
    if n >= 2:
        owner = np.concatenate([np.full(len(u), i, dtype=np.int64) for i, u in enumerate(unique)])
        hashes = np.concatenate(unique)
        order = np.argsort(hashes, kind="stable")
        hashes, owner = hashes[order], owner[order]
        distinct, first, counts = np.unique(hashes, return_index=True, return_counts=True)
        limit = common_limit(n)
        common = distinct[counts > limit]
        if len(common):  # common code counts for nobody
            sizes -= np.bincount(owner[np.isin(hashes, common)], minlength=n)
        flat = overlap.reshape(-1)
        shared_groups = (counts >= 2) & (counts <= limit)
        for size in np.unique(counts[shared_groups]):
            starts = first[shared_groups & (counts == size)]
            upper_i, upper_j = np.triu_indices(int(size), 1)
            step = max(1, _PAIR_CHUNK // len(upper_i))
            for lo in range(0, len(starts), step):
                members = owner[starts[lo : lo + step, None] + np.arange(size)]
                a, b = members[:, upper_i].ravel(), members[:, upper_j].ravel()
                flat += np.bincount(np.minimum(a, b) * n + np.maximum(a, b), minlength=n * n)
    i, j = np.triu_indices(n, 1)
    shared = overlap[i, j]
    size_i, size_j = np.maximum(sizes[i], 1), np.maximum(sizes[j], 1)
    similarity = np.round(np.minimum(1.0, shared / np.sqrt(size_i * size_j)), 4)
    order = np.lexsort((j, i, -shared, -similarity))
    return SimilarityReport(
        names=[d.submission for d in documents],
        first=i[order],
        second=j[order],
        shared=shared[order],
        similarity=similarity[order],
        a_in_b=np.round(shared / size_i, 4)[order],
        b_in_a=np.round(shared / size_j, 4)[order],
        documents={d.submission: d for d in documents},
        common=common,
        seconds=time.perf_counter() - start,
    )


def load_documents(
    notebooks: Iterable[tuple[str, Path]], released: Path
) -> tuple[list[Document], list[tuple[str, str]]]:
    """The fingerprinted documents of ``(submission, notebook path)`` (less what the
    ``released`` notebook holds), and those not read."""
    documents, not_compared = [], []
    for submission, path in notebooks:
        try:
            code = own_code(read_notebook_bytes(path), released)
            documents.append(fingerprint(submission, code, released))
        except (OSError, ValueError, RecursionError, UnicodeError) as exc:
            not_compared.append((submission, f"not compared: {exc}"))
    return documents, not_compared


def similarity_report(notebooks: Iterable[tuple[str, Path]], released: Path) -> SimilarityReport:
    """Read, fingerprint and compare the notebooks ``(submission, path)``, each less what
    the ``released`` notebook (the assignment's) already holds."""
    start = time.perf_counter()
    documents, not_compared = load_documents(notebooks, released)
    report = compare(sorted(documents, key=lambda d: d.submission))
    report.not_compared = not_compared
    report.seconds = time.perf_counter() - start
    return report


def csv_text(report: SimilarityReport) -> str:
    """The text of ``similarity.csv``: a header, then one row per pair, most similar first."""
    return table(CSV_COLUMNS, report.csv_rows())


def write_csv(path: str | Path, report: SimilarityReport) -> None:
    """Write ``similarity.csv`` atomically."""
    write_text_atomic(path, csv_text(report), newline="")


# ---------------------------------------------------------------- command line
