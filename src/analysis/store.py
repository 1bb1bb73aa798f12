"""The store: every file under ``DIR/data/processed/<wave>/``, its format and its columns, in one table.

This module is the only code that reads or writes ``data/processed``. A
statistics function returns a result; the analyst object
(:class:`analysis.wave.WaveAnalysis`) hands its ``.to_frame()`` to
:meth:`Store.write`, which checks the table's required columns against
:data:`TABLES` (CONTRACT section 4 for the contract files) and writes it
atomically; every reader (the report, the tracking report, the index page)
asks the store by name. Adding an output is one line of ``outputs.yaml``.

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
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml


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


def _load_tables() -> dict[str, Table]:
    """The registry in ``outputs.yaml`` (package data beside this module), one :class:`Table` per line."""
    text = resources.files("analysis").joinpath("outputs.yaml").read_text(encoding="utf-8")
    return {
        name: Table(
            name,
            spec["kind"],
            tuple(spec["columns"]),
            spec["about"],
            bool(spec.get("contract", False)),
            tuple(spec.get("true_false", ())),
        )
        for name, spec in yaml.safe_load(text).items()
    }


#: Every output of a wave, in the order the steps write them (``outputs.yaml``). ``columns`` are the
#: required ones (a table may carry more); the contract tables are the files people outside the
#: project rely on.
TABLES: dict[str, Table] = _load_tables()

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
