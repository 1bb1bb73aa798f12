"""The store: one table of outputs, the only code that reads or writes data/processed."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.store import STAMP_FILE, TABLES, Store, atomic_write, publish, staging

SRC = Path(__file__).resolve().parents[1] / "src" / "analysis"

# CONTRACT section 4, the required columns of the files this version writes (comments come with the
# comments issue).
CONTRACT_COLUMNS = {
    "cleaning_log": "row kept reason",
    "value_issues": "row column value",
    "item_stats": "item n mean sd top2box index se",
    "weights": "row weight",
    "weighting": "variable group target sample_share weighted_share",
    "reliability": "construct n_items alpha rho_c ave",
    "csi_paths": "source target estimate se ci_low ci_high",
    "wave_change": "metric baseline current diff ci_low ci_high p",
    "group_tests": "variable group test statistic p p_adj effect_size effect_size_name",
    "zones": "type n share",
    "ipa": "item importance performance quadrant",
    "kpis": "kpi value target status",
}


def test_contract_tables_are_registered_with_their_columns() -> None:
    for name, columns in CONTRACT_COLUMNS.items():
        assert TABLES[name].contract, name
        assert set(columns.split()) <= set(TABLES[name].columns), name
    assert TABLES["clean"].file == "clean.parquet"
    assert TABLES["summary"].file == "summary.json"


def test_write_read_round_trip_and_required_columns(tmp_path: Path) -> None:
    store = Store(tmp_path / "w")
    frame = pd.DataFrame({"type": ["Apostle", "Hostage"], "n": [3, 2], "share": [0.6, 0.4]})
    path = store.write("zones", frame)
    assert path == tmp_path / "w" / "zones.csv"
    assert path.read_bytes() == b"type,n,share\nApostle,3,0.6\nHostage,2,0.4\n"
    pd.testing.assert_frame_equal(store.read("zones"), frame)
    with pytest.raises(ValueError, match="share"):
        store.write("zones", frame.drop(columns="share"))
    assert store.exists("zones") and not store.exists("kpis")
    assert store.get("kpis") is None
    with pytest.raises(KeyError, match="known"):
        store.path("no_such_table")


def test_cleaning_log_writes_true_false(tmp_path: Path) -> None:
    store = Store(tmp_path)
    log = pd.DataFrame({"row": [1, 2], "kept": [True, False], "reason": ["", "speeder"], "outlier": [False, True]})
    store.write("cleaning_log", log)
    assert store.path("cleaning_log").read_text().splitlines() == [
        "row,kept,reason,outlier",
        "1,true,,false",
        "2,false,speeder,true",
    ]
    assert store.read("cleaning_log")["kept"].tolist() == [True, False]


def test_json_and_parquet(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("summary", {"wave": "W1", "raw_rows": 3, "kept_rows": 2})
    assert store.read("summary") == {"wave": "W1", "raw_rows": 3, "kept_rows": 2}
    frame = pd.DataFrame({"row": [1, 2], "q1": [4.0, None]})
    store.write("clean", frame)
    pd.testing.assert_frame_equal(store.read("clean"), frame)


def test_atomic_write_leaves_old_file_and_no_temporary_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("old")

    def broken(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["t.csv"]


def test_staging_then_publish_swaps_whole_folder(tmp_path: Path) -> None:
    root = tmp_path / "processed"
    target = root / "W1"
    Store(target).write("summary", {"old": True})
    folder = staging(root, "W1")
    assert folder.parent == root and folder.name.startswith(".staging-W1-")
    Store(folder).write("summary", {"new": True})
    Store(folder).write_stamp("abc", {"wave": "W1"})
    publish(folder, target)
    assert Store(target).read("summary") == {"new": True}
    assert Store(target).read_stamp() == "abc"
    assert sorted(p.name for p in root.iterdir()) == ["W1"]
    assert (target / STAMP_FILE).exists()
    assert Store(tmp_path / "none").read_stamp() is None


def _table_io(tree: ast.AST) -> list[str]:
    """Calls that read or write tables: to_csv, to_parquet, read_csv, read_parquet."""
    hits = []
    for node in ast.walk(tree):
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if call and node.func.attr in {"to_csv", "to_parquet", "read_csv", "read_parquet"}:
            hits.append(f"{node.func.attr} line {node.lineno}")
    return hits


def test_only_the_store_reads_and_writes_tables() -> None:
    """No module but the store reads or writes CSV/Parquet tables (ingest reads the raw exports)."""
    allowed = {"store.py", "ingest.py"}  # ingest reads the analyst's raw files in data/raw
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name in allowed or "demo" in path.parts:
            continue
        hits = _table_io(ast.parse(path.read_text(encoding="utf-8")))
        if hits:
            offenders[str(path.relative_to(SRC))] = hits
    assert offenders == {}


def test_no_output_file_name_spelled_outside_the_store() -> None:
    names = "|".join(re.escape(t.file) for t in TABLES.values())
    pattern = re.compile(rf"[\"'](?:{names})[\"']")
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "store.py" or "demo" in path.parts:
            continue
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.name}:{k}: {line.strip()}")
    assert offenders == []


# --------------------------------------------------------------------------- formula injection (issue 16)
HOSTILE_CELLS = ["=1+2", "+SUM(A1)", "-2+3", "@SUM(A1)", "\tx", "\rx", "'quoted", "=HYPERLINK(\"http://x\")"]


def test_csv_text_cells_never_start_a_formula_and_read_back_unchanged(tmp_path: Path) -> None:
    import csv

    frame = pd.DataFrame(
        {
            "segment": ["region"] * 10,
            "group": [*HOSTILE_CELLS, "-1.5", "华东"],
            "n": [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
            "share": [-0.5, 0.1, -2.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, -1e-3],
        }
    )
    store = Store(tmp_path / "w")
    path = store.write("profile", frame)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh.read().replace("\r", "\\r").splitlines())]
    cells = [cell for row in rows[1:] for cell in row]
    numeric = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
    live = [c for c in cells if c[:1] in "=+-@\t\r" and not numeric.fullmatch(c)]
    assert live == []  # what a spreadsheet would run as a formula
    by_group = {r[1]: r for r in rows[1:]}
    assert "'=1+2" in by_group and "'@SUM(A1)" in by_group and "''quoted" in by_group
    assert "-1.5" in by_group  # a number written as text stays a number
    assert [r[3] for r in rows[1:]][0] == "-0.5" and rows[1][2] == "5"  # numbers untouched
    back = Store(tmp_path / "w2")
    back.write("profile", frame[frame["group"] != "\rx"])  # a bare CR in a cell is read as a line end
    back = back.read("profile")
    assert back["group"].tolist() == [g for g in frame["group"] if g != "\rx"]
    assert back["share"].tolist() == frame.loc[frame["group"] != "\rx", "share"].tolist()


def test_csv_column_names_are_neutralised_too(tmp_path: Path) -> None:
    store = Store(tmp_path / "w")
    path = store.write("htmt", pd.DataFrame({"construct": ["=A"], "=A": [0.5]}))
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == "construct,'=A"
    back = store.read("htmt")
    assert list(back.columns) == ["construct", "=A"] and back["construct"].tolist() == ["=A"]
