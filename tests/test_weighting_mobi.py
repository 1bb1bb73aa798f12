"""Issue 13's "Done when", end to end on a real survey, against R survey run live.

The ECSI ``mobi`` survey (tests/data/ecsi-mobi: 250 real customers, 24 items on 1-10) is exported
as in test_real_export (the same seeded missing answers: 12 random cells, row 3's CUSA1, row 5's
CUSL1 and CUSL3) with two segments derived deterministically:

* ``地区`` (region) from the row number r (0-based): r mod 5 in {0, 1} -> 华东, {2, 3} -> 华南,
  4 -> 华北 (sample shares 0.4 / 0.4 / 0.2);
* ``期望`` (expectation group) from the complete answer CUEX1: >= 8 -> 高 (high), else 低 (low)
  (142 / 108 of 250), so the weights are correlated with the answers.

The survey's ``weighting:`` block rakes them to 华东 0.30 / 华南 0.30 / 华北 0.40 and 高 0.45 /
低 0.55. The wave goes through the real stages (:class:`analysis.wave.WaveAnalysis` ``clean`` and
``describe``, what notebooks 01-02 call, saved by the store); the saved ``weights.csv``,
``item_stats.csv`` and ``weighting.csv`` are compared with tests/data/weighting/mobi.R:
``survey::rake`` on ``svydesign(ids = ~1, data = d)`` (maxit 1000, epsilon 1e-12) and
``svymean(~item, raked, na.rm = TRUE)``. Tolerances of the issue: weights 1e-6 relative to the
mean weight, means 1e-6, standard errors 1e-4 relative; the weighted margins hit the targets.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.pls import ECSI_PATHS
from analysis.wave import WaveAnalysis
from test_real_export import ITEMS, MOBI, mobi_answers, survey_spec, write_yaml

R_SCRIPT = Path(__file__).resolve().parent / "data" / "weighting" / "mobi.R"
REGION, EXPECT = "地区", "期望"
MARGINS = {REGION: {"华东": 0.30, "华南": 0.30, "华北": 0.40}, EXPECT: {"高": 0.45, "低": 0.55}}


def mobi_segments() -> pd.DataFrame:
    """The two derived segments of the 250 mobi rows (see the module docstring)."""
    n = len(pd.read_csv(MOBI))
    region = [("华东", "华东", "华南", "华南", "华北")[r % 5] for r in range(n)]
    expect = np.where(pd.read_csv(MOBI)["CUEX1"] >= 8, "高", "低")
    return pd.DataFrame({REGION: region, EXPECT: expect})


def write_mobi_project(root: Path) -> tuple[Path, Path]:
    """The weighted mobi survey definition and wave file (codes export, -99 = no answer) under ``root``."""
    answers = mobi_answers(with_missing=True)
    raw = pd.DataFrame({"答卷编号": [f"R{r:04d}" for r in range(1, len(answers) + 1)]})
    raw = pd.concat([raw, mobi_segments()], axis=1)
    for item in ITEMS:
        raw[item] = ["-99" if np.isnan(v) else str(int(v)) for v in answers[item]]
    raw.to_csv(root / "mobi_weighted.csv", index=False, encoding="utf-8")
    spec = survey_spec([list(p) for p in ECSI_PATHS])
    spec["segments"] = [REGION, EXPECT]
    spec["weighting"] = {"method": "rake", "margins": MARGINS}
    survey = write_yaml(root / "survey.yaml", spec)
    wave = write_yaml(root / "wave.yaml", {"wave": "mobi", "raw": "mobi_weighted.csv"})
    return survey, wave


@pytest.fixture(scope="module")
def weighted_mobi(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The wave cleaned and described (saved), and R's reference on the same cleaned rows."""
    root = tmp_path_factory.mktemp("mobi_weighted")
    survey, wave = write_mobi_project(root)
    wa = WaveAnalysis.load(survey, wave, processed_dir=root / "processed", out_root=root)
    wa.clean()
    wa.describe()
    wa.save()
    out = root / "processed"
    clean = pd.read_parquet(out / "clean.parquet")
    data = clean[["row", REGION, EXPECT, *ITEMS]]
    data.to_csv(root / "r_in.csv", index=False, encoding="utf-8")
    targets = [{"variable": v, "group": g, "target": t} for v, groups in MARGINS.items() for g, t in groups.items()]
    pd.DataFrame(targets).to_csv(root / "r_margins.csv", index=False, encoding="utf-8")
    subprocess.run(["Rscript", str(R_SCRIPT), str(root / "r_in.csv"), str(root / "r_margins.csv"),
                    str(root / "r_out.csv")], check=True, capture_output=True, timeout=120)
    ref = pd.read_csv(root / "r_out.csv", dtype={"item": str})
    return {"wa": wa, "out": out, "clean": clean, "ref": ref}


