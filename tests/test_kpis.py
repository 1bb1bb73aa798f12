"""KPIs: operational numbers from hand-made complaint logs, target statuses at the boundary."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.errors import DataError
from analysis.ingest import read_operations
from analysis.kpis import (
    kpi_display,
    kpi_table,
    operational_kpis,
    parse_timestamps,
    target_text,
    wave_kpis,
)

COLUMNS = [
    "complaint_id",
    "customer_type",
    "region",
    "channel",
    "opened",
    "first_response",
    "resolved",
    "followed_up",
    "category",
]

# Five complaints whose answers are worked out by hand below.
#   id   opened            response (h)          resolved (h after opened)  follow-up (h after resolved)
#   C1   01-06 09:00       15:00  -> 6 h  yes    01-07 09:00 -> 24         01-08 09:00 -> 24   yes
#   C2   01-06 10:00       01-07 10:00 -> 24 yes  01-09 10:00 -> 72         01-12 10:00 -> 72   yes (boundary)
#   C3   01-07 08:00       01-08 08:01 -> 24h01m no 01-08 20:00 -> 36       01-11 20:01 -> 72h01m no
#   C4   01-08 12:00       none -> no            unresolved                 none (not counted)
#   C5   2025/1/9 9:30     10:30 -> 1 h  yes     01-13 09:30 -> 96         none -> no
# n = 5, customers = 200 -> complaint rate 5/200 = 0.025
# resolution hours of resolved complaints: 24, 72, 36, 96 -> sorted 24, 36, 72, 96 -> median (36+72)/2 = 54
# answered within 24 h: C1, C2, C5 -> 3/5 = 0.6
# followed up within 3 days among the 4 resolved: C1, C2 -> 2/4 = 0.5
LOG = [
    [
        "C1",
        "key",
        "East",
        "phone",
        "2025-01-06 09:00",
        "2025-01-06 15:00",
        "2025-01-07 09:00",
        "2025-01-08 09:00",
        "delivery",
    ],
    [
        "C2",
        "ordinary",
        "East",
        "web",
        "2025-01-06 10:00",
        "2025-01-07 10:00",
        "2025-01-09 10:00",
        "2025-01-12 10:00",
        "quality",
    ],
    [
        "C3",
        "ordinary",
        "North",
        "phone",
        "2025-01-07 08:00",
        "2025-01-08 08:01",
        "2025-01-08 20:00",
        "2025-01-11 20:01",
        "price",
    ],
    ["C4", "key", "North", "store", "2025-01-08 12:00", "", "", "", "service"],
    [
        "C5",
        "ordinary",
        "South",
        "web",
        "2025/1/9 9:30",
        "2025-01-09 10:30",
        "2025-01-13 09:30",
        "",
        "delivery",
    ],
]


def log_frame(rows=LOG) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return frame


def test_operational_kpis_hand_calculation():
    k = operational_kpis(log_frame(), customers=200, source="c.csv")
    assert k["n_complaints"] == 5
    assert k["complaint_rate"] == pytest.approx(0.025)
    assert k["n_resolved"] == 4 and k["n_unresolved"] == 1
    assert k["median_resolution_hours"] == pytest.approx(54.0)
    assert k["response_within_24h"] == pytest.approx(0.6)
    assert k["followup_within_3d"] == pytest.approx(0.5)


def test_operational_kpis_unknown_customers_and_empty_shares():
    k = operational_kpis(log_frame(LOG[3:4]), customers=None)
    assert math.isnan(k["complaint_rate"])
    assert k["response_within_24h"] == 0.0  # one complaint, never answered
    assert math.isnan(k["median_resolution_hours"])  # nothing resolved
    assert math.isnan(k["followup_within_3d"])  # no resolved complaint to follow up


def test_read_operations_gbk_semicolon(tmp_path):
    path = tmp_path / "complaints.csv"
    header = ";".join(c.upper() if c == "opened" else c for c in COLUMNS)  # header case is ignored
    lines = [header] + [";".join(r[:-1] + ["物流"]) for r in LOG]
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    frame = read_operations(path)
    assert list(frame["category"]) == ["物流"] * 5
    assert frame.attrs["source"] == str(path)
    k = operational_kpis(frame, customers=200)
    assert k["median_resolution_hours"] == pytest.approx(54.0)


def test_read_operations_lists_missing_columns(tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_text("complaint_id,opened,region\nC1,2025-01-06 09:00,East\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_operations(path)
    message = str(err.value)
    assert "first_response" in message and "resolved" in message and "followed_up" in message
    assert "complaints.csv" in message


def test_read_operations_duplicate_id(tmp_path):
    path = tmp_path / "c.csv"
    rows = [LOG[0], LOG[1], ["C1", *LOG[2][1:]]]
    path.write_text("\n".join([",".join(COLUMNS)] + [",".join(r) for r in rows]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"C1.*rows 1, 3"):
        read_operations(path)


@pytest.mark.parametrize(
    ("row", "column", "value", "pattern"),
    [
        (3, "resolved", "2025-13-01 10:00", r"c\.csv, row 3, column 'resolved'.*not a date"),
        (2, "first_response", "tomorrow", r"row 2, column 'first_response'.*tomorrow"),
        (4, "opened", "", r"row 4, column 'opened'.*empty"),
        (1, "resolved", "2025-01-05 09:00", r"row 1, column 'resolved'.*earlier than 'opened'"),
        (2, "followed_up", "2025-01-09 09:00", r"row 2, column 'followed_up'.*earlier than 'resolved'"),
    ],
)
def test_timestamp_errors_name_file_row_column(row, column, value, pattern):
    frame = log_frame()
    frame.loc[row, column] = value
    with pytest.raises(DataError, match=pattern):
        operational_kpis(frame, customers=200, source="c.csv")


def test_parse_timestamps_formats():
    values = pd.Series(
        [
            "2025-03-02 14:05",
            "2025/3/2 9:05",
            "2025年3月2日 9:05",
            "２０２５-03-02T14:05:30",
            "2025-03-02",
            "",
        ]
    )
    parsed = parse_timestamps(values, "opened")
    expected = [
        pd.Timestamp(2025, 3, 2, 14, 5),
        pd.Timestamp(2025, 3, 2, 9, 5),
        pd.Timestamp(2025, 3, 2, 9, 5),
        pd.Timestamp(2025, 3, 2, 14, 5, 30),
        pd.Timestamp(2025, 3, 2),
    ]
    assert parsed.iloc[:5].tolist() == expected
    assert pd.isna(parsed.iloc[5])


def test_wave_kpis_relative_changes():
    # complaint rate 100/1000 -> 70/1000: -30 %; median resolution 108 h -> 54 h: halved
    current = {"complaint_rate": 70 / 1000, "median_resolution_hours": 54.0, "csi": 78.5}
    baseline = {"complaint_rate": 100 / 1000, "median_resolution_hours": 108.0, "csi": 72.0}
    k = wave_kpis(current, baseline)
    assert k["complaint_rate_change"] == pytest.approx(-0.30)
    assert k["resolution_time_change"] == pytest.approx(-0.50)
    assert k["index_change"] == pytest.approx(6.5)
    none = wave_kpis(current, None)
    assert math.isnan(none["complaint_rate_change"]) and math.isnan(none["index_change"])
    zero = wave_kpis(current, {"complaint_rate": 0.0, "median_resolution_hours": float("nan")})
    assert math.isnan(zero["complaint_rate_change"]) and math.isnan(zero["resolution_time_change"])


def test_kpi_status_at_boundaries():
    targets = {
        "satisfaction_rate": {"min": 0.90},
        "response_rate": {"min": 0.80},
        "complaint_rate_change": {"max": -0.30},
        "resolution_time_change": {"max": -0.50},
        "followup_within_3d": {"min": 1.0},
        "nps": {"min": 30},
        "churn_rate": {"max": 0.05},
    }
    values = {
        "satisfaction_rate": 0.90,  # exactly on a min target: met
        "response_rate": 0.7999,  # just below: not met
        # 0.07 / 0.1 - 1 = -0.29999999999999993 in floating point: mathematically -0.30, so met
        "complaint_rate_change": 0.07 / 0.1 - 1,
        "resolution_time_change": -0.49,  # above a max target: not met
        "followup_within_3d": float("nan"),  # target but no data: not met, noted
        "nps": 30.0,
        "csi": 81.2,  # value without target
    }
    assert 0.07 / 0.1 - 1 > -0.30  # the rounding the tolerance is for
    table = kpi_table(values, targets).set_index("kpi")
    assert table.loc["satisfaction_rate", "status"] == "met"
    assert table.loc["response_rate", "status"] == "not met"
    assert table.loc["complaint_rate_change", "status"] == "met"
    assert table.loc["resolution_time_change", "status"] == "not met"
    assert table.loc["followup_within_3d", "status"] == "not met"
    assert table.loc["followup_within_3d", "note"] == "no data"
    assert table.loc["churn_rate", "status"] == "not met"  # target set, never measured
    assert table.loc["nps", "status"] == "met"
    assert table.loc["csi", "status"] == "no target"
    assert table.loc["csi", "target"] == ""
    assert table.loc["satisfaction_rate", "target"] == ">= 0.90"
    assert table.loc["complaint_rate_change", "target"] == "<= -0.30"
    assert table.loc["nps", "target"] == ">= 30"
    assert table.loc["satisfaction_rate", "label_zh"] == "满意率"
    assert set(table["status"]) <= {"met", "not met", "no target"}


def test_kpi_table_columns_order_and_custom_labels():
    table = kpi_table(
        {"my_kpi": 3.0, "nps": 12.0},
        {"satisfaction_rate": {"min": 0.9}},
        labels={"my_kpi": {"en": "Visits", "zh": "访问次数", "unit": "count"}},
    )
    assert list(table.columns) == ["kpi", "value", "target", "status", "note", "label_en", "label_zh", "unit"]
    assert list(table["kpi"]) == ["satisfaction_rate", "nps", "my_kpi"]  # known KPIs first
    assert table.iloc[2][["label_zh", "unit", "status"]].tolist() == ["访问次数", "count", "no target"]
    assert table.iloc[0]["note"] == "no data" and table.iloc[0]["status"] == "not met"


def test_target_text_both_bounds_and_precision():
    assert target_text({"min": 0.1, "max": 0.2}) == ">= 0.10 and <= 0.20"
    assert target_text({"min": 0.125}) == ">= 0.125"
    table = kpi_table({"response_rate": 0.15}, {"response_rate": {"min": 0.1, "max": 0.2}})
    assert table["status"].item() == "met"


def test_kpi_display_languages():
    table = kpi_table(
        {"satisfaction_rate": 0.875, "complaint_rate_change": -0.312},
        {"satisfaction_rate": {"min": 0.9}, "complaint_rate_change": {"max": -0.3}},
    )
    zh = kpi_display(table, "zh")
    assert list(zh.columns) == ["指标", "实际值", "目标", "状态"]
    assert zh.iloc[0].tolist() == ["满意率", "87.5%", "≥ 90.0%", "未达标"]
    en = kpi_display(table, "en")
    assert en.iloc[1].tolist() == ["Complaint rate change vs baseline", "-31.2%", "≤ -30.0%", "met"]
