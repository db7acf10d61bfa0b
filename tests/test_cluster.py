"""Grading on a Dask cluster: a scheduler and two workers on loopback grade the samples.

One worker is killed (SIGKILL) while it grades; its submission is graded by the
other one, and every grade equals the one a local run gives with the same seed.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from adam import ASSIGNMENT

from autograder.batch import run as batch
from autograder.batch.cluster import loopback_cluster
from autograder.cli import grade as grade_command
from autograder.staff.outputs import load_all_results

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "submissions"
SEED = 20260314

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers (no nanny: a killed one stays dead)."""
    with loopback_cluster(tmp_path, 2, nanny=False) as (address, workers):
        yield address, workers


def _grades(out: Path) -> dict[str, tuple]:
    results, _ = load_all_results(out)
    return {
        r.submission: (
            r.status,
            r.total,
            r.seed,
            {
                q: (v.points, [(c.name, c.passed) for c in v.checks])
                for q, v in sorted(r.questions.items())
            },
        )
        for r in results
    }


def _kill_a_busy_worker(
    client: Any, pids: dict[str, int], out: Path, report: dict, finished: threading.Event
) -> None:
    """Once the first result is in, SIGKILL a worker that is grading a submission (the
    client is connected beforehand: connecting takes seconds, by which time a small class
    may be graded)."""
    while not finished.is_set() and not list((out / "results").glob("*.json")):
        time.sleep(0.05)
    while not finished.is_set():
        busy = {
            w: [k for k in keys if str(k).startswith("grade-")]
            for w, keys in client.processing().items()
        }
        victim = next((w for w, keys in busy.items() if keys), None)
        if victim is not None:
            report["killed"], report["tasks"] = victim, busy[victim]
            os.kill(pids[victim], signal.SIGKILL)
            return
        time.sleep(0.05)


def test_a_loopback_cluster_grades_like_a_local_run_and_survives_a_lost_worker(tmp_path, cluster):
    address, workers = cluster
    subs = tmp_path / "class"
    subs.mkdir()
    samples = sorted(SAMPLES.glob("*.ipynb"))
    assert len(samples) >= 4
    for i in range(2):  # enough work that a worker is busy when the first result is in
        for sample in samples:
            shutil.copyfile(sample, subs / f"{sample.stem}_{i}.ipynb")

    local = batch.run_batch(
        subs, tmp_path / "local", ASSIGNMENT, jobs=2, seed=SEED, stream=io.StringIO()
    )
    assert not local.errors

    from distributed import Client

    report: dict = {}
    finished = threading.Event()
    with Client(address, timeout=60, set_as_default=False) as client:
        killer = threading.Thread(
            target=_kill_a_busy_worker,
            args=(client, client.run(os.getpid), tmp_path / "remote", report, finished),
        )
        killer.start()
        try:
            remote = batch.run_batch(
                subs,
                tmp_path / "remote",
                ASSIGNMENT,
                seed=SEED,
                scheduler=address,
                stream=io.StringIO(),
            )
        finally:
            finished.set()
            killer.join()

    assert report.get("killed"), "no worker was grading when the first result came in"
    assert sum(w.poll() is not None for w in workers) == 1  # one worker really is gone
    assert not remote.errors and not remote.interrupted
    assert sorted(remote.graded) == sorted(local.graded) == sorted(p.stem for p in subs.iterdir())
    assert _grades(tmp_path / "remote") == _grades(tmp_path / "local")
    totals = {s: g[1] for s, g in _grades(tmp_path / "remote").items()}
    assert totals["correct_0"] == totals["correct_1"] > 100  # the solution: core + bonus
    assert totals["blank_0"] == 0
    for name in ("grades.csv", "report.html", "similarity.csv"):
        assert (tmp_path / "remote" / name).is_file()
    assert (tmp_path / "remote" / "feedback" / "correct_0.html").is_file()
    assert remote.memory["workers_peak_mb"] and min(remote.memory["workers_peak_mb"]) > 50

    again = batch.run_batch(
        subs, tmp_path / "remote", ASSIGNMENT, scheduler=address, stream=io.StringIO()
    )
    assert sorted(again.unchanged) == sorted(remote.graded) and not again.graded


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from autograder.batch import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    (tmp_path / "class").mkdir()
    shutil.copyfile(SAMPLES / "blank.ipynb", tmp_path / "class" / "blank.ipynb")
    code = grade_command.main(
        [str(tmp_path / "class"), "--out", str(tmp_path / "g"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert (
        grade_command.main(
            [str(tmp_path / "class"), "--out", str(tmp_path / "g"), "--scheduler", "127.0.0.1:9"]
        )
        == 2
    )
