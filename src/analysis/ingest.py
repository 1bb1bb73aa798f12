"""Read a raw survey export and turn its answers into numeric codes.

Formats: CSV (UTF-8 with or without BOM, UTF-16, GBK/GB18030; comma,
semicolon or tab separated, detected), XLSX (first sheet) and SPSS ``.sav``
(via pyreadstat, value labels kept for segment columns). Every cell is read
as text first, so nothing is silently converted; :func:`code_items` then maps
each rated answer to its scale code:

* a number on the scale passes through (``7``, ``"7"``, ``"7.0"``, ``"７"``);
* a label of the scale in any language maps to its code (``Satisfied`` -> 6,
  ``Very satisfied`` -> 7, and the Chinese labels alike; case, width and whitespace are ignored);
* a declared ``missing`` code (``-99``, ``N/A``) or an empty cell is missing;
* anything else (out of range, matching no label) becomes missing and is
  reported as a value issue (row, column, value).

Row numbers are 1-based data rows of the raw file (the header is row 0).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .survey import Scale, Survey

ENCODINGS_TRIED = ("utf-8", "utf-16", "gb18030")


# --------------------------------------------------------------------------- reading
@dataclass
class RawData:
    """A raw export as text cells, with where it came from.

    ``frame`` has one column per header (all values ``str``, empty string for an
    empty cell) and index = 1-based data row numbers. ``encoding`` and
    ``separator`` say how a CSV was read; ``value_labels`` holds SPSS value labels.
    """

    path: Path
    frame: pd.DataFrame
    encoding: str | None = None
    separator: str | None = None
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)  # row -> what reading changed in it
    bad_rows: list[int] = field(default_factory=list)  # rows whose field count is wrong (cells emptied)


#: The longest cell kept, in characters: a longer cell (a pasted document in a comment box) is cut
#: to this length and the row's cleaning-log line says so (never refused).
MAX_CELL_CHARS = 5000


def detect_encoding(data: bytes, path: Path) -> str:
    """Decide the text encoding of CSV bytes.

    A byte-order mark wins (UTF-8, UTF-16 LE/BE); then strict UTF-8; then
    UTF-16 without BOM (many NUL bytes); then GB18030 (a superset of GBK and
    GB2312). Raises :class:`DataError` when none decodes the file.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:4000]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        even_nuls = sample[0::2].count(b"\x00")
        odd_nuls = sample[1::2].count(b"\x00")
        enc = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError:
            pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    raise DataError(
        "cannot be read as text: it is not UTF-8, UTF-16 or GBK/GB18030.",
        file=str(path),
        expected="a CSV saved as UTF-8 (recommended), UTF-16 or GBK",
    )


def detect_separator(text: str) -> str:
    """Comma, semicolon or tab: the one that splits the header line into the most fields consistently."""
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t").delimiter
    except csv.Error:
        header = lines[0]
        counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
        return max(counts, key=lambda s: counts[s])


