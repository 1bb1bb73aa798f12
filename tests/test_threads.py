"""analysis.threads: every BLAS / OpenMP pool of the process limited to CSAT_THREADS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import threads


def test_count_reads_csat_threads(monkeypatch):
    monkeypatch.setenv("CSAT_THREADS", "3")
    assert threads.count() == 3
    monkeypatch.setenv("CSAT_THREADS", "zero")
    assert threads.count() == 1
    monkeypatch.delenv("CSAT_THREADS")
    assert threads.count() == 1


def test_env_sets_every_pool_variable(monkeypatch):
    monkeypatch.setenv("CSAT_THREADS", "2")
    out = threads.env({"PATH": "/bin", "OMP_NUM_THREADS": "8"})
    assert {out[v] for v in threads.THREAD_VARS} == {"2"} and out["PATH"] == "/bin"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores for a pool of 2")
def test_limit_applies_to_pools_already_loaded():
    """A process that loaded numpy with 2 BLAS threads (the environment says so) runs with CSAT_THREADS
    after limit(): threadpoolctl reports the loaded OpenBLAS pool at that size."""
    wanted = "1"
    code = (
        "import numpy, threadpoolctl\n"
        "before = [p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']\n"
        "from analysis import threads\n"
        "threads.limit()\n"
        "after = [p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']\n"
        "print(before, after)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "CSAT_THREADS": wanted}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after = out.stdout.strip().split("] [")
    assert before.strip("[") and set(before.strip("[").split(", ")) == {"2"}
    assert set(after.strip("]").split(", ")) == {wanted}


def test_wave_load_limits_the_pools(tmp_path, monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("CSAT_THREADS", "1")
    with threadpool_limits(limits=2):
        from analysis import WaveAnalysis

        WaveAnalysis.load(root / "params" / "survey.yaml", root / "params" / "waves" / "2025H1.yaml", out_root=tmp_path)
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    import pyarrow

    assert pyarrow.cpu_count() == 1
