"""``make mutants``: grade the whole mutation suite and print how the checks took it.

    .venv/bin/python solutions/adam_variants/tests/mutation_report.py [-v]

Prints, separately for the textual mutants of ``solutions/adam_variants/tests/mutants.py`` (graded under five seeds)
and the student-written ones of ``solutions/adam_variants/tests/student_mutants.py`` (three seeds): how many are
caught in their own question under every seed, with the same points under every seed; how
their mistake is named (right name / vague / wrong name); the points lost in other
questions; and the share the public checks flag before submission. ``-v`` adds one line
per mutant. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[2] / "tests")]  # pytest's pythonpath (pyproject)

from mutants import MUTANTS, SEEDS, Outcome, grade_mutant  # noqa: E402
from student_mutants import SEEDS as STUDENT_SEEDS  # noqa: E402
from student_mutants import STUDENT_MUTANTS  # noqa: E402

TARGET_RIGHT = 0.9
TARGET_PUBLIC = 0.5
TARGET_RIGHT_STUDENT = 0.8
"""Student-written mutants: at least this share named right, the rest vague, none wrong."""


def summary(
    outcomes: list[Outcome], title: str = "mutation suite", seeds: int = len(SEEDS)
) -> tuple[str, dict[str, int]]:
    """The printed summary and its counts."""
    total = len(outcomes)
    stats = {
        "total": total,
        "caught": sum(o.caught for o in outcomes),
        "seed_independent": sum(o.seed_independent for o in outcomes),
        "right": sum(o.naming == "right" for o in outcomes),
        "vague": sum(o.naming == "vague" for o in outcomes),
        "wrong": sum(o.naming == "wrong" for o in outcomes),
        "lost_elsewhere": sum(bool(o.lost_elsewhere) for o in outcomes),
        "public": sum(o.public_flagged for o in outcomes),
        "public_right": sum(o.public_naming == "right" for o in outcomes),
        "public_wrong": sum(o.public_naming == "wrong" for o in outcomes),
    }

    def share(n: int) -> str:
        return f"{n}/{total} ({100 * n / max(total, 1):.0f}%)"

    lines = [
        f"{title}: {total} mutants, each graded under {seeds} seeds",
        f"  caught in their own question:      {share(stats['caught'])}",
        f"  same points under every seed:      {share(stats['seed_independent'])}",
        f"  mistake named: right {stats['right']}, vague {stats['vague']}, "
        f"wrong {stats['wrong']} (right: {share(stats['right'])})",
        f"  points lost in other questions:    {stats['lost_elsewhere']} mutants",
        f"  flagged by the public checks:      {share(stats['public'])}, named right "
        f"{stats['public_right']}, wrong {stats['public_wrong']}",
    ]
    return "\n".join(lines), stats


def _line(o: Outcome) -> str:
    first = o.points[SEEDS[0]][o.mutant.question]
    labels = sorted(set().union(*o.labels.values())) or ["-"]
    flags = [o.naming, f"public ({o.public_naming})" if o.public_flagged else "hidden only"]
    if not o.seed_independent:
        flags.append("SEED-DEPENDENT")
    if o.lost_elsewhere:
        flags.append(f"lost elsewhere {o.lost_elsewhere}")
    return (
        f"{o.mutant.id:32} {o.mutant.question:17} {first:5g}  "
        f"{','.join(labels):34} {' '.join(flags)}"
    )


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore", RuntimeWarning)  # the mutants' own sqrt of negatives
    start = time.monotonic()
    outcomes = [grade_mutant(m) for m in MUTANTS]
    written = [grade_mutant(m, STUDENT_SEEDS) for m in STUDENT_MUTANTS]
    if "-v" in argv:
        for o in [*outcomes, *written]:
            print(_line(o))
    text, stats = summary(outcomes, "textual mutants (solutions/adam_variants/tests/mutants.py)")
    print(text)
    text, new = summary(
        written,
        "student-written mutants (solutions/adam_variants/tests/student_mutants.py)",
        len(STUDENT_SEEDS),
    )
    print(text)
    print(f"  ({time.monotonic() - start:.0f} s)")
    ok = (
        stats["caught"] == stats["total"] == stats["seed_independent"]
        and stats["lost_elsewhere"] == 0
        and stats["right"] >= TARGET_RIGHT * stats["total"]
        and stats["public"] >= TARGET_PUBLIC * stats["total"]
        and stats["public_wrong"] == 0
    )
    ok = ok and (
        new["caught"] == new["total"] == new["seed_independent"]
        and new["lost_elsewhere"] == 0
        and new["wrong"] == 0
        and new["right"] >= TARGET_RIGHT_STUDENT * new["total"]
        and new["public_wrong"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