def read_raw(path: str | Path) -> RawData:
    """Read a raw export (.csv/.txt/.tsv, .xlsx, .sav) into text cells.

    Returns :class:`RawData`. Raises :class:`DataError` (naming the file) for a
    missing, empty or header-only file, an unreadable encoding, a broken
    spreadsheet, or duplicate column headers.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("raw file not found.", file=str(path))
    if path.is_dir():
        raise DataError("is a folder, not a raw export.", file=str(path), expected="a .csv, .xlsx or .sav file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        raw = _read_csv(path)
    elif suffix == ".xlsx":
        raw = _read_xlsx(path)
    elif suffix == ".sav":
        raw = _read_sav(path)
    else:
        raise DataError(f"unsupported file type '{suffix}'.", file=str(path), expected=".csv, .xlsx or .sav")
    frame = raw.frame
    if frame.shape[1] == 0:
        raise DataError("is empty: no header row.", file=str(path))
    if len(frame) == 0:
        raise DataError("has a header but no data rows.", file=str(path))
    _tidy_cells(raw)
    return raw


def _tidy_cells(raw: RawData) -> None:
    """Remove NUL characters from every cell and cut cells longer than :data:`MAX_CELL_CHARS`, in
    place; each change is noted for its row (``raw.notes``, shown in the cleaning log)."""
    frame = raw.frame
    for column in frame.columns:
        text = frame[column].astype(str)
        nul = text.str.contains("\x00", regex=False)
        if nul.any():
            frame.loc[nul, column] = text[nul].str.replace("\x00", "", regex=False)
            for row in frame.index[nul]:
                raw.notes.setdefault(int(row), []).append(f"NUL characters removed from '{column}'")
            text = frame[column].astype(str)
        long = text.str.len() > MAX_CELL_CHARS
        if long.any():
            frame.loc[long, column] = text[long].str.slice(0, MAX_CELL_CHARS)
            for row in frame.index[long]:
                raw.notes.setdefault(int(row), []).append(f"'{column}' cut to {MAX_CELL_CHARS} characters")


def _check_headers(columns: Iterable[object], path: Path) -> list[str]:
    """The header names (NUL characters removed, spaces stripped); a DataError for a name that
    appears twice, before any reader renames it (pandas makes ``x, x`` into ``x, x.1``)."""
    names = [str(c).replace("\x00", "").strip() for c in columns]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise DataError(
                f"column header '{name}' appears twice.", file=str(path), expected="unique headers"
            )
        seen.add(name)
    return names


def _read_csv(path: Path) -> RawData:
    data = path.read_bytes()
    if not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise DataError("is empty.", file=str(path))
    encoding = detect_encoding(data, path)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:  # a byte-order mark followed by bytes of another encoding
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"starts with a {encoding.split('-sig')[0].upper()} byte-order mark, but line {line} (byte "
            f"{exc.start}) holds bytes that are not {encoding.split('-sig')[0].upper()}.",
            file=str(path),
            row=line - 1 if line > 1 else None,
            expected="one encoding for the whole file (save it again as UTF-8)",
        ) from None
    text = text.lstrip("\ufeff")
    sep = detect_separator(text)
    frame = _read_csv_arrow(data, text, encoding, sep) if len(data) > ARROW_ABOVE else None
    if frame is not None:
        frame.columns = _check_headers(frame.columns, path)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        return RawData(path=path, frame=frame, encoding=encoding, separator=sep)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error:
        header = []
    _check_headers(header, path)
    try:
        counts = [len(r) for r in csv.reader(io.StringIO(text), delimiter=sep) if r]
    except csv.Error:
        counts = []
    too_many = any(c > len(header) for c in counts[1:])
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            skip_blank_lines=True,
            # a line with too many fields is kept (cut), then rejected as a whole below
            **({"engine": "python", "on_bad_lines": lambda fields: fields[: len(header)]} if too_many else {}),
        )
    except pd.errors.EmptyDataError:
        raise DataError("is empty.", file=str(path)) from None
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = f" near line {match.group(1)}" if match else ""
        raise DataError(
            f"cannot be parsed as '{_sep_name(sep)}'-separated CSV{line} ({exc}).".replace("\n", " "),
            file=str(path),
            expected="the same number of fields on every line",
        ) from None
    frame.columns = _check_headers(frame.columns, path)
    frame = frame.fillna("")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    bad: list[int] = []
    if len(counts) == len(frame) + 1:  # the csv module saw the same records as pandas
        bad = [row for row, n in enumerate(counts[1:], start=1) if n != len(header)]
        frame.loc[bad, :] = ""  # a broken line (semicolons in a comma file) holds whole rows: never used
    return RawData(path=path, frame=frame, encoding=encoding, separator=sep, bad_rows=bad)


#: Files larger than this (bytes) are parsed by pyarrow's multithreaded C++ reader (a 1M-row, 200 MB
#: export in about a quarter of the time of pandas' C parser); smaller ones, and any file pyarrow
#: cannot read exactly as pandas would, by pandas.
ARROW_ABOVE = 4 * 2**20


def _read_csv_arrow(data: bytes, text: str, encoding: str, sep: str) -> pd.DataFrame | None:
    """The CSV as text cells (empty cell -> ``""``) by ``pyarrow.csv``, or None to use pandas instead.

    Input: the file's bytes, its decoded text, encoding and separator. Output: the same frame as the
    pandas path (every column text, blank lines skipped, quoted line breaks kept) or None when
    pyarrow cannot give it: duplicate or missing headers (pandas renames duplicates), a row with
    another number of fields (pandas fills short rows and words the error for long ones), or any
    parse error. Threads: ``CSAT_THREADS`` (:mod:`analysis.threads`).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from .threads import count

    try:
        header = next(csv.reader(io.StringIO(text[: text.find("\n") + 1 or len(text)]), delimiter=sep))
    except (StopIteration, csv.Error):
        return None
    if not header or len(set(header)) != len(header) or "\x00" in text:
        return None
    if encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig", "ascii"):
        payload = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    else:
        payload = text.encode("utf-8")
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(payload),
            read_options=pacsv.ReadOptions(use_threads=count() > 1, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    frame = table.to_pandas()
    frame.columns = header
    return frame


def _sep_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}.get(sep, sep)


