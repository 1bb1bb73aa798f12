"""The maths libraries' thread pools: one setting for the whole run (``CSAT_THREADS``, default 1).

OpenBLAS, MKL and OpenMP start one thread per core by default. Beside other CPU-bound work
these threads oversubscribe the cores and a run slows down many times over (issue 12 measured
8.8x on a busy 2-core machine), and a matrix product's sums are added in an order that depends
on the thread count (the last digit of a bootstrap bound with it). :func:`limit` fixes every
pool already loaded in this process with :mod:`threadpoolctl` (and pyarrow's CPU pool); :func:`env` gives the
environment variables for a child process (the notebook kernel, Dask workers), which applies
to pools loaded later too.
"""

from __future__ import annotations

import os

#: Environment variables read by the BLAS / OpenMP libraries when they load.
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def count() -> int:
    """Threads per pool: ``CSAT_THREADS`` (a positive integer), default 1."""
    raw = os.environ.get("CSAT_THREADS", "1")
    try:
        value = int(raw)
    except ValueError:
        return 1
    return max(1, value)


def env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with every pool variable set to :func:`count`."""
    out = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        out[var] = str(count())
    return out


def limit() -> int:
    """Limit every BLAS and OpenMP pool loaded in this process to :func:`count` threads, and set the
    variables for pools loaded later; returns the count. Idempotent and cheap (call it on entry)."""
    n = count()
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    import pyarrow  # its own C++ pool (parquet and CSV reading): one per core by default

    pyarrow.set_cpu_count(n)
    return n


def pools() -> list[dict]:
    """The loaded pools and their thread counts (``threadpoolctl.threadpool_info``), for checks."""
    from threadpoolctl import threadpool_info

    return threadpool_info()
