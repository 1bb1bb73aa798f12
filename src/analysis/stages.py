"""One function per notebook stage: the notebooks call these and show what they return.

Each stage reads what earlier stages wrote under ``processed_dir`` and writes
its own tables there (CSV, UTF-8, atomically). Keeping this glue here, not in
the notebooks, means the notebooks, the CLI and the tests run the same code.

=========  =========================  ==========================================
notebook   function                   writes
=========  =========================  ==========================================
01_clean   :func:`run_clean`          clean.parquet, cleaning_log.csv,
                                      value_issues.csv, attrition.csv, summary.json
=========  =========================  ==========================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .clean import CleanResult, atomic_write, clean_wave, write_clean_outputs, write_csv
from .survey import Survey, Wave, load_survey, load_wave

if TYPE_CHECKING:  # type hints only: the stage modules are imported where they are used
    from .pls import PLSModel
    from .zones import ZoneThresholds


@dataclass
class WaveContext:
    """Where a wave's stage reads and writes: the survey, the wave, and its folders."""

    survey: Survey
    wave: Wave
    processed: Path
    baseline: Path | None
    out_root: Path

    @classmethod
    def load(
        cls,
        survey_path: str | Path,
        wave_path: str | Path,
        processed_dir: str | Path = "",
        baseline_dir: str | Path = "",
        out_root: str | Path = ".",
    ) -> WaveContext:
        """Build the context from notebook parameters (empty processed_dir -> DIR/data/processed/<wave>)."""
        survey = load_survey(survey_path)
        wave = load_wave(wave_path)
        out = Path(out_root).resolve()
        processed = Path(processed_dir) if processed_dir else out / "data" / "processed" / wave.id
        processed.mkdir(parents=True, exist_ok=True)
        baseline = Path(baseline_dir) if baseline_dir else None
        if baseline is None and wave.baseline:
            candidate = out / "data" / "processed" / wave.baseline
            baseline = candidate if (candidate / "clean.parquet").exists() else None
        return cls(survey=survey, wave=wave, processed=processed, baseline=baseline, out_root=out)

    @property
    def language(self) -> str:
        return self.survey.language

    def clean(self) -> pd.DataFrame:
        """The cleaned responses of this wave."""
        return pd.read_parquet(self.processed / "clean.parquet")

    def baseline_clean(self) -> pd.DataFrame | None:
        """The cleaned responses of the baseline wave, or None."""
        if self.baseline is None:
            return None
        return pd.read_parquet(self.baseline / "clean.parquet")

    def read(self, name: str) -> pd.DataFrame:
        """A table written by an earlier stage (``name`` without .csv)."""
        return pd.read_csv(self.processed / f"{name}.csv")

    def read_baseline(self, name: str) -> pd.DataFrame | None:
        if self.baseline is None or not (self.baseline / f"{name}.csv").exists():
            return None
        return pd.read_csv(self.baseline / f"{name}.csv")

    def write(self, name: str, table: pd.DataFrame) -> Path:
        path = self.processed / f"{name}.csv"
        write_csv(table, path)
        return path

    def write_json(self, name: str, data: dict) -> Path:
        path = self.processed / f"{name}.json"
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
        return path

    def read_json(self, name: str, baseline: bool = False) -> dict:
        folder = self.baseline if baseline else self.processed
        if folder is None or not (folder / f"{name}.json").exists():
            return {}
        return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- 01 clean
def run_clean(ctx: WaveContext) -> CleanResult:
    """Clean the wave's raw export and write the cleaning outputs (see :mod:`analysis.clean`)."""
    result = clean_wave(ctx.survey, ctx.wave, key_root=ctx.out_root)
    write_clean_outputs(result, ctx.processed)
    ctx.write_json(
        "summary",
        {
            "wave": ctx.wave.id,
            "raw_file": ctx.wave.raw.name,
            "raw_rows": result.n_raw,
            "kept_rows": result.n_kept,
            "invited": ctx.wave.invited,
            "baseline": ctx.wave.baseline,
            "encoding": result.encoding,
            "separator": {",": "comma", ";": "semicolon", "\t": "tab"}.get(result.separator or ""),
            "speeder_cutoff_seconds": None
            if pd.isna(result.speeder_cutoff)
            else round(result.speeder_cutoff, 1),
            "value_issues": len(result.value_issues),
            "pii_columns_removed": len(result.pii_columns),
            "undeclared_columns_dropped": result.dropped_columns,
            "outliers_flagged": int(result.log["outlier"].sum()),
        },
    )
    return result