def _cell_text(value: object) -> str:
    """A spreadsheet cell as text: 7.0 -> '7', None/NaN -> ''."""
    if value is None:
        return ""
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _excel_engine() -> str:
    """python-calamine (Rust, ~20x faster) when installed, else openpyxl."""
    try:
        import python_calamine  # noqa: F401

        return "calamine"
    except ImportError:  # pragma: no cover - calamine is a declared dependency
        return "openpyxl"


def _read_xlsx(path: Path) -> RawData:
    """The first sheet, read without a header so that pandas neither renames a doubled header nor
    renumbers rows: the header is the first non-empty row, and a data row's number is its spreadsheet
    row minus the header's (the first data row under a header in row 1 is row 1), blank rows keeping
    their numbers so every row number points at the same line of the spreadsheet."""
    try:
        sheet = pd.read_excel(path, sheet_name=0, dtype=object, header=None, engine=_excel_engine())
    except Exception as exc:  # the engines raise many kinds for a broken workbook
        raise DataError(
            f"cannot be opened as an Excel workbook ({type(exc).__name__}: {exc}).", file=str(path)
        ) from None
    sheet = sheet.dropna(how="all")
    if sheet.empty:
        return RawData(path=path, frame=pd.DataFrame())
    header_at = sheet.index[0]
    names = [_cell_text(v) for v in sheet.iloc[0]]
    while names and names[-1] == "":  # empty cells right of the last header
        names.pop()
    names = [n or f"Unnamed: {i}" for i, n in enumerate(names)]
    frame = sheet.iloc[1:, : len(names)].copy()
    frame.columns = _check_headers(names, path)
    frame = frame.map(_cell_text).astype(object)
    frame.index = pd.Index([int(i - header_at) for i in frame.index], name="row")
    return RawData(path=path, frame=frame)


def _read_sav(path: Path) -> RawData:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat.ReadstatError and OSError
        raise DataError(f"cannot be opened as an SPSS .sav file ({exc}).", file=str(path)) from None
    frame.columns = _check_headers(frame.columns, path)
    frame = frame.astype(object).map(_cell_text)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    return RawData(path=path, frame=frame, value_labels=labels)


# --------------------------------------------------------------------------- columns
def normalise_text(value: str) -> str:
    """Case-, width- and whitespace-insensitive key for matching labels and headers."""
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text).casefold()


