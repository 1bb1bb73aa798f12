"""The three raw export formats: how item cells are written, and the CSV / XLSX bytes.

``csv_codes``: UTF-8 CSV with BOM, comma separated, numeric codes (-99/99 = no answer).
``csv_labels_gbk``: GBK CSV, semicolon separated, Chinese labels and Chinese item headers.
``xlsx_mixed``: XLSX, numeric codes mixed with English labels for some constructs.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile

import numpy as np
import pandas as pd

from .config import _ITEMS, _XLSX_LABEL_CONSTRUCTS, SCALE_LABELS, SCREENER
from .dirt import BLANK, MISSING


def item_headers(fmt: str) -> list[str]:
    """The item column headers of an export: the item ids, or the Chinese item texts (GBK export)."""
    return [it[3] if fmt == "csv_labels_gbk" else it[0] for it in _ITEMS]


def encode_items(
    fmt: str,
    codes: np.ndarray,
    issues: dict[tuple[int, int], object],
    source: list[int],
    kinds: np.ndarray,
    miss_pick: np.ndarray,
) -> list[list[object]]:
    """The item cells as the export writes them, one list per item (``None`` = empty cell).

    ``codes`` is the wave's code matrix (with the :mod:`.dirt` sentinels), ``issues`` the planted
    value issues, ``source`` the copied row of each ``duplicate_row`` and ``miss_pick`` chooses
    between the two no-answer codes of a cell.
    """
    n = codes.shape[0]
    item_cells: list[list[object]] = []
    for j, (_iid, scale, construct, *_r) in enumerate(_ITEMS):
        col: list[object] = []
        labelled = scale != "nps11" and (
            fmt == "csv_labels_gbk" or (fmt == "xlsx_mixed" and construct in _XLSX_LABEL_CONSTRUCTS)
        )
        lang = 0 if fmt == "csv_labels_gbk" else 1
        for r in range(n):
            src = source[r] if kinds[r] == "duplicate_row" else r
            if (src, j) in issues:
                col.append(issues[src, j])
                continue
            c = int(codes[r, j])
            if c == BLANK:
                col.append(None)
            elif c == MISSING:
                if scale == "nps11":
                    col.append(None if fmt == "csv_labels_gbk" else (99 if miss_pick[src, j] else -99))
                elif fmt == "csv_labels_gbk":
                    col.append("不清楚" if miss_pick[src, j] else "不适用")
                elif labelled:
                    col.append("N/A")
                else:
                    col.append(99 if miss_pick[src, j] else -99)
            elif labelled:
                col.append(SCALE_LABELS[scale][c - 1][lang])
            else:
                col.append(c)
        item_cells.append(col)
    return item_cells


def encode_screener(fmt: str, codes: np.ndarray) -> list[object]:
    """The screener's cells (:data:`~.config.SCREENER`): codes, or Chinese labels in the GBK label export;
    ``None`` (an empty cell) for :data:`BLANK`."""
    labels = SCREENER["labels"]
    return [
        None if c == BLANK else (labels[int(c)][0] if fmt == "csv_labels_gbk" else int(c)) for c in codes
    ]


def export_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """The raw export file of a wave in its format."""
    if fmt == "csv_codes":
        return csv_bytes(df, ",", "utf-8", bom=True)
    if fmt == "csv_labels_gbk":
        return csv_bytes(df, ";", "gbk", bom=False)
    return xlsx_bytes(df)


def csv_bytes(df: pd.DataFrame, sep: str, encoding: str, bom: bool) -> bytes:
    """A CSV file (minimal quoting, ``\\n`` line ends, ``None`` written as an empty cell)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(df.columns))
    for row in df.itertuples(index=False, name=None):
        writer.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


_FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)


def xlsx_bytes(df: pd.DataFrame, sheet: str = "Responses") -> bytes:
    """An XLSX file whose bytes depend only on ``df`` (fixed document times and zip entry times)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    # the module name when the shipped 2026H1.xlsx was first made; kept so the file stays byte-identical
    wb.properties.creator = "analysis.simulate"
    ws = wb.create_sheet(sheet)
    ws.append(list(df.columns))
    for row in df.itertuples(index=False, name=None):
        ws.append(list(row))
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0
            dst.writestr(zi, src.read(info.filename), compresslevel=6)
    return out.getvalue()