# --------------------------------------------------------------------------- shared pieces
def satisfaction_construct(survey: Survey) -> str | None:
    """The construct of the overall satisfaction item (the CSI model's satisfaction variable)."""
    return survey.item(survey.overall_satisfaction).construct


def model_blocks(survey: Survey) -> dict[str, list[str]]:
    """Blocks of the constructs in the CSI structural model."""
    return {c: survey.blocks[c] for c in survey.model_constructs}


def fit_csi_model(survey: Survey, clean: pd.DataFrame) -> PLSModel | None:
    """The estimated CSI structural model (PLS-PM, :func:`analysis.pls.estimate_pls`), or None without
    ``paths``. Fit it once per stage and pass the model on (index weights, bootstrap, tables)."""
    from . import pls

    if not survey.paths:
        return None
    cfg = survey.pls
    return pls.estimate_pls(
        clean, model_blocks(survey), list(survey.paths), scheme=cfg.scheme, missing=cfg.missing
    )


def index_weights(
    survey: Survey, clean: pd.DataFrame, model: PLSModel | None = None
) -> tuple[pd.Series, dict[str, float] | None]:
    """Construct weights of the overall index and item weights within constructs (None = equal).

    ``equal`` / ``ahp`` / ``entropy`` weight constructs; items count equally.
    ``pls`` (ACSI method): items weighted by the normalised unstandardised PLS
    outer weights, constructs by their total effect on the satisfaction
    construct, normalised to sum to 1 (Fornell et al. 1996).
    """
    from .index import weights_for

    cfg = survey.index
    blocks = {c: survey.blocks[c] for c in survey.index_constructs}
    matrix = None
    if cfg.weights == "ahp":
        matrix = pd.DataFrame(cfg.ahp_matrix, index=list(cfg.ahp_labels), columns=list(cfg.ahp_labels))
    item_weights = None
    pls_construct = None
    if cfg.weights == "pls":
        model = model if model is not None else fit_csi_model(survey, clean)
        if model is None:
            from .errors import SurveyDefinitionError

            raise SurveyDefinitionError(
                "index.weights is 'pls' but the survey has no 'paths' (no CSI model to take weights from).",
                file=str(survey.path),
            )
        uw = model.unstd_weights
        item_weights = dict(zip(uw["item"], uw["weight"], strict=True))
        target = satisfaction_construct(survey)
        te = model.total_effects
        te = te[te["target"] == target].set_index("source")["total"]
        pls_construct = {c: max(float(te.get(c, 0.0)), 0.0) for c in blocks}
        if sum(pls_construct.values()) <= 0:
            pls_construct = {c: 1.0 for c in blocks}
    weights = weights_for(
        cfg.weights, clean, blocks, survey.ranges, ahp_matrix=matrix, pls_weights=pls_construct
    )
    return weights, item_weights


def respondent_scores(
    survey: Survey, clean: pd.DataFrame, weights: pd.Series, item_weights: dict[str, float] | None
) -> pd.DataFrame:
    """Per respondent: row, segments, overall item, loyalty score, construct indices (0-100) and CSI."""
    from .index import overall_scores, respondent_index

    blocks = {c: survey.blocks[c] for c in survey.constructs}
    scores = respondent_index(clean, blocks, survey.ranges, item_weights)
    csi_values = overall_scores(scores, weights.reindex(survey.index_constructs).fillna(0.0).to_dict())
    out = clean[["row", *survey.segments]].copy()
    if survey.customer_id:
        out[survey.customer_id] = clean[survey.customer_id]
    out[survey.overall_satisfaction] = clean[survey.overall_satisfaction]
    if survey.loyalty:
        out["loyalty_score"] = clean[list(survey.loyalty)].mean(axis=1)
    if survey.recommend:
        out[survey.recommend] = clean[survey.recommend]
    for c in survey.constructs:
        out[c] = scores[c]
    out["CSI"] = csi_values
    return out


def _language_labels(survey: Survey) -> dict[str, str]:
    return {i: survey.item_label(i) for i in survey.rated_items}


