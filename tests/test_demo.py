"""Tests of the demo program simulator (analysis.demo).

The planted truth is checked against an independent reading of the written
files: the raw exports are read back with pandas/openpyxl and the cleaning
rules of the brief are re-implemented here from their text (first matching
rule wins), so a generator bug (a genuine row that happens to be a
straightliner, a speeder cut that also catches real rows, a value issue
placed in a duplicate ...) makes the truth tables disagree with the data.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from scipy import stats

from analysis import cli, demo
from analysis.demo import (
    DIRT,
    REASONS,
    ahp_consistency_ratio,
    render_files,
    simulate_program,
    write_program,
)

REPO = Path(__file__).resolve().parents[1]
DELIVERY = ["q_del_ontime", "q_del_leadtime", "q_del_accuracy"]


@pytest.fixture(scope="module")
def program():
    return simulate_program()


@pytest.fixture(scope="module")
def files(program):
    return render_files(program)


@pytest.fixture(scope="module")
def survey(files):
    return yaml.safe_load(files["params/survey.yaml"].decode("utf-8"))


# --------------------------------------------------------------------------------------------------
# independent reading of the raw exports
# --------------------------------------------------------------------------------------------------


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_raw(files: dict[str, bytes], name: str) -> pd.DataFrame:
    """The raw export as a table of strings ('' = empty cell)."""
    data = files[f"data/raw/{name}"]
    if name.endswith(".xlsx"):
        wb = load_workbook(io.BytesIO(data), read_only=True)
        rows = [[_cell_text(v) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        return pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    if data.startswith(b"\xef\xbb\xbf"):
        enc, sep = "utf-8-sig", ","
    else:
        enc, sep = "gbk", ";"
    df = pd.read_csv(io.BytesIO(data), sep=sep, encoding=enc, dtype=str, keep_default_na=False)
    return df.astype(object)


def decode_items(raw: pd.DataFrame, survey: dict) -> tuple[pd.DataFrame, set[tuple[int, str, str]]]:
    """Item codes (NaN = no answer) by item id, and the value issues {(row, item, value)}."""
    codes, issues = {}, set()
    for it in survey["items"]:
        header = it["id"] if it["id"] in raw.columns else it["text"]["zh"]
        scale = survey["scales"][it["scale"]]
        lookup = {}
        for code, lab in scale.get("labels", {}).items():
            for text in lab.values() if isinstance(lab, dict) else [lab]:
                lookup[text] = code
        missing = {str(m) for m in scale["missing"]}
        col = []
        for row, v in enumerate(raw[header], start=1):
            v = v.strip()
            if v == "" or v in missing:
                col.append(np.nan)
            elif v in lookup:
                col.append(lookup[v])
            elif v.lstrip("-").isdigit() and scale["min"] <= int(v) <= scale["max"]:
                col.append(int(v))
            else:
                issues.add((row, it["id"], v))
                col.append(np.nan)
        codes[it["id"]] = col
    return pd.DataFrame(codes, dtype=float), issues


def reference_reasons(raw: pd.DataFrame, codes: pd.DataFrame, survey: dict) -> list[str]:
    """The cleaning rules of the brief, in order; '' for a kept row."""
    cfg = survey["cleaning"]
    dup_id = raw["resp_id"].duplicated(keep="first").to_numpy()
    dup_row = raw.drop(columns="resp_id").duplicated(keep="first").to_numpy()
    # a question skipped by design (asked_if) is not a missing answer: the share is over the items asked
    asked = pd.DataFrame(True, index=codes.index, columns=codes.columns)
    for it in survey["items"]:
        if it.get("asked_if"):
            asked[it["id"]] = codes[it["asked_if"]["item"]].isin(it["asked_if"]["in"])
    incomplete = ((codes.notna() & asked).sum(axis=1) / asked.sum(axis=1) < cfg["min_answered"]).to_numpy()
    dur = raw["duration_sec"].astype(float)
    speeder = (dur < cfg["speeder_fraction"] * dur.median()).to_numpy()
    # blocks: the whole battery, and (as analysis.clean reads the rule) every scale and construct
    blocks = [list(codes.columns)]
    for key in ["scale", "construct"]:
        for value in {it.get(key) for it in survey["items"]} - {None}:
            ids = [it["id"] for it in survey["items"] if it.get(key) == value]
            if len(ids) >= cfg["straightline_min_items"]:
                blocks.append(ids)
    straight = np.zeros(len(raw), bool)
    for ids in blocks:
        b = codes[ids]
        straight |= ((b.notna().sum(axis=1) >= 5) & (b.nunique(axis=1) == 1)).to_numpy()
    rules = [dup_id, dup_row, incomplete, speeder, straight]
    out = []
    for i in range(len(raw)):
        out.append(next((name for name, hit in zip(REASONS, rules, strict=True) if hit[i]), ""))
    return out


@pytest.fixture(scope="module")
def decoded(program, files, survey):
    out = {}
    for w in program.waves.values():
        raw = read_raw(files, w.raw_file)
        codes, issues = decode_items(raw, survey)
        out[w.wave] = (raw, codes, issues)
    return out


def kept_codes(program, decoded, wave: str) -> pd.DataFrame:
    raw, codes, _ = decoded[wave]
    keep = (program.waves[wave].truth_rows["reason"] == "").to_numpy()
    return codes.assign(region=raw["region"].to_numpy(), cust_no=raw["cust_no"].to_numpy())[keep]


# --------------------------------------------------------------------------------------------------
# reproducibility
# --------------------------------------------------------------------------------------------------


def test_regeneration_is_byte_identical(tmp_path, files):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert demo.main(["--root", str(a)]) == 0
    assert cli.main(["demo", "--root", str(c)]) == 0  # csat demo
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-m", "analysis.demo", "--root", str(b)],
        check=True,
        env=env,
        capture_output=True,
    )
    for rel, data in files.items():
        assert (a / rel).read_bytes() == data, rel
        assert (b / rel).read_bytes() == data, rel
        assert (c / rel).read_bytes() == data, rel
    written = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert written == sorted(files)  # atomic writes leave no temp files behind
    assert all((a / rel).stat().st_mode & 0o777 == 0o644 for rel in files)


def test_committed_files_are_current(files):
    for rel, data in files.items():
        path = REPO / rel
        assert path.is_file(), f"{rel} missing: run csat demo"
        assert path.read_bytes() == data, f"{rel} is stale: run csat demo"


def test_seed_changes_the_data(program):
    other = simulate_program(seed=7)
    a, b = program.waves["2025H1"].raw, other.waves["2025H1"].raw
    assert not a["q_overall"].equals(b["q_overall"])


def test_xlsx_has_no_time_dependent_metadata(files):
    with zipfile.ZipFile(io.BytesIO(files["data/raw/2026H1.xlsx"])) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    stamps = re.findall(r"\d{4}-\d{2}-\d{2}T[0-9:]+Z?", core)
    assert len(stamps) == 2 and set(stamps) == {"2026-01-01T00:00:00Z"}  # created, modified


# --------------------------------------------------------------------------------------------------
# parameter files
# --------------------------------------------------------------------------------------------------


def test_survey_yaml_follows_the_contract(survey, program):
    assert survey == program.survey
    for key in ["title", "respondent_id", "customer_id", "pii", "segments", "duration", "scales", "items"]:
        assert key in survey
    assert survey["language"] == "zh" and set(survey["title"]) == {"en", "zh"}
    ids = [it["id"] for it in survey["items"]]
    assert len(ids) == len(set(ids))
    assert len({it["text"]["zh"] for it in survey["items"]}) == len(ids)  # usable as headers
    assert all(set(it["text"]) == {"en", "zh"} and it["scale"] in survey["scales"] for it in survey["items"])
    for ref in [
        survey["overall_satisfaction"],
        survey["recommend"],
        survey["repurchase"],
        *survey["loyalty"],
    ]:
        assert ref in ids
    assert [it["id"] for it in survey["items"] if it.get("reverse")] == ["q_pack_damage"]
    constructs = {it.get("construct") for it in survey["items"]} - {None}
    attributes = {"ProductQuality", "Delivery", "Packaging", "ComplaintHandling", "TechService", "Price"}
    assert attributes | {"Image", "Expectation", "Satisfaction", "Loyalty"} <= constructs
    assert sum(it.get("construct") in attributes for it in survey["items"]) == 19
    # the complaint-handling block is asked only of customers who complained (missing by design)
    assert [it["id"] for it in survey["items"] if "construct" not in it] == ["q_complained"]
    asked_if = {it["id"]: it.get("asked_if") for it in survey["items"] if it.get("construct") == "ComplaintHandling"}
    assert asked_if and all(a == {"item": "q_complained", "in": [1]} for a in asked_if.values())
    assert all(s in constructs and t in constructs for s, t in survey["paths"])
    assert ["Delivery", "Satisfaction"] in survey["paths"] and ["Satisfaction", "Loyalty"] in survey["paths"]
    assert set(survey["index"]["constructs"]) == attributes
    assert survey["targets"]["satisfaction_rate"] == {"min": 0.9}
    assert survey["targets"]["complaint_rate_change"] == {"max": -0.3}
    sat7 = survey["scales"]["sat7"]
    assert sat7["labels"][6] == {"zh": "满意", "en": "Satisfied"}
    assert sat7["missing"] == [99, -99, "不适用", "N/A", "不清楚"]


def test_ahp_matrix_is_reciprocal_and_consistent(survey):
    a = np.array(survey["index"]["ahp"]["matrix"], dtype=float)
    assert survey["index"]["ahp"]["labels"] == survey["index"]["constructs"]
    np.testing.assert_allclose(a * a.T, 1.0)  # exact reciprocals
    # Saaty's approximation: geometric-mean weights, lambda_max = mean((A w) / w), RI(6) = 1.24
    w = np.exp(np.log(a).mean(axis=1))
    w /= w.sum()
    lam = float(np.mean(a @ w / w))
    cr = (lam - 6) / 5 / 1.24
    assert cr < 0.1
    assert ahp_consistency_ratio(a) == pytest.approx(cr, abs=0.005)


def test_ahp_consistency_ratio_against_closed_form():
    # 3x3 reciprocal matrix: lambda_max = 1 + r**(1/3) + r**(-1/3), r = a13 / (a12 * a23)
    m = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    r = 5 / 9
    lam = 1 + r ** (1 / 3) + r ** (-1 / 3)  # 3.0385
    assert ahp_consistency_ratio(m) == pytest.approx((lam - 3) / 2 / 0.58, rel=1e-9)  # 0.0332
    assert ahp_consistency_ratio([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]]) == pytest.approx(0, abs=1e-12)


def test_wave_files(tmp_path, program, files):
    write_program(program, tmp_path)
    expected_rate = {"2025H1": 0.85, "2025H2": 0.82, "2026H1": 0.76}
    baselines = {"2025H1": None, "2025H2": "2025H1", "2026H1": "2025H2"}
    for wave, rate in expected_rate.items():
        path = tmp_path / "params" / "waves" / f"{wave}.yaml"
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert d["wave"] == wave and d.get("baseline") == baselines[wave]
        assert (path.parent / d["raw"]).resolve().is_file()
        assert (path.parent / d["operations"]).resolve().is_file()
        assert (
            isinstance(d["fieldwork"]["start"], dt.date) and d["fieldwork"]["start"] < d["fieldwork"]["end"]
        )
        assert 5000 <= d["customers"] <= 6000
        kept = int((program.waves[wave].truth_rows["reason"] == "").sum())
        assert kept / d["invited"] == pytest.approx(rate, abs=0.002)


# --------------------------------------------------------------------------------------------------
# raw export formats
# --------------------------------------------------------------------------------------------------


def test_2025h1_is_utf8_bom_comma_with_codes(files, survey, decoded):
    data = files["data/raw/2025H1.csv"]
    assert data.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    ids = [it["id"] for it in survey["items"]]
    front = [
        "resp_id",
        "cust_no",
        "name",
        "phone",
        "email",
        "region",
        "channel",
        "customer_type",
        "duration_sec",
    ]
    assert list(df.columns[:9]) == front
    assert list(df.columns[9:-2]) == ids and list(df.columns[-2:]) == ["q_comment", "ip_address"]
    values = set(pd.unique(df[ids].to_numpy().ravel()))
    issues = {v for _, _, v in decoded["2025H1"][2]}
    assert values - issues <= {str(i) for i in range(0, 11)} | {"-99", "99", ""}
    assert {"-99", "99"} <= values


def test_2025h2_is_gbk_semicolon_with_chinese_labels(files, survey, decoded):
    data = files["data/raw/2025H2.csv"]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header = data.decode("gbk").split("\n", 1)[0].split(";")
    assert header[0] == "resp_id" and "总体满意度" in header and "交期准时" in header
    raw = decoded["2025H2"][0]
    overall = set(raw["总体满意度"])
    assert {"满意", "很满意", "一般"} <= overall and "不适用" in set(raw["投诉处理结果"])
    assert not overall & {"Satisfied", "6", "7"}


def test_2026h1_is_xlsx_with_codes_and_english_labels(files):
    data = files["data/raw/2026H1.xlsx"]
    assert data[:2] == b"PK"
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    df = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    assert "Very satisfied" in set(df["q_del_ontime"]) and "Definitely" in set(df["q_repurchase"])
    assert {type(v) for v in df["q_overall"]} >= {int}
    assert all(isinstance(v, int) for v in df["duration_sec"])
    assert "N/A" in set(df["q_del_ontime"]) and -99 in set(df["q_ch_outcome"])


def test_complaint_logs(program, files):
    cols = "complaint_id customer_type region channel opened first_response resolved followed_up category"
    cols = cols.split()
    rate = {}
    for w in program.waves.values():
        df = pd.read_csv(io.BytesIO(files[f"data/raw/{w.operations_file}"]), encoding="utf-8")
        assert list(df.columns) == cols and df["complaint_id"].is_unique
        t = {c: pd.to_datetime(df[c], format="%Y-%m-%d %H:%M") for c in cols[4:8]}
        assert (t["first_response"] > t["opened"]).all() and (t["resolved"] > t["first_response"]).all()
        assert ((t["followed_up"] > t["resolved"]) | t["followed_up"].isna()).all()
        assert set(df["category"]) <= {"交期", "质量", "包装", "服务", "价格", "其他"}
        rate[w.wave] = len(df) / w.customers
        south = df[df["region"] == "华南"]
        if w.wave == "2026H1":  # the delivery problem shows in the complaint log too
            assert (south["category"] == "交期").mean() > 0.5
    assert rate["2025H2"] / rate["2025H1"] - 1 < -0.30 < rate["2026H1"] / rate["2025H2"] - 1


# --------------------------------------------------------------------------------------------------
# planted truth
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wave", ["2025H1", "2025H2", "2026H1"])
def test_truth_rows_match_reference_cleaning(program, decoded, survey, wave):
    w = program.waves[wave]
    raw, codes, _ = decoded[wave]
    assert 1500 <= len(raw) <= 3000
    truth = w.truth_rows
    assert list(truth["row"]) == list(range(1, len(raw) + 1))
    assert list(truth["resp_id"]) == list(raw["resp_id"])
    assert reference_reasons(raw, codes, survey) == list(truth["reason"])
    counts = truth["reason"].value_counts()
    for reason in REASONS:
        assert counts[reason] == DIRT[reason]
    assert (truth["planted"] == "outlier").sum() == DIRT["outlier"]
    assert set(truth.loc[truth["planted"] == "outlier", "reason"]) == {""}


@pytest.mark.parametrize("wave", ["2025H1", "2025H2", "2026H1"])
def test_truth_values_match_reference_decoding(program, decoded, wave):
    w = program.waves[wave]
    raw, codes, issues = decoded[wave]
    truth = {(int(r), c, v) for r, c, v in w.truth_values[["row", "column", "value"]].itertuples(index=False)}
    assert issues == truth
    assert (w.truth_values["kind"] == "out_of_range").sum() == DIRT["out_of_range"]
    assert (w.truth_values["kind"] == "unmatched_label").sum() == DIRT["unmatched_label"]
    assert set(w.truth_values["row"]) <= set(w.truth_rows.loc[w.truth_rows["reason"] == "", "row"])
    # no column is anywhere near the 20% unreadable limit
    assert w.truth_values["column"].value_counts().max() / len(raw) < 0.2
    # defined missing codes occur and are not value issues
    assert codes.isna().to_numpy().sum() > len(issues) + 100


def test_pii_is_clearly_fake_and_comments_test_escaping(program):
    for w in program.waves.values():
        raw = w.raw
        assert raw["name"].str.match(r"^测试用户\d{4}$").all()
        assert raw["phone"].str.match(r"^139-0000-\d{4}$").all()
        assert raw["email"].str.endswith("@example.com").all()
        comments = set(raw["q_comment"].dropna())
        assert "<script>alert(1)</script>" in comments
        assert any("&" in c and "<b>" in c for c in comments)
        assert any(c.isascii() for c in comments) and any(not c.isascii() for c in comments)


def test_customers_link_across_waves(program, decoded):
    h1 = set(kept_codes(program, decoded, "2025H1")["cust_no"])
    h2 = set(kept_codes(program, decoded, "2025H2")["cust_no"])
    assert len(h1 & h2) / len(h1) == pytest.approx(0.40, abs=0.01)


def test_distribution_is_left_skewed_and_targets_are_missed(program, decoded):
    for wave in program.waves:
        d = kept_codes(program, decoded, wave)
        overall = d["q_overall"].dropna()
        assert 5.1 <= overall.mean() <= 5.7
        assert 0.45 <= (overall >= 6).mean() < 0.90  # the 90% satisfaction target is not met
        nps = d["q_nps"].dropna()
        assert -10 < 100 * ((nps >= 9).mean() - (nps <= 6).mean()) < 30


def test_loyalty_rises_steeply_only_at_high_satisfaction(program, decoded):
    d = kept_codes(program, decoded, "2025H2")
    loyalty = d[["q_repurchase", "q_recommend_brand", "q_price_tolerance"]].mean(axis=1)
    by_level = loyalty.groupby(d["q_overall"]).mean()
    steps = by_level.diff().dropna()  # loyalty gained per satisfaction level: convex
    assert steps[7] == steps.max() and steps[7] > 2 * steps[[2, 3, 4, 5]].mean()
    assert by_level[7] - by_level[5] > 1.2
    # NPS item correlates with loyalty
    assert np.corrcoef(d["q_nps"].fillna(d["q_nps"].mean()), loyalty.fillna(loyalty.mean()))[0, 1] > 0.5


def test_planted_delivery_drop_in_south_china(program, decoded):
    assert (program.effects.query("wave == '2026H1'")[["region", "construct", "shift"]].values.tolist()) == [
        ["华南", "Delivery", -0.8]
    ]
    before = kept_codes(program, decoded, "2025H2")
    after = kept_codes(program, decoded, "2026H1")

    def by_region(d, cols):
        return d[cols].mean(axis=1).groupby(d["region"]).mean()

    change = by_region(after, DELIVERY) - by_region(before, DELIVERY)
    assert change["华南"] < -0.6
    assert change.drop("华南").abs().max() < 0.2
    # Welch t-tests per region: only 华南 changes beyond sampling noise
    for region in change.index:
        x, y = (d.loc[d["region"] == region, DELIVERY].mean(axis=1).dropna() for d in (after, before))
        t = stats.ttest_ind(x, y, equal_var=False).statistic
        assert (t < -8) if region == "华南" else (abs(t) < 2.5), (region, t)
    sat = by_region(after, ["q_overall"]) - by_region(before, ["q_overall"])
    assert sat["华南"] < -0.1 and sat["华南"] < sat.drop("华南").min() - 0.1
    # 2025H2 vs 2025H1: a mild improvement everywhere
    items = [c for c in before.columns if c.startswith("q_") and c != "q_nps"]
    first = kept_codes(program, decoded, "2025H1")
    gain = before[items].stack().mean() - first[items].stack().mean()
    assert 0.05 < gain < 0.3


def test_the_demo_is_weighted_to_its_customer_pool(survey, program):
    """Issue 13: the simulator knows its customer base, so the demo's margins are the pool's shares."""
    from analysis.demo.latent import _customer_pool

    pool = _customer_pool(program.seed)
    margins = survey["weighting"]["margins"]
    assert survey["weighting"]["method"] == "rake" and set(margins) == {"region", "channel"}
    for seg, shares in margins.items():
        assert sum(shares.values()) == pytest.approx(1, abs=1e-12)
        actual = pool[seg].value_counts(normalize=True)
        for group, share in shares.items():
            assert share == pytest.approx(actual[group], abs=2e-4), (seg, group)
