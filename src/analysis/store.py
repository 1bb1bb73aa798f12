"""The store: every file under ``DIR/data/processed/<wave>/``, its format and its columns, in one table.

This module is the only code that reads or writes ``data/processed``. A
statistics function returns a result; the analyst object
(:class:`analysis.wave.WaveAnalysis`) hands its ``.to_frame()`` to
:meth:`Store.write`, which checks the table's required columns against
:data:`TABLES` (CONTRACT section 4 for the contract files) and writes it
atomically; every reader (the report, the tracking report, the index page)
asks the store by name. Adding an output is one row of :data:`TABLES`.

Writing is atomic (a temporary file in the same folder, then ``os.replace``),
and a wave's folder is written as a whole: :func:`staging` gives a fresh
folder beside the target, :func:`publish` swaps it into place only after
every stage succeeded, so a failed or killed run never leaves half a wave.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Table:
    """One output of a wave: its file, format, required columns, and whether CONTRACT section 4 names it."""

    name: str
    kind: str  # "csv", "parquet" or "json"
    columns: tuple[str, ...]
    description: str
    contract: bool = False
    true_false: tuple[str, ...] = ()  # boolean columns written as true/false (CONTRACT), not True/False

    @property
    def file(self) -> str:
        """The file name inside the wave's folder."""
        return f"{self.name}.{self.kind}"


def _t(name: str, kind: str, columns: str, description: str, contract: bool = False, tf: str = "") -> Table:
    return Table(name, kind, tuple(columns.split()), description, contract, tuple(tf.split()))


#: Every output of a wave, in the order the stages write them. ``columns`` are the required ones
#: (a table may carry more); the contract tables are the files people outside the project rely on.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        # 01 clean
        _t("clean", "parquet", "row", "the cleaned responses: items on their scale, reverse items reversed, no PII", True),
        _t(
            "cleaning_log", "csv", "row kept reason", "one line per raw data row: kept or the rule that removed it",
            True, tf="kept outlier",
        ),
        _t("value_issues", "csv", "row column value", "values set to missing: out of range or matching no label", True),
        _t("attrition", "csv", "step removed remaining", "how many rows each cleaning rule removed"),
        _t("summary", "json", "", "the wave's reading and cleaning facts (raw and kept rows, encoding, ...)"),
        # 02 descriptive, reliability, index
        _t("item_stats", "csv", "item n mean sd top2box index", "per item: n, mean, sd, top-2-box, 0-100 index", True),
        _t("distribution", "csv", "item level label n share", "answers per item and scale level"),
        _t("headline", "csv", "metric value ci_low ci_high n", "CSI, satisfaction rate, NPS, response rate with intervals"),
        _t("csi_index", "csv", "construct weight index ci_low ci_high n", "0-100 index per construct and the overall CSI"),
        _t("index_weights", "csv", "construct weight method", "construct weights of the overall index"),
        _t("profile", "csv", "segment group n share", "the sample by segment"),
        _t("reliability", "csv", "construct n_items alpha rho_c ave", "Cronbach's alpha, omega, rho_C and AVE", True),
        _t("screening", "csv", "level construct item value rule recommendation", "items that may need attention"),
        _t("respondent_scores", "parquet", "row CSI", "per respondent: segments, overall item, loyalty, construct indices, CSI"),
        _t("ahp", "json", "", "AHP consistency (lambda_max, CI, CR) when the index is AHP-weighted"),
        # 03 inferential
        _t(
            "group_tests", "csv", "variable group test statistic p p_adj effect_size effect_size_name",
            "group comparisons per measure and segment", True,
        ),
        _t(
            "wave_change", "csv", "metric baseline current diff ci_low ci_high p",
            "change against the baseline wave", True,
        ),
        _t("drivers", "csv", "predictor raw_weight rescaled rank", "relative weights for overall satisfaction"),
        _t("drivers_loyalty", "csv", "predictor raw_weight rescaled rank", "relative weights for loyalty"),
        _t("drivers_items", "csv", "predictor raw_weight rescaled rank", "relative weights of the attribute items"),
        _t("regression", "csv", "predictor beta se t p", "OLS of overall satisfaction on the constructs"),
        _t("csi_paths", "csv", "source target estimate se ci_low ci_high", "CSI model path coefficients (bootstrap)", True),
        _t("pls_r2", "csv", "construct r2 r2_adj", "R² of the CSI model's endogenous constructs"),
        _t("pls_loadings", "csv", "construct item estimate se ci_low ci_high", "outer loadings (bootstrap) and weights"),
        _t("pls_effects", "csv", "source target estimate se ci_low ci_high", "total effects (bootstrap) and ACSI impacts"),
        _t("htmt", "csv", "construct", "heterotrait-monotrait ratios"),
        _t("pls_summary", "csv", "n iterations scheme n_boot failed_resamples", "the CSI model's estimation facts"),
        # 04 zones
        _t("ipa", "csv", "item importance performance quadrant", "importance-performance analysis", True),
        _t("priorities", "csv", "item importance performance priority rank", "ranked improvement priorities"),
        _t("zones", "csv", "type n share", "satisfaction-loyalty customer types", True),
        _t("zones_by_segment", "csv", "segment group type n share", "customer types by segment (groups of 5 or more)"),
        _t("zone_transitions", "csv", "type_from type_to n row_share", "type changes of customers linked to the baseline"),
        _t("loyalty_curve", "csv", "level n loyalty_mean ci_low ci_high", "mean loyalty per satisfaction level"),
        _t(
            "loyalty_breakpoint", "csv", "breakpoint p detected",
            "Davies test of a loyalty break and the segmented regression", True, tf="detected",
        ),
        _t("types", "parquet", "row zone type", "zone and customer type of every respondent"),
        # 05 report
        _t("kpis", "csv", "kpi value target status", "KPIs against the survey's targets", True),
        _t("operations", "json", "", "this wave's operational numbers from the complaint log"),
    )
}