# --------------------------------------------------------------------------- 02 descriptive
def run_descriptive(ctx: WaveContext, n_boot: int = 1000, seed: int = 2024) -> dict[str, pd.DataFrame]:
    """Item statistics, distributions, headline measures, reliability, screening and the CSI.

    Writes item_stats, distribution, headline, profile, reliability, screening,
    index_weights, csi_index (CSV) and respondent_scores.parquet.
    """
    from . import describe, reliability
    from .clean import write_parquet
    from .index import csi

    s = ctx.survey
    clean = ctx.clean()
    lang = ctx.language
    out: dict[str, pd.DataFrame] = {}

    stats = describe.item_stats(clean, s.ranges)
    stats.insert(1, "label", stats["item"].map(_language_labels(s)))
    stats.insert(
        2, "construct", stats["item"].map(lambda i: s.item(i).construct if i in s.item_ids else None)
    )
    out["item_stats"] = stats
    labels = {i: s.scale_of(i).label_map(lang) for i in s.rated_items}
    out["distribution"] = describe.distribution(clean, s.ranges, labels)

    rows = []
    sat = describe.satisfaction_rate(clean[s.overall_satisfaction], s.satisfied)
    rows.append(
        {
            "metric": "satisfaction_rate",
            "value": sat["rate"],
            "ci_low": sat["ci_low"],
            "ci_high": sat["ci_high"],
            "n": sat["n"],
        }
    )
    if s.recommend:
        n = describe.nps(clean[s.recommend])
        rows.append(
            {
                "metric": "nps",
                "value": n["nps"],
                "ci_low": n["ci_low"],
                "ci_high": n["ci_high"],
                "n": n["n"],
                "se": n["se"],
                "promoters": n["promoters"],
                "passives": n["passives"],
                "detractors": n["detractors"],
            }
        )
    rr = describe.response_rate(len(clean), ctx.wave.invited)
    rows.append(
        {
            "metric": "response_rate",
            "value": rr["rate"],
            "ci_low": rr["ci_low"],
            "ci_high": rr["ci_high"],
            "n": len(clean),
        }
    )
    if s.repurchase:
        sc = s.scale_of(s.repurchase)
        rep = describe.satisfaction_rate(clean[s.repurchase], [sc.max - 1, sc.max])
        rows.append(
            {
                "metric": "repurchase_rate",
                "value": rep["rate"],
                "ci_low": rep["ci_low"],
                "ci_high": rep["ci_high"],
                "n": rep["n"],
            }
        )

    model = fit_csi_model(s, clean)
    weights, item_weights = index_weights(s, clean, model)
    blocks_idx = {c: s.blocks[c] for c in s.index_constructs}
    index_table = csi(clean, blocks_idx, s.ranges, weights.to_dict(), item_weights, n_boot=n_boot, seed=seed)
    out["csi_index"] = index_table
    overall = index_table[index_table["construct"] == "CSI"].iloc[0]
    rows.insert(
        0,
        {
            "metric": "csi",
            "value": overall["index"],
            "ci_low": overall["ci_low"],
            "ci_high": overall["ci_high"],
            "n": overall["n"],
        },
    )
    out["headline"] = pd.DataFrame(rows)
    out["index_weights"] = pd.DataFrame(
        {"construct": weights.index, "weight": weights.to_numpy(), "method": s.index.weights}
    )
    out["profile"] = describe.sample_profile(clean, list(s.segments))

    rel = reliability.reliability_table(clean, s.blocks)
    rel["rho_c"] = float("nan")
    rel["ave"] = float("nan")
    rel["rho_a"] = float("nan")
    if model is not None:
        pr = model.reliability.set_index("construct")
        for col in ("rho_c", "ave", "rho_a"):
            rel[col] = rel["construct"].map(pr[col])
    out["reliability"] = rel
    out["screening"] = reliability.screen_items(clean, s.blocks)

    for name, table in out.items():
        ctx.write(name, table)
    scores = respondent_scores(s, clean, weights, item_weights)
    write_parquet(scores, ctx.processed / "respondent_scores.parquet")
    if s.index.weights == "ahp":
        from .index import ahp_weights

        res = ahp_weights(
            pd.DataFrame(s.index.ahp_matrix, index=list(s.index.ahp_labels), columns=list(s.index.ahp_labels))
        )
        ctx.write_json("ahp", {"lambda_max": res.lambda_max, "ci": res.ci, "cr": res.cr})
    return out


