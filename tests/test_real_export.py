"""A real survey export that follows the contract runs with no code change.

The ECSI ``mobi`` survey (250 customers, 24 items on 1-10; tests/data/ecsi-mobi)
is described by a survey definition written here, then exported twice with the
SAME answers:

(a) ``codes.csv``  UTF-8, comma separated, item ids as headers, numeric codes,
    a seeded handful of cells replaced by the missing code ``-99``;
(b) ``labels.csv`` GBK, semicolon separated, the Chinese question texts as
    headers, the Chinese scale labels as answers, ``不适用`` where (a) has -99.

Both go through the package's stages unchanged; their outputs must be
identical, and must agree with statistics computed here with numpy / pingouin
and with the published seminr values of the mobi README (on an export with no
missing cells and a survey whose paths are exactly the README model).
Everything derived is written to a temporary folder; mobi.csv is only read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import yaml
from pandas.testing import assert_frame_equal

from analysis.clean import clean_wave
from analysis.pls import ECSI_BLOCKS
from analysis.pls import ECSI_PATHS as ECSI_MODEL_PATHS
from analysis.survey import load_survey, load_wave
from analysis.wave import WaveAnalysis

MOBI_DIR = Path(__file__).resolve().parent / "data" / "ecsi-mobi"
MOBI = MOBI_DIR / "mobi.csv"

SEED = 20240917
N_RANDOM_MISSING = 12
N_BOOT = 200
ID_COL = "答卷编号"  # fake respondent id
SEGMENT = "地区"  # one synthetic segment, from the row number
REGIONS = ("华东", "华南", "华北")

BLOCKS = ECSI_BLOCKS
ITEMS = [i for items in BLOCKS.values() for i in items]
ECSI_PATHS = [list(pair) for pair in ECSI_MODEL_PATHS]
README_PATHS = [["Image", "Satisfaction"], ["Expectation", "Satisfaction"], ["Value", "Satisfaction"]]

# mobi README: seminr 2.x fixtures, path weighting scheme
README_ESTIMATES = {
    ("Image", "Satisfaction"): 0.447004,
    ("Expectation", "Satisfaction"): 0.171830,
    ("Value", "Satisfaction"): 0.316425,
}
# construct: (raw alpha, rho_C, AVE)
README_RELIABILITY = {
    "Image": (0.714447, 0.818326, 0.477980),
    "Expectation": (0.432597, 0.733178, 0.480507),
    "Value": (0.816695, 0.917897, 0.848311),
    "Satisfaction": (0.770113, 0.871458, 0.693364),
}

LABELS = {
    1: ("极差", "Extremely poor"),
    2: ("很差", "Very poor"),
    3: ("差", "Poor"),
    4: ("较差", "Fairly poor"),
    5: ("稍差", "Slightly poor"),
    6: ("稍好", "Slightly good"),
    7: ("较好", "Fairly good"),
    8: ("好", "Good"),
    9: ("很好", "Very good"),
    10: ("极好", "Excellent"),
}
TEXTS = {  # the ECSI questionnaire (Tenenhaus et al. 2005), shortened
    "IMAG1": ("言行值得信赖", "It can be trusted in what it says and does"),
    "IMAG2": ("经营稳定、根基牢固", "It is stable and firmly established"),
    "IMAG3": ("对社会有贡献", "It has a social contribution to society"),
    "IMAG4": ("关心客户", "It is concerned with customers"),
    "IMAG5": ("创新且有远见", "It is innovative and forward looking"),
    "CUEX1": ("入网时对总体质量的期望", "Expected overall quality when joining"),
    "CUEX2": ("入网时对满足个人需求的期望", "Expected fit to personal needs when joining"),
    "CUEX3": ("入网时对出错频率的预期", "Expected frequency of things going wrong"),
    "PERQ1": ("总体感知质量", "Overall perceived quality"),
    "PERQ2": ("网络的技术质量", "Technical quality of the network"),
    "PERQ3": ("客户服务与个人建议", "Customer service and personal advice"),
    "PERQ4": ("所用服务的质量", "Quality of the services you use"),
    "PERQ5": ("服务与产品的种类", "Range of services and products"),
    "PERQ6": ("产品与服务的可靠性", "Reliability of products and services"),
    "PERQ7": ("信息的清晰与透明", "Clarity and transparency of information"),
    "PERV1": ("就质量而言，所付费用是否合理", "Fees given the quality"),
    "PERV2": ("就费用而言，所得质量如何", "Quality given the fees"),
    "CUSA1": ("总体满意度", "Overall satisfaction"),
    "CUSA2": ("期望的满足程度", "Fulfilment of expectations"),
    "CUSA3": ("与理想运营商相比", "Compared with the ideal provider"),
    "CUSCO": ("投诉处理的满意度", "Handling of your last complaint"),
    "CUSL1": ("再次选择本运营商的可能性", "Would choose this provider again"),
    "CUSL2": ("对竞争对手降价的容忍度", "Tolerance of competitors' lower prices"),
    "CUSL3": ("向亲友推荐的可能性", "Would recommend to friends"),
}
# the attribute constructs that make up the index (the demo survey does the same);
# see test_default_index_runs_every_stage for why this is spelled out
ATTRIBUTES = ["Image", "Expectation", "Quality", "Value"]
CONSTRUCT_OF = {i: c for c, items in BLOCKS.items() for i in items}


# --------------------------------------------------------------------------- building the inputs
def survey_spec(
    paths: list[list[str]], cleaning: dict | None = None, index: list[str] | None = ATTRIBUTES
) -> dict:
    """The mobi survey definition (CONTRACT section 1) as a YAML-ready mapping.

    ``index`` lists the constructs of the satisfaction index (None: the
    documented default, every construct).
    """
    spec = {
        "title": {"en": "ECSI mobile phone survey", "zh": "移动通信客户满意度调查"},
        "language": "zh",
        "respondent_id": ID_COL,
        "segments": [SEGMENT],
        "scales": {
            "ten": {
                "min": 1,
                "max": 10,
                "labels": {code: {"zh": zh, "en": en} for code, (zh, en) in LABELS.items()},
                "missing": [-99, "不适用"],
            }
        },
        "items": [
            {
                "id": i,
                "scale": "ten",
                "construct": CONSTRUCT_OF[i],
                "text": {"zh": TEXTS[i][0], "en": TEXTS[i][1]},
            }
            for i in ITEMS
        ],
        "overall_satisfaction": "CUSA1",
        "loyalty": ["CUSL1", "CUSL3"],
        "paths": paths,
    }
    if cleaning:
        spec["cleaning"] = cleaning
    if index is not None:
        spec["index"] = {"weights": "equal", "constructs": list(index)}
    return spec


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def mobi_answers(with_missing: bool) -> pd.DataFrame:
    """The mobi answers (float, NaN = no answer); optionally a seeded handful of cells set missing.

    Besides the random cells, row 3 misses the overall item and row 5 both
    loyalty items, so that some kept rows cannot be typed in the zones.
    """
    answers = pd.read_csv(MOBI)[ITEMS].astype(float)
    if with_missing:
        rng = np.random.default_rng(SEED)
        cells = rng.choice(answers.size, size=N_RANDOM_MISSING, replace=False)
        values = answers.to_numpy(copy=True)
        values[cells // answers.shape[1], cells % answers.shape[1]] = np.nan
        answers = pd.DataFrame(values, columns=ITEMS)
        answers.loc[2, "CUSA1"] = np.nan
        answers.loc[4, ["CUSL1", "CUSL3"]] = np.nan
    return answers


def _frame(answers: pd.DataFrame, cell, headers: dict[str, str]) -> pd.DataFrame:
    n = len(answers)
    out = pd.DataFrame(
        {
            ID_COL: [f"R{r:04d}" for r in range(1, n + 1)],
            SEGMENT: [REGIONS[r % len(REGIONS)] for r in range(n)],
        }
    )
    for item in ITEMS:
        out[headers[item]] = [cell(v) for v in answers[item]]
    return out


def export_codes(answers: pd.DataFrame, path: Path) -> Path:
    """Form (a): UTF-8, comma, item ids as headers, numeric codes, -99 for no answer."""
    frame = _frame(answers, lambda v: "-99" if np.isnan(v) else str(int(v)), {i: i for i in ITEMS})
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def export_labels(answers: pd.DataFrame, path: Path) -> Path:
    """Form (b): GBK, semicolon, Chinese question texts as headers, Chinese labels, 不适用 for no answer."""
    frame = _frame(
        answers,
        lambda v: "不适用" if np.isnan(v) else LABELS[int(v)][0],
        {i: TEXTS[i][0] for i in ITEMS},
    )
    frame.to_csv(path, index=False, encoding="gbk", sep=";")
    return path


def run_stages(root: Path, survey: Path, raw: Path, name: str) -> WaveAnalysis:
    """Write a wave file for ``raw`` and run every stage into ``root/processed/<name>``."""
    wave = write_yaml(root / f"wave_{name}.yaml", {"wave": "mobi", "raw": raw.name})
    wa = WaveAnalysis.load(survey, wave, processed_dir=root / "processed" / name, out_root=root)
    wa.clean()
    wa.describe()
    wa.reliability()
    wa.index(n_boot=N_BOOT)
    wa.headline()
    wa.groups()
    wa.change()
    wa.drivers()
    wa.model(n_boot=N_BOOT)
    wa.zones()
    wa.kpis()
    wa.save()
    return wa


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> dict[str, Path]:
    """Survey definitions, the two exports and the no-missing export, in a temporary folder."""
    root = tmp_path_factory.mktemp("mobi")
    answers = mobi_answers(with_missing=True)
    return {
        "root": root,
        "survey": write_yaml(root / "survey.yaml", survey_spec(ECSI_PATHS)),
        # the published values use all 250 rows: switch the straight-lining rule off by configuration
        # (one mobi respondent gives 10 to all 24 items; kept by the default rule too since issue 11)
        "readme_survey": write_yaml(
            root / "readme_survey.yaml",
            survey_spec(
                README_PATHS,
                cleaning={"straightline_min_items": 100},
                index=["Image", "Expectation", "Value"],
            ),
        ),
        "default_index_survey": write_yaml(root / "default_index.yaml", survey_spec(ECSI_PATHS, index=None)),
        "codes": export_codes(answers, root / "codes.csv"),
        "labels": export_labels(answers, root / "labels.csv"),
        "complete": export_labels(mobi_answers(with_missing=False), root / "complete.csv"),
    }


@pytest.fixture(scope="module")
def runs(program) -> dict[str, WaveAnalysis]:
    root = program["root"]
    return {
        "codes": run_stages(root, program["survey"], program["codes"], "codes"),
        "labels": run_stages(root, program["survey"], program["labels"], "labels"),
        "readme": run_stages(root, program["readme_survey"], program["complete"], "readme"),
    }


@pytest.fixture(scope="module")
def kept(runs) -> pd.DataFrame:
    """The mobi answers (with the -99 cells as NaN) of the rows cleaning kept, by hand."""
    log = runs["codes"].read("cleaning_log")
    rows = log.loc[log["kept"].astype(bool), "row"].to_numpy()
    return mobi_answers(with_missing=True).iloc[rows - 1].reset_index(drop=True)


def _expected_reasons(answers: pd.DataFrame, min_items: int = 5) -> list[str]:
    """Straight-lining written out (docs of analysis.clean): one distinct answer over >= 5 answered
    items of a grid, a grid being all items of one scale (here all 24 items); an answer at the top
    (10) or bottom (1) of the scale only against a reverse-keyed item, and mobi has none.

    mobi has no duplicate ids or rows, no duration and nobody answers under half the items.
    """
    x = answers[ITEMS].to_numpy()
    answered = (~np.isnan(x)).sum(axis=1)
    flat = (np.nanmax(x, axis=1) == np.nanmin(x, axis=1)) & (answered >= min_items)
    extreme = np.isin(np.nanmin(x, axis=1), [1, 10])
    return ["straightliner" if f and not e else "" for f, e in zip(flat, extreme, strict=True)]


# --------------------------------------------------------------------------- 1. cleaning
def test_both_exports_clean_to_the_same_table(program):
    survey = load_survey(program["survey"])
    results = {}
    for form in ("codes", "labels"):
        wave = write_yaml(program["root"] / f"clean_{form}.yaml", {"wave": "mobi", "raw": program[form].name})
        results[form] = clean_wave(survey, load_wave(wave), key_root=program["root"])
    a, b = results["codes"], results["labels"]
    assert (a.encoding, a.separator) == ("utf-8", ",")
    assert (b.encoding, b.separator) == ("gb18030", ";")
    assert a.n_raw == b.n_raw == 250
    assert len(a.value_issues) == len(b.value_issues) == 0  # every label and -99/不适用 understood
    assert_frame_equal(a.log[["row", "kept", "reason"]], b.log[["row", "kept", "reason"]])
    assert a.log["reason"].tolist() == _expected_reasons(mobi_answers(with_missing=True))
    assert a.n_kept == 250  # raw row 137 answers 10 to all 24 items: the most delighted customer, kept (issue 11)
    assert a.log.loc[136, "reason"] == ""
    assert_frame_equal(a.clean, b.clean)
    # the clean items are the answers as given, -99 / 不适用 as missing
    expected = mobi_answers(with_missing=True).iloc[a.clean["row"].to_numpy() - 1].reset_index(drop=True)
    assert_frame_equal(a.clean[ITEMS], expected, check_dtype=False)
    assert a.clean[ITEMS].isna().sum().sum() == expected.isna().sum().sum() > 0


# --------------------------------------------------------------------------- 2. identical stage outputs
@pytest.mark.parametrize("table", ["item_stats", "reliability", "zones", "csi_paths", "kpis"])
def test_stage_tables_identical_between_forms(runs, table):
    a, b = runs["codes"].read(table), runs["labels"].read(table)
    assert len(a) > 0
    assert_frame_equal(a, b)


def test_clean_parquet_identical_between_forms(runs):
    assert_frame_equal(runs["codes"].read("clean"), runs["labels"].read("clean"))
    summary = runs["labels"].read("summary")
    assert summary["raw_rows"] == 250
    assert summary["separator"] == "semicolon"


# --------------------------------------------------------------------------- 3. independent checks
def test_item_stats_match_numpy(runs, kept):
    stats = runs["labels"].read("item_stats").set_index("item").loc[ITEMS]
    x = kept[ITEMS].to_numpy()
    answered = ~np.isnan(x)
    n = answered.sum(axis=0)
    mean = np.nanmean(x, axis=0)
    sd = np.nanstd(x, axis=0, ddof=1)
    top2 = ((x >= 9) & answered).sum(axis=0) / n
    np.testing.assert_array_equal(stats["n"].to_numpy(), n)
    np.testing.assert_allclose(stats["mean"].to_numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(stats["sd"].to_numpy(), sd, rtol=1e-12)
    np.testing.assert_allclose(stats["top2box"].to_numpy(), top2, rtol=1e-12)
    np.testing.assert_allclose(stats["index"].to_numpy(), (mean - 1) / 9 * 100, rtol=1e-12)
    assert n.min() < len(kept)  # the -99 cells are left out, not counted


def test_alpha_matches_pingouin_listwise(runs, kept):
    rel = runs["codes"].read("reliability").set_index("construct")
    assert list(rel.index) == list(BLOCKS)
    for construct, items in BLOCKS.items():
        assert rel.loc[construct, "n_items"] == len(items)
        if len(items) < 2:
            assert np.isnan(rel.loc[construct, "alpha"])
            continue
        expected, _ = pg.cronbach_alpha(kept[items], nan_policy="listwise")
        assert rel.loc[construct, "alpha"] == pytest.approx(expected, abs=1e-12)


def test_complete_export_reproduces_published_reliability(runs):
    ctx = runs["readme"]
    assert ctx.read("summary")["kept_rows"] == 250
    rel = ctx.read("reliability").set_index("construct")
    for construct, (alpha, rho_c, ave) in README_RELIABILITY.items():
        assert rel.loc[construct, "alpha"] == pytest.approx(alpha, abs=1e-6)
        assert rel.loc[construct, "rho_c"] == pytest.approx(rho_c, abs=1e-6)
        assert rel.loc[construct, "ave"] == pytest.approx(ave, abs=1e-6)
    # constructs in no path are measured, not modelled: no rho_c / AVE (CONTRACT section 4)
    assert rel.loc[["Quality", "Complaints", "Loyalty"], ["rho_c", "ave"]].isna().all().all()


def test_readme_model_paths_match_seminr(runs):
    paths = runs["readme"].read("csi_paths")
    got = {(r.source, r.target): r.estimate for r in paths.itertuples(index=False)}
    assert set(got) == set(README_ESTIMATES)
    for pair, published in README_ESTIMATES.items():
        assert got[pair] == pytest.approx(published, abs=1e-4)
    assert (paths["ci_low"] < paths["estimate"]).all() and (paths["estimate"] < paths["ci_high"]).all()


def test_ecsi_model_has_every_declared_path(runs):
    paths = runs["codes"].read("csi_paths")
    assert sorted(zip(paths["source"], paths["target"], strict=True)) == sorted(map(tuple, ECSI_PATHS))
    assert paths[["estimate", "se"]].notna().all().all()


# --------------------------------------------------------------------------- 4. zones
def test_zones_count_every_typed_respondent(runs, kept):
    a, b = runs["codes"].read("zones"), runs["labels"].read("zones")
    assert_frame_equal(a, b)
    # typed = overall satisfaction answered and a loyalty score (mean of CUSL1, CUSL3) exists
    typed = kept["CUSA1"].notna() & kept[["CUSL1", "CUSL3"]].notna().any(axis=1)
    assert typed.sum() < len(kept)  # the rows with the missing cells are left out
    assert a["n"].sum() == typed.sum()
    assert a["share"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- default index
def test_default_index_runs_every_stage(program):
    """Without an 'index:' key the index is built from the driver constructs (not the outcomes)."""
    from analysis.survey import load_survey

    survey = load_survey(program["default_index_survey"])
    # Complaints is downstream of Satisfaction in the ECSI paths: an outcome, never a driver (issue 11, 6d)
    assert survey.index_constructs == ["Image", "Expectation", "Quality", "Value"]
    assert "Complaints" in survey.outcome_constructs
    run_stages(program["root"], program["default_index_survey"], program["codes"], "default_index")
