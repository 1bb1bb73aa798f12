"""PLS path modelling (PLS-PM) of the CSI / ECSI structural model.

The customer-satisfaction-index models (ACSI, ECSI; see ``docs`` and the
domain brief) are estimated by partial least squares path modelling: every
construct (image, expectation, quality, value, satisfaction, complaints,
loyalty) is a weighted composite of its items, and the weights are found by
Wold's iterative algorithm in Lohmöller's (1989) formulation.

Public functions
----------------
estimate_pls
    Estimate the model once -> :class:`PLSModel`: path coefficients, R²,
    loadings, weights, scores, reliability (alpha, rho_C, AVE, rho_A), HTMT and
    total effects; ``summary()`` and ``to_frame()``. The model keeps its
    prepared data and specification.
bootstrap_model
    Bootstrap the estimated model (seminr's ``bootstrap_model``) ->
    :class:`PLSBootstrap`: standard errors, percentile intervals, t and p values
    of paths, loadings, weights and total effects; ``summary()``, ``to_frame()``.
construct_index_scores
    ACSI-style 0-100 construct indices built with the PLS weights.
acsi_impact
    ACSI "impact" of a driver: the change in the target index for a 5-point
    rise in the driver's index.

Implementation notes
--------------------
The algorithm follows the R package seminr (``simplePLS``), whose published
results for the ECSI ``mobi`` data it reproduces to 1e-6:

* indicators are standardised with the sample standard deviation (``n - 1``);
* outer weights start at 1, are Mode A (covariances of the items with the
  inner proxy) and are rescaled at each step so that every construct score
  has unit (sample) variance;
* inner weights follow the path weighting scheme (Lohmöller 1989;
  regression coefficients for predecessors, correlations for successors),
  or the factorial / centroid schemes (Wold 1982);
* the iteration stops when the sum of absolute changes of the outer weights
  is below ``tol`` (seminr: ``10^-7``).

Because everything in Mode A PLS-PM depends on the data only through the
item correlation matrix R, the iteration is done on R: scores ``Y = Z W``
have correlations ``W' R W``, the Mode A update is ``R W E`` (E the inner
weights) and the loadings are ``R W``. This lets the bootstrap run a chunk
of resamples at once as stacked p x p matrices.

References
----------
Lohmöller, J.-B. (1989). *Latent Variable Path Modeling with Partial Least
Squares*. Physica.
Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS
path modeling. *Computational Statistics & Data Analysis*, 48(1), 159-205.
Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares path
modeling. *MIS Quarterly*, 39(2), 297-316.
Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for
assessing discriminant validity in variance-based structural equation
modeling. *J. Academy of Marketing Science*, 43(1), 115-135.
Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996).
The American Customer Satisfaction Index. *Journal of Marketing*, 60(4), 7-18.
Ray, S., Danks, N. P., & Calero Valdez, A. (2022). seminr: Building and
estimating structural equation models. R package.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "ECSI_BLOCKS",
    "ECSI_PATHS",
    "PLSModel",
    "PLSResult",
    "PLSSummary",
    "PLSBootstrap",
    "PLSBootstrapSummary",
    "estimate_pls",
    "bootstrap_model",
    "construct_index_scores",
    "acsi_impact",
    "measurement_checks",
    "HTMT_STRICT",
    "HTMT_LIBERAL",
    "LOADING_MIN",
]

#: The ECSI model of Tenenhaus et al. (2005) on the items of the ``mobi`` survey (R packages
#: semPLS / seminr): the reference model of the tests and of ``scripts/bench_pls.py``.
ECSI_BLOCKS: dict[str, list[str]] = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "Complaints": ["CUSCO"],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}
ECSI_PATHS: list[tuple[str, str]] = [
    ("Image", "Expectation"),
    ("Image", "Satisfaction"),
    ("Image", "Loyalty"),
    ("Expectation", "Quality"),
    ("Expectation", "Value"),
    ("Expectation", "Satisfaction"),
    ("Quality", "Value"),
    ("Quality", "Satisfaction"),
    ("Value", "Satisfaction"),
    ("Satisfaction", "Complaints"),
    ("Satisfaction", "Loyalty"),
    ("Complaints", "Loyalty"),
]

_SCHEMES = ("path", "factorial", "centroid")
_MISSING = ("listwise", "mean")


# --------------------------------------------------------------------------- model specification


@dataclass(frozen=True)
class _Spec:
    """Compiled model: names and index arrays used by the numeric core."""

    constructs: tuple[str, ...]
    items: tuple[str, ...]
    item_block: np.ndarray  # (p,) construct index of each item
    mask: np.ndarray  # (p, K) 1.0 where item belongs to construct
    adjacency: np.ndarray  # (K, K) 1.0 where i -> j
    path_pairs: tuple[tuple[int, int], ...]  # (source, target) index pairs, in the caller's order
    endogenous: tuple[tuple[int, np.ndarray], ...]  # (target, predecessor indices)


def _compile(
    data_columns: Sequence[str], blocks: Mapping[str, Sequence[str]], paths: Sequence[tuple[str, str]]
) -> _Spec:
    if len(paths) == 0:
        raise ValueError("estimate_pls needs at least one path (source, target).")
    in_paths: list[str] = []
    for pair in paths:
        if len(pair) != 2:
            raise ValueError(f"Each path must be a (source, target) pair, got {pair!r}.")
        source, target = pair
        for name in (source, target):
            if name not in blocks:
                raise ValueError(
                    f"Path {source!r} -> {target!r} names construct {name!r}, which has no block of items; "
                    f"known constructs: {sorted(blocks)}."
                )
        if source == target:
            raise ValueError(f"Path {source!r} -> {target!r} points a construct to itself.")
    for source, target in paths:
        for name in (source, target):
            if name not in in_paths:
                in_paths.append(name)
    # keep the order of ``blocks`` for the constructs that are in the model
    constructs = tuple(c for c in blocks if c in in_paths)
    k = len(constructs)
    pos = {c: i for i, c in enumerate(constructs)}

    items: list[str] = []
    owner: dict[str, str] = {}
    item_block: list[int] = []
    for c in constructs:
        block = list(blocks[c])
        if not block:
            raise ValueError(f"Construct {c!r} has no items.")
        for item in block:
            if item in owner:
                raise ValueError(f"Item {item!r} is in two blocks: {owner[item]!r} and {c!r}.")
            if item not in data_columns:
                raise ValueError(f"Item {item!r} of construct {c!r} is not a column of the data.")
            owner[item] = c
            items.append(item)
            item_block.append(pos[c])
    item_block_arr = np.asarray(item_block, dtype=np.intp)
    mask = np.zeros((len(items), k))
    mask[np.arange(len(items)), item_block_arr] = 1.0

    adjacency = np.zeros((k, k))
    pairs: list[tuple[int, int]] = []
    for source, target in paths:
        i, j = pos[source], pos[target]
        if adjacency[i, j]:
            raise ValueError(f"Path {source!r} -> {target!r} is given twice.")
        adjacency[i, j] = 1.0
        pairs.append((i, j))
    if _reachability(adjacency).diagonal().any():
        raise ValueError("The structural model has a cycle; PLS-PM here needs a recursive (acyclic) model.")
    endogenous = tuple((j, np.flatnonzero(adjacency[:, j])) for j in range(k) if adjacency[:, j].any())
    return _Spec(constructs, tuple(items), item_block_arr, mask, adjacency, tuple(pairs), endogenous)


def _reachability(adjacency: np.ndarray) -> np.ndarray:
    """Boolean transitive closure: reach[i, j] is True when a chain of paths leads from i to j."""
    reach = adjacency.astype(bool)
    for _ in range(len(adjacency)):
        nxt = reach | ((reach.astype(int) @ reach.astype(int)) > 0)
        if (nxt == reach).all():
            break
        reach = nxt
    return reach


def _prepare(
    data: pd.DataFrame, items: Sequence[str], missing: str
) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Item matrix after the missing-value treatment, the index of the rows used, and the rows a
    bootstrap resamples from (listwise: the same complete cases; mean: every row, NaN kept)."""
    if missing not in _MISSING:
        raise ValueError(f"missing must be one of {_MISSING}, got {missing!r}.")
    frame = data.loc[:, list(items)]
    bad = [c for c in items if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"PLS items must be numeric (map answer labels to codes first); non-numeric: {bad}.")
    x = frame.to_numpy(dtype=float, na_value=np.nan)
    index = frame.index
    if missing == "listwise":
        keep = ~np.isnan(x).any(axis=1)
        x, index = x[keep], index[keep]
        source = x
    else:
        source = x
        empty = [c for c, allnan in zip(items, np.isnan(x).all(axis=0), strict=True) if allnan]
        if empty:
            raise ValueError(f"Items with no answers at all: {empty}.")
        x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    if x.shape[0] < 3:
        raise ValueError(f"PLS-PM needs at least 3 complete rows, got {x.shape[0]}.")
    sd = x.std(axis=0, ddof=1)
    flat = [c for c, s in zip(items, sd, strict=True) if not s > 0]
    if flat:
        raise ValueError(f"Items with zero variance (every respondent gave the same answer): {flat}.")
    return x, index, source