# --------------------------------------------------------------------------- 03 inferential
def run_inferential(
    ctx: WaveContext, n_boot: int | None = None, seed: int = 20240601, progress: bool = False
) -> dict[str, pd.DataFrame]:
    """Group comparisons, wave-over-wave change, key drivers and the CSI model with bootstrap.

    Writes group_tests, wave_change (with a baseline), drivers, drivers_loyalty,
    drivers_items, csi_paths, pls_r2, pls_loadings, pls_effects, htmt.
    """
    from . import compare, drivers

    s = ctx.survey
    clean = ctx.clean()
    scores = pd.read_parquet(ctx.processed / "respondent_scores.parquet")
    out: dict[str, pd.DataFrame] = {}
    overall = s.overall_satisfaction
    top = s.scale_of(overall).max - 1
    variables = [overall, "CSI", *s.index_constructs]
    out["group_tests"] = compare.group_tests(scores, variables, list(s.segments), top2={overall: top})

    # key drivers: constructs -> overall satisfaction and loyalty; items -> overall (feeds IPA)
    idx = list(s.index_constructs)
    boot = 1000  # relative-weight bootstrap resamples
    out["drivers"] = drivers.relative_weights_boot(scores, overall, idx, n_boot=boot, seed=seed)
    if s.loyalty:
        out["drivers_loyalty"] = drivers.relative_weights_boot(
            scores, "loyalty_score", idx, n_boot=boot, seed=seed
        )
    outcomes = {overall, *s.loyalty, *([s.recommend] if s.recommend else [])}
    attribute_items = [i for c in idx for i in s.blocks[c] if i not in outcomes]
    out["drivers_items"] = drivers.relative_weights(clean, overall, attribute_items)
    out["regression"] = drivers.regression_drivers(scores, overall, idx)

    # change against the baseline wave
    if ctx.baseline is not None:
        out["wave_change"] = wave_change(ctx, scores)

    # the CSI structural model: estimated once, then bootstrapped
    if s.paths:
        model = fit_csi_model(s, clean)
        out.update(csi_model_tables(s, clean, n_boot=n_boot, progress=progress, model=model))
    for name, table in out.items():
        ctx.write(name, table)
    return out


def wave_change(
    ctx: WaveContext, scores: pd.DataFrame, baseline_model: PLSModel | None = None
) -> pd.DataFrame:
    """Change against the baseline: CSI, satisfaction rate, NPS, construct indices, segment CSIs.

    The baseline's respondent scores are rebuilt with this wave's index
    weights so that both waves are measured with the same yardstick. With
    ``index.weights: pls`` the item weights come from the baseline's CSI model
    (``baseline_model``, estimated on the baseline's clean data if not given).
    """
    from . import compare

    s = ctx.survey
    base_clean = ctx.baseline_clean()
    weights_tbl = ctx.read("index_weights")
    weights = pd.Series(weights_tbl["weight"].to_numpy(), index=weights_tbl["construct"])
    pls_items = s.index.weights == "pls"
    _, item_weights = index_weights(s, base_clean, baseline_model) if pls_items else (None, None)
    base = respondent_scores(s, base_clean, weights, item_weights)
    rows = [compare.mean_change(base["CSI"].dropna(), scores["CSI"].dropna(), "CSI")]
    sat_levels = s.satisfied
    b = base[s.overall_satisfaction].dropna()
    c = scores[s.overall_satisfaction].dropna()
    rows.append(
        compare.proportion_change(
            int(b.isin(sat_levels).sum()), len(b), int(c.isin(sat_levels).sum()), len(c), "satisfaction_rate"
        )
    )
    if s.recommend:
        rows.append(compare.nps_change(base[s.recommend].dropna(), scores[s.recommend].dropna(), "NPS"))
    for construct in s.index_constructs:
        rows.append(compare.mean_change(base[construct].dropna(), scores[construct].dropna(), construct))
    for seg in s.segments:
        for group in sorted(set(scores[seg].dropna()) | set(base[seg].dropna())):
            bg = base.loc[base[seg] == group, "CSI"].dropna()
            cg = scores.loc[scores[seg] == group, "CSI"].dropna()
            if len(bg) < 5 or len(cg) < 5:  # small-cell privacy: never shown
                continue
            rows.append(compare.mean_change(bg, cg, f"CSI | {seg} = {group}"))
    table = compare.wave_change_table(rows)
    table.insert(1, "baseline_wave", ctx.wave.baseline)
    return table