STAMP_FILE = ".csat_stamp.json"


# --------------------------------------------------------------------------- atomic files
def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file via a temporary file in the same folder and an atomic rename.

    ``write`` receives the temporary path. A reader never sees a half-written
    file; a failure leaves the old file (if any) in place and no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) to ``path`` atomically; returns the path."""
    path = Path(path)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as UTF-8 CSV with one header row, atomically."""
    atomic_write(path, lambda p: frame.to_csv(p, index=False, encoding="utf-8", lineterminator="\n"))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet (no index), atomically."""
    atomic_write(path, lambda p: frame.to_parquet(p, index=False))


# --------------------------------------------------------------------------- whole folders
def processed_root(out_root: str | Path) -> Path:
    """``DIR/data/processed``: where every wave's folder lives."""
    return Path(out_root) / "data" / "processed"


def staging(root: Path, wave_id: str) -> Path:
    """A fresh, empty folder beside the wave's target folder, for a run to write into."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".staging-{wave_id}-", dir=root))


def publish(staging_dir: Path, target: Path) -> None:
    """Put a fully written staging folder in place of ``target`` (old contents removed only after success)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        os.replace(target, backup)
    os.replace(staging_dir, target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


# --------------------------------------------------------------------------- one wave's folder
class Store:
    """The outputs of one wave, read and written by name (see :data:`TABLES`).

    >>> store = Store(Path("data/processed/2025H1"))      # doctest: +SKIP
    >>> store.write("item_stats", frame); store.read("item_stats")  # doctest: +SKIP
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def for_wave(cls, out_root: str | Path, wave_id: str) -> Store:
        """The store of ``wave_id`` under ``DIR/data/processed``."""
        return cls(processed_root(out_root) / wave_id)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    @staticmethod
    def table(name: str) -> Table:
        """The registered table ``name``; a KeyError names the known tables."""
        try:
            return TABLES[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a registered output; known: {', '.join(TABLES)}") from None

    def path(self, name: str) -> Path:
        """Where table ``name`` lives."""
        return self.folder / self.table(name).file

    def exists(self, name: str) -> bool:
        """Whether table ``name`` has been written."""
        return self.path(name).exists()

    def write(self, name: str, data: pd.DataFrame | Mapping[str, Any]) -> Path:
        """Write table ``name`` atomically, after checking its required columns."""
        spec = self.table(name)
        path = self.path(name)
        if spec.kind == "json":
            text = json.dumps(dict(data), ensure_ascii=False, indent=2, sort_keys=True, default=str)
            write_text(path, text)
            return path
        missing = [c for c in spec.columns if c not in data.columns]
        if missing:
            raise ValueError(f"table {name!r} lacks its required column(s) {missing}")
        if spec.true_false:
            data = data.assign(**{c: data[c].map({True: "true", False: "false"}) for c in spec.true_false})
        (write_parquet if spec.kind == "parquet" else write_csv)(data, path)
        return path

    def read(self, name: str) -> Any:
        """Table ``name`` as a DataFrame (a dict for JSON); FileNotFoundError when not written."""
        spec = self.table(name)
        path = self.path(name)
        if spec.kind == "json":
            return json.loads(path.read_text(encoding="utf-8"))
        if spec.kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)

    def get(self, name: str, default: Any = None) -> Any:
        """Table ``name``, or ``default`` when it was not written."""
        return self.read(name) if self.exists(name) else default

    # the fingerprint of the inputs a wave's folder was computed from (incremental runs)
    def read_stamp(self) -> str | None:
        """The fingerprint stored by :meth:`write_stamp`; None when absent or unreadable."""
        try:
            data = json.loads((self.folder / STAMP_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        value = data.get("fingerprint") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    def write_stamp(self, fingerprint: str, info: Mapping[str, Any] | None = None) -> Path:
        """Store ``fingerprint`` (and JSON-able ``info``); written last, so an interrupted run is redone."""
        data = {"fingerprint": fingerprint, **({"info": dict(info)} if info else {})}
        return write_text(self.folder / STAMP_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


__all__ = [
    "STAMP_FILE",
    "TABLES",
    "Store",
    "Table",
    "atomic_write",
    "processed_root",
    "publish",
    "staging",
    "write_csv",
    "write_parquet",
    "write_text",
]