# --------------------------------------------------------------------------- numeric core (batched)


def _corr_stack(x: np.ndarray) -> np.ndarray:
    """Correlation matrices of a stack of data sets ``x`` (B, n, p) -> (B, p, p); NaN for a flat column."""
    xc = x - x.mean(axis=1, keepdims=True)
    cov = np.matmul(xc.transpose(0, 2, 1), xc)
    d = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cov / (d[:, :, None] * d[:, None, :])


def _wcorr_stack(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Weighted correlation matrices of a stack ``x`` (B, n, p) with case weights ``wt`` (B, n) -> (B, p, p).

    Weighted means and cross-products, ``sum w (x - m)(x - m)'``; a correlation does not depend on
    the scale of the weights, and with integer weights it equals the correlation of the data with
    each row repeated that many times (the frequency-weight reading of survey weights).
    """
    total = wt.sum(axis=1)
    m = np.einsum("bn,bnp->bp", wt, x) / total[:, None]
    xc = x - m[:, None, :]
    cov = np.matmul((xc * wt[:, :, None]).transpose(0, 2, 1), xc)
    d = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cov / (d[:, :, None] * d[:, None, :])


def _wmoments(x: np.ndarray, wt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean, sd and covariance of ``x`` (n, p) with frequency-weight divisor ``sum w - 1``
    (equal to ``ddof=1`` on the rows repeated by integer weights)."""
    total = wt.sum()
    m = wt @ x / total
    xc = x - m
    cov = (xc * wt[:, None]).T @ xc / (total - 1)
    return m, np.sqrt(np.diagonal(cov)), cov


def _wnanmean(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Weighted column means of ``x`` over the answered values (x (..., n, p), wt (..., n))."""
    observed = ~np.isnan(x)
    w3 = wt[..., :, None] * observed
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(np.where(observed, x, 0.0) * w3, axis=-2) / w3.sum(axis=-2)


def _case_weights(data: pd.DataFrame, weights: Any) -> np.ndarray:
    """Case weights aligned with the rows of ``data``: a :class:`analysis.weighting.Weights` or a Series
    (matched by index) or an array (by position). Raises on a missing, negative or non-finite weight."""
    if hasattr(weights, "values_for"):
        wt = weights.values_for(data.index)
    elif isinstance(weights, pd.Series):
        wt = weights.reindex(data.index).to_numpy(dtype=float)
    else:
        wt = np.asarray(weights, dtype=float)
    if wt.shape != (len(data),) or not np.all(np.isfinite(wt)) or np.any(wt < 0):
        raise ValueError("weights must give one finite, non-negative weight per row of the data.")
    return wt


def _normalise(w: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Rescale outer weights so that every composite ``Z w`` has unit variance (w' R w = 1)."""
    var = np.einsum("bpk,bpk->bk", w, np.matmul(r, w))
    with np.errstate(divide="ignore", invalid="ignore"):
        return w / np.sqrt(var)[:, None, :]


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``solve(a, b)`` for b of shape (B, m); falls back to the pseudo-inverse if singular."""
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.matmul(np.linalg.pinv(a), b[..., None])[..., 0]


def _inner_weights(s: np.ndarray, spec: _Spec, scheme: str) -> np.ndarray:
    """Inner weights E (B, K, K): column j holds the weights of the inner proxy of construct j."""
    both = spec.adjacency + spec.adjacency.T
    if scheme == "centroid":
        return np.sign(s) * both
    e = s * both  # factorial: correlations with every neighbour
    if scheme == "path":
        for j, pred in spec.endogenous:
            e[:, pred, j] = _solve(s[:, pred[:, None], pred[None, :]], s[:, pred, j])
    return e


def _iterate(
    r: np.ndarray, w0: np.ndarray, spec: _Spec, scheme: str, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the PLS-PM iteration on a stack of correlation matrices.

    r (B, p, p), w0 (B, p, K) or (p, K) starting weights (masked). Returns the
    normalised outer weights (B, p, K), the iteration counts (B,) and a
    converged flag (B,).
    """
    n_b = r.shape[0]
    w = np.broadcast_to(w0, (n_b, *spec.mask.shape)).copy()
    w = _normalise(w, r)
    iterations = np.zeros(n_b, dtype=int)
    converged = np.zeros(n_b, dtype=bool)
    active = np.flatnonzero(np.isfinite(w).all(axis=(1, 2)))
    for it in range(1, max_iter + 1):
        if active.size == 0:
            break
        ra, wa = r[active], w[active]
        rw = np.matmul(ra, wa)
        s = np.matmul(wa.transpose(0, 2, 1), rw)
        e = _inner_weights(s, spec, scheme)
        wn = _normalise(np.matmul(rw, e) * spec.mask, ra)
        diff = np.abs(wn - wa).sum(axis=(1, 2))
        w[active] = wn
        iterations[active] = it
        done = diff < tol
        converged[active[done]] = True
        active = active[~done & np.isfinite(diff)]
    return w, iterations, converged


def _structural(r: np.ndarray, w: np.ndarray, spec: _Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Path matrix (B, K, K), R² (B, n_endogenous) and loadings (B, p) from weights and item correlations."""
    rw = np.matmul(r, w)
    s = np.matmul(w.transpose(0, 2, 1), rw)
    k = len(spec.constructs)
    beta = np.zeros((r.shape[0], k, k))
    r2 = np.empty((r.shape[0], len(spec.endogenous)))
    for m, (j, pred) in enumerate(spec.endogenous):
        b = _solve(s[:, pred[:, None], pred[None, :]], s[:, pred, j])
        beta[:, pred, j] = b
        r2[:, m] = np.einsum("bi,bi->b", b, s[:, pred, j])
    loadings = rw[:, np.arange(len(spec.items)), spec.item_block]
    return beta, r2, loadings


def _total_effects(beta: np.ndarray) -> np.ndarray:
    """Total effects ``(I - B)^-1 - I`` of a recursive path matrix stack (B, K, K)."""
    eye = np.eye(beta.shape[-1])
    return np.linalg.inv(eye - beta) - eye


# --------------------------------------------------------------------------- estimated model


def _summary_of(result: Any, summary: type, **given: Any) -> Any:
    """A ``summary`` dataclass filled from ``result``'s attributes of the same names (tables copied), or ``given``."""
    values = {}
    for f in fields(summary):
        value = given[f.name] if f.name in given else getattr(result, f.name)
        values[f.name] = value.copy() if isinstance(value, pd.DataFrame) and f.name not in given else value
    return summary(**values)


@dataclass
class PLSSummary:
    """Tidy tables of an estimated model (:meth:`PLSModel.summary`), seminr's ``summary()``.

    paths : ``source, target, estimate``. r2 : ``construct, r2, r2_adj``.
    loadings : ``construct, item, loading``. weights : ``construct, item, weight``.
    reliability : ``construct, n_items, alpha, alpha_std, rho_c, ave, rho_a``.
    htmt : ``construct`` and one column per construct (the HTMT matrix, diagonal NaN).
    total_effects : ``source, target, direct, indirect, total``.
    n, iterations, converged, scheme, missing : the estimation settings and outcome.
    """

    paths: pd.DataFrame
    r2: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    reliability: pd.DataFrame
    htmt: pd.DataFrame
    total_effects: pd.DataFrame
    n: int
    iterations: int
    converged: bool
    scheme: str
    missing: str


@dataclass
class PLSModel:
    """An estimated PLS path model (:func:`estimate_pls`); every table is a tidy pandas object.

    Attributes
    ----------
    paths : DataFrame ``source, target, estimate`` (standardised path coefficients).
    r2 : DataFrame ``construct, r2, r2_adj`` for every endogenous construct.
    loadings : DataFrame ``construct, item, loading`` (item-score correlations).
    weights : DataFrame ``construct, item, weight`` (standardised outer weights:
        score = sum weight * z-scored item, scores have unit variance).
    unstd_weights : DataFrame ``construct, item, weight``: ACSI-style weights on the
        raw item metric (weight / item sd), normalised to sum to 1 in a construct.
    scores : DataFrame n x constructs of standardised construct scores (sample sd 1),
        indexed like the rows of the data that were used.
    reliability : DataFrame ``construct, n_items, alpha, alpha_std, rho_c, ave, rho_a``.
    htmt : DataFrame construct x construct, heterotrait-monotrait ratio (diagonal NaN).
    total_effects : DataFrame ``source, target, direct, indirect, total`` for every
        pair connected by a chain of paths.
    n : number of rows used. iterations : iterations until convergence.
    converged, scheme, missing, max_iter, tol : the estimation outcome and settings.
    blocks, path_list : the specification (constructs in the model, in order; paths).
    item_mean, item_sd : means and sample sds of the items over the rows used.
    outer_weights : (p, K) array of the outer weights (zero outside a block), the
        warm start of :func:`bootstrap_model`.

    The model also keeps the rows a bootstrap resamples from (``resample_data``) and
    the compiled specification, so :func:`bootstrap_model` needs only the model.
    """

    paths: pd.DataFrame
    r2: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    unstd_weights: pd.DataFrame
    scores: pd.DataFrame
    reliability: pd.DataFrame
    htmt: pd.DataFrame
    total_effects: pd.DataFrame
    n: int
    iterations: int
    converged: bool = True
    scheme: str = "path"
    missing: str = "listwise"
    blocks: dict[str, list[str]] = field(default_factory=dict)
    path_list: list[tuple[str, str]] = field(default_factory=list)
    item_mean: pd.Series | None = None
    item_sd: pd.Series | None = None
    max_iter: int = 300
    tol: float = 1e-7
    outer_weights: np.ndarray | None = field(default=None, repr=False, compare=False)
    spec: _Spec | None = field(default=None, repr=False, compare=False)
    resample_data: np.ndarray | None = field(default=None, repr=False, compare=False)
    case_weights: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def items(self) -> list[str]:
        """The model's items, block after block."""
        return [i for c in self.blocks for i in self.blocks[c]]

    @property
    def indicators(self) -> pd.DataFrame:
        """The prepared, standardised indicator matrix Z (rows used x items; mean 0, sample sd 1)."""
        if self.resample_data is None:
            raise ValueError("This model keeps no data (it was not made by estimate_pls).")
        x = self.resample_data
        if self.missing == "mean":
            x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
        z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
        return pd.DataFrame(z, index=self.scores.index, columns=self.items)

    def path_matrix(self) -> pd.DataFrame:
        """Path coefficients as a construct x construct matrix (row = source, column = target)."""
        names = list(self.blocks)
        mat = pd.DataFrame(0.0, index=names, columns=names)
        for row in self.paths.itertuples(index=False):
            mat.loc[row.source, row.target] = row.estimate
        return mat

    def summary(self) -> PLSSummary:
        """The model's tidy tables (copies): paths, R², loadings, weights, reliability, HTMT, total effects."""
        htmt = self.htmt.copy()
        htmt.index.name = "construct"
        return _summary_of(self, PLSSummary, htmt=htmt.reset_index())

    def to_frame(self) -> pd.DataFrame:
        """Every estimate in one long table ``parameter, source, target, estimate``.

        ``parameter`` is ``path`` (source -> target construct), ``loading`` and
        ``weight`` (source = construct, target = item), ``total_effect`` (source ->
        target construct) or ``r2`` (source = target = the endogenous construct).
        """
        return pd.concat(
            [
                _long("path", self.paths["source"], self.paths["target"], self.paths["estimate"]),
                _long("loading", self.loadings["construct"], self.loadings["item"], self.loadings["loading"]),
                _long("weight", self.weights["construct"], self.weights["item"], self.weights["weight"]),
                _long(
                    "total_effect",
                    self.total_effects["source"],
                    self.total_effects["target"],
                    self.total_effects["total"],
                ),
                _long("r2", self.r2["construct"], self.r2["construct"], self.r2["r2"]),
            ],
            ignore_index=True,
        )


#: Former name of :class:`PLSModel`.
PLSResult = PLSModel


def _long(parameter: str, source: pd.Series, target: pd.Series, estimate: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": parameter,
            "source": source.to_numpy(),
            "target": target.to_numpy(),
            "estimate": estimate.to_numpy(dtype=float),
        }
    )


def _check_options(scheme: str, max_iter: int, tol: float) -> None:
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {_SCHEMES}, got {scheme!r}.")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1.")
    if not tol > 0:
        raise ValueError("tol must be positive.")


def estimate_pls(
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    paths: Sequence[tuple[str, str]],
    *,
    scheme: str = "path",
    missing: str = "listwise",
    max_iter: int = 300,
    tol: float = 1e-7,
    weights: Any = None,
) -> PLSModel:
    """Estimate a PLS path model (Mode A, reflective blocks) such as the ECSI model.

    Parameters
    ----------
    data : DataFrame with one row per respondent and the items as numeric columns.
    blocks : mapping construct -> list of its items (columns of ``data``). Constructs
        that are in no path are ignored.
    paths : sequence of ``(source, target)`` construct pairs (a recursive model).
    scheme : inner weighting scheme, ``"path"`` (Lohmöller's path weighting,
        default, as seminr and SmartPLS), ``"factorial"`` or ``"centroid"``.
    missing : ``"listwise"`` (complete cases over the model's items) or ``"mean"``
        (replace a missing answer by the item mean, as seminr does by default).
    max_iter, tol : the iteration stops when the sum of absolute changes of the
        outer weights is below ``tol``; a RuntimeWarning is issued if it does not
        within ``max_iter`` iterations.
    weights : optional case (survey) weights, one per row of ``data`` (an
        :class:`analysis.weighting.Weights`, a Series matched by index or an array):
        weighted PLS (WPLS). None gives exactly the unweighted model.

    Returns
    -------
    PLSModel with tidy tables: ``paths``, ``r2``, ``loadings``, ``weights``,
    ``unstd_weights``, ``scores``, ``reliability``, ``htmt``, ``total_effects``;
    ``summary()`` and ``to_frame()``; pass it to :func:`bootstrap_model`.

    Method
    ------
    Wold's PLS-PM algorithm in Lohmöller's (1989) formulation, following the R
    package seminr: indicators standardised with the sample sd, Mode A outer
    weights started at 1, inner weights by ``scheme``, construct scores scaled to
    unit variance, path coefficients by OLS on the scores. Reliability:
    ``alpha`` is Cronbach's alpha of the raw items, ``alpha_std`` on standardised
    items (seminr's "alpha"), ``rho_c = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))``
    (Werts, Linn & Jöreskog 1974), ``ave = mean(l^2)`` (Fornell & Larcker 1981),
    ``rho_a`` per Dijkstra & Henseler (2015); a single-item construct has all four
    equal to 1. HTMT per Henseler, Ringle & Sarstedt (2015) on the *absolute* item
    correlations (mean monotrait correlation of a single-item block taken as 1), as
    seminr (R and Python), SmartPLS and semTools compute it and cSEM for the heterotrait
    part: the paper's formula assumes items keyed in one direction, and HTMT measures how
    close two constructs are to being one, whatever the sign; with signed correlations a
    negatively related pair would get a negative HTMT and always pass the 0.85 / 0.90
    thresholds, and a weak item's negative correlations would lower it.

    Weighted PLS (``weights``): every moment is weighted. Since Mode A PLS-PM depends
    on the data only through the item correlations, they are the weighted correlations;
    item means and sds (standardisation, unstandardised weights, scores), the mean
    replacement, the covariances of alpha and the n of adjusted R² (``sum w``) are
    weighted with the frequency-weight divisor ``sum w - 1``. So integer weights give
    exactly the model of the data with each row repeated that many times (tested to
    1e-10), and the path OLS is weighted least squares on the scores. No open-source PLS
    tool carries survey weights (seminr #320/#326, cSEM #496), hence our own code; the
    commercial SmartPLS WPLS does the same (Becker & Ismail 2016, "Accounting for
    sampling weights in PLS path modeling", European Management Journal 34:606-617).

    Examples
    --------
    >>> model = estimate_pls(mobi, {"Image": ["IMAG1", "IMAG2"], "Satisfaction": ["CUSA1", "CUSA2"]},
    ...                      [("Image", "Satisfaction")])  # doctest: +SKIP
    >>> model.summary().paths  # doctest: +SKIP
    >>> bootstrap_model(model, n_boot=5000, seed=1).summary().paths  # doctest: +SKIP
    """
    _check_options(scheme, max_iter, tol)
    spec = _compile(list(data.columns), blocks, paths)
    if weights is not None:
        return _estimate_weighted(data, spec, blocks, scheme, missing, max_iter, tol, weights)
    x, index, source = _prepare(data, spec.items, missing)
    n = x.shape[0]
    r = _corr_stack(x[None])
    w, iterations, converged = _iterate(r, spec.mask, spec, scheme, max_iter, tol)
    _warn_unconverged(converged, max_iter, stacklevel=3)
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    cov = np.cov(x, rowvar=False, ddof=1)
    return _assemble(
        spec, blocks, x, index, source, r, w, iterations, converged, scheme, missing, max_iter, tol,
        mean, sd, cov, float(n), None,
    )


def _warn_unconverged(converged: np.ndarray, max_iter: int, stacklevel: int) -> None:
    """Warn (pointing at ``estimate_pls``' caller) when the full-sample fit did not converge."""
    if not converged[0]:
        warnings.warn(
            f"PLS-PM did not converge in {max_iter} iterations; results may be unreliable.",
            RuntimeWarning,
            stacklevel=stacklevel,
        )


def _estimate_weighted(
    data: pd.DataFrame, spec: _Spec, blocks: Mapping[str, Sequence[str]], scheme: str, missing: str,
    max_iter: int, tol: float, weights: Any,
) -> PLSModel:
    """:func:`estimate_pls` with case weights (weighted PLS; see its docstring)."""
    wt_all = _case_weights(data, weights)
    frame = data.loc[:, list(spec.items)]
    _prepare(data, spec.items, missing)  # the same checks and refusals as unweighted
    x = frame.to_numpy(dtype=float, na_value=np.nan)
    index = frame.index
    if missing == "listwise":
        keep = ~np.isnan(x).any(axis=1)
        x, index, wt = x[keep], index[keep], wt_all[keep]
        source = x
    else:
        wt, source = wt_all, x
        x = np.where(np.isnan(x), _wnanmean(x, wt), x)
    positive = wt > 0
    if positive.sum() < 3:
        raise ValueError(f"PLS-PM needs at least 3 rows with positive weight, got {int(positive.sum())}.")
    r = _wcorr_stack(x[None], wt[None])
    w, iterations, converged = _iterate(r, spec.mask, spec, scheme, max_iter, tol)
    _warn_unconverged(converged, max_iter, stacklevel=4)
    mean, sd, cov = _wmoments(x, wt)
    return _assemble(
        spec, blocks, x, index, source, r, w, iterations, converged, scheme, missing, max_iter, tol,
        mean, sd, cov, float(wt.sum()), wt,
    )


def _assemble(
    spec: _Spec, blocks: Mapping[str, Sequence[str]], x: np.ndarray, index: pd.Index, source: np.ndarray,
    r: np.ndarray, w: np.ndarray, iterations: np.ndarray, converged: np.ndarray, scheme: str, missing: str,
    max_iter: int, tol: float, mean: np.ndarray, sd: np.ndarray, cov: np.ndarray, n_eff: float,
    case_weights: np.ndarray | None,
) -> PLSModel:
    """The :class:`PLSModel` tables from the converged weights (``n_eff`` the n of adjusted R²)."""
    n = n_eff
    n_rows = x.shape[0]
    beta, r2, load = _structural(r, w, spec)
    beta, r2, load, w, r = beta[0], r2[0], load[0], w[0], r[0]

    names = list(spec.constructs)
    items = list(spec.items)
    item_construct = [names[b] for b in spec.item_block]
    z = (x - mean) / sd

    path_df = pd.DataFrame(
        {
            "source": [names[i] for i, _ in spec.path_pairs],
            "target": [names[j] for _, j in spec.path_pairs],
            "estimate": [beta[i, j] for i, j in spec.path_pairs],
        }
    )
    n_pred = np.array([len(pred) for _, pred in spec.endogenous])
    dof = n - n_pred - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        r2_adj = np.where(dof > 0, 1 - (1 - r2) * (n - 1) / dof, np.nan)  # undefined without residual df
    r2_df = pd.DataFrame({"construct": [names[j] for j, _ in spec.endogenous], "r2": r2, "r2_adj": r2_adj})
    w_item = w[np.arange(len(items)), spec.item_block]
    raw_w = w_item / sd
    block_sum = np.bincount(spec.item_block, weights=raw_w, minlength=len(names))
    unstd = raw_w / block_sum[spec.item_block]

    scores = pd.DataFrame(z @ w, index=index, columns=names)
    loadings_df = pd.DataFrame({"construct": item_construct, "item": items, "loading": load})
    weights_df = pd.DataFrame({"construct": item_construct, "item": items, "weight": w_item})
    unstd_df = pd.DataFrame({"construct": item_construct, "item": items, "weight": unstd})

    total = _total_effects(beta[None])[0]
    reach = _reachability(spec.adjacency)
    te_rows = [
        {
            "source": names[i],
            "target": names[j],
            "direct": beta[i, j],
            "indirect": total[i, j] - beta[i, j],
            "total": total[i, j],
        }
        for i in range(len(names))
        for j in range(len(names))
        if reach[i, j]
    ]
    te_df = pd.DataFrame(te_rows, columns=["source", "target", "direct", "indirect", "total"])

    reliability = _reliability(spec, r, cov, w, load)
    htmt = _htmt(spec, r)
    # the warm start of the bootstrap: the item weights placed in a fresh zero matrix (exact zeros)
    outer = np.zeros((len(items), len(names)))
    outer[np.arange(len(items)), spec.item_block] = w_item

    return PLSModel(
        paths=path_df,
        r2=r2_df,
        loadings=loadings_df,
        weights=weights_df,
        unstd_weights=unstd_df,
        scores=scores,
        reliability=reliability,
        htmt=htmt,
        total_effects=te_df,
        n=int(n_rows),
        iterations=int(iterations[0]),
        converged=bool(converged[0]),
        scheme=scheme,
        missing=missing,
        blocks={c: list(blocks[c]) for c in names},
        path_list=[(names[i], names[j]) for i, j in spec.path_pairs],
        item_mean=pd.Series(mean, index=items, name="mean"),
        item_sd=pd.Series(sd, index=items, name="sd"),
        max_iter=max_iter,
        tol=tol,
        outer_weights=outer,
        spec=spec,
        resample_data=source,
        case_weights=case_weights,
    )


def _alpha(c: np.ndarray) -> float:
    """Cronbach's alpha from a covariance (or correlation) matrix; 1 for a single item."""
    k = c.shape[0]
    if k == 1:
        return 1.0
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


def _reliability(
    spec: _Spec, r: np.ndarray, cov: np.ndarray, w: np.ndarray, load: np.ndarray
) -> pd.DataFrame:
    rows = []
    for b, name in enumerate(spec.constructs):
        idx = np.flatnonzero(spec.item_block == b)
        k = idx.size
        lam = load[idx]
        if k == 1:
            rho_c = ave = rho_a = 1.0
        else:
            rho_c = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
            ave = float(np.mean(lam**2))
            wb = w[idx, b]
            s_off = r[np.ix_(idx, idx)] - np.eye(k)
            ww_off = np.outer(wb, wb) - np.diag(wb**2)
            rho_a = (wb @ wb) ** 2 * (wb @ s_off @ wb) / (wb @ ww_off @ wb)
        rows.append(
            {
                "construct": name,
                "n_items": int(k),
                "alpha": _alpha(cov[np.ix_(idx, idx)]),
                "alpha_std": _alpha(r[np.ix_(idx, idx)]),
                "rho_c": float(rho_c),
                "ave": float(ave),
                "rho_a": float(rho_a),
            }
        )
    return pd.DataFrame(rows)


def _htmt(spec: _Spec, r: np.ndarray) -> pd.DataFrame:
    """HTMT of every construct pair on the absolute item correlations (see :func:`estimate_pls`)."""
    names = list(spec.constructs)
    k = len(names)
    a = np.abs(r)
    idx = [np.flatnonzero(spec.item_block == b) for b in range(k)]
    mono = np.ones(k)
    for b in range(k):
        if idx[b].size > 1:
            block = a[np.ix_(idx[b], idx[b])]
            mono[b] = block[np.triu_indices(idx[b].size, 1)].mean()
    out = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i + 1, k):
            hetero = a[np.ix_(idx[i], idx[j])].mean()
            with np.errstate(invalid="ignore", divide="ignore"):
                out[i, j] = out[j, i] = hetero / np.sqrt(mono[i] * mono[j])
    return pd.DataFrame(out, index=pd.Index(names, name="construct"), columns=names)