def csi_model_tables(
    survey: Survey,
    clean: pd.DataFrame,
    n_boot: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    model: PLSModel | None = None,
) -> dict[str, pd.DataFrame]:
    """The CSI model: bootstrapped paths, R², loadings, reliability, HTMT, total effects and ACSI impacts.

    ``model`` is the model estimated on ``clean`` (:func:`fit_csi_model`); it is estimated here if not given.
    """
    from .pls import acsi_impact, bootstrap_model, construct_index_scores

    blocks = model_blocks(survey)
    model = model if model is not None else fit_csi_model(survey, clean)
    cfg = survey.pls
    b = n_boot if n_boot is not None else cfg.bootstrap
    boot = bootstrap_model(model, n_boot=b, seed=cfg.seed if seed is None else seed, progress=progress)
    paths = boot.paths.copy()
    out = {"csi_paths": paths}
    out["pls_r2"] = model.r2
    loadings = boot.loadings.merge(model.weights, on=["construct", "item"], how="left")
    out["pls_loadings"] = loadings
    ranges = {i: survey.ranges[i] for c in blocks for i in blocks[c]}
    index_scores = construct_index_scores(clean.loc[model.scores.index], model, ranges)
    target = satisfaction_construct(survey)
    effects = boot.total_effects.copy()
    impact = acsi_impact(model, index_scores)
    effects = effects.merge(impact[["source", "target", "impact"]], on=["source", "target"], how="left")
    out["pls_effects"] = effects
    htmt = model.htmt.copy()
    htmt.index.name = "construct"
    out["htmt"] = htmt.reset_index()
    out["pls_summary"] = pd.DataFrame(
        [
            {
                "n": model.n,
                "iterations": model.iterations,
                "scheme": model.scheme,
                "n_boot": b,
                "failed_resamples": boot.n_failed,
                "satisfaction_construct": target,
            }
        ]
    )
    return out


# --------------------------------------------------------------------------- 04 zones
def zone_thresholds(survey: Survey) -> tuple[ZoneThresholds, ZoneThresholds]:
    """Satisfaction and loyalty thresholds (``zones:`` overrides on the satisfaction item's scale)."""
    from .zones import default_thresholds, thresholds_from_config

    sat_scale = survey.scale_of(survey.overall_satisfaction)
    cfg = {
        k: v
        for k, v in survey.zones.items()
        if k in ("affection_min", "defection_max", "terrorist_max", "loyalty_high_min", "loyalty_low_max")
    }
    th_sat = thresholds_from_config(cfg, sat_scale.min, sat_scale.max)
    loy_scale = survey.scale_of(survey.loyalty[0]) if survey.loyalty else sat_scale
    loy_cfg = {k.replace("loyalty_", ""): v for k, v in survey.zones.items() if k.startswith("loyalty_")}
    loy_cfg = {
        ("affection_min" if k == "high_min" else "defection_max" if k == "low_max" else k): v
        for k, v in loy_cfg.items()
    }
    th_loy = (
        thresholds_from_config(loy_cfg, loy_scale.min, loy_scale.max)
        if loy_cfg
        else default_thresholds(loy_scale.min, loy_scale.max)
    )
    return th_sat, th_loy


def customer_types(survey: Survey, scores: pd.DataFrame) -> pd.DataFrame:
    """Zone and customer type of every respondent (needs the overall item and loyalty items)."""
    from .zones import type_of, zone_of

    th_sat, th_loy = zone_thresholds(survey)
    sat = scores[survey.overall_satisfaction]
    detractor = scores[survey.recommend] <= 6 if survey.recommend else None
    if detractor is not None:
        detractor = detractor.where(scores[survey.recommend].notna())
    out = scores[["row", *survey.segments]].copy()
    if survey.customer_id:
        out[survey.customer_id] = scores[survey.customer_id]
    out["zone"] = zone_of(sat, th_sat)
    out["type"] = type_of(sat, scores["loyalty_score"], th_sat, th_loy, detractor)
    return out