def test_the_survey_has_missing_answers_and_kept_rows(weighted_mobi) -> None:
    clean = weighted_mobi["clean"]
    assert len(clean) >= 240
    assert int(clean[ITEMS].isna().sum().sum()) >= 10  # the na.rm domain SEs are exercised


def test_weights_equal_r_rake(weighted_mobi) -> None:
    ref = weighted_mobi["ref"]
    r_w = ref[ref["quantity"] == "weight"].set_index("item")["value"]
    ours = pd.read_csv(weighted_mobi["out"] / "weights.csv").set_index("row")["weight"]
    r_w.index = r_w.index.astype(int)
    assert list(ours.index) == list(r_w.index)
    diff = np.abs(ours.to_numpy() / ours.mean() - r_w.to_numpy())
    assert diff.max() <= 1e-6, diff.max()
    assert ours.std() > 0.1  # the weighting does something


def test_weighted_item_means_and_se_equal_r_svymean(weighted_mobi) -> None:
    ref = weighted_mobi["ref"]
    stats = pd.read_csv(weighted_mobi["out"] / "item_stats.csv").set_index("item")
    r_mean = ref[ref["quantity"] == "mean"].set_index("item")["value"]
    r_se = ref[ref["quantity"] == "se"].set_index("item")["value"]
    items = list(r_mean.index)
    assert set(items) == set(ITEMS)
    mean_diff = np.abs(stats.loc[items, "mean"].to_numpy() - r_mean.to_numpy())
    se_rel = np.abs(stats.loc[items, "se"].to_numpy() / r_se.to_numpy() - 1)
    assert mean_diff.max() <= 1e-6, mean_diff.max()
    assert se_rel.max() <= 1e-4, se_rel.max()
    with_missing = [i for i in items if weighted_mobi["clean"][i].isna().any()]
    assert len(with_missing) >= 5
    assert "n_eff" in stats.columns and (stats["n"] == weighted_mobi["clean"][stats.index].notna().sum()).all()


