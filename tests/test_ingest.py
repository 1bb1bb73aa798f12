"""Reading raw exports in every supported format and encoding, and mapping answers to codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import DataError
from analysis.ingest import code_items, code_value, read_raw, resolve_columns
from analysis.survey import load_survey

FRAME = pd.DataFrame(
    {
        "rid": ["1", "2", "3"],
        "region": ["华东", "华南", "华北"],
        "q1": ["5", "满意", "-99"],
        "comment": ["好, 很好", "差;不好", "a\tb"],
    }
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_csv_encodings_and_separators(tmp_path: Path, encoding: str, sep: str) -> None:
    path = tmp_path / "x.csv"
    FRAME.to_csv(path, sep=sep, index=False, encoding=encoding)
    raw = read_raw(path)
    assert raw.separator == sep
    assert list(raw.frame.columns) == list(FRAME.columns)
    assert raw.frame["region"].tolist() == ["华东", "华南", "华北"]
    assert raw.frame["comment"].tolist() == FRAME["comment"].tolist()
    assert raw.frame.index.tolist() == [1, 2, 3]


def test_xlsx_numbers_and_text(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    pd.DataFrame({"rid": [1, 2], "q1": [7, "Very satisfied"], "d": [12.5, None]}).to_excel(path, index=False)
    raw = read_raw(path)
    assert raw.frame["rid"].tolist() == ["1", "2"]
    assert raw.frame["q1"].tolist() == ["7", "Very satisfied"]
    assert raw.frame["d"].tolist() == ["12.5", ""]


def test_sav_keeps_value_labels(tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "x.sav"
    df = pd.DataFrame({"rid": [1.0, 2.0], "region": [1.0, 2.0], "q1": [5.0, 3.0]})
    pyreadstat.write_sav(df, str(path), variable_value_labels={"region": {1.0: "华东", 2.0: "华南"}})
    raw = read_raw(path)
    assert raw.frame["q1"].tolist() == ["5", "3"]
    assert raw.value_labels["region"][1.0] == "华东"
    from analysis.ingest import text_column

    assert text_column(raw, "region").tolist() == ["华东", "华南"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "empty"), (b"a,b,c\n", "header but no data rows"), (b"\xff\xfe\x00", "empty")],
)
def test_empty_and_header_only(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=needle) as err:
        read_raw(path)
    assert str(path) in str(err.value)


def test_unreadable_encoding(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n\x81\x20\xff\xfe\x80,1\n")  # invalid in UTF-8 and in GB18030
    with pytest.raises(DataError, match="cannot be read as text"):
        read_raw(path)


def test_duplicate_headers(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    pd.DataFrame([[1, 2]], columns=["q1", "q1 "]).to_excel(path, index=False)
    with pytest.raises(DataError, match="appears twice"):
        read_raw(path)


def test_code_value_rules(small_survey: Path) -> None:
    scale = load_survey(small_survey / "params" / "survey.yaml").scales["sat5"]
    missing = code_value("", scale)
    assert code_value("5", scale) == 5.0
    assert code_value("5.0", scale) == 5.0
    assert code_value("５", scale) == 5.0  # full-width digit
    assert code_value(" 满意 ", scale) == 4.0
    assert code_value("VERY  satisfied", scale) == 5.0
    assert code_value("-99", scale) is missing
    assert code_value("不适用", scale) is missing
    assert code_value("n/a", scale) is missing
    issue = code_value("6", scale)
    assert issue is not missing and not isinstance(issue, float)
    assert code_value("4.5", scale) is issue
    assert code_value("满意的", scale) is issue


def test_columns_found_by_question_text(small_survey: Path, tmp_path: Path) -> None:
    survey = load_survey(small_survey / "params" / "survey.yaml")
    path = small_survey / "data" / "raw" / "w1.csv"
    text = path.read_text(encoding="utf-8").replace("q1,q2,q3", "产品质量, Delivery  time ,包装破损", 1)
    zh = tmp_path / "zh.csv"
    zh.write_bytes(text.encode("gbk"))
    raw = read_raw(zh)
    cols = resolve_columns(survey, raw)
    assert cols["q1"] == "产品质量" and cols["q2"] == "Delivery  time" and cols["q3"] == "包装破损"


def test_missing_item_column_named(small_survey: Path, tmp_path: Path) -> None:
    survey = load_survey(small_survey / "params" / "survey.yaml")
    text = (small_survey / "data" / "raw" / "w1.csv").read_text(encoding="utf-8").replace(",q4,", ",qX,", 1)
    p = tmp_path / "bad.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        resolve_columns(survey, read_raw(p))
    assert "column 'q4'" in str(err.value) and str(p) in str(err.value)


def test_too_many_unreadable_values_stop(small_survey: Path, tmp_path: Path) -> None:
    survey = load_survey(small_survey / "params" / "survey.yaml")
    lines = (small_survey / "data" / "raw" / "w1.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    # q6 is the 12th field: make 3 of 9 answers 'great' (33% > 20%)
    new = []
    for i, r in enumerate(rows):
        f = r.split(",")
        if i < 3:
            f[11] = "great"
        new.append(",".join(f))
    p = tmp_path / "bad.csv"
    p.write_text("\n".join([header, *new]) + "\n", encoding="utf-8")
    raw = read_raw(p)
    with pytest.raises(DataError) as err:
        code_items(survey, raw, resolve_columns(survey, raw))
    msg = str(err.value)
    assert "column 'q6'" in msg and "scale 'sat5'" in msg
    assert "3 × text matching no label" in msg and "great" not in msg  # the kind, never the value


# --------------------------------------------------------------------------- large exports (pyarrow)
@pytest.mark.parametrize(
    "content",
    [
        "id,q1,comment\n1,5,\"a, quoted\ncomment\"\n\n2,,plain\n3,7,\n",
        "id;q1;comment\r\n1;5;x\r\n2;6;\"\"\r\n",
        "id,q1\n1,5\n2\n3,7\n",  # a short row: pandas fills it
    ],
)
def test_arrow_reader_gives_the_pandas_frame(tmp_path, monkeypatch, content):
    """Large files go through pyarrow; the frame is the one pandas gives (or pandas reads it)."""
    from analysis import ingest

    path = tmp_path / "wave.csv"
    path.write_text(content, encoding="utf-8")
    expected = ingest.read_raw(path).frame
    monkeypatch.setattr(ingest, "ARROW_ABOVE", 0)
    got = ingest.read_raw(path).frame
    pd.testing.assert_frame_equal(got.astype(object), expected.astype(object))


@pytest.mark.parametrize("name", ["2025H1.csv", "2025H2.csv"])
def test_arrow_reader_on_the_demo_exports(monkeypatch, name):
    """The demo's UTF-8 (BOM, comma) and GBK (semicolon) exports read the same by both parsers."""
    from analysis import ingest

    path = Path(__file__).resolve().parent.parent / "data" / "raw" / name
    expected = ingest.read_raw(path)
    calls = []
    original = ingest._read_csv_arrow
    monkeypatch.setattr(ingest, "ARROW_ABOVE", 0)

    def spy(*args):
        calls.append(original(*args))
        return calls[-1]

    monkeypatch.setattr(ingest, "_read_csv_arrow", spy)
    got = ingest.read_raw(path)
    assert calls and calls[0] is not None and got.encoding == expected.encoding and got.separator == expected.separator
    pd.testing.assert_frame_equal(got.frame.astype(object), expected.frame.astype(object))
    assert original(path.read_bytes(), "", "utf-8", ",") is None  # no header: pandas reads it