def resolve_columns(survey: Survey, raw: RawData) -> dict[str, str]:
    """Map each column the survey declares to the raw header that holds it.

    An item is found by its id, else by its question text in any language
    (headers of a Chinese export are often the question texts). Other declared
    columns (ids, segments, duration, open-ended) are found by name. Matching
    ignores case, width and whitespace. Returns {declared name: raw header}.
    Raises :class:`DataError` naming the file and every missing column.
    """
    headers = list(raw.frame.columns)
    by_key: dict[str, str] = {}
    for h in headers:
        by_key.setdefault(normalise_text(h), h)
    found: dict[str, str] = {}
    missing: list[str] = []
    for name in survey.declared_columns:
        candidates = [name]
        if name in survey.item_ids:
            candidates += [t for t in survey.item(name).text.values() if t]
        header = next((c for c in candidates if c in headers), None)
        if header is None:
            header = next(
                (by_key[normalise_text(c)] for c in candidates if normalise_text(c) in by_key), None
            )
        if header is None:
            missing.append(name)
        else:
            found[name] = header
    if missing:
        shown = ", ".join(f"'{m}'" for m in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise DataError(
            f"the survey definition expects column(s) {shown}, which the file does not have.",
            file=str(raw.path),
            column=missing[0],
            expected=f"headers matching the item ids or question texts; the file has {', '.join(headers[:12])}"
            + (" ..." if len(headers) > 12 else ""),
        )
    headers_used = list(found.values())
    doubled = [n for n, h in found.items() if headers_used.count(h) > 1]
    if doubled:
        raise DataError(
            f"column '{found[doubled[0]]}' matches more than one declared column ({', '.join(doubled)}).",
            file=str(raw.path),
            column=found[doubled[0]],
        )
    return found


# --------------------------------------------------------------------------- coding
_MISSING = object()
_ISSUE = object()


def _number(text: str) -> float | None:
    try:
        return float(unicodedata.normalize("NFKC", text).strip())
    except ValueError:
        return None


def _code_table(scale: Scale) -> tuple[dict[str, int], set[str], set[float]]:
    labels = {normalise_text(t): code for code, texts in scale.labels.items() for t in texts.values() if t}
    missing_text = {normalise_text(str(m)) for m in scale.missing}
    missing_num = {n for m in scale.missing if (n := _number(str(m))) is not None}
    return labels, missing_text, missing_num


def code_value(text: str, scale: Scale) -> float | object:
    """One raw answer -> its scale code (float), ``_MISSING`` or ``_ISSUE``. See the module docstring."""
    labels, missing_text, missing_num = _code_table(scale)
    return _code_with(text, scale, labels, missing_text, missing_num)


def _code_with(
    text: str, scale: Scale, labels: Mapping[str, int], missing_text: set[str], missing_num: set[float]
) -> float | object:
    raw = "" if text is None else str(text)
    key = normalise_text(raw)
    if key == "" or key in ("nan", "none", "null"):
        return _MISSING
    if key in missing_text:
        return _MISSING
    number = _number(raw)
    if number is not None:
        if number in missing_num:
            return _MISSING
        if number.is_integer() and scale.min <= number <= scale.max:
            return float(number)
        return _ISSUE
    if key in labels:
        return float(labels[key])
    return _ISSUE


#: What ``value_issues.csv`` says about a value set to missing: its kind, never its content (a phone
#: or customer number typed into a rating cell must not reach an output). Stable English tokens.
VALUE_ABOVE = "number above the scale"
VALUE_BELOW = "number below the scale"
VALUE_DECIMAL = "decimal number"
VALUE_TEXT = "text matching no label"
VALUE_NOT_NUMBER = "text, not a number"
VALUE_NOT_ASKED = "not asked"
VALUE_KINDS = (VALUE_ABOVE, VALUE_BELOW, VALUE_DECIMAL, VALUE_TEXT, VALUE_NOT_NUMBER, VALUE_NOT_ASKED)


def value_kind(text: object, scale: Scale) -> str:
    """The kind of an unreadable rating answer, as value_issues.csv shows it (never the value).

    Input: the raw cell text and the item's scale. Output: :data:`VALUE_ABOVE` / :data:`VALUE_BELOW`
    for a number outside ``scale.min``-``scale.max`` (infinity included), :data:`VALUE_DECIMAL` for a
    non-integer inside it, else :data:`VALUE_TEXT` (text that is no code, label or missing code).
    """
    number = _number("" if text is None else str(text))
    if number is None or number != number:  # not a number, or NaN
        return VALUE_TEXT
    if number > scale.max:
        return VALUE_ABOVE
    if number < scale.min:
        return VALUE_BELOW
    return VALUE_DECIMAL


def _kind_counts(kinds: Sequence[str]) -> str:
    """'3 × number above the scale, 1 × text matching no label': value kinds counted, most common first."""
    counts = pd.Series(list(kinds), dtype=object).value_counts(sort=False)
    counts = counts.sort_values(ascending=False, kind="stable")
    return ", ".join(f"{n} × {kind}" for kind, n in counts.items())


@dataclass
class CodedItems:
    """Rated answers as scale codes (before reverse-coding) and the values set to missing."""

    codes: pd.DataFrame  # index = raw row, columns = item ids, float with NaN
    issues: pd.DataFrame  # row, column, item, value, reason


def code_items(
    survey: Survey, raw: RawData, columns: Mapping[str, str], max_unreadable: float | None = None
) -> CodedItems:
    """Map every rated item's raw answers to codes on its scale.

    Works per distinct value (fast on large files). Returns :class:`CodedItems`.
    Raises :class:`DataError` naming the column and the scale when more than
    ``max_unreadable`` (default the survey's ``cleaning.max_unreadable``) of a
    column's answers match neither the scale's codes, labels nor missing codes:
    the definition probably does not fit the export.
    """
    limit = survey.cleaning.max_unreadable if max_unreadable is None else max_unreadable
    coded: dict[str, pd.Series] = {}
    issue_frames = []
    for item_id in survey.rated_items:
        header = columns[item_id]
        scale = survey.scale_of(item_id)
        labels, missing_text, missing_num = _code_table(scale)
        series = raw.frame[header].astype(object)
        # per distinct value, then one take per outcome (no per-row Python)
        position, uniques = pd.factorize(series, use_na_sentinel=False)
        outcome = [_code_with(u, scale, labels, missing_text, missing_num) for u in uniques]
        code_arr = np.array([np.nan if v is _MISSING or v is _ISSUE else v for v in outcome], dtype=float)
        is_issue = pd.Series(np.array([v is _ISSUE for v in outcome], dtype=bool)[position], index=series.index)
        is_missing = np.array([v is _MISSING for v in outcome], dtype=bool)[position]
        answered = int((~is_missing).sum())
        n_issue = int(is_issue.sum())
        kinds = {u: value_kind(u, scale) for u, v in zip(uniques, outcome, strict=True) if v is _ISSUE}
        if answered and n_issue / answered > limit:
            found = _kind_counts(series[is_issue].map(kinds).tolist())
            raise DataError(
                f"{n_issue} of {answered} answers ({n_issue / answered:.0%}) fit neither the codes "
                f"{scale.min}-{scale.max}, the labels nor the missing codes of scale '{scale.name}' "
                f"({found}). The survey definition probably does not describe this column.",
                file=str(raw.path),
                column=header,
                expected=f"codes {scale.min}-{scale.max} or labels such as '{scale.label(scale.max, 'zh')}'",
            )
        values = pd.Series(code_arr[position], index=series.index)
        coded[item_id] = values
        if n_issue:
            issue_frames.append(
                pd.DataFrame(
                    {
                        "row": series.index[is_issue],
                        "column": header,
                        "item": item_id,
                        "value": series[is_issue].map(kinds).to_numpy(),
                        "reason": f"not a code {scale.min}-{scale.max} or label of scale '{scale.name}'",
                    }
                )
            )
    codes = pd.DataFrame(coded, index=raw.frame.index)
    issues = (
        pd.concat(issue_frames, ignore_index=True)
        if issue_frames
        else pd.DataFrame(columns=["row", "column", "item", "value", "reason"])
    )
    return CodedItems(codes=codes, issues=issues)


def numeric_column(raw: RawData, header: str, reason: str) -> tuple[pd.Series, pd.DataFrame]:
    """A numeric column (e.g. duration in seconds): text -> float; non-numbers become NaN and issues.

    An issue's ``value`` is :data:`VALUE_NOT_NUMBER`, never the cell's text.
    """
    series = raw.frame[header].astype(object)
    text = series.astype(str).str.strip()
    values = pd.to_numeric(_per_value(text, lambda t: unicodedata.normalize("NFKC", t)), errors="coerce")
    bad = values.isna() & (text != "")
    issues = pd.DataFrame(
        {
            "row": series.index[bad],
            "column": header,
            "item": header,
            "value": VALUE_NOT_NUMBER,
            "reason": reason,
        }
    )
    return values.astype(float), issues


def _per_value(series: pd.Series, fn: Any) -> pd.Series:
    """``series.map(fn)`` computed once per distinct value (the same result; fast on large files)."""
    position, uniques = pd.factorize(series, use_na_sentinel=False)
    done = np.empty(len(uniques), dtype=object)
    done[:] = [fn(u) for u in uniques]
    return pd.Series(done[position], index=series.index, name=series.name)


def text_column(raw: RawData, header: str) -> pd.Series:
    """A text column (segment, open-ended answer): stripped, empty -> missing; SPSS codes -> their labels."""
    series = _per_value(raw.frame[header].astype(object), lambda v: str(v).strip())
    labels = raw.value_labels.get(header)
    if labels:
        lookup = {_cell_text(float(k)): str(v) for k, v in labels.items()}
        series = series.map(lambda v: lookup.get(v, v))
    return series.where(series != "", None).astype(object)


def read_operations(path: str | Path) -> pd.DataFrame:
    """Read a complaint log (one row per complaint) named by ``operations:`` in a wave file.

    Input: a CSV (any encoding/separator accepted by :func:`read_raw`),
    XLSX or SPSS file with the columns ``complaint_id, opened, first_response,
    resolved, followed_up`` (timestamps, e.g. ``2025-03-02 14:05``; the last three
    may be empty) and optionally ``customer_type, region, channel, category``.
    Header case and surrounding spaces are ignored.

    Output: the log as text cells, index = 1-based data row, ``attrs["source"]``
    = the path (used in error messages by :func:`analysis.kpis.operational_kpis`).

    Raises :class:`~analysis.errors.DataError` listing every missing required
    column, or naming the rows of a duplicated ``complaint_id``.
    """
    from .kpis import OPERATIONS_REQUIRED

    path = Path(path)
    frame = read_raw(path).frame.copy()
    frame.columns = [unicodedata.normalize("NFKC", str(c)).strip().lower() for c in frame.columns]
    missing = [c for c in OPERATIONS_REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"the complaint log lacks the column(s) {', '.join(missing)}.",
            file=str(path),
            expected=f"columns {', '.join(OPERATIONS_REQUIRED)}",
        )
    ids = frame["complaint_id"].astype(str).str.strip()
    dup = ids[(ids != "") & ids.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        rows = [int(r) for r in dup.index[dup == first]]
        raise DataError(
            f"complaint_id '{first}' appears on rows {', '.join(map(str, rows))}.",
            file=str(path),
            column="complaint_id",
            expected="one row per complaint",
        )
    frame.attrs["source"] = str(path)
    return frame