def test_weighted_margins_hit_their_targets(weighted_mobi) -> None:
    table = pd.read_csv(weighted_mobi["out"] / "weighting.csv")
    assert len(table) == 5
    np.testing.assert_allclose(table["weighted_share"], table["target"], rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- n_eff beside every weighted n
#: Tables with an ``n`` column that carry no ``n_eff`` even when the wave is weighted, and why.
N_EFF_EXEMPT = {
    "profile": "the sample's own composition (unweighted by definition; the weighted one is weighting.csv)",
    "zone_transitions": "counts of the customers linked across two waves (a panel table, unweighted)",
}


def n_eff_audit(tables: dict[str, pd.DataFrame], weighted: bool) -> list[str]:
    """The tables that break the rule: with weighting every table with ``n`` has ``n_eff`` (not
    exempt; and ``n_baseline`` / ``n_current`` their ``n_eff_baseline`` / ``n_eff_current``),
    without weighting none has it; ``n_eff`` never exceeds ``n``. ``tables`` name -> frame."""
    bad = []
    for name, table in tables.items():
        if not isinstance(table, pd.DataFrame) or name in N_EFF_EXEMPT:
            continue
        for n, n_eff in (("n", "n_eff"), ("n_baseline", "n_eff_baseline"), ("n_current", "n_eff_current")):
            if n not in table.columns:
                continue
            if (n_eff in table.columns) != weighted:
                bad.append(f"{name}.{n}")
            elif weighted and not (table[n_eff].dropna() <= table[n][table[n_eff].notna()] + 1e-9).all():
                bad.append(f"{name}.{n_eff} > {n}")
    return bad


def _run_all(survey: Path, wave: Path, out: Path) -> WaveAnalysis:
    wa = WaveAnalysis.load(survey, wave, processed_dir=out, out_root=out.parent)
    for stage in ("clean", "describe", "reliability", "headline", "groups", "drivers", "zones", "kpis"):
        getattr(wa, stage)()
    wa.index(n_boot=20)
    wa.model(n_boot=20)
    wa.ipa(n_boot=20)
    wa.save()
    return wa


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[WaveAnalysis, WaveAnalysis]:
    """Every analysis stage on the weighted mobi wave and on the same wave unweighted."""
    root = tmp_path_factory.mktemp("mobi_both")
    survey, wave = write_mobi_project(root)
    weighted = _run_all(survey, wave, root / "weighted")
    spec = yaml.safe_load(survey.read_text(encoding="utf-8"))
    del spec["weighting"]
    plain = _run_all(write_yaml(root / "plain.yaml", spec), wave, root / "plain")
    return weighted, plain


def test_every_weighted_n_has_n_eff_beside_it(both_runs) -> None:
    weighted, plain = (wa.results for wa in both_runs)
    with_n = [k for k, t in weighted.items() if isinstance(t, pd.DataFrame) and "n" in t.columns]
    assert {"distribution", "drivers", "drivers_items", "regression", "csi_paths", "pls_loadings", "pls_effects",
            "pls_summary", "item_stats", "weighting", "zones", "group_tests", "reliability"} <= set(with_n)
    assert n_eff_audit(weighted, weighted=True) == []
    assert n_eff_audit(plain, weighted=False) == []


# --------------------------------------------------------------------------- weighted reliability, breakpoint
def test_weighted_alpha_item_rest_and_breakpoint_equal_r(tmp_path: Path) -> None:
    """Cronbach's alpha and item-rest r from R ``cov.wt``, the loyalty breakpoint by R ``lm(weights=)``
    (tests/data/weighting/reliability_breakpoint.R), on mobi with the raked (non-integer) weights."""
    from analysis.reliability import item_total, reliability_table
    from analysis.weighting import make_weights
    from analysis.zones import loyalty_breakpoint

    mobi = pd.read_csv(MOBI).astype(float)
    w = make_weights(mobi_segments(), MARGINS)
    mobi.assign(w=w.weight.to_numpy()).to_csv(tmp_path / "in.csv", index=False)
    script = R_SCRIPT.parent / "reliability_breakpoint.R"
    subprocess.run(["Rscript", str(script), str(tmp_path / "in.csv"), str(tmp_path / "out.csv")], check=True,
                   capture_output=True, timeout=120)
    ref = pd.read_csv(tmp_path / "out.csv").set_index("quantity")["value"]
    blocks = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Quality": [f"PERQ{i}" for i in range(1, 8)],
              "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
    rel = reliability_table(mobi, blocks, weights=w).set_index("construct")
    plain = reliability_table(mobi, blocks).set_index("construct")
    for block, items in blocks.items():
        assert rel.loc[block, "alpha"] == pytest.approx(ref[f"alpha_{block}"], abs=1e-10)
        assert abs(rel.loc[block, "alpha"] - plain.loc[block, "alpha"]) > 1e-4  # the weights matter
        rest = item_total(mobi[items], w).set_index("item")["r_item_total"]
        for item in items:
            assert rest[item] == pytest.approx(ref[f"rest_{item}"], abs=1e-10)
    assert rel.loc["Image", "n_eff"] == pytest.approx(w.diagnostics()["n_eff"])
    bp = loyalty_breakpoint(mobi["CUSA1"], mobi["CUSL1"], weights=w)
    assert bp.breakpoint == pytest.approx(ref["bp_c"], abs=1e-9)
    assert (bp.intercept, bp.slope_before, bp.slope_after - bp.slope_before) == pytest.approx(
        (ref["bp_b0"], ref["bp_b1"], ref["bp_b2"]), abs=1e-9)
    assert bp.sse == pytest.approx(ref["bp_sse"], rel=1e-9)
    assert bp.slope_linear == pytest.approx(ref["lin_slope"], abs=1e-10)
    assert bp.n == len(mobi) and bp.n_eff == pytest.approx(w.diagnostics()["n_eff"])


# --------------------------------------------------------------------------- weighted comments
def test_weighted_comment_share_and_se_equal_r_svymean(tmp_path: Path) -> None:
    """comment_codes under weighting: the share of commenters with a code and its SE equal R
    ``svymean(~I, raked, na.rm = TRUE)`` on the 0/1 indicator (NA = no comment: the commenters are
    the domain), and the mentioners' mean satisfaction equals R's weighted mean. Synthetic comments on
    mobi (deterministic): the customers with CUSCO <= 7 commented, those of them with PERV1 <= 4
    mention "price"; sentiment (CUSA1 - 5.5) / 4.5."""
    from analysis.comments import code_table
    from analysis.weighting import make_weights

    mobi = pd.read_csv(MOBI).astype(float)
    seg = mobi_segments()
    w = make_weights(seg, MARGINS)
    commented = mobi.index[mobi["CUSCO"] <= 7]
    coded = pd.DataFrame({"codes": np.where(mobi.loc[commented, "PERV1"] <= 4, "price", ""),
                          "sentiment": (mobi.loc[commented, "CUSA1"] - 5.5) / 4.5}, index=commented)
    table = code_table(coded, ["price"], mobi["CUSA1"], weights=w).iloc[0]
    indicator = pd.Series(np.nan, index=mobi.index)
    indicator[commented] = (coded["codes"] == "price").astype(float)
    sat_mention = mobi["CUSA1"].where(indicator == 1)
    data = pd.concat([pd.Series(mobi.index, name="row"), seg, indicator.rename("I"), sat_mention.rename("S")], axis=1)
    data.to_csv(tmp_path / "in.csv", index=False, encoding="utf-8")
    targets = [{"variable": v, "group": g, "target": t} for v, groups in MARGINS.items() for g, t in groups.items()]
    pd.DataFrame(targets).to_csv(tmp_path / "m.csv", index=False, encoding="utf-8")
    subprocess.run(["Rscript", str(R_SCRIPT), str(tmp_path / "in.csv"), str(tmp_path / "m.csv"), str(tmp_path / "o.csv")],
                   check=True, capture_output=True, timeout=120)
    ref = pd.read_csv(tmp_path / "o.csv").set_index(["quantity", "item"])["value"]
    assert 10 <= table["n"] < len(commented)
    assert table["share"] == pytest.approx(ref[("mean", "I")], abs=1e-10)
    assert table["se"] == pytest.approx(ref[("se", "I")], rel=1e-8)
    assert table["ci_low"] < table["share"] < table["ci_high"]
    assert table["mean_satisfaction"] == pytest.approx(ref[("mean", "S")], abs=1e-10)
    assert table["n_eff"] < table["n"]
    assert abs(table["share"] - table["n"] / len(commented)) > 1e-3  # the weights matter


# --------------------------------------------------------------------------- weighted figures labelled
def test_every_weighted_chart_is_labelled_with_the_unweighted_n(both_runs) -> None:
    """Under weighting every chart of the wave report carries the note "Weighted estimates · n = ...
    (unweighted), effective n = ..." (i18n ``weighting.chart_note``) and the tables say "n (unweighted)";
    unweighted, no chart has it."""
    from analysis import report, words
    from analysis.words import word

    def charts(wa: WaveAnalysis) -> list:
        figs = [report.index_chart(wa), *report.item_charts(wa), report.driver_chart(wa), report.path_diagram(wa),
                report.zone_chart(wa), report.loyalty_chart(wa), report.ipa_chart(wa), *report.group_charts(wa)]
        assert len(figs) >= 12
        return figs

    weighted, plain = both_runs
    lead = word("weighting.chart_note", weighted.language, n="", n_eff="").split("·")[0].strip()
    for fig in charts(weighted):
        notes = [t.get_text() for t in fig.texts if t.get_text().startswith(lead)]
        assert len(notes) == 1, [t.get_text() for t in fig.texts]
    n = words.integer(int(weighted.read("summary")["kept_rows"]), weighted.language)
    assert any(n in t.get_text() for t in report.index_chart(weighted).texts)
    drivers = weighted.read("drivers")
    note = next(t.get_text() for t in report.driver_chart(weighted).texts if t.get_text().startswith(lead))
    assert f"{int(drivers['n'].iloc[0])}" in note.replace(",", "") and f"{drivers['n_eff'].iloc[0]:.0f}" in note
    for fig in charts(plain):
        assert not [t for t in fig.texts if t.get_text().startswith(lead)]
    n_unweighted = word("column.n_unweighted", weighted.language)
    for table in (report.path_table(weighted), report.zone_summary(weighted), report.item_table(weighted)):
        assert n_unweighted in table.columns
    assert n_unweighted not in report.path_table(plain).columns


# --------------------------------------------------------------------------- unit reports: domain estimates
def test_weighted_unit_is_a_domain_estimate_equal_to_r_subset(tmp_path: Path) -> None:
    """A unit report of a weighted wave (``--units 地区``) estimates on the whole wave's raked design
    restricted to the unit: its satisfaction rate and SE equal R ``svymean(~flag, subset(raked,
    地区 == "华北"), na.rm = TRUE)`` (calibration-aware domain SE), and its n is the unit's own."""
    from analysis import units
    from analysis.survey import load_survey, load_wave

    survey_path, wave_path = write_mobi_project(tmp_path)
    wa = WaveAnalysis.load(survey_path, wave_path, processed_dir=tmp_path / "processed" / "mobi", out_root=tmp_path)
    wa.clean()
    wa.index(n_boot=20)
    wa.headline()
    wa.save()
    survey, wave = load_survey(survey_path), load_wave(wave_path)
    tasks, _ = units.unit_tasks(survey, wave, REGION, tmp_path / "processed")
    task = next(t for t in tasks if t.group == "华北")
    head = units.unit_analysis(task).read("headline").set_index("metric").loc["satisfaction_rate"]
    clean = pd.read_parquet(tmp_path / "processed" / "mobi" / "clean.parquet")
    sat = clean[survey.overall_satisfaction]
    flag = sat.isin(survey.satisfied).astype(float).where(sat.notna())
    data = pd.concat([clean[["row", REGION, EXPECT]], flag.rename("flag")], axis=1)
    data.to_csv(tmp_path / "in.csv", index=False, encoding="utf-8")
    targets = [{"variable": v, "group": g, "target": t} for v, groups in MARGINS.items() for g, t in groups.items()]
    pd.DataFrame(targets).to_csv(tmp_path / "m.csv", index=False, encoding="utf-8")
    subprocess.run(["Rscript", str(R_SCRIPT), str(tmp_path / "in.csv"), str(tmp_path / "m.csv"), str(tmp_path / "o.csv"),
                    REGION, "华北"], check=True, capture_output=True, timeout=120)
    ref = pd.read_csv(tmp_path / "o.csv").set_index(["quantity", "item"])["value"]
    assert head["value"] == pytest.approx(ref[("dmean", "flag")], abs=1e-10)
    assert head["se"] == pytest.approx(ref[("dse", "flag")], rel=1e-8)
    assert head["n"] == int(flag[clean[REGION] == "华北"].notna().sum())
    assert abs(head["value"] - ref[("mean", "flag")]) > 1e-3  # the unit's own, not the wave's


def test_the_weighted_headline_csi_has_its_effective_n(both_runs) -> None:
    """Every headline row of a weighted wave has n_eff, the CSI's from its index table (Kish)."""
    weighted, plain = both_runs
    head = weighted.results["headline"].set_index("metric")
    csi = weighted.results["csi_index"].set_index("construct").loc["CSI"]
    assert head.loc["csi", "n_eff"] == pytest.approx(csi["n_eff"]) and head.loc["csi", "n_eff"] < head.loc["csi", "n"]
    assert head["n_eff"].notna().all()
    assert "n_eff" not in plain.results["headline"].columns
