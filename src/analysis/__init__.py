"""Customer-satisfaction survey lab: from raw survey export to evaluated report.

The layers (see docs/architecture.md); data flows one way, notebooks -> ``analysis`` -> libraries:

- input: ``survey`` (survey definition and wave files, validated), ``ingest`` (raw exports in any
  encoding, XLSX, SPSS; labels to codes), ``clean`` (cleaning rules, log, privacy)
- statistics, data in and results out: ``describe``, ``reliability``, ``index``, ``compare``,
  ``drivers``, ``pls``, ``zones``, ``kpis``
- the analyst object: ``wave`` (:class:`WaveAnalysis`), and ``store`` (every output file)
- presentation: ``plotting`` (charts), ``words`` (every word a reader sees), ``report`` and
  ``tracking`` (report content), ``publish`` (HTML)
- running: ``runner`` (papermill), ``cli`` (the ``csat`` command), ``demo`` (the demo program)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Store", "WaveAnalysis", "__version__"]


def __getattr__(name: str) -> Any:
    """``analysis.WaveAnalysis`` and ``analysis.Store``, imported on first use (the CLI starts fast)."""
    if name == "WaveAnalysis":
        from .wave import WaveAnalysis

        return WaveAnalysis
    if name == "Store":
        from .store import Store

        return Store
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
