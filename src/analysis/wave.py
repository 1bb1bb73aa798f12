"""The analyst's object: one wave of a survey, from the raw export to every table of the report.

>>> from analysis import WaveAnalysis                                  # doctest: +SKIP
>>> wa = WaveAnalysis.load("params/survey.yaml", "params/waves/2025H2.yaml")
>>> wa.clean(); wa.describe(); wa.reliability(); wa.index()
>>> wa.groups(); wa.change(); wa.drivers(); wa.model(); wa.kpis()
>>> wa.zones(); wa.comments()
>>> wa.save()                                                            # every table, through the store

Each step calls the statistics functions (data in, result out), keeps the
tables it made in :attr:`WaveAnalysis.results` and returns them; a later step
finds what it needs in memory or, in a new session (each notebook is one), in
the wave's :class:`~analysis.store.Store`. :meth:`WaveAnalysis.read` is how the
report layer gets any table by name. Nothing here draws or words anything:
charts are in :mod:`analysis.plotting`, words in :mod:`analysis.words`.

=========  ==========================================  =====================================
notebook   steps                                       tables (see :data:`analysis.store.TABLES`)
=========  ==========================================  =====================================
01_clean   ``clean``                                   clean, cleaning_log, value_issues, attrition, weights,
                                                       weighting, summary
02         ``describe reliability index headline``     item_stats, distribution, profile, reliability,
           ``operations``                              screening, csi_index, index_weights, respondent_scores,
                                                       headline, ahp, operations
03         ``groups change drivers model kpis``        group_tests, wave_change, drivers*, regression,
                                                       csi_paths, pls_*, htmt*,
                                                       measurement_checks, kpis
04         ``zones``                                   ipa, priorities, zones*, loyalty_*, types
05_report  ``comments``                                comment*
=========  ==========================================  =====================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .clean import CleanResult, clean_wave
from .privacy import MIN_CELL
from .store import Store, processed_root
from .survey import Survey, Wave, load_survey, load_wave, survey_waves, wave_weighting

if TYPE_CHECKING:  # type hints only: the statistics modules are imported where they are used
    from .pls import PLSModel
    from .weighting import Weights
    from .zones import ZoneThresholds

Tables = dict[str, pd.DataFrame]

#: Resampling settings of the steps (the CSI model's come from the survey's ``pls:`` block).
INDEX_BOOT, INDEX_SEED = 1000, 2024
DRIVERS_BOOT, DRIVERS_SEED = 1000, 20240601
IPA_BOOT, IPA_SEED = 1000, 20240615


# --------------------------------------------------------------------------- survey-level pieces
def satisfaction_construct(survey: Survey) -> str | None:
    """The construct of the overall satisfaction item (the CSI model's satisfaction variable)."""
    return survey.item(survey.overall_satisfaction).construct


def model_blocks(survey: Survey, without: Sequence[str] = ()) -> dict[str, list[str]]:
    """Blocks of the constructs in the CSI structural model (``without`` some of them)."""
    return {c: survey.blocks[c] for c in survey.model_constructs if c not in without}


def conditional_model_constructs(survey: Survey) -> list[str]:
    """Constructs of the CSI model asked only of some respondents (``asked_if`` on their items)."""
    return [c for c in survey.model_constructs if c in survey.conditional_constructs]


def asked_rows(survey: Survey, clean: pd.DataFrame, constructs: Sequence[str]) -> pd.Series:
    """True for the respondents asked every item of ``constructs`` (:meth:`analysis.survey.Survey.asked`)."""
    items = [i for c in constructs for i in survey.blocks[c]]
    if not items:
        return pd.Series(True, index=clean.index)
    return survey.asked(clean)[items].all(axis=1)


def fit_csi_model(survey: Survey, clean: pd.DataFrame, weights: Weights | None = None) -> PLSModel | None:
    """The estimated CSI structural model (:func:`analysis.pls.estimate_pls`, the survey's ``pls:`` settings;
    weighted PLS with ``weights``); None without paths. It keeps its data (and weights): bootstrap it with
    :func:`analysis.pls.bootstrap_model`.

    Missing by design (issue 11): constructs asked only of some respondents (``asked_if``) are left out
    of this model, which is estimated on every respondent; their paths come from
    :func:`fit_asked_model`, the whole model on the respondents who were asked."""
    from . import pls

    if not survey.paths:
        return None
    cfg = survey.pls
    skip = set(conditional_model_constructs(survey))
    paths = [p for p in survey.paths if not (set(p) & skip)]
    if not paths:  # every path touches a conditional construct: the asked model is the only model
        return fit_asked_model(survey, clean, weights)
    return pls.estimate_pls(
        clean, model_blocks(survey, skip), paths, scheme=cfg.scheme, missing=cfg.missing, weights=weights
    )


def fit_asked_model(survey: Survey, clean: pd.DataFrame, weights: Weights | None = None) -> PLSModel | None:
    """The whole CSI model on the respondents asked every conditional construct (None when the model has
    none, or without paths); weighted PLS with ``weights`` (matched by row index)."""
    from . import pls

    cond = conditional_model_constructs(survey)
    if not survey.paths or not cond:
        return None
    cfg = survey.pls
    rows = clean.loc[asked_rows(survey, clean, cond)]
    return pls.estimate_pls(
        rows, model_blocks(survey), list(survey.paths), scheme=cfg.scheme, missing=cfg.missing,
        weights=None if weights is None else weights.values_for(rows.index),
    )


def case_weights(survey: Survey, wave: Wave, clean: pd.DataFrame) -> Weights:
    """The respondent weights of a wave (:func:`analysis.weighting.make_weights` on the cleaned rows, to
    :func:`analysis.survey.wave_weighting`'s margins); all-1 :func:`analysis.weighting.uniform` weights
    without weighting. Refusals (a margin group with no respondent, ...) name the wave file."""
    from .weighting import make_weights, uniform

    cfg = wave_weighting(survey, wave)
    if cfg is None:
        return uniform(clean.index)
    return make_weights(clean, cfg.margins, method=cfg.method, bounds=cfg.bounds, source=str(wave.path))


def attribute_items(survey: Survey) -> list[str]:
    """Items of the index constructs other than the outcome items (overall, loyalty, recommend): the IPA items."""
    outcomes = {survey.overall_satisfaction, *survey.loyalty, *([survey.recommend] if survey.recommend else [])}
    return [i for c in survey.index_constructs for i in survey.blocks[c] if i not in outcomes]


def index_weights(
    survey: Survey, clean: pd.DataFrame, model: PLSModel | None = None, asked_model: PLSModel | None = None
) -> tuple[pd.Series, dict[str, float] | None, pd.DataFrame]:
    """Construct weights of the overall index, item weights within constructs (None = equal) and the
    table of both (index_weights.csv: ``construct, weight, method, total_effect, item_weights,
    negative_items, note``).

    ``equal`` / ``ahp`` / ``entropy`` weight constructs; items count equally. ``pls`` (ACSI
    method): items weighted by the normalised unstandardised PLS outer weights, constructs by
    their total effect on the satisfaction construct, normalised to sum to 1 (Fornell et al.
    1996), with the fallbacks of :func:`analysis.index.acsi_weights` for negative weights and
    effects (recorded in ``note``). A construct asked only of some respondents takes its outer weights
    and total effect from ``asked_model`` (:func:`fit_asked_model`; fitted when not given).
    """
    from .index import acsi_weights, weights_for

    cfg = survey.index
    blocks = {c: survey.blocks[c] for c in survey.index_constructs}
    if cfg.weights == "pls":
        model = model if model is not None else fit_csi_model(survey, clean)
        if model is None:
            from .errors import SurveyDefinitionError

            raise SurveyDefinitionError(
                "index.weights is 'pls' but the survey has no 'paths' (no CSI model to take weights from).",
                file=str(survey.path),
            )
        target = satisfaction_construct(survey)
        outer: dict[str, float] = {}
        effects: dict[str, float] = {}
        cond = set(conditional_model_constructs(survey))
        if cond:
            asked_model = asked_model if asked_model is not None else fit_asked_model(survey, clean)
        for m, keep in ((model, None), (asked_model if cond else None, cond)):
            if m is None:
                continue
            uw, te = m.unstd_weights, m.total_effects
            uw = uw if keep is None else uw[uw["construct"].isin(keep)]
            te = te[te["target"] == target]
            te = te if keep is None else te[te["source"].isin(keep)]
            outer.update(dict(zip(uw["item"], uw["weight"], strict=True)))
            effects.update(dict(zip(te["source"], te["total"], strict=True)))
        result = acsi_weights(blocks, outer, effects)
        table = result.to_frame()
        table.insert(2, "method", "pls")
        return result.construct_weights, result.item_weights, table
    matrix = None
    if cfg.weights == "ahp":
        matrix = pd.DataFrame(cfg.ahp_matrix, index=list(cfg.ahp_labels), columns=list(cfg.ahp_labels))
    weights = weights_for(cfg.weights, clean, blocks, survey.ranges, ahp_matrix=matrix)
    table = pd.DataFrame(
        {
            "construct": weights.index,
            "weight": weights.to_numpy(),
            "method": cfg.weights,
            "total_effect": float("nan"),
            "item_weights": "equal",
            "negative_items": "",
            "note": "",
        }
    )
    return weights, None, table


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
        out["loyalty_score"] = loyalty_score(survey, clean)
    if survey.recommend:
        out[survey.recommend] = clean[survey.recommend]
    for c in survey.constructs:
        out[c] = scores[c]
    out["CSI"] = csi_values
    return out


def loyalty_score(survey: Survey, clean: pd.DataFrame) -> pd.Series:
    """Each respondent's loyalty score: the mean of the ``loyalty`` items answered, on the scale of the first
    loyalty item (an item on another scale is first rescaled linearly onto it, so that a 0-10 item and a 1-7
    item average to a score within 1-7)."""
    first = survey.scale_of(survey.loyalty[0])
    parts = []
    for item in survey.loyalty:
        sc = survey.scale_of(item)
        x = clean[item].astype(float)
        if (sc.min, sc.max) != (first.min, first.max):
            x = first.min + (x - sc.min) * (first.max - first.min) / (sc.max - sc.min)
        parts.append(x)
    return pd.concat(parts, axis=1).mean(axis=1)


def zones_defined(survey: Survey) -> bool:
    """Whether customer types can be defined: loyalty items, and satisfaction and loyalty scales of at least
    3 levels (defection, indifference and affection need one level each)."""
    if not survey.loyalty:
        return False
    return min(survey.scale_of(survey.overall_satisfaction).n_levels, survey.scale_of(survey.loyalty[0]).n_levels) >= 3


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


# --------------------------------------------------------------------------- open-ended comments
def comment_text(survey: Survey, clean: pd.DataFrame) -> pd.Series:
    """One text per respondent with any non-empty open-ended answer, indexed by ``row``: the survey's
    open-ended columns joined by line breaks (with one open-ended question: that comment)."""
    cols = [c for c in survey.open_ended if c in clean.columns]
    if not cols:
        return pd.Series(dtype=object, index=pd.Index([], name="row"))
    frame = clean.set_index("row")[cols]
    parts = [[v.strip() if isinstance(v, str) else "" for v in frame[c].to_numpy(dtype=object)] for c in cols]
    joined = parts[0] if len(parts) == 1 else ["\n".join(p for p in r if p) for r in zip(*parts, strict=True)]
    text = pd.Series(joined, index=frame.index, dtype=object)
    return text[text != ""]


def comment_tables(
    survey: Survey, clean: pd.DataFrame, wave_id: str, baseline: pd.DataFrame | None = None,
    baseline_id: str | None = None, weights: Weights | None = None, base_weights: Weights | None = None,
) -> dict[str, Any]:
    """The comment tables of a wave (see :meth:`WaveAnalysis.comments`): comments, comment_codes,
    comment_segments, comment_terms, comment_candidates and comment_summary.

    With ``weights`` (the wave's, indexed like ``clean``) comment_codes and comment_segments are
    weighted (:func:`analysis.comments.code_table`); the baseline's rows of comment_segments and the
    share changes use ``base_weights`` (its saved weights as fixed weights, indexed like
    ``baseline``; all 1 when it was not weighted) and the design-based change
    (:func:`analysis.weighting.design_change`)."""
    from . import comments as cm
    from .weighting import design_changes, reindexed

    if weights is not None and not weights.weighted:
        weights = None
    w_row = None if weights is None else reindexed(weights, clean.index, clean["row"].to_numpy())

    book = cm.compile_codebook(survey.codebook) if survey.codebook else None
    names = book.names if book is not None else []
    text = comment_text(survey, clean)
    coded, docs = cm.analyse_comments(text, book)  # each distinct text once; tokens kept for the keywords
    byrow = clean.set_index("row")
    sat = pd.to_numeric(byrow[survey.overall_satisfaction], errors="coerce")
    scale = survey.scale_of(survey.overall_satisfaction)
    coded["satisfaction"] = sat.reindex(coded.index)
    coded["contradicts"] = cm.contradicts(coded["sentiment"], sat, (scale.min + scale.max) / 2, survey.satisfied)
    codes = cm.code_table(coded, names, sat, weights=w_row)
    about = book.about() if book is not None else {}
    codes.insert(1, "about", codes["code"].map(about))
    groups = byrow.reindex(coded.index)[list(survey.segments)].copy()
    groups["wave"] = wave_id
    segments = [cm.code_shares_by(coded, names, groups, weights=w_row)]
    terms = []
    for lang in ("zh", "en"):
        top = cm.top_terms(docs.select(coded["language"] == lang), top=15)
        terms.append(top.assign(scope="top", group=lang, log_odds=float("nan"), z=float("nan")))
    for seg in survey.segments:
        terms.append(cm.distinctive_terms(docs, groups[seg]).assign(scope=seg))
    if baseline is not None and baseline_id:
        b_text = comment_text(survey, baseline)
        b_coded, b_docs = cm.analyse_comments(b_text, book)
        b_row = None if base_weights is None else reindexed(base_weights, baseline.index, baseline["row"].to_numpy())
        segments.append(cm.code_shares_by(b_coded, names, pd.DataFrame({"wave": baseline_id}, index=b_coded.index),
                                          weights=b_row))
        b_matrix = cm.code_matrix(b_coded, names)
        b_counts = b_matrix.sum()
        if w_row is None or b_row is None:
            change = [cm.share_change(int(k), len(coded), int(b_counts[c]), len(b_coded))
                      for c, k in zip(codes["code"], codes["n"], strict=True)]
            b_share = [b_counts[c] / len(b_coded) if len(b_coded) else float("nan") for c in codes["code"]]
        else:
            matrix = cm.code_matrix(coded, names)
            change, b_share = [], []
            cur = pd.DataFrame({c: matrix[c].astype(float).reindex(w_row.weight.index) for c in codes["code"]})
            old = pd.DataFrame({c: b_matrix[c].astype(float).reindex(b_row.weight.index) for c in codes["code"]})
            for ch in design_changes(old, b_row, cur, w_row):  # one design per wave for every code
                if ch is None:  # under 2 comments in a wave
                    change.append(dict.fromkeys(("diff", "ci_low", "ci_high", "p"), float("nan")))
                    b_share.append(float("nan"))
                    continue
                change.append({"diff": ch.diff, "ci_low": ch.ci_low, "ci_high": ch.ci_high, "p": ch.p})
                b_share.append(ch.baseline)
        codes["baseline_n"] = [int(b_counts[c]) for c in codes["code"]]
        codes["baseline_share"] = b_share
        for key in ("diff", "ci_low", "ci_high", "p"):
            codes[f"change_{key}"] = [c[key] for c in change]
        both = cm.Terms.concat([docs, b_docs])
        which = pd.Series([wave_id] * len(coded) + [baseline_id] * len(b_coded))
        terms.append(cm.distinctive_terms(both, which).assign(scope="wave"))
    cols = ["scope", "group", "term", "count", "log_odds", "z"]
    term_table = pd.concat([t.reindex(columns=cols) for t in terms], ignore_index=True)
    candidates = pd.concat(
        [cm.candidate_codes(docs.select(coded["language"] == lang), coded[coded["language"] == lang]).assign(language=lang)
         for lang in ("zh", "en")],
        ignore_index=True,
    )[["language", "term", "count", "share"]]
    rated = coded.dropna(subset=["satisfaction"])
    rho = (
        float(rated["sentiment"].corr(rated["satisfaction"], method="spearman")) if len(rated) > 2 else None
    )
    summary = {
        "n_comments": len(coded),
        "n_respondents": len(clean),
        "languages": {k: int(v) for k, v in coded["language"].value_counts().sort_index().items()},
        "uncoded": cm.uncoded_share(coded),
        "codes": len(names),
        "sentiment_mean": float(coded["sentiment"].mean()) if len(coded) else None,
        "sentiment_satisfaction_spearman": rho,
        "contradicting": int(coded["contradicts"].sum()),
    }
    table = coded.reset_index()[["row", "language", "codes", "sentiment", "n_codes", "satisfaction", "contradicts"]]
    return {
        "comments": table,
        "comment_codes": codes,
        "comment_segments": pd.concat(segments, ignore_index=True),
        "comment_terms": term_table,
        "comment_candidates": candidates,
        "comment_summary": summary,
    }


# --------------------------------------------------------------------------- the analyst object
@dataclass
class WaveAnalysis:
    """One wave of a survey: its steps, their tables, and the store they are saved to.

    Attributes: ``survey``, ``wave``, ``store`` (this wave's folder),
    ``baseline`` (the baseline wave's store, or None), ``key_root`` (where the
    customer-id hashing key lives), ``results`` (tables made in this session,
    by store name).
    """

    survey: Survey
    wave: Wave
    store: Store
    baseline: Store | None = None
    key_root: Path = Path(".")
    results: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls,
        survey_path: str | Path,
        wave_path: str | Path,
        processed_dir: str | Path = "",
        baseline_dir: str | Path = "",
        out_root: str | Path = ".",
    ) -> WaveAnalysis:
        """From the notebook parameters: an empty ``wave_path`` is the first wave file (in baseline order) beside
        the survey definition (``<its folder>/waves/``); an empty ``processed_dir`` is
        ``DIR/data/processed/<wave>``; an empty ``baseline_dir`` is the baseline wave's folder there, when it
        has results. The maths libraries' thread pools are limited here (:func:`analysis.threads.limit`,
        ``CSAT_THREADS``, default 1)."""
        from .threads import limit

        limit()
        survey = load_survey(survey_path)
        wave = load_wave(wave_path) if str(wave_path) else survey_waves(survey_path)[0]
        out = Path(out_root).resolve()
        store = Store(processed_dir) if processed_dir else Store.for_wave(out, wave.id)
        store.folder.mkdir(parents=True, exist_ok=True)
        baseline = Store(baseline_dir) if baseline_dir else None
        if baseline is None and wave.baseline:
            candidate = Store(processed_root(out) / wave.baseline)
            baseline = candidate if candidate.exists("clean") else None
        return cls(survey=survey, wave=wave, store=store, baseline=baseline, key_root=out)

    # ----------------------------------------------------------------------- tables
    @property
    def language(self) -> str:
        """The report language of the survey (``en`` or ``zh``)."""
        return self.survey.language

    def read(self, name: str) -> Any:
        """Table ``name``: made in this session, else read from the store (FileNotFoundError if neither)."""
        if name in self.results:
            return self.results[name]
        if name not in self._cache:
            self._cache[name] = self.store.read(name)
        return self._cache[name]

    def has(self, name: str) -> bool:
        """Whether table ``name`` exists (made in this session or saved)."""
        return name in self.results or name in self._cache or self.store.exists(name)

    def read_baseline(self, name: str) -> Any:
        """Table ``name`` of the baseline wave, or None (no baseline, or not written there)."""
        if self.baseline is None or not self.baseline.exists(name):
            return None
        return self.baseline.read(name)

    def _keep(self, tables: dict[str, Any]) -> dict[str, Any]:
        self.results.update(tables)
        return tables

    def save(self) -> list[Path]:
        """Write every table made in this session to the store (atomically, columns checked)."""
        return [self.store.write(name, table) for name, table in self.results.items()]

    # ----------------------------------------------------------------------- shared intermediate results
    def csi_model(self) -> PLSModel | None:
        """The CSI model's point estimate on this wave (fitted once per session); None without paths."""
        if "csi_model" not in self._cache:
            self._cache["csi_model"] = fit_csi_model(self.survey, self.read("clean"), self._w())
        return self._cache["csi_model"]

    def asked_model(self) -> PLSModel | None:
        """The whole CSI model on the respondents asked its conditional constructs (:func:`fit_asked_model`),
        fitted once per session; None when the model has no construct asked only of some."""
        if "asked_model" not in self._cache:
            self._cache["asked_model"] = fit_asked_model(self.survey, self.read("clean"), self._w())
        return self._cache["asked_model"]

    def case_weights(self) -> Weights:
        """The respondent weights (computed once per session from the cleaned rows; see :func:`case_weights`)."""
        if "case_weights" not in self._cache:
            self._cache["case_weights"] = case_weights(self.survey, self.wave, self.read("clean"))
        return self._cache["case_weights"]

    @property
    def weighted(self) -> bool:
        """Whether this wave is weighted (the survey's ``weighting:`` or the wave's ``margins:``)."""
        return wave_weighting(self.survey, self.wave) is not None

    def _w(self) -> Weights | None:
        """The weights the statistics functions take: None unweighted (exactly the unweighted results)."""
        return self.case_weights() if self.weighted else None

    def weights(self) -> tuple[pd.Series, dict[str, float] | None]:
        """Construct weights of the overall index and item weights within constructs (see :func:`index_weights`)."""
        weights, items, _ = self._weighting()
        return weights, items

    def _weighting(self) -> tuple[pd.Series, dict[str, float] | None, pd.DataFrame]:
        if "weights" not in self._cache:
            pls_weights = self.survey.index.weights == "pls"
            model = self.csi_model() if pls_weights else None
            asked = self.asked_model() if pls_weights else None
            self._cache["weights"] = index_weights(self.survey, self.read("clean"), model, asked)
        return self._cache["weights"]

    def scores(self) -> pd.DataFrame:
        """Per-respondent construct indices, CSI, overall item and loyalty score (``respondent_scores``)."""
        if not self.has("respondent_scores"):
            self.index()
        return self.read("respondent_scores")

    # ----------------------------------------------------------------------- 01 clean
    def clean(self) -> CleanResult:
        """Read the raw export and apply every cleaning rule (see :mod:`analysis.clean`).

        Tables: clean, cleaning_log, value_issues,
        attrition and the summary facts.
        """
        result = clean_wave(self.survey, self.wave, key_root=self.key_root)
        self._keep(result.tables())
        weights = case_weights(self.survey, self.wave, result.clean)
        self._cache["case_weights"] = weights
        tables: dict[str, Any] = {"weights": weights.to_frame(result.clean["row"])}
        if weights.weighted:
            tables["weighting"] = weights.margin_table()
        summary = self._summary(result)
        summary["weighting"] = _json_safe(weights.diagnostics()) if weights.weighted else None
        self._keep({**tables, "summary": summary})
        self._cache["clean_result"] = result
        return result

    def _summary(self, result: CleanResult) -> dict[str, Any]:
        return {
            "wave": self.wave.id,
            "raw_file": self.wave.raw.name,
            "raw_rows": result.n_raw,
            "kept_rows": result.n_kept,
            "invited": self.wave.invited,
            "baseline": self.wave.baseline,
            "encoding": result.encoding,
            "separator": {",": "comma", ";": "semicolon", "\t": "tab"}.get(result.separator or ""),
            "speeder_cutoff_seconds": None
            if pd.isna(result.speeder_cutoff)
            else round(result.speeder_cutoff, 1),
            "value_issues": len(result.value_issues),
            "pii_columns_removed": len(result.pii_columns),
            "undeclared_columns_dropped": result.dropped_columns,
            "outliers_flagged": int(result.log["outlier"].sum()),
        }

    # ----------------------------------------------------------------------- 02 descriptive
    def describe(self) -> Tables:
        """Item statistics (with label and construct), answer distributions and the sample profile."""
        from . import describe

        s, clean = self.survey, self.read("clean")
        stats = describe.item_stats(clean, s.ranges, weights=self._w())
        stats.insert(1, "label", stats["item"].map({i: s.item_label(i) for i in s.rated_items}))
        stats.insert(
            2, "construct", stats["item"].map(lambda i: s.item(i).construct if i in s.item_ids else None)
        )
        labels = {i: s.answer_labels(i, self.language) for i in s.rated_items}
        return self._keep(
            {
                "item_stats": stats,
                "distribution": describe.distribution(clean, s.ranges, labels, weights=self._w()),
                "profile": describe.sample_profile(clean, list(s.segments)),
            }
        )

    def reliability(self) -> Tables:
        """Cronbach's alpha and omega per construct, rho_C / AVE / rho_A from the CSI model, item screening."""
        from . import reliability

        s, clean = self.survey, self.read("clean")
        rel = reliability.reliability_table(clean, s.blocks, weights=self._w())
        for col in ("rho_c", "ave", "rho_a"):
            rel[col] = float("nan")
        model = self.csi_model()
        if model is not None:
            pr = model.reliability.set_index("construct")
            asked = self.asked_model()
            if asked is not None:  # constructs asked only of some: from the model on those asked
                ar = asked.reliability.set_index("construct")
                pr = pd.concat([pr, ar.loc[[c for c in conditional_model_constructs(s) if c not in pr.index]]])
            for col in ("rho_c", "ave", "rho_a"):
                rel[col] = rel["construct"].map(pr[col])
        return self._keep({"reliability": rel, "screening": reliability.screen_items(clean, s.blocks, weights=self._w())})

    def index(self, n_boot: int = INDEX_BOOT, seed: int = INDEX_SEED) -> Tables:
        """The 0-100 index per construct and the overall CSI (bootstrap intervals), its weights, and the
        per-respondent scores; the AHP consistency when AHP-weighted."""
        from .index import ahp_weights, csi

        s, clean = self.survey, self.read("clean")
        weights, item_weights, weight_table = self._weighting()
        blocks = {c: s.blocks[c] for c in s.index_constructs}
        tables: dict[str, Any] = {
            "csi_index": csi(
                clean, blocks, s.ranges, weights.to_dict(), item_weights, n_boot=n_boot, seed=seed, weights=self._w()
            ),
            "index_weights": weight_table.copy(),
            "respondent_scores": respondent_scores(s, clean, weights, item_weights),
        }
        if s.index.weights == "ahp":
            res = ahp_weights(self._ahp_matrix())
            tables["ahp"] = {"lambda_max": res.lambda_max, "ci": res.ci, "cr": res.cr}
        return self._keep(tables)

    def _ahp_matrix(self) -> pd.DataFrame:
        labels = list(self.survey.index.ahp_labels)
        return pd.DataFrame(self.survey.index.ahp_matrix, index=labels, columns=labels)

    def headline(self) -> pd.DataFrame:
        """The headline measures with 95% intervals: CSI, satisfaction rate, NPS, response rate, repurchase."""
        from . import describe

        s, clean = self.survey, self.read("clean")
        if not self.has("csi_index"):
            self.index()
        table = self.read("csi_index")
        overall = table[table["construct"] == "CSI"].iloc[0]
        csi_parts = {"n_eff": float(overall["n_eff"])} if "n_eff" in overall.index else None  # weighted
        rows = [_row("csi", overall["index"], overall["ci_low"], overall["ci_high"], overall["n"], csi_parts)]
        w = self._w()
        sat = describe.satisfaction_rate(clean[s.overall_satisfaction], s.satisfied, weights=w)
        rows.append(_row("satisfaction_rate", sat.value, sat.ci_low, sat.ci_high, sat.n, _with_se(sat)))
        if s.recommend:
            n = describe.nps(clean[s.recommend], weights=w)
            rows.append(
                {
                    **_row("nps", n.value, n.ci_low, n.ci_high, n.n),
                    **{"se": n.se, **n.parts},
                }
            )
        if self.wave.invited is not None:  # without `invited` there is no response rate to show
            rr = describe.response_rate(len(clean), self.wave.invited)
            rows.append(_row("response_rate", rr.value, rr.ci_low, rr.ci_high, len(clean)))
        if s.repurchase:
            sc = s.scale_of(s.repurchase)
            rep = describe.satisfaction_rate(clean[s.repurchase], [sc.max - 1, sc.max], weights=w)
            rows.append(_row("repurchase_rate", rep.value, rep.ci_low, rep.ci_high, rep.n, _with_se(rep)))
        return self._keep({"headline": pd.DataFrame(rows)})["headline"]

    def operations(self) -> dict[str, float]:
        """The operational numbers of the wave's complaint log (``operations`` of the wave file):
        complaint rate, resolution time, response within 24 h, follow-up within 3 days
        (:func:`analysis.kpis.operational_kpis`); ``{}`` without a log.

        Kept as ``operations`` in notebook 02, so that the next wave's KPIs (notebook 03) need only
        this wave's first two notebooks (:data:`analysis.runner.BASELINE_NEEDS`)."""
        from .ingest import read_operations
        from .kpis import operational_kpis

        if self.wave.operations is None:
            return {}
        ops = operational_kpis(read_operations(self.wave.operations), self.wave.customers)
        return self._keep({"operations": ops})["operations"]

    # ----------------------------------------------------------------------- 03 inferential
    def groups(self) -> pd.DataFrame:
        """Group tests of the overall item, the CSI and every index construct across each segment."""
        from . import compare

        s = self.survey
        overall = s.overall_satisfaction
        variables = [overall, "CSI", *s.index_constructs]
        top = s.scale_of(overall).max - 1
        if self.weighted:  # design-based: Wald F of weighted means, pairs by design t (analysis.weighting)
            from .weighting import design_group_tests

            tests = design_group_tests(self.scores(), variables, list(s.segments), self.case_weights(),
                                       top2={overall: top})
            return self._keep({"group_tests": tests.to_frame()})["group_tests"]
        tests = compare.group_tests(self.scores(), variables, list(s.segments), top2={overall: top})
        table = tests.to_frame()
        return self._keep({"group_tests": table})["group_tests"]

    def drivers(self, n_boot: int = DRIVERS_BOOT, seed: int = DRIVERS_SEED) -> Tables:
        """Key drivers: relative weights of the constructs for overall satisfaction (and loyalty), with bootstrap
        intervals; relative weights of the attribute items (feeds the IPA); OLS of overall on the constructs.
        Each table has ``n``, the complete cases it used. Constructs and items asked only of some respondents
        (``asked_if``) are left out, so the drivers keep every respondent (their effect is in the CSI model,
        estimated on the respondents asked).

        A table whose analysis is undefined on this wave (too few complete answers for the number of drivers,
        a driver or outcome without variance, collinear drivers: the ``ValueError`` of
        :mod:`analysis.drivers`) is left out, and the report leaves out what it would show."""
        from . import drivers

        s, scores, w = self.survey, self.scores(), self._w()
        overall, idx = s.overall_satisfaction, [c for c in s.index_constructs if c not in s.conditional_constructs]
        attributes = [i for i in attribute_items(s) if i not in s.conditional_items]
        boot = {"n_boot": n_boot, "seed": seed}
        tables: dict[str, pd.DataFrame] = {}
        for name, run in (
            ("drivers", lambda: drivers.relative_weights_boot(scores, overall, idx, **boot, weights=w)),
            ("drivers_loyalty", lambda: drivers.relative_weights_boot(scores, "loyalty_score", idx, **boot, weights=w)),
            ("drivers_items", lambda: drivers.relative_weights(self.read("clean"), overall, attributes, weights=w)),
            ("regression", lambda: drivers.regression_drivers(scores, overall, idx, weights=w)),
        ):
            if name == "drivers_loyalty" and not s.loyalty:
                continue
            try:
                result = run()
            except (ValueError, np.linalg.LinAlgError):
                continue
            data = self.read("clean") if name == "drivers_items" else scores
            outcome = "loyalty_score" if name == "drivers_loyalty" else overall
            rows = drivers.complete_rows(data, outcome, attributes if name == "drivers_items" else idx)
            tables[name] = result.to_frame().assign(n=result.n, **self._n_eff_rows(rows))
        return self._keep(tables)

    def _n_eff_rows(self, rows: pd.Index) -> dict[str, float]:
        """``{"n_eff": Kish effective n of the weights of rows}`` under weighting, else ``{}`` (no column)."""
        from .weighting import kish

        return {"n_eff": kish(self.case_weights().values_for(rows))["n_eff"]} if self.weighted else {}

    def _n_eff_of(self, model: PLSModel) -> dict[str, float]:
        """``{"n_eff": ...}`` of a weighted PLS model's rows (its case weights), else ``{}``."""
        from .weighting import kish

        if not self.weighted or model.case_weights is None:
            return {}
        return {"n_eff": kish(model.case_weights)["n_eff"]}

    def change(self) -> pd.DataFrame | None:
        """Change against the baseline wave (None without one): CSI, satisfaction rate, NPS, construct indices
        and segment CSIs.

        The baseline is re-scored with this wave's construct and item weights (:meth:`weights`, computed
        once), so both waves are measured with the same yardstick and the same CSI definition
        (:func:`analysis.index.csi`): the current CSI is the headline CSI. Customers who answer in both
        waves (the hashed ``customer_id`` links them) are paired: the partially overlapping samples
        tests of :mod:`analysis.compare` (``n_paired``); without a customer id the waves are independent.
        """
        from . import compare

        if self.baseline is None:
            return None
        s, scores = self.survey, self.scores()
        weights, item_weights = self.weights()
        base = respondent_scores(s, self.baseline.read("clean"), weights, item_weights)
        if self.weighted:
            table = compare.wave_change_table(self._design_change_rows(base, scores))
            table.insert(1, "baseline_wave", self.wave.baseline)
            return self._keep({"wave_change": table})["wave_change"]
        cid, overall = s.customer_id, s.overall_satisfaction
        rows: list[Any] = []

        def ids(frame: pd.DataFrame) -> pd.Series | None:
            return frame[cid] if cid and cid in frame.columns else None

        def add(fn: Any, *args: Any) -> None:  # a change undefined on these answers (under 2 per wave) is left out
            with suppress(ValueError):
                rows.append(fn(*args))

        def mean_row(b: pd.DataFrame, c: pd.DataFrame, col: str, metric: str) -> None:
            add(compare.overlap_mean_change, b[col], c[col], metric, ids(b), ids(c))

        def flag(frame: pd.DataFrame) -> pd.Series:
            return frame[overall].isin(s.satisfied).astype(float).where(frame[overall].notna())

        mean_row(base, scores, "CSI", "CSI")
        add(compare.overlap_proportion_change, flag(base), flag(scores), "satisfaction_rate", ids(base), ids(scores))
        if s.recommend:
            add(compare.overlap_nps_change, base[s.recommend], scores[s.recommend], "NPS", ids(base), ids(scores))
        for construct in s.index_constructs:
            mean_row(base, scores, construct, construct)
        for seg in s.segments:
            for group in _groups_of(scores[seg], base[seg]):
                bg, cg = base[base[seg] == group], scores[scores[seg] == group]
                if bg["CSI"].notna().sum() < MIN_CELL or cg["CSI"].notna().sum() < MIN_CELL:  # small cells: never shown
                    continue
                mean_row(bg, cg, "CSI", f"CSI | {seg} = {group}")
        if not rows:
            return None
        table = compare.wave_change_table(rows)
        table.insert(1, "baseline_wave", self.wave.baseline)
        return self._keep({"wave_change": table})["wave_change"]

    def _design_change_rows(self, base: pd.DataFrame, scores: pd.DataFrame) -> list[Any]:
        """Wave change under weighting (:func:`analysis.weighting.design_change`): the current wave's
        calibration-aware SEs, the baseline's from its ``weights.csv`` as fixed weights (all 1 when it was
        not weighted); customers in both waves (the hashed ``customer_id``) add the covariance of their
        linearised values (``design_z_paired``, ``n_paired``); the same metrics and small-cell rule as
        unweighted."""
        from .weighting import design_changes, fixed

        s, w = self.survey, self.case_weights()
        saved = self.read_baseline("weights")
        bw = fixed(pd.Series(saved["weight"].to_numpy(dtype=float) if saved is not None else 1.0, index=base.index))
        cid = s.customer_id
        pair = {}
        if cid and cid in base.columns and cid in scores.columns:
            pair = {"baseline_ids": base[cid], "current_ids": scores[cid]}
        old: dict[str, pd.Series] = {"CSI": base["CSI"]}
        new: dict[str, pd.Series] = {"CSI": scores["CSI"]}

        def flag(frame: pd.DataFrame) -> pd.Series:
            x = frame[s.overall_satisfaction]
            return x.isin(s.satisfied).astype(float).where(x.notna())

        old["satisfaction_rate"], new["satisfaction_rate"] = flag(base), flag(scores)
        if s.recommend:
            def score(frame: pd.DataFrame) -> pd.Series:
                x = frame[s.recommend]
                return pd.Series(np.select([x >= 9, x <= 6], [1.0, -1.0], 0.0), index=x.index).where(x.notna())

            old["NPS"], new["NPS"] = score(base), score(scores)
        for construct in s.index_constructs:
            old[construct], new[construct] = base[construct], scores[construct]
        for seg in s.segments:
            for group in sorted(set(scores[seg].dropna()) | set(base[seg].dropna())):
                bg, cg = base["CSI"].where(base[seg] == group), scores["CSI"].where(scores[seg] == group)
                if bg.notna().sum() < MIN_CELL or cg.notna().sum() < MIN_CELL:  # small cells are never shown
                    continue
                old[f"CSI | {seg} = {group}"], new[f"CSI | {seg} = {group}"] = bg, cg
        # every metric from one design per wave (one rake), as design_change of each
        rows = design_changes(pd.DataFrame(old), bw, pd.DataFrame(new), w, scales={"NPS": 100.0}, **pair)
        for metric, row in zip(new, rows, strict=True):
            if row is None:
                raise ValueError(f"{metric}: need at least 2 answers in each wave")
        return rows

    def model(self, n_boot: int | None = None, seed: int | None = None, progress: bool = False) -> Tables:
        """The CSI structural model (no tables without ``paths``): bootstrapped paths, R², loadings, HTMT
        (matrix, and every pair with its bootstrap interval), the measurement warnings (HTMT above 0.90,
        loadings below 0.708, improper solutions), total effects with ACSI impacts, and the estimation facts. Resamples and seed default to the
        survey's ``pls:`` settings."""
        from .pls import acsi_impact, bootstrap_model, construct_index_scores, measurement_checks

        s = self.survey
        model = self.csi_model()
        if model is None:
            return {}
        clean, blocks, cfg = self.read("clean"), model_blocks(s), s.pls
        b = cfg.bootstrap if n_boot is None else n_boot
        seed = cfg.seed if seed is None else seed
        ranges = {i: s.ranges[i] for c in blocks for i in blocks[c]}

        def estimates(m: PLSModel, sample: str, keep: set[str] | None) -> dict[str, Any]:
            boot = bootstrap_model(m, n_boot=b, seed=seed, progress=progress, method="auto")
            impact = acsi_impact(m, construct_index_scores(clean.loc[m.scores.index], m, ranges))
            out = {
                "csi_paths": boot.paths.copy(),
                "pls_loadings": boot.loadings.merge(m.weights, on=["construct", "item"], how="left"),
                "pls_effects": boot.total_effects.merge(
                    impact[["source", "target", "impact"]], on=["source", "target"], how="left"
                ),
            }
            for name, t in out.items():
                cols = ["construct"] if name == "pls_loadings" else ["source", "target"]
                if keep is not None:
                    t = t[t[cols].isin(keep).any(axis=1)]
                out[name] = t.assign(n=m.n, sample=sample, **self._n_eff_of(m)).reset_index(drop=True)
            out["boot"] = boot
            return out

        main = estimates(model, "all", None)
        asked = self.asked_model()
        cond = set(conditional_model_constructs(s))
        if asked is not None and set(asked.blocks) != set(model.blocks):
            part = estimates(asked, "asked", cond)
            for name in ("csi_paths", "pls_loadings", "pls_effects"):
                main[name] = pd.concat([main[name], part[name]], ignore_index=True)
        htmt = model.htmt.copy()
        htmt.index.name = "construct"
        summary = {
            "n": model.n,
            **self._n_eff_of(model),
            "iterations": model.iterations,
            "scheme": model.scheme,
            "n_boot": b,
            "failed_resamples": main["boot"].n_failed,
            "satisfaction_construct": satisfaction_construct(s),
            "n_asked": asked.n if asked is not None else float("nan"),
            "asked_constructs": ";".join(c for c in s.model_constructs if c in cond),
        }
        boot = main["boot"]
        return self._keep(
            {
                "csi_paths": main["csi_paths"],
                "pls_r2": model.r2,
                "pls_loadings": main["pls_loadings"],
                "pls_effects": main["pls_effects"],
                "htmt": htmt.reset_index(),
                "htmt_intervals": boot.htmt.copy(),
                "measurement_checks": measurement_checks(model, boot.htmt),
                "pls_summary": pd.DataFrame([summary]),
            }
        )

    # ----------------------------------------------------------------------- 04 zones
    def ipa(self, n_boot: int = IPA_BOOT, seed: int = IPA_SEED) -> Tables:
        """Importance-performance analysis of the attribute items and the ranked improvement priorities.

        Importance is the item's relative weight for overall satisfaction (``drivers_items``); before the
        drivers step has run, its correlation with the overall item. Performance is the item's 0-100 index.
        With relative weights, ``n_boot`` case resamples (``seed``) give each item's importance and
        performance intervals and its quadrant ``stability`` (:func:`analysis.zones.ipa_stability`);
        ``priorities`` marks as ``stable`` the items in "Concentrate here" in at least
        :data:`analysis.zones.IPA_STABLE` of them: only those are named "act first on".
        """
        from . import zones

        s = self.survey
        stats = self.read("item_stats").set_index("item")
        clean = self.read("clean")
        by_weights = self.has("drivers_items")
        if by_weights:
            importance = self.read("drivers_items").set_index("predictor")["rescaled"].dropna()  # NaN: R² = 0
        else:
            importance = clean[attribute_items(s)].corrwith(clean[s.overall_satisfaction]).dropna()
        if importance.empty:  # no item has a defined importance (no variance, or R² = 0): no IPA
            return {}
        labels = {i: s.item_label(i) for i in s.rated_items}
        ipa_table = zones.ipa(importance, stats.loc[importance.index, "index"])
        if by_weights:
            boot = zones.ipa_stability(ipa_table, clean, s.overall_satisfaction, s.ranges, n_boot, seed)
            ipa_table = ipa_table.merge(boot, on="item", how="left")
        else:
            for col in zones.IPA_BOOT_COLUMNS:
                ipa_table[col] = float("nan")
        ipa_table.insert(1, "label", ipa_table["item"].map(labels))
        priorities = zones.improvement_priorities(ipa_table)
        stable = ipa_table.set_index("item")
        priorities["stability"] = priorities["item"].map(stable["stability"])
        priorities["stable"] = priorities["item"].map(
            (stable["quadrant"] == "Concentrate here") & (stable["stability"] >= zones.IPA_STABLE)
        ).astype(bool)
        priorities.insert(1, "label", priorities["item"].map(labels))
        return self._keep({"ipa": ipa_table, "priorities": priorities})

    def zones(self) -> Tables:
        """The IPA (see :meth:`ipa`) and, with ``loyalty`` items, the satisfaction-loyalty customer types (also by
        segment and across customers linked to the baseline), the loyalty curve and its break point."""
        tables = self.ipa()
        if zones_defined(self.survey):
            tables = {**tables, **self._customer_zones()}
        return tables

    def _customer_zones(self) -> Tables:
        from . import zones

        s, scores, w = self.survey, self.scores(), self._w()
        types = customer_types(s, scores)
        tables: dict[str, Any] = {"zones": zones.zone_table(types["type"], weights=w)}
        by_seg = []
        for seg in s.segments:
            t = zones.zone_table(types["type"], by=types[seg], weights=w)
            t = t.rename(columns={seg: "group"}) if seg in t.columns else t
            t.insert(0, "segment", seg)
            by_seg.append(t)
        if by_seg:
            seg_table = pd.concat(by_seg, ignore_index=True)
            group_n = seg_table.groupby(["segment", "group"])["n"].transform("sum")
            tables["zones_by_segment"] = seg_table[group_n >= MIN_CELL].reset_index(drop=True)
        base_scores = self.read_baseline("respondent_scores")
        if base_scores is not None and s.customer_id:
            base_types = customer_types(s, base_scores)
            a = base_types.dropna(subset=[s.customer_id]).drop_duplicates(s.customer_id).set_index(s.customer_id)
            b = types.dropna(subset=[s.customer_id]).drop_duplicates(s.customer_id).set_index(s.customer_id)
            linked = a.index.intersection(b.index)
            if len(linked) >= MIN_CELL:
                tables["zone_transitions"] = zones.transition_table(a.loc[linked, "type"], b.loc[linked, "type"])
        promoter = None
        if s.recommend:
            promoter = (scores[s.recommend] >= 9).where(scores[s.recommend].notna())
        sat, loyalty = scores[s.overall_satisfaction], scores["loyalty_score"]
        tables["loyalty_curve"] = zones.loyalty_curve(sat, loyalty, promoter, weights=w)
        with suppress(ValueError):  # Davies test; too few satisfaction levels to test a break: the report says so
            tables["loyalty_breakpoint"] = zones.loyalty_breakpoint(sat, loyalty, weights=w).to_frame()
        tables["types"] = types
        return self._keep(tables)

    # ----------------------------------------------------------------------- 05 KPIs
    def kpis(self) -> pd.DataFrame:
        """KPIs against the survey's targets.

        Survey KPIs come from the headline (csi, satisfaction_rate, nps, response_rate, repurchase_rate),
        ``index_change`` the CSI ``diff`` of the wave change (the baseline re-scored with this
        wave's weights; the baseline's own headline CSI only when no wave change was made); operational KPIs (complaint rate, resolution time,
        response within 24 h, follow-up within 3 days, and their change) from :meth:`operations` (made
        in notebook 02, or here when it was not). Made in notebook 03, once the wave change exists, so
        that the tracking report need not wait for the report notebooks.
        """
        from . import kpis

        head = self.read("headline").set_index("metric")["value"]
        values: dict[str, float] = {k: float(v) for k, v in head.items()}
        ops = self.read("operations") if self.has("operations") else self.operations()
        values.update(ops)
        base_head = self.read_baseline("headline")
        if base_head is not None:
            # index_change is the wave-change CSI diff: the baseline re-scored with this wave's weights
            change = self.read("wave_change") if self.has("wave_change") else None
            if change is not None and "CSI" in set(change["metric"]):
                base_csi = float(change.set_index("metric").loc["CSI", "baseline"])
            else:
                base_csi = float(base_head.set_index("metric")["value"].get("csi"))
            baseline_values = {**(self.read_baseline("operations") or {}), "csi": base_csi}
            values.update(kpis.wave_kpis({**ops, "csi": values.get("csi")}, baseline_values))
        rows = None
        if self.baseline is None:  # a change against the baseline does not apply to a first wave
            targets = self.survey.targets
            rows = [k for k in kpis.KNOWN_KPIS if not k.endswith("_change") and (k in values or k in targets)]
            rows += [k for k in targets if k not in kpis.KNOWN_KPIS]
        table = kpis.kpi_table(values, self.survey.targets, kpis=rows)
        return self._keep({"kpis": table})["kpis"]

    # ----------------------------------------------------------------------- 05 comments
    def comments(self) -> dict[str, Any]:
        """Code, keyword and score the open-ended comments (see :mod:`analysis.comments`).

        Tables: comments (language, codes, sentiment, tone against rating; no text), comment_codes
        (share, Wilson interval, mentioners' satisfaction against the others', Welch test),
        comment_segments (per segment group and wave, the baseline's comments coded with this
        codebook), comment_terms, comment_candidates and comment_summary. Nothing without
        ``open_ended``.
        """
        if not self.survey.open_ended:
            return {}
        base = self.read_baseline("clean")
        base_w = None
        if self.weighted and base is not None:
            from .weighting import fixed

            saved = self.read_baseline("weights")
            base_w = fixed(pd.Series(saved["weight"].to_numpy(dtype=float) if saved is not None else 1.0,
                                     index=base.index))
        tables = comment_tables(self.survey, self.read("clean"), self.wave.id, base, self.wave.baseline,
                                weights=self._w(), base_weights=base_w)
        return self._keep(tables)

    def facts(self) -> dict[str, Any]:
        """The facts an executive summary states (numbers, not prose): n, KPIs met, headline and change."""
        head = self.read("headline").set_index("metric")
        change = self.read("wave_change").set_index("metric") if self.has("wave_change") else None
        kpi = self.read("kpis")
        summary = self.read("summary")
        facts: dict[str, Any] = {
            "wave": self.wave.id,
            "baseline": self.wave.baseline,
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
                    p_col = "p_adj" if "p_adj" in change.columns else "p"  # Holm over the change table
                    facts[f"{key}_p"] = float(change.loc[metric, p_col])
        return facts


def _row(
    metric: str, value: float, lo: float, hi: float, n: float, parts: Any = None
) -> dict[str, Any]:
    """A headline row; under weighting ``parts`` carries ``n_eff`` (beside the unweighted ``n``)."""
    row = {"metric": metric, "value": value, "ci_low": lo, "ci_high": hi, "n": n}
    if parts and "n_eff" in parts:
        row["n_eff"] = parts["n_eff"]
    if parts and "se" in parts:
        row["se"] = parts["se"]
    return row


def _with_se(estimate: Any) -> dict[str, Any]:
    """A weighted rate's parts with its design SE (``se`` of the headline row); unweighted: its parts."""
    parts = dict(estimate.parts)
    if estimate.method == "design_logit":
        parts["se"] = estimate.se
    return parts


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    """NaN -> None, numpy scalars -> Python, for the summary JSON."""
    import math

    out = {}
    for key, value in values.items():
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[key] = value.item() if hasattr(value, "item") else value
    return out


def _groups_of(current: pd.Series, baseline: pd.Series) -> list:
    """The groups of a segment in either wave: this wave's order (the codebook's, else natural), then the
    baseline's other groups in natural order."""
    from .order import levels, natural_sorted

    first = levels(current)
    return first + natural_sorted(set(baseline.dropna().astype(object)) - set(first))


# --------------------------------------------------------------------------- pre-flight
def _check_model_items(survey: Survey, wave: Wave, result: CleanResult) -> None:
    """An item of the CSI model with fewer than 3 answers among the kept rows is the export's fault
    (an empty column), not the survey definition's: refused naming the raw file and the item."""
    from .errors import DataError

    for construct in survey.model_constructs:
        for item in survey.blocks[construct]:
            n = int(result.clean[item].notna().sum())
            if n < 3:
                raise DataError(
                    f"item '{item}' has {n} answer(s) among the {result.n_kept} kept rows; the CSI model "
                    f"(construct {construct}) needs at least 3.",
                    file=str(wave.raw),
                    column=item,
                    expected="answers in this column of the export",
                )


def check_segment_groups(survey: Survey, clean: pd.DataFrame) -> None:
    """Refuse a segment with more groups than its limit (``max_groups``, default
    :data:`analysis.survey.MAX_GROUPS`), counted in the cleaned data after the codebook's bins and labels.

    Raises :class:`~analysis.errors.SurveyDefinitionError` naming the survey file, the segment, its
    number of groups and the advice: bin it, merge its codes, or raise the limit.
    """
    from .errors import SurveyDefinitionError

    for col in survey.segments:
        seg = survey.segment(col)
        n = int(clean[col].nunique(dropna=True)) if col in clean.columns else 0
        if n > seg.max_groups:
            raise SurveyDefinitionError(
                f"segment '{col}' has {n} groups, more than the limit of {seg.max_groups}; group "
                "comparisons, charts and tables of that many groups cannot be read.",
                file=str(survey.path),
                expected=(
                    f"bins for a numeric column (segments: [{{column: {col}, bins: [0, 30, 45, 60, .inf]}}]), "
                    f"labels that merge codes, or a higher limit ({{column: {col}, max_groups: {n}}})"
                ),
            )


#: Messages of the model fit that are about the answers (the export), not the survey definition.
_DATA_FAULT = re.compile(r"complete rows|no answers at all|zero variance|positive weight")


def check(survey: Survey, wave: Wave) -> CleanResult:
    """Check everything about a wave that can be wrong in the analyst's input, before any notebook runs.

    Reads and cleans the raw export (file, encoding, columns, unreadable
    values), then checks the survey definition against the data: ``invited``
    not below the valid responses, the AHP matrix (reciprocal, CR <= 0.10),
    the CSI model (estimable: no cycle, no constant item), the zone thresholds
    and the complaint log. Raises :class:`~analysis.errors.InputError` naming
    the file and key. Writes nothing: customer ids are hashed with a throwaway key (the check
    needs no real one; ``csat run`` checks the real key first, see :func:`analysis.clean.id_key`).
    """
    import secrets

    from .errors import DataError, InputError, SurveyDefinitionError

    result = clean_wave(survey, wave, key=secrets.token_bytes(32))
    case_weights(survey, wave, result.clean)  # refuses margins the sample cannot meet, naming the wave file
    file = str(survey.path)
    if wave.invited is not None and result.n_kept > wave.invited:
        raise SurveyDefinitionError(
            f"'invited' is {wave.invited} but the wave has {result.n_kept} valid responses.",
            file=str(wave.path),
            expected="the number of customers invited, at least the number of responses",
        )
    check_segment_groups(survey, result.clean)
    if result.n_kept < 2:
        raise DataError(
            f"only {result.n_kept} row(s) are left after cleaning.",
            file=str(wave.raw),
            expected="at least 2 valid responses to analyse",
        )
    try:
        if survey.index.weights == "ahp":
            from .index import ahp_weights, check_ahp

            labels = list(survey.index.ahp_labels)
            try:
                ahp = ahp_weights(pd.DataFrame(survey.index.ahp_matrix, index=labels, columns=labels))
            except ValueError as exc:
                raise SurveyDefinitionError(f"index.ahp.matrix: {exc}", file=file) from None
            check_ahp(ahp, name=f"index.ahp.matrix in {file}")
        if survey.paths:
            _check_model_items(survey, wave, result)
            try:
                fit_csi_model(survey, result.clean)
                fit_asked_model(survey, result.clean)
            except ValueError as exc:
                if not _DATA_FAULT.search(str(exc)):
                    raise
                raise DataError(  # too few or too uniform answers: the export's fault, not the definition's
                    f"the CSI model cannot be estimated on the {result.n_kept} rows kept after cleaning: {exc}",
                    file=str(wave.raw),
                    expected="at least 3 rows answering every model item, and items that vary",
                ) from None
        if zones_defined(survey):
            zone_thresholds(survey)
    except InputError:
        raise
    except ValueError as exc:
        raise SurveyDefinitionError(str(exc), file=file) from None
    if wave.operations is not None:
        from .ingest import read_operations
        from .kpis import operational_kpis

        operational_kpis(read_operations(wave.operations), wave.customers)
    return result


__all__ = [
    "WaveAnalysis",
    "attribute_items",
    "case_weights",
    "check",
    "check_segment_groups",
    "customer_types",
    "fit_asked_model",
    "fit_csi_model",
    "index_weights",
    "loyalty_score",
    "model_blocks",
    "respondent_scores",
    "satisfaction_construct",
    "zone_thresholds",
    "zones_defined",
]