def run_zones(ctx: WaveContext, n_boot: int = 500, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Satisfaction-loyalty zones and customer types, the loyalty curve, and the IPA.

    Writes ipa and priorities always; with ``loyalty`` items also zones,
    zones_by_segment, zone_transitions (linked customers), loyalty_curve,
    loyalty_breakpoint and types.parquet.
    """
    out = importance_performance(ctx)
    if ctx.survey.loyalty:
        out.update(customer_zones(ctx, n_boot=n_boot, seed=seed))
    for name, table in out.items():
        ctx.write(name, table)
    return out


def customer_zones(ctx: WaveContext, n_boot: int = 500, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Customer types and zones (also by segment and across linked waves), the loyalty curve and its break."""
    from . import zones
    from .clean import write_parquet

    s = ctx.survey
    scores = pd.read_parquet(ctx.processed / "respondent_scores.parquet")
    types = customer_types(s, scores)
    out: dict[str, pd.DataFrame] = {"zones": zones.zone_table(types["type"])}
    by_seg = []
    for seg in s.segments:
        t = zones.zone_table(types["type"], by=types[seg])
        t = t.rename(columns={seg: "group"}) if seg in t.columns else t
        t.insert(0, "segment", seg)
        by_seg.append(t)
    if by_seg:
        seg_table = pd.concat(by_seg, ignore_index=True)
        group_n = seg_table.groupby(["segment", "group"])["n"].transform("sum")
        out["zones_by_segment"] = seg_table[group_n >= 5].reset_index(drop=True)  # small cells never shown
    if ctx.baseline is not None and s.customer_id:
        base_types = customer_types(s, _baseline_scores(ctx))
        a = base_types.dropna(subset=[s.customer_id]).drop_duplicates(s.customer_id).set_index(s.customer_id)
        b = types.dropna(subset=[s.customer_id]).drop_duplicates(s.customer_id).set_index(s.customer_id)
        linked = a.index.intersection(b.index)
        if len(linked) >= 5:
            out["zone_transitions"] = zones.transition_table(a.loc[linked, "type"], b.loc[linked, "type"])
    promoter = None
    if s.recommend:
        promoter = (scores[s.recommend] >= 9).where(scores[s.recommend].notna())
    sat, loyalty = scores[s.overall_satisfaction], scores["loyalty_score"]
    out["loyalty_curve"] = zones.loyalty_curve(sat, loyalty, promoter)
    out["loyalty_breakpoint"] = pd.DataFrame(
        [zones.loyalty_breakpoint(sat, loyalty, n_boot=n_boot, seed=seed)]
    )
    write_parquet(types, ctx.processed / "types.parquet")
    return out


def importance_performance(ctx: WaveContext) -> dict[str, pd.DataFrame]:
    """IPA of the attribute items: importance = relative weight for overall satisfaction (from
    drivers_items.csv; correlation with the overall item before the drivers stage has run),
    performance = the item's 0-100 index; and the ranked improvement priorities."""
    from . import zones

    s = ctx.survey
    stats = ctx.read("item_stats").set_index("item")
    if (ctx.processed / "drivers_items.csv").exists():
        importance = ctx.read("drivers_items").set_index("predictor")["rescaled"]
    else:
        clean = ctx.clean()
        outcomes = {s.overall_satisfaction, *s.loyalty, *([s.recommend] if s.recommend else [])}
        attrs = [i for c in s.index_constructs for i in s.blocks[c] if i not in outcomes]
        importance = clean[attrs].corrwith(clean[s.overall_satisfaction])
    ipa_table = zones.ipa(importance, stats.loc[importance.index, "index"])
    ipa_table.insert(1, "label", ipa_table["item"].map(_language_labels(s)))
    priorities = zones.improvement_priorities(ipa_table)
    priorities.insert(1, "label", priorities["item"].map(_language_labels(s)))
    return {"ipa": ipa_table, "priorities": priorities}


def _baseline_scores(ctx: WaveContext) -> pd.DataFrame:
    path = ctx.baseline / "respondent_scores.parquet"
    return pd.read_parquet(path)


# --------------------------------------------------------------------------- 05 report: KPIs
def run_kpis(ctx: WaveContext) -> pd.DataFrame:
    """KPIs against the survey's targets (``kpis.csv``); operational KPIs from the complaint log.

    Survey KPIs come from ``headline.csv`` (csi, satisfaction_rate, nps,
    response_rate, repurchase_rate) and ``index_change`` from the baseline's
    CSI. Operational KPIs (complaint rate, resolution time, response within
    24 h, follow-up within 3 days, and their change against the baseline) come
    from the wave's ``operations`` file. Also writes ``operations.json`` (this
    wave's raw operational numbers, read by the next wave).
    """
    from . import kpis

    head = ctx.read("headline").set_index("metric")["value"]
    values: dict[str, float] = {k: float(v) for k, v in head.items()}
    ops: dict[str, float] = {}
    if ctx.wave.operations is not None:
        ops = kpis.operational_kpis(kpis.read_operations(ctx.wave.operations), ctx.wave.customers)
        ctx.write_json("operations", ops)
        values.update(ops)
    baseline_values = None
    if ctx.baseline is not None:
        base_head = pd.read_csv(ctx.baseline / "headline.csv").set_index("metric")["value"]
        baseline_values = {**ctx.read_json("operations", baseline=True), "csi": float(base_head.get("csi"))}
        values.update(kpis.wave_kpis({**ops, "csi": values.get("csi")}, baseline_values))
    rows = None
    if ctx.baseline is None:  # a change against the baseline does not apply to a first wave
        rows = [
            k
            for k in kpis.KNOWN_KPIS
            if not k.endswith("_change") and (k in values or k in ctx.survey.targets)
        ]
        rows += [k for k in ctx.survey.targets if k not in kpis.KNOWN_KPIS]
    table = kpis.kpi_table(values, ctx.survey.targets, kpis=rows)
    ctx.write("kpis", table)
    return table


def report_context(ctx: WaveContext) -> dict:
    """The facts an executive summary states, from the stage tables (numbers, not prose)."""
    head = ctx.read("headline").set_index("metric")
    change = None
    if (ctx.processed / "wave_change.csv").exists():
        change = pd.read_csv(ctx.processed / "wave_change.csv").set_index("metric")
    kpi = ctx.read("kpis")
    summary = ctx.read_json("summary")
    facts = {
        "wave": ctx.wave.id,
        "baseline": ctx.wave.baseline,
        "n": int(summary.get("kept_rows", 0)),
        "raw": int(summary.get("raw_rows", 0)),
        "kpis_met": int((kpi["status"] == "met").sum()),
        "kpis_targeted": int((kpi["status"] != "no target").sum()),
    }
    for metric in ("csi", "satisfaction_rate", "nps"):
        if metric in head.index:
            facts[metric] = float(head.loc[metric, "value"])
    if change is not None:
        for metric, key in (("CSI", "csi"), ("satisfaction_rate", "satisfaction_rate"), ("NPS", "nps")):
            if metric in change.index:
                facts[f"{key}_diff"] = float(change.loc[metric, "diff"])
                facts[f"{key}_p"] = float(change.loc[metric, "p"])
    return facts


# --------------------------------------------------------------------------- pre-flight
def preflight(survey: Survey, wave: Wave, key_root: Path) -> CleanResult:
    """Check everything about a wave that can be wrong in the analyst's input, before any notebook runs.

    Reads and cleans the raw export (file, encoding, columns, unreadable
    values), then checks the survey definition against the data: ``invited``
    not below the valid responses, the AHP matrix (reciprocal, CR <= 0.10),
    the CSI model (estimable: no cycle, no constant item), the zone thresholds
    and the complaint log. Raises :class:`~analysis.errors.InputError` naming
    the file and key; writes nothing but (on first use) the id-hashing key.
    """
    from .errors import DataError, InputError, SurveyDefinitionError

    result = clean_wave(survey, wave, key_root=key_root)
    file = str(survey.path)
    if wave.invited is not None and result.n_kept > wave.invited:
        raise SurveyDefinitionError(
            f"'invited' is {wave.invited} but the wave has {result.n_kept} valid responses.",
            file=str(wave.path),
            expected="the number of customers invited, at least the number of responses",
        )
    if result.n_kept < 2:
        raise DataError(
            f"only {result.n_kept} row(s) are left after cleaning.",
            file=str(wave.raw),
            expected="at least 2 valid responses to analyse",
        )
    clean = result.clean
    try:
        if survey.index.weights == "ahp":
            from .index import ahp_weights, check_ahp

            labels = list(survey.index.ahp_labels)
            try:
                result = ahp_weights(pd.DataFrame(survey.index.ahp_matrix, index=labels, columns=labels))
            except ValueError as exc:
                raise SurveyDefinitionError(f"index.ahp.matrix: {exc}", file=file) from None
            check_ahp(result, name=f"index.ahp.matrix in {file}")
        if survey.paths:
            fit_csi_model(survey, clean)
        if survey.loyalty:
            zone_thresholds(survey)
    except InputError:
        raise
    except ValueError as exc:
        raise SurveyDefinitionError(str(exc), file=file) from None
    if wave.operations is not None:
        from .kpis import operational_kpis, read_operations

        operational_kpis(read_operations(wave.operations), wave.customers)
    return result