def _htmt_pairs(spec: _Spec) -> tuple[np.ndarray, np.ndarray]:
    """Construct index pairs (a < b) of the HTMT table, in the order of the model's constructs."""
    return np.triu_indices(len(spec.constructs), 1)


def _htmt_stack(r: np.ndarray, spec: _Spec) -> np.ndarray:
    """HTMT of every construct pair (a < b) for a stack of item correlation matrices (c, p, p).

    Block sums ``M' |R| M`` (M the item-construct mask) give the mean absolute heterotrait
    correlations; the mean monotrait correlation is the block's off-diagonal sum over
    ``k (k - 1)`` (1 for a single item), as in :func:`_htmt`.
    """
    mask = spec.mask
    size = mask.sum(axis=0)
    r = np.abs(r)
    sums = np.matmul(np.matmul(mask.T, r), mask)
    diag = np.diagonal(r, axis1=1, axis2=2) @ mask
    with np.errstate(invalid="ignore", divide="ignore"):
        mono = np.where(size > 1, (np.diagonal(sums, axis1=1, axis2=2) - diag) / (size * (size - 1)), 1.0)
        a, b = _htmt_pairs(spec)
        hetero = sums[:, a, b] / (size[a] * size[b])
        return hetero / np.sqrt(mono[:, a] * mono[:, b])


# --------------------------------------------------------------------------- bootstrap

_BOOT_METHODS = ("resample", "counts", "auto")
#: ``method="auto"``: count weights above this many rows (the resampled copies cost B x n x p). Measured
#: on the demo's model (1,529 rows, 28 items, 5,000 resamples, one thread): count weights took 0.63 s
#: against 2.8 s for resampled copies, 0.85 s against 4.9 s weighted, and 1.4 s against 8.9 s weighted
#: with missing answers, so "auto" uses them at every n.
COUNTS_ABOVE = 0
#: With count weights, above this many rows the rows are resampled in this many random groups
#: (a grouped bootstrap of sufficient statistics: cost B x groups x p^2 instead of B x n x p^2).
BOOT_GROUPS = 20_000
_MAX_CHUNK = 500  # resamples estimated together, at most
_CHUNK_BYTES = 256 * 2**20  # about the working memory one chunk of resamples may take


def group_members(n: int, groups: int, seed: int | None) -> np.ndarray:
    """The group (0 .. groups-1) of each of ``n`` rows in the grouped bootstrap: a seeded random
    permutation dealt round, so group sizes differ by at most one (see :func:`bootstrap_model`)."""
    return np.random.default_rng(seed).permutation(n) % groups


def group_sums(member: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Column sums (groups, k) of ``values`` (rows, k) within each row's group ``member``."""
    return np.column_stack([np.bincount(member, weights=values[:, j], minlength=groups)
                            for j in range(values.shape[1])]) if values.shape[1] else np.zeros((groups, 0))


def unit_counts(idx: np.ndarray, units: int) -> np.ndarray:
    """How often each of ``units`` units is drawn in each resample: ``idx`` (c, draws) of unit
    positions -> float counts (c, units), by one ``bincount`` (the multinomial count weights)."""
    c = idx.shape[0]
    flat = (idx + (np.arange(c) * units)[:, None]).ravel()
    return np.bincount(flat, minlength=c * units).reshape(c, units).astype(float)


class _IndexStream:
    """Bootstrap row positions, chunk by chunk, equal to ``default_rng(seed).integers(0, n, (B, n))``.

    For a bound below 2**32, numpy's ``Generator.integers`` draws with Lemire's method on the
    32-bit halves (low half first) of the bit generator's 64-bit outputs, and rejects a draw
    whose low product word is below ``(2**32 - n) % n`` (numpy ``distributions.c``,
    ``buffered_bounded_lemire_uint32``). Several calls would not give the one-call stream (each
    call drops an unused half word), so the stream is rebuilt here from the raw outputs and
    handed out in chunks of rows: the same resamples as one ``(B, n)`` draw, with memory
    bounded by the chunk instead of growing with B.
    """

    def __init__(self, seed: int | None, n: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._n = n
        self._exact = 1 < n < 2**32 - 1  # other bounds take other numpy code paths
        self._mult = np.uint64(n)
        self._threshold = np.uint64((2**32 - n) % n) if self._exact else np.uint64(0)
        self._pending = np.empty(0, dtype=np.uint64)

    def take(self, rows: int) -> np.ndarray:
        """The next ``rows`` resamples, an (rows, n) array of row positions."""
        if not self._exact:
            return self._rng.integers(0, self._n, size=(rows, self._n))
        return self.values(rows * self._n).astype(np.intp).reshape(rows, self._n)

    def values(self, count: int) -> np.ndarray:
        """The next ``count`` values of the stream (uint64), flat."""
        parts = [self._pending]
        have = self._pending.size
        low = np.uint64(0xFFFFFFFF)
        while have < count:
            m = (count - have + 1) // 2 + 16
            raw = self._rng.bit_generator.random_raw(m)
            u = np.empty(2 * m, dtype=np.uint64)
            u[0::2] = raw & low
            u[1::2] = raw >> np.uint64(32)
            u *= self._mult
            drawn = u[(u & low) >= self._threshold] >> np.uint64(32)
            parts.append(drawn)
            have += drawn.size
        out = np.concatenate(parts)
        self._pending = out[count:].copy()
        return out[:count]


def _resampled_corr(x: np.ndarray, idx: np.ndarray, has_nan: bool) -> np.ndarray:
    """Item correlations of the resamples ``x[idx]`` (c, p, p), mean replacement within a resample."""
    xb = x[idx]
    if has_nan:  # mean replacement within each resample (an all-missing column fails the resample)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            xb = np.where(np.isnan(xb), np.nanmean(xb, axis=1, keepdims=True), xb)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _corr_stack(xb)


def _resampled_wcorr(x: np.ndarray, wt: np.ndarray, idx: np.ndarray, has_nan: bool) -> np.ndarray:
    """Weighted item correlations of the resamples ``x[idx]`` carrying their weights ``wt[idx]``
    (weighted mean replacement within a resample)."""
    xb, wb = x[idx], wt[idx]
    if has_nan:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            xb = np.where(np.isnan(xb), _wnanmean(xb, wb)[:, None, :], xb)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _wcorr_stack(xb, wb)


class _CountMoments:
    """Item correlations of resamples from multinomial count weights and weighted cross-products.

    A resample with counts ``c_i`` (times row i is drawn) has the moments
    ``sum_i c_i v_i`` and ``sum_i c_i v_i v_i'``; they are computed as products of the (chunk x n)
    count matrix with the row-wise products of ``v`` (upper triangle, in blocks of rows), so no
    resampled copy of the data is made. ``v`` is the items centred at their full-sample means
    (no cancellation); with missing answers it is ``[x - mean (0 where missing), observed]``,
    which gives the mean-replaced resample's covariance exactly: with ``m`` the resample mean of
    the observed values, ``sum c o_j o_k (x_j - m_j)(x_k - m_k) = A_jk - m_j B_kj - m_k B_jk +
    m_j m_k C_jk`` (A, B, C the cross-products of values x values, values x observed and
    observed x observed).
    """

    def __init__(
        self,
        x: np.ndarray,
        block_rows: int = 4096,
        groups: int | None = None,
        seed: int = 0,
        weights: np.ndarray | None = None,
    ) -> None:
        observed = ~np.isnan(x)
        self.has_nan = not bool(observed.all())
        self.p = x.shape[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            center = np.nanmean(x, axis=0)
            self.scale = np.nanvar(x, axis=0)
        xz = np.where(observed, x - center, 0.0)
        self.v = np.hstack([xz, observed.astype(float)]) if self.has_nan else xz
        self.upper = np.triu_indices(self.v.shape[1])
        self.block_rows = block_rows
        self.size = np.ones(len(x))
        self.products = None
        # case weights: a resample's row weight is count x weight (the weighted bootstrap carries the
        # weights of the rows it draws), so the moments are sums of c_i w_i v_i and c_i w_i v_i v_i'
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        if groups is not None and groups < len(x):
            self._group(groups, seed)
        self.units = len(self.v)

    def _group(self, groups: int, seed: int) -> None:
        """Replace the rows by ``groups`` random groups of rows (sizes differ by at most one): their
        sums of ``v``, of the products ``v v'`` (upper triangle) and their sizes (see :func:`bootstrap_model`)."""
        n = len(self.v)
        member = group_members(n, groups, seed)
        order = np.argsort(member, kind="stable")
        iu, ju = self.upper
        sums = np.zeros((groups, self.v.shape[1]))
        products = np.zeros((groups, iu.size))
        step = self.block_rows * 16
        for lo in range(0, n, step):  # sorted rows in blocks: no (n x q^2) array
            rows = order[lo : lo + step]
            g = member[rows]
            first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
            vb = self.v[rows]
            wb = vb if self.weights is None else vb * self.weights[rows, None]
            sums[g[first]] += np.add.reduceat(wb, first, axis=0)
            products[g[first]] += np.add.reduceat(wb[:, iu] * vb[:, ju], first, axis=0)
        if self.weights is None:
            self.size = np.bincount(member, minlength=groups).astype(float)
        else:  # a group's size is the sum of its rows' weights
            self.size = np.bincount(member, weights=self.weights, minlength=groups)
            self.weights = None  # folded into the group sums
        self.v, self.products = sums, products

    def corr(self, idx: np.ndarray) -> np.ndarray:
        """Correlation matrices (c, p, p) of the resamples ``idx`` (c, units) of positions of units."""
        return self.corr_counts(unit_counts(idx, idx.shape[1]))

    def corr_counts(self, counts: np.ndarray) -> np.ndarray:
        """Correlation matrices (c, p, p) of the resamples with these counts (c, units) of each unit."""
        if self.weights is not None:  # ungrouped rows with case weights
            counts = counts * self.weights[None, :]
        c, n = counts.shape
        p, v = self.p, self.v
        q = v.shape[1]
        s = counts @ v
        iu, ju = self.upper
        if self.products is not None:
            g = counts @ self.products
        else:
            g = np.zeros((c, iu.size))
            for start in range(0, n, self.block_rows):
                vb = v[start : start + self.block_rows]
                g += counts[:, start : start + self.block_rows] @ (vb[:, iu] * vb[:, ju])
        total = counts @ self.size
        n = total[:, None] if self.products is not None or self.weights is not None else n
        gram = np.empty((c, q, q))
        gram[:, iu, ju] = g
        gram[:, ju, iu] = g
        with np.errstate(invalid="ignore", divide="ignore"):
            if not self.has_nan:
                m = s / n
                cov = gram / (n[:, :, None] if np.ndim(n) else n) - m[:, :, None] * m[:, None, :]
                var = np.diagonal(cov, axis1=1, axis2=2)
            else:
                a, b, cc = gram[:, :p, :p], gram[:, :p, p:], gram[:, p:, p:]
                n_obs = np.diagonal(cc, axis1=1, axis2=2)
                m = s[:, :p] / n_obs
                cov = (
                    a
                    - m[:, :, None] * b.transpose(0, 2, 1)
                    - m[:, None, :] * b
                    + m[:, :, None] * m[:, None, :] * cc
                )
                var = np.diagonal(cov, axis1=1, axis2=2) / n_obs
            # a column constant in the resample has variance 0 up to rounding: the resample fails
            flat = ~(var > 1e-10 * self.scale)
            d = np.sqrt(np.where(flat, np.nan, np.diagonal(cov, axis1=1, axis2=2)))
            return cov / (d[:, :, None] * d[:, None, :])


@dataclass
class PLSBootstrapSummary:
    """Tidy tables of a bootstrapped model (:meth:`PLSBootstrap.summary`).

    paths : ``source, target`` + the bootstrap columns (below).
    loadings, weights : ``construct, item`` + the bootstrap columns.
    total_effects : ``source, target`` + the bootstrap columns.
    htmt : ``construct_a, construct_b`` (every pair once) + the bootstrap columns.
    The bootstrap columns: ``estimate`` (full sample), ``boot_mean``, ``se`` (sd of the
    replicates), ``ci_low``, ``ci_high`` (2.5 / 97.5 percentiles), ``t`` (= estimate / se,
    NaN when se is 0) and ``p`` (two-sided, Student's t with n - 1 df).
    n, n_boot, seed, n_failed, n_not_converged, method : settings and outcome.
    """

    paths: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    total_effects: pd.DataFrame
    htmt: pd.DataFrame
    n: int
    n_boot: int
    seed: int | None
    n_failed: int
    n_not_converged: int
    method: str


@dataclass
class PLSBootstrap:
    """Result of :func:`bootstrap_model`.

    paths, loadings, weights, total_effects, htmt : tidy summary tables (see
        :class:`PLSBootstrapSummary` for the columns). The HTMT summary of a pair uses the
        resamples where that pair's HTMT is defined.
    replicates_paths, replicates_loadings, replicates_weights, replicates_total_effects,
    replicates_htmt : DataFrames n_boot x parameters (columns ``"source -> target"``, the
        item, or ``"construct_a ~ construct_b"``; NaN for a failed resample).
    n : rows resampled (the rows the model used). n_boot, seed, method : the settings.
    n_failed : resamples that could not be estimated (an item without variance).
    n_not_converged : resamples that hit ``max_iter`` (kept).
    """

    paths: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    total_effects: pd.DataFrame
    htmt: pd.DataFrame
    replicates_paths: pd.DataFrame
    replicates_loadings: pd.DataFrame
    replicates_weights: pd.DataFrame
    replicates_total_effects: pd.DataFrame
    replicates_htmt: pd.DataFrame
    n: int
    n_boot: int
    seed: int | None
    n_failed: int
    n_not_converged: int
    method: str = "resample"

    @property
    def indices(self) -> np.ndarray:
        """The (n_boot, n) row positions of the resamples (into the rows used), drawn again from
        the seed. This materialises n_boot x n integers: for checks on small data."""
        if self.seed is None:
            raise ValueError("The resamples were drawn without a seed and cannot be drawn again.")
        return np.random.default_rng(self.seed).integers(0, self.n, size=(self.n_boot, self.n))

    def summary(self) -> PLSBootstrapSummary:
        """The bootstrap tables (copies) and settings."""
        return _summary_of(self, PLSBootstrapSummary)

    def to_frame(self) -> pd.DataFrame:
        """Every bootstrapped parameter in one long table.

        Columns ``parameter`` (``path``, ``loading``, ``weight``, ``total_effect``, ``htmt``),
        ``source``, ``target`` (for loadings and weights: construct, item; for HTMT: the two
        constructs), then ``estimate, boot_mean, se, ci_low, ci_high, t, p``.
        """
        parts = []
        for parameter, table, keys in (
            ("path", self.paths, ["source", "target"]),
            ("loading", self.loadings, ["construct", "item"]),
            ("weight", self.weights, ["construct", "item"]),
            ("total_effect", self.total_effects, ["source", "target"]),
            ("htmt", self.htmt, ["construct_a", "construct_b"]),
        ):
            part = table.rename(columns=dict(zip(keys, ["source", "target"], strict=True)))
            part.insert(0, "parameter", parameter)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)


def _summarise(keys: pd.DataFrame, estimate: np.ndarray, reps: np.ndarray, n: int) -> pd.DataFrame:
    """Bootstrap summary table: keys columns + estimate, boot_mean, se, ci_low, ci_high, t, p."""
    ok = np.isfinite(reps).all(axis=1)
    good = reps[ok]
    if good.shape[0] < 2:
        nan = np.full(reps.shape[1], np.nan)
        se = lo = hi = mean = nan
    else:
        mean = good.mean(axis=0)
        se = good.std(axis=0, ddof=1)
        lo, hi = np.percentile(good, [2.5, 97.5], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a parameter fixed by construction (loading of a single item) has se 0: no test
        t = np.where(se > 1e-12, estimate / se, np.nan)
    p = 2 * stats.t.sf(np.abs(t), df=n - 1)
    out = keys.reset_index(drop=True).copy()
    out["estimate"] = estimate
    out["boot_mean"] = mean
    out["se"] = se
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["t"] = t
    out["p"] = p
    return out


def bootstrap_model(
    model: PLSModel,
    n_boot: int = 5000,
    seed: int | None = 20240601,
    *,
    progress: bool = False,
    method: str = "resample",
    chunk_size: int | None = None,
) -> PLSBootstrap:
    """Bootstrap an estimated PLS path model: paths, loadings, weights, total effects and HTMT.

    Parameters
    ----------
    model : a :class:`PLSModel` from :func:`estimate_pls` (it keeps its data and settings).
    n_boot, seed : resamples, drawn with ``numpy.random.default_rng(seed)`` (same seed ->
        identical numbers; the result does not depend on ``chunk_size``; ``None`` draws
        from fresh entropy).
    progress : show a tqdm bar over the resamples.
    method : ``"resample"`` (default) builds each chunk of resampled data sets and
        correlates them; ``"counts"`` turns the same resamples into multinomial count
        weights and weighted cross-products, never copying resampled rows (less memory
        and time at large n; equal to ``"resample"`` up to rounding, about 1e-13, so not
        byte-identical); above :data:`BOOT_GROUPS` rows it resamples random groups of rows
        (below); ``"auto"``: ``"resample"`` up to :data:`COUNTS_ABOVE` rows, ``"counts"`` above
        (every n since the count path was measured faster at every size). With case weights a
        drawn row weighs count x weight in both paths.
    chunk_size : resamples estimated together; by default as many as fit in about 256 MiB
        of working memory (at most 500), so memory does not grow with ``n_boot``.

    Returns
    -------
    PLSBootstrap (see its docstring): tidy tables, replicates, ``summary()``, ``to_frame()``.

    Method
    ------
    Nonparametric case-resampling bootstrap (Efron & Tibshirani 1993) as in
    seminr / SmartPLS: each resample draws ``n`` rows with replacement from the
    rows the model used (with ``missing="listwise"``, the complete cases; with
    ``missing="mean"``, all rows, mean-replaced within the resample) and
    re-estimates the whole model, items re-standardised. A weighted model's resamples
    carry the drawn rows' weights (weighted correlations of each resample; a weighted
    model always resamples rows, whatever ``method``). The row positions are
    those of one ``integers(0, n, size=(n_boot, n))`` draw, produced chunk by
    chunk without the whole array (see ``_IndexStream``). Each resample's
    iteration is warm-started from the full-sample weights (the fixed point is the
    same; it only saves iterations). ``se`` is the sd of the replicates, the
    interval the 2.5 / 97.5 percentiles, ``t = estimate / se`` and ``p``
    two-sided from Student's t with ``n - 1`` df.

    Large n (``"counts"`` with more than :data:`BOOT_GROUPS` rows): the rows are dealt into
    :data:`BOOT_GROUPS` random groups (a seeded permutation, sizes differing by at most one) and
    the bootstrap resamples groups: each resample draws :data:`BOOT_GROUPS` groups with
    replacement and its correlations come from the drawn groups' sums of the centred items and
    of their cross-products (sufficient statistics). For independent rows the groups are
    independent and identically distributed, so this is the cluster bootstrap of Davison &
    Hinkley (1997, section 3.8) over iid clusters: the moments' bootstrap covariance is that of
    the row bootstrap times ``(G - 1) / G`` vs ``(n - 1) / n``, and the correlations are smooth
    functions of the moments. Cost B x groups x p^2 and memory independent of n and B;
    ``tests/test_pls.py`` checks its standard errors against the row bootstrap.

    Reference: Ray, Danks & Calero Valdez, seminr ``bootstrap_model``; Efron, B. &
    Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall; Davison, A. C. &
    Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge University Press.
    """
    if n_boot < 2:
        raise ValueError("n_boot must be at least 2.")
    if method not in _BOOT_METHODS:
        raise ValueError(f"method must be one of {_BOOT_METHODS}, got {method!r}.")
    if model.spec is None or model.resample_data is None or model.outer_weights is None:
        raise ValueError("bootstrap_model needs a model made by estimate_pls (it keeps the data).")
    spec = model.spec
    x = model.resample_data
    n, p = x.shape
    k = len(spec.constructs)
    if method == "auto":
        method = "counts" if n > COUNTS_ABOVE else "resample"
    if chunk_size is None:
        per_resample = n * 8 * (2 * p + 2) if method == "resample" else min(n, BOOT_GROUPS) * 8 * 3
        chunk_size = max(1, min(_MAX_CHUNK, _CHUNK_BYTES // per_resample))
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")

    rep_beta = np.full((n_boot, k, k), np.nan)
    rep_load = np.full((n_boot, p), np.nan)
    rep_w = np.full((n_boot, p), np.nan)
    pair_a, pair_b = _htmt_pairs(spec)
    rep_htmt = np.full((n_boot, pair_a.size), np.nan)
    not_conv = 0
    has_nan = bool(np.isnan(x).any())
    moments = None
    if method == "counts":
        moments = _CountMoments(
            x, groups=BOOT_GROUPS, seed=0 if seed is None else seed, weights=model.case_weights
        )
    stream = _IndexStream(seed, n if moments is None else moments.units)
    item_pos = np.arange(p)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_boot, desc="PLS bootstrap", unit="resample")
    for start in range(0, n_boot, chunk_size):
        stop = min(start + chunk_size, n_boot)
        idx = stream.take(stop - start)
        if moments is not None:
            r = moments.corr(idx)
        elif model.case_weights is not None:
            r = _resampled_wcorr(x, model.case_weights, idx, has_nan)
        else:
            r = _resampled_corr(x, idx, has_nan)
        del idx
        ok = np.isfinite(r).all(axis=(1, 2))
        if ok.any():
            rok = r[ok]
            w, _, conv = _iterate(rok, model.outer_weights, spec, model.scheme, model.max_iter, model.tol)
            not_conv += int((~conv).sum())
            beta, _, load = _structural(rok, w, spec)
            pos = np.arange(start, stop)[ok]
            rep_beta[pos] = beta
            rep_load[pos] = load
            rep_w[pos] = w[:, item_pos, spec.item_block]
            rep_htmt[pos] = _htmt_stack(rok, spec)
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()
    n_failed = int((~np.isfinite(rep_load).all(axis=1)).sum())
    if n_failed:
        warnings.warn(
            f"{n_failed} of {n_boot} bootstrap resamples could not be estimated (an item without variance "
            "in the resample) and were left out.",
            RuntimeWarning,
            stacklevel=2,
        )

    src = np.array([i for i, _ in spec.path_pairs])
    tgt = np.array([j for _, j in spec.path_pairs])
    names = list(spec.constructs)
    path_keys = model.paths[["source", "target"]]
    path_reps = rep_beta[:, src, tgt]
    paths_tab = _summarise(path_keys, model.paths["estimate"].to_numpy(), path_reps, n)
    item_keys = model.loadings[["construct", "item"]]
    load_tab = _summarise(item_keys, model.loadings["loading"].to_numpy(), rep_load, n)
    weight_tab = _summarise(
        model.weights[["construct", "item"]], model.weights["weight"].to_numpy(), rep_w, n
    )

    te = model.total_effects
    ti = np.array([names.index(s) for s in te["source"]], dtype=np.intp)
    tj = np.array([names.index(t) for t in te["target"]], dtype=np.intp)
    finite = np.isfinite(rep_beta).all(axis=(1, 2))
    rep_total = np.full((n_boot, len(te)), np.nan)
    if finite.any():
        rep_total[finite] = _total_effects(rep_beta[finite])[:, ti, tj]
    te_tab = _summarise(te[["source", "target"]], te["total"].to_numpy(), rep_total, n)
    htmt_keys = pd.DataFrame(
        {"construct_a": [names[a] for a in pair_a], "construct_b": [names[b] for b in pair_b]}
    )
    htmt_est = model.htmt.to_numpy()[pair_a, pair_b]
    htmt_tab = pd.concat(  # pair by pair: a pair's HTMT can be undefined (a negative monotrait mean)
        [_summarise(htmt_keys.iloc[[m]], htmt_est[[m]], rep_htmt[:, [m]], n) for m in range(pair_a.size)],
        ignore_index=True,
    )

    path_cols = [f"{s} -> {t}" for s, t in zip(path_keys["source"], path_keys["target"], strict=True)]
    te_cols = [f"{s} -> {t}" for s, t in zip(te["source"], te["target"], strict=True)]
    return PLSBootstrap(
        paths=paths_tab,
        loadings=load_tab,
        weights=weight_tab,
        total_effects=te_tab,
        htmt=htmt_tab,
        replicates_paths=pd.DataFrame(path_reps, columns=path_cols),
        replicates_loadings=pd.DataFrame(rep_load, columns=list(spec.items)),
        replicates_weights=pd.DataFrame(rep_w, columns=list(spec.items)),
        replicates_total_effects=pd.DataFrame(rep_total, columns=te_cols),
        replicates_htmt=pd.DataFrame(
            rep_htmt,
            columns=[
                f"{a} ~ {b}" for a, b in zip(htmt_keys["construct_a"], htmt_keys["construct_b"], strict=True)
            ],
        ),
        n=int(n),
        n_boot=int(n_boot),
        seed=seed,
        n_failed=n_failed,
        n_not_converged=not_conv,
        method=method,
    )


# --------------------------------------------------------------------------- ACSI indices and impacts


def construct_index_scores(
    data: pd.DataFrame, result: PLSModel, scale_ranges: Mapping[str, tuple[float, float]]
) -> pd.DataFrame:
    """0-100 construct indices per respondent, weighted by the ACSI-style PLS weights.

    Parameters
    ----------
    data : DataFrame with the items (raw metric), one row per respondent.
    result : a :class:`PLSModel`; its ``unstd_weights`` (sum to 1 per construct) are used.
    scale_ranges : mapping item -> (min, max) of its answer scale, e.g. (1, 10).

    Returns
    -------
    DataFrame indexed like ``data``, one column per construct, values in [0, 100]:
    ``index = (sum_i w_i x_i - sum_i w_i min_i) / sum_i w_i (max_i - min_i) * 100``
    (Fornell et al. 1996). A respondent with some items missing is scored on the
    answered items (the weights renormalised over them); NaN if none answered.
    """
    uw = result.unstd_weights
    missing_ranges = [i for i in uw["item"] if i not in scale_ranges]
    if missing_ranges:
        raise ValueError(f"scale_ranges has no (min, max) for items: {missing_ranges}.")
    out = {}
    for construct, grp in uw.groupby("construct", sort=False):
        items = list(grp["item"])
        absent = [i for i in items if i not in data.columns]
        if absent:
            raise ValueError(f"Items of {construct!r} not in the data: {absent}.")
        x = data[items].to_numpy(dtype=float, na_value=np.nan)
        w = grp["weight"].to_numpy()
        lo = np.array([float(scale_ranges[i][0]) for i in items])
        hi = np.array([float(scale_ranges[i][1]) for i in items])
        if np.any(hi <= lo):
            raise ValueError(f"scale_ranges of {construct!r} need max > min.")
        answered = ~np.isnan(x)
        num = np.where(answered, w * (x - lo), 0.0).sum(axis=1)
        den = np.where(answered, w * (hi - lo), 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[construct] = np.where(answered.any(axis=1), num / den * 100.0, np.nan)
    return pd.DataFrame(out, index=data.index)[list(result.blocks)]


def acsi_impact(
    result: PLSModel,
    index_scores: pd.DataFrame,
    target: str | None = None,
    points: float = 5.0,
) -> pd.DataFrame:
    """ACSI impact of each driver on a target index (Fornell et al. 1996).

    The impact of driver d on target t is the expected change of t's 0-100 index
    when d's 0-100 index rises by ``points`` (5 in the ACSI), all through the
    standardised total effect of the PLS model:

    ``impact = total_effect_std(d -> t) * sd(index_t) / sd(index_d) * points``

    where the indices come from :func:`construct_index_scores` (sample sds,
    NaN ignored).

    Parameters
    ----------
    result : :class:`PLSModel`.
    index_scores : DataFrame respondent x construct of 0-100 indices.
    target : construct whose index is explained; ``None`` gives every target.
    points : rise of the driver index (default 5).

    Returns
    -------
    DataFrame ``source, target, total_effect, sd_source, sd_target, impact``.
    """
    te = result.total_effects
    if target is not None:
        if target not in result.blocks:
            raise ValueError(f"Unknown target construct {target!r}.")
        te = te[te["target"] == target]
    absent = sorted(set(te["source"]).union(te["target"]) - set(index_scores.columns))
    if absent:
        raise ValueError(f"index_scores has no column for constructs: {absent}.")
    sd = index_scores.std(ddof=1)
    out = pd.DataFrame(
        {
            "source": te["source"].to_numpy(),
            "target": te["target"].to_numpy(),
            "total_effect": te["total"].to_numpy(),
            "sd_source": sd.reindex(te["source"]).to_numpy(),
            "sd_target": sd.reindex(te["target"]).to_numpy(),
        }
    )
    out["impact"] = out["total_effect"] * out["sd_target"] / out["sd_source"] * points
    return out


#: Discriminant-validity and indicator-reliability thresholds: HTMT 0.85 (conceptually distinct
#: constructs) and 0.90 (conceptually similar ones; Henseler, Ringle & Sarstedt 2015), outer
#: loading 0.708 (its square, the item's shared variance, is 0.5; Hair et al. 2019, Eur. Bus. Rev.
#: 31(1):2-24).
HTMT_STRICT, HTMT_LIBERAL, LOADING_MIN = 0.85, 0.90, 0.708

_CHECK_COLUMNS = ["check", "construct", "other", "value", "ci_low", "ci_high", "threshold"]


def measurement_checks(
    model: PLSModel,
    htmt_intervals: pd.DataFrame | None = None,
    *,
    htmt_max: float = HTMT_LIBERAL,
    loading_min: float = LOADING_MIN,
) -> pd.DataFrame:
    """The measurement model's warnings: discriminant validity, weak indicators, improper solutions.

    Inputs: an estimated :class:`PLSModel`; optionally the bootstrap HTMT table
    (:attr:`PLSBootstrap.htmt`, for the intervals). Output: one row per finding, columns
    ``check, construct, other, value, ci_low, ci_high, threshold``:

    * ``htmt_high``: a construct pair (``construct``, ``other``) whose HTMT exceeds ``htmt_max``
      (0.90), with its bootstrap percentile interval when given;
    * ``loading_low``: an item (``other``) of a multi-item construct whose outer loading is
      below ``loading_min`` (0.708);
    * ``loading_above_one``: an outer loading above 1 (improper solution);
    * ``ave_invalid``: an AVE that is negative or not finite (improper solution).

    A single-item construct's loading is 1 by construction and is not checked. No rows: nothing
    to warn about.
    """
    rows = []
    intervals = {}
    if htmt_intervals is not None:
        for r in htmt_intervals.itertuples(index=False):
            intervals[(r.construct_a, r.construct_b)] = (r.ci_low, r.ci_high)
    names = list(model.htmt.index)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            v = float(model.htmt.loc[a, b])
            if np.isfinite(v) and v > htmt_max:
                lo, hi = intervals.get((a, b), intervals.get((b, a), (np.nan, np.nan)))
                rows.append(["htmt_high", a, b, v, lo, hi, htmt_max])
    sizes = model.loadings.groupby("construct")["item"].transform("size")
    for r, k in zip(model.loadings.itertuples(index=False), sizes, strict=True):
        if k < 2:
            continue
        if r.loading > 1 + 1e-9:
            rows.append(["loading_above_one", r.construct, r.item, float(r.loading), np.nan, np.nan, 1.0])
        elif r.loading < loading_min:
            rows.append(["loading_low", r.construct, r.item, float(r.loading), np.nan, np.nan, loading_min])
    for r in model.reliability.itertuples(index=False):
        if not np.isfinite(r.ave) or r.ave < 0:
            rows.append(["ave_invalid", r.construct, "", float(r.ave), np.nan, np.nan, 0.0])
    return pd.DataFrame(rows, columns=_CHECK_COLUMNS)
