"""Survey definition and wave files (CONTRACT sections 1-2), loaded into typed objects.

A survey is described once in ``params/survey.yaml``; each wave in
``params/waves/<wave>.yaml``. :func:`load_survey` and :func:`load_wave` read
and validate them, raising :class:`~analysis.errors.SurveyDefinitionError`
with a message a survey analyst understands (which key, which item, what was
expected). See ``docs/survey-definition.md`` for every key and its default.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import math
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import SurveyDefinitionError
from .words import word

LANGUAGES = ("en", "zh")

#: The keys of a survey definition (CONTRACT section 1 and the project's documented additions).
SURVEY_KEYS = (
    "title", "language", "respondent_id", "customer_id", "pii", "segments", "duration", "scales", "items",
    "overall_satisfaction", "loyalty", "recommend", "open_ended", "paths", "targets", "cleaning", "index",
    "zones", "pls", "constructs", "satisfied_levels", "repurchase", "weighting", "comments", "units",
)
#: CONTRACT keys this version reads but does not apply yet; a survey naming them is warned, not refused.
NOT_YET_APPLIED: tuple[str, ...] = ()
WEIGHTING_KEYS = ("method", "margins", "bounds")
WEIGHTING_METHODS = ("rake", "poststratify")
#: How far a segment's shares may be from summing to 1 before the margins are refused.
SHARE_SUM_TOL = 1e-6
COMMENTS_KEYS = ("codebook",)
CODE_KEYS = ("zh", "en", "about")
SCALE_KEYS = ("min", "max", "labels", "missing")
ITEM_KEYS = ("id", "scale", "construct", "text", "reverse", "asked_if")
ASKED_IF_KEYS = ("item", "in")
INDEX_KEYS = ("weights", "constructs", "ahp")
AHP_KEYS = ("labels", "matrix")
ZONE_KEYS = ("affection_min", "defection_max", "terrorist_max", "loyalty_high_min", "loyalty_low_max")
WAVE_KEYS = ("wave", "raw", "invited", "baseline", "operations", "margins", "customers", "fieldwork")
SEGMENT_KEYS = ("column", "labels", "order", "bins", "max_groups")
#: A segment with more groups than this (after its codebook's bins and labels) is refused by ``csat check``
#: and ``csat run``: group tests, charts and tables of 60 age values say nothing. Raise it per segment
#: with ``max_groups``.
MAX_GROUPS = 30


# --------------------------------------------------------------------------- scales and items
@dataclass(frozen=True)
class Scale:
    """An integer rating scale with optional labels and missing-value codes.

    ``labels`` maps a code to its label per language (``{"en": "Satisfied", "zh": ...}``);
    a label given as a plain string is stored under the key ``""`` (any language).
    ``missing`` holds the raw values that mean "no answer" (numbers or text).
    """

    name: str
    min: int
    max: int
    labels: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    missing: tuple[Any, ...] = ()

    @property
    def levels(self) -> list[int]:
        """All codes from min to max."""
        return list(range(self.min, self.max + 1))

    @property
    def n_levels(self) -> int:
        return self.max - self.min + 1

    def label(self, code: int, language: str = "en") -> str:
        """The label of ``code`` in ``language`` (falling back to any label, then the code)."""
        texts = self.labels.get(int(code), {})
        for key in (language, "", "en", "zh"):
            if texts.get(key):
                return texts[key]
        return str(code)

    def label_map(self, language: str = "en") -> dict[int, str]:
        """Code -> label in ``language`` for every level."""
        return {code: self.label(code, language) for code in self.levels}


@dataclass(frozen=True)
class AskedIf:
    """The filter of a question asked only of some respondents (``asked_if: {item: q_complained, in: [1]}``):
    asked when the raw answer to ``item`` is one of ``codes``."""

    item: str
    codes: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """One rated question; ``asked_if`` its filter (None: asked of everyone)."""

    id: str
    scale: str
    construct: str | None = None
    text: Mapping[str, str] = field(default_factory=dict)
    reverse: bool = False
    asked_if: AskedIf | None = None

    def label(self, language: str = "en") -> str:
        """Question text in ``language``, falling back to the other language, then the id."""
        for key in (language, "", "en", "zh"):
            if self.text.get(key):
                return self.text[key]
        return self.id


# --------------------------------------------------------------------------- options with defaults
@dataclass(frozen=True)
class CleaningRules:
    """Thresholds of the cleaning rules (``cleaning:`` in the survey definition).

    min_answered        a row must answer at least this share of the rated items (0.5)
    speeder_fraction    a row faster than this fraction of the wave's median duration is a speeder (1/3)
    straightline_min_items  a block must have at least this many answered items to judge straight-lining (5)
    straightline_extremes   also judge a uniform answer at the top or bottom of the scale when no reverse-keyed
                        item contradicts it (False: such a row may be a delighted or an angry customer)
    max_unreadable      stop when more than this share of a column is unreadable (0.20)
    outlier_alpha       Mahalanobis D^2 outlier flag at this chi-square tail probability (0.001)
    """

    min_answered: float = 0.5
    speeder_fraction: float = 1 / 3
    straightline_min_items: int = 5
    straightline_extremes: bool = False
    max_unreadable: float = 0.20
    outlier_alpha: float = 0.001


@dataclass(frozen=True)
class IndexConfig:
    """How the 0-100 satisfaction index is weighted (``index:``)."""

    weights: str = "equal"
    constructs: tuple[str, ...] = ()
    ahp_labels: tuple[str, ...] = ()
    ahp_matrix: tuple[tuple[float, ...], ...] = ()


INDEX_METHODS = ("equal", "ahp", "entropy", "pls")


@dataclass(frozen=True)
class WeightingConfig:
    """How respondents are weighted to the customer base (``weighting:``, a wave's ``margins:``).

    method   rake (iterative proportional fitting, default) or poststratify (one segment)
    margins  segment -> group -> population share (each segment's shares sum to 1)
    bounds   (low, high): weights kept within these multiples of the mean weight, or None
    """

    method: str = "rake"
    margins: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    bounds: tuple[float, float] | None = None


@dataclass(frozen=True)
class PLSConfig:
    """How the CSI structural model is estimated (``pls:``).

    scheme     inner weighting: path (default, as seminr/SmartPLS), factorial or centroid
    missing    listwise (complete cases within the model, default) or mean (mean replacement)
    bootstrap  bootstrap resamples for standard errors and intervals (5000)
    seed       seed of the bootstrap (20240601)
    """

    scheme: str = "path"
    missing: str = "listwise"
    bootstrap: int = 5000
    seed: int = 20240601


# --------------------------------------------------------------------------- the survey
@dataclass(frozen=True)
class Segment:
    """One segment column and its codebook (an entry of ``segments:``).

    column      the column of the export
    labels      code (as text) -> label per language (``{"": text}`` or ``{"en": ..., "zh": ...}``);
                with ``bins``: one label per interval, keyed "0", "1", ... in interval order
    order       group order (labels as written, or codes that have labels), first in this order
    bins        interval edges e0 < e1 < ... : groups [e0, e1), [e1, e2), ...; the last interval is
                closed [e_{m-1}, e_m]; values outside the edges or not numbers are missing
    max_groups  the most groups this segment may have (:data:`MAX_GROUPS`)
    """

    column: str
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    bins: tuple[float, ...] = ()
    max_groups: int = MAX_GROUPS

    def label(self, code: str, language: str = "en") -> str:
        """The label of a code (or interval number with ``bins``) in ``language``; the code without one."""
        texts = self.labels.get(code)
        if not texts:
            return code
        return texts.get(language) or texts.get("") or texts.get("en") or next(iter(texts.values()))

    def declared_groups(self, language: str = "en") -> list[str]:
        """The groups the codebook names, in its order: the bins' labels, else ``order`` then ``labels``."""
        if self.bins:
            return self.bin_labels(language)
        wanted = [self.label(_code_text(o), language) if _code_text(o) in self.labels else o for o in self.order]
        return list(dict.fromkeys([*wanted, *(self.label(c, language) for c in self.labels)]))

    def sort_groups(self, groups: Any, language: str = "en") -> list:
        """``groups`` in this segment's order: the codebook's groups first, then the others in natural order."""
        from .order import natural_sorted

        present = list(dict.fromkeys(groups))
        declared = [g for g in self.declared_groups(language) if g in present]
        return declared + natural_sorted(g for g in present if g not in declared)

    def bin_labels(self, language: str = "en") -> list[str]:
        """One label per interval: from ``labels`` or ``[a, b)`` (``[a, b]`` for the last, ``≥ a`` up to inf)."""
        out = []
        for i, (a, b) in enumerate(zip(self.bins[:-1], self.bins[1:], strict=True)):
            if str(i) in self.labels:
                out.append(self.label(str(i), language))
            elif b == float("inf"):
                out.append(f"≥ {a:g}")
            else:
                out.append(f"[{a:g}, {b:g}{']' if i == len(self.bins) - 2 else ')'}")
        return out


def _code_text(value: Any) -> str:
    """A segment code as text: ``1``, ``1.0`` and ``" 1 "`` are all ``"1"``."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def segment_groups(values: pd.Series, segment: Segment, language: str = "en") -> pd.Series:
    """A segment column as its groups: an ordered Categorical in the codebook's order.

    Input: the raw column (text or numbers, missing as NaN), its :class:`Segment`, the
    report language. Output: a Categorical Series (same index) whose categories are the
    groups in their order: with ``bins``, the interval labels in interval order (values
    outside the edges or not numbers become missing); else each code's label, in ``order``
    first, then the order of ``labels``, then other values in natural order
    (:func:`analysis.order.natural_sorted`). A plain segment (no codebook) keeps its
    values, in natural order.
    """
    from .order import natural_sorted

    if segment.bins:
        numbers = pd.to_numeric(values, errors="coerce")
        names = segment.bin_labels(language)
        cut = pd.cut(numbers, list(segment.bins), right=False, labels=False, include_lowest=True)
        last = numbers == segment.bins[-1]  # the last interval is closed
        codes = cut.where(~last, len(names) - 1)
        groups = codes.map(lambda c: names[int(c)] if pd.notna(c) else None)
        return pd.Series(pd.Categorical(groups, categories=names, ordered=True), index=values.index)
    text = values.map(lambda v: None if pd.isna(v) else _code_text(v))
    named = text.map(lambda c: None if c is None else segment.label(c, language))
    first = segment.declared_groups(language)
    rest = natural_sorted(set(named.dropna()) - set(first))
    return pd.Series(pd.Categorical(named, categories=[*first, *rest], ordered=True), index=values.index)


def _parse_segment(spec: Any, position: int, file: str) -> Segment:
    """One entry of ``segments:``: a column name, or a mapping with the codebook keys (:data:`SEGMENT_KEYS`)."""
    where = f"segments[{position}]"
    if isinstance(spec, str):
        return Segment(column=spec.strip())
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError(
            f"{where} must be a column name or a mapping.", file=file, expected="region, or {column: age, bins: [...]}"
        )
    check_keys(spec, SEGMENT_KEYS, f"{where}.", file)
    if not spec.get("column"):
        raise SurveyDefinitionError(f"{where} has no 'column'.", file=file, expected="{column: <export column>, ...}")
    column = str(spec["column"]).strip()
    bins: tuple[float, ...] = ()
    if spec.get("bins") is not None:
        raw_bins = _as_list(spec["bins"], f"{where}.bins", file)
        try:
            bins = tuple(float(b) for b in raw_bins)
        except (TypeError, ValueError):
            raise SurveyDefinitionError(f"{where}.bins is {raw_bins!r}.", file=file, expected="a list of numbers") from None
        if len(bins) < 2 or any(b >= c for b, c in zip(bins[:-1], bins[1:], strict=True)):
            raise SurveyDefinitionError(
                f"{where}.bins is {raw_bins!r}.", file=file, expected="at least 2 increasing edges, e.g. [18, 30, 45, 60, .inf]"
            )
    raw_labels = spec.get("labels")
    labels: dict[str, dict[str, str]] = {}
    if bins:
        names = _as_list(raw_labels, f"{where}.labels", file) if raw_labels is not None else []
        if names and len(names) != len(bins) - 1:
            raise SurveyDefinitionError(
                f"{where}.labels has {len(names)} labels for {len(bins) - 1} bins.",
                file=file,
                expected="one label per interval between the bins' edges",
            )
        labels = {str(i): _texts(n, f"{where}.labels", file) for i, n in enumerate(names)}
    elif raw_labels is not None:
        if not isinstance(raw_labels, Mapping):
            raise SurveyDefinitionError(f"{where}.labels must map codes to labels.", file=file, expected="{1: Gold, 2: Silver}")
        labels = {_code_text(k): _texts(v, f"{where}.labels.{k}", file) for k, v in raw_labels.items()}
    order = tuple(str(o) for o in _as_list(spec.get("order"), f"{where}.order", file))
    if bins and order:
        raise SurveyDefinitionError(f"{where} has both 'bins' and 'order'.", file=file, expected="bins are in their own order")
    max_groups = MAX_GROUPS if spec.get("max_groups") is None else _int(spec["max_groups"], f"{where}.max_groups", file)
    if max_groups < 2:
        raise SurveyDefinitionError(f"{where}.max_groups is {max_groups}.", file=file, expected="at least 2")
    return Segment(column=column, labels=labels, order=order, bins=bins, max_groups=max_groups)


@dataclass(frozen=True)
class Survey:
    """A validated survey definition. Build it with :func:`load_survey`."""

    path: Path
    title: Mapping[str, str]
    language: str
    scales: Mapping[str, Scale]
    items: tuple[Item, ...]
    overall_satisfaction: str
    loyalty: tuple[str, ...]
    respondent_id: str | None = None
    customer_id: str | None = None
    pii: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    segment_codebook: Mapping[str, Segment] = field(default_factory=dict)
    duration: str | None = None
    recommend: str | None = None
    open_ended: tuple[str, ...] = ()
    paths: tuple[tuple[str, str], ...] = ()
    targets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    cleaning: CleaningRules = field(default_factory=CleaningRules)
    index: IndexConfig = field(default_factory=IndexConfig)
    pls: PLSConfig = field(default_factory=PLSConfig)
    construct_texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    zones: Mapping[str, Any] = field(default_factory=dict)
    satisfied_levels: tuple[int, ...] = ()
    repurchase: str | None = None
    weighting: WeightingConfig | None = None
    units: str | None = None
    #: ``comments.codebook``: code -> {"zh": (...), "en": (...), "about": item or construct or None}
    codebook: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sha256: str = ""

    # ---- lookups
    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def segment(self, column: str) -> Segment:
        """The codebook entry of a segment column (a plain :class:`Segment` when it has none)."""
        return self.segment_codebook.get(column) or Segment(column=column)

    def is_reverse(self, item_id: str) -> bool:
        """Whether ``item_id`` is a reverse-keyed item (scored max + min - answer)."""
        return item_id in self.item_ids and self.item(item_id).reverse

    def answer_labels(self, item_id: str, language: str = "en") -> dict[int, str]:
        """Scored level -> the label of the answer the respondent chose.

        Cleaning reverse-codes a reverse item (a raw 1 is scored 5 on a 1-5
        scale), so the scored level 5 is labelled with the raw answer 1's label
        ("strongly disagree" that damage happens often). Other items: the scale's labels.
        """
        scale = self.scale_of(item_id)
        labels = scale.label_map(language)
        if not self.is_reverse(item_id):
            return labels
        return {level: labels[scale.min + scale.max - level] for level in scale.levels}

    def scale_of(self, item_id: str) -> Scale:
        """The scale of a rated item, or the 0-10 recommend scale for the recommend item."""
        if item_id in self.item_ids:
            return self.scales[self.item(item_id).scale]
        if item_id == self.recommend:
            # a separate 0-10 column: the missing codes of the survey's scales apply to it too
            codes = tuple(dict.fromkeys(m for sc in self.scales.values() for m in sc.missing))
            return Scale(name=RECOMMEND_SCALE.name, min=0, max=10, labels={}, missing=codes)
        raise KeyError(item_id)

    @property
    def rated_items(self) -> list[str]:
        """All rated item ids plus the recommend item when it is a separate column."""
        ids = self.item_ids
        if self.recommend and self.recommend not in ids:
            ids = [*ids, self.recommend]
        return ids

    @property
    def ranges(self) -> dict[str, tuple[int, int]]:
        """Item id -> (scale min, scale max) for every rated item."""
        return {i: (self.scale_of(i).min, self.scale_of(i).max) for i in self.rated_items}

    @property
    def blocks(self) -> dict[str, list[str]]:
        """Construct -> its item ids, in questionnaire order."""
        out: dict[str, list[str]] = {}
        for item in self.items:
            if item.construct:
                out.setdefault(item.construct, []).append(item.id)
        return out

    @property
    def constructs(self) -> list[str]:
        return list(self.blocks)

    @property
    def conditional_items(self) -> list[str]:
        """Items with an ``asked_if`` filter (asked only of some respondents), in questionnaire order."""
        return [i.id for i in self.items if i.asked_if is not None]

    @property
    def filter_items(self) -> list[str]:
        """Items that route respondents (named by some ``asked_if``): routing questions, not ratings."""
        named = {i.asked_if.item for i in self.items if i.asked_if is not None}
        return [i for i in self.item_ids if i in named]

    @property
    def conditional_constructs(self) -> list[str]:
        """Constructs whose every item has an ``asked_if`` filter (blocks asked only of some respondents)."""
        cond = set(self.conditional_items)
        return [c for c, items in self.blocks.items() if set(items) <= cond]

    def asked(self, codes: Any) -> Any:
        """Which respondent was asked which rated item: a boolean frame like ``codes[rated_items]``.

        ``codes`` holds the answer codes, raw or clean (a filter item is never reverse-keyed, so both
        are the same for it). An item without ``asked_if`` is asked of
        everyone; one with it of the respondents whose answer to the filter item is one of its codes.
        A respondent who did not answer the filter item was not asked (the questionnaire routed them
        past it).
        """
        import pandas as pd

        out = pd.DataFrame(True, index=codes.index, columns=self.rated_items)
        for item in self.items:
            if item.asked_if is None:
                continue
            cond = pd.to_numeric(codes[item.asked_if.item], errors="coerce")
            out[item.id] = cond.isin(item.asked_if.codes).to_numpy()
        return out

    @property
    def model_constructs(self) -> list[str]:
        """Constructs named in ``paths`` (the CSI structural model), in definition order."""
        named = {c for path in self.paths for c in path}
        return [c for c in self.constructs if c in named]

    @property
    def outcome_constructs(self) -> list[str]:
        """Outcome constructs, in definition order: those holding the outcome items (overall satisfaction,
        loyalty and recommendation) and every construct downstream of the satisfaction construct in
        ``paths`` (an ECSI model's Complaints, an outcome of satisfaction, Fornell et al. 1996)."""
        outcome_items = [
            self.overall_satisfaction,
            *self.loyalty,
            *([self.recommend] if self.recommend else []),
        ]
        found = {self.item(i).construct for i in outcome_items if i in self.item_ids}
        sat = self.item(self.overall_satisfaction).construct if self.overall_satisfaction in self.item_ids else None
        frontier = [sat] if sat else []
        while frontier:  # constructs reachable from satisfaction along the paths
            source = frontier.pop()
            for a, b in self.paths:
                if a == source and b not in found:
                    found.add(b)
                    frontier.append(b)
        return [c for c in self.constructs if c in found]

    @property
    def index_constructs(self) -> list[str]:
        """Constructs that make up the overall satisfaction index.

        ``index.constructs`` when given; by default every construct except the
        outcome constructs (those of the overall satisfaction, loyalty and
        recommend items), which the index is meant to explain; all constructs
        when nothing else is left.
        """
        if self.index.constructs:
            return list(self.index.constructs)
        drivers = [c for c in self.constructs if c not in self.outcome_constructs]
        return drivers or self.constructs

    @property
    def satisfied(self) -> list[int]:
        """Levels of the overall satisfaction item that count as satisfied (default: top two)."""
        if self.satisfied_levels:
            return list(self.satisfied_levels)
        scale = self.scale_of(self.overall_satisfaction)
        return [scale.max - 1, scale.max]

    def construct_label(self, construct: str, language: str | None = None) -> str:
        """Display name of a construct (``constructs:`` texts), falling back to its name."""
        lang = language or self.language
        texts = self.construct_texts.get(construct, {})
        for key in (lang, "", "en", "zh"):
            if texts.get(key):
                return texts[key]
        if construct == "CSI":
            return "CSI"
        return construct

    def title_text(self, language: str | None = None) -> str:
        lang = language or self.language
        for key in (lang, "", "en", "zh"):
            if self.title.get(key):
                return self.title[key]
        return word("title.default_survey", lang)

    def item_label(self, item_id: str, language: str | None = None) -> str:
        lang = language or self.language
        if item_id in self.item_ids:
            return self.item(item_id).label(lang)
        return item_id

    @property
    def declared_columns(self) -> list[str]:
        """Columns the survey declares and that may be carried into data/processed (no PII)."""
        cols = [c for c in (self.respondent_id, self.customer_id) if c]
        cols += list(self.segments)
        if self.duration:
            cols.append(self.duration)
        cols += self.rated_items + list(self.open_ended)
        return cols


RECOMMEND_SCALE = Scale(name="recommend_0_10", min=0, max=10, labels={}, missing=())


@dataclass(frozen=True)
class Wave:
    """One wave of the survey (``params/waves/<wave>.yaml``)."""

    id: str
    path: Path
    raw: Path
    invited: int | None = None
    baseline: str | None = None
    operations: Path | None = None
    customers: int | None = None
    fieldwork: Mapping[str, str] = field(default_factory=dict)
    margins: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def inputs(self) -> list[Path]:
        """Every input file of the wave (for hashing and provenance)."""
        files = [self.path, self.raw]
        if self.operations:
            files.append(self.operations)
        return files


# --------------------------------------------------------------------------- loading helpers
def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: The largest survey definition or wave file read, in bytes (1 MiB; the demo's is 5 KiB).
MAX_YAML_BYTES = 1 << 20
#: The most YAML nodes a file may hold once its aliases are expanded: an "alias bomb" (a few lines
#: whose nested aliases expand to billions of values) is refused at once, before it is built.
MAX_YAML_NODES = 100_000
#: The widest rating scale, in points (max - min + 1): a 0-100 slider has 101.
MAX_SCALE_POINTS = 101
#: The longest wave id, in characters (it names folders and files).
MAX_WAVE_ID = 64


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """The number of nodes ``node`` stands for with every alias expanded (each shared node counted as
    often as it is referred to); linear in the file, memoised by node."""
    key = id(node)
    if key not in memo:
        memo[key] = 0  # a recursive alias counts nothing more on the way round
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(_expanded_size(n, memo) for n in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        else:
            size = 1
        memo[key] = min(size, 1 << 62)
    return memo[key]


def _load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML with PyYAML's safe loader, refusing a document larger than :data:`MAX_YAML_NODES`
    nodes once expanded (checked on the composed node graph, before any value is built).

    libyaml's parser (``CSafeLoader``, about 5x faster: every notebook of a run loads the survey) reads
    the file when PyYAML has it; a file it refuses is read again by the pure-Python parser, so that an
    error names the same problem and line either way."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _compose_and_construct(fast(text), file)
        except yaml.YAMLError:
            pass
    return _compose_and_construct(yaml.SafeLoader(text), file)


def _compose_and_construct(loader: Any, file: str) -> Any:
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            size = _expanded_size(node, {})
        except RecursionError:
            size = MAX_YAML_NODES + 1
        if size > MAX_YAML_NODES:
            raise SurveyDefinitionError(
                f"expands to more than {MAX_YAML_NODES:,} values (aliases that refer to aliases, or nesting "
                "too deep); it is refused before it is read.",
                file=file,
                expected="a plain definition without nested aliases",
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise SurveyDefinitionError(f"{what} not found.", file=str(path))
    if path.is_dir():
        raise SurveyDefinitionError(f"is a folder; the {what.lower()} is a YAML file.", file=str(path))
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise SurveyDefinitionError(
                f"has {size:,} bytes; a {what.lower()} may have at most {MAX_YAML_BYTES:,}.", file=str(path)
            )
        data = _load_yaml_text(path.read_bytes().decode("utf-8-sig"), str(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        position = getattr(exc, "position", None)  # a character YAML refuses (NUL): where it is
        if row is None and isinstance(position, int):
            row = path.read_bytes().decode("utf-8-sig", "replace")[:position].count("\n") + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SurveyDefinitionError(f"is not valid YAML ({problem}).", file=str(path), row=row) from None
    except UnicodeDecodeError as exc:
        data = path.read_bytes()
        row = data[: exc.start].count(b"\n") + 1
        raise SurveyDefinitionError(
            f"is not UTF-8 text (byte {exc.start} on line {row}).", file=str(path), row=row,
            expected="the file saved as UTF-8",
        ) from None
    except RecursionError:
        raise SurveyDefinitionError("is nested too deeply to be a definition.", file=str(path)) from None
    except OSError as exc:
        raise SurveyDefinitionError(f"cannot be read ({exc.strerror or exc}).", file=str(path)) from None
    if not isinstance(data, dict):
        raise SurveyDefinitionError(
            f"{what} must be a YAML mapping of keys.",
            file=str(path),
            expected="keys such as title, scales, items",
        )
    return data


def check_keys(spec: Mapping[Any, Any], known: Sequence[str], where: str, file: str) -> None:
    """Refuse a key of ``spec`` that is not in ``known``, naming the file, the key and the closest valid key.

    ``where`` is the key's parent as the analyst writes it (``""`` at the top, ``"items[3]."``,
    ``"index."``). Closeness is difflib's ratio (cutoff 0.6), so ``segmnets`` suggests ``segments``.
    """
    for key in spec:
        if str(key) in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise SurveyDefinitionError(
            f"unknown key '{where}{key}'.{hint}", file=file, expected="one of " + ", ".join(known)
        )


def _texts(value: Any, key: str, file: str) -> dict[str, str]:
    """A text given as a string (any language) or as {en: ..., zh: ...}."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"": value.strip()}
    if isinstance(value, Mapping):
        return {str(k): str(v).strip() for k, v in value.items() if v is not None}
    raise SurveyDefinitionError(f"'{key}' must be a text or a mapping of language to text.", file=file)


def _as_list(value: Any, key: str, file: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise SurveyDefinitionError(f"'{key}' must be a list.", file=file)


def _int(value: Any, key: str, file: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or int(value) != value:
        raise SurveyDefinitionError(f"'{key}' is {_shown(value)}.", file=file, expected="a whole number")
    return int(value)


def _float(value: Any, key: str, file: str) -> float:
    """A number (int or float, finite; never a boolean or a text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SurveyDefinitionError(f"'{key}' is {_shown(value)}.", file=file, expected="a number")
    return float(value)


def _bool(value: Any, key: str, file: str) -> bool:
    """A YAML boolean: ``true`` or ``false`` unquoted; a text such as ``"false"`` is refused (it would
    read as true)."""
    if not isinstance(value, bool):
        raise SurveyDefinitionError(f"'{key}' is {_shown(value)}.", file=file, expected="true or false, unquoted")
    return value


def _yaml_number(value: Any) -> float | None:
    """A missing code as a number (``-99``, ``"99"``, ``"７"``), or None for a text code."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        number = float(unicodedata.normalize("NFKC", str(value)).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _shown(value: Any) -> str:
    """A value as a message shows it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _parse_scale(name: str, spec: Any, file: str) -> Scale:
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError(f"scale '{name}' must be a mapping with min and max.", file=file)
    check_keys(spec, SCALE_KEYS, f"scales.{name}.", file)
    for key in ("min", "max"):
        if key not in spec:
            raise SurveyDefinitionError(f"scales.{name}.{key}: scale '{name}' has no '{key}'.", file=file)
    lo = _int(spec["min"], f"scales.{name}.min", file)
    hi = _int(spec["max"], f"scales.{name}.max", file)
    if lo >= hi:
        raise SurveyDefinitionError(
            f"scale '{name}' has min {lo} >= max {hi}.", file=file, expected="min smaller than max"
        )
    if hi - lo + 1 > MAX_SCALE_POINTS:
        raise SurveyDefinitionError(
            f"scale '{name}' has {hi - lo + 1:,} points ({lo}-{hi}).",
            file=file,
            expected=f"at most {MAX_SCALE_POINTS} points (a 0-100 slider)",
        )
    labels: dict[int, dict[str, str]] = {}
    raw_labels = spec.get("labels") or {}
    if not isinstance(raw_labels, Mapping):
        raise SurveyDefinitionError(f"scales.{name}.labels: scale '{name}': labels must map codes to labels.", file=file)
    for code, text in raw_labels.items():
        try:
            icode = int(code)
        except (TypeError, ValueError):
            raise SurveyDefinitionError(
                f"scales.{name}.labels: scale '{name}': label code {code!r} is not a number.",
                file=file,
                expected="codes like 1: Very dissatisfied",
            ) from None
        if not lo <= icode <= hi:
            raise SurveyDefinitionError(
                f"scales.{name}.labels: scale '{name}': label code {icode} is outside {lo}-{hi}.",
                file=file,
                expected=f"codes {lo}-{hi}",
            )
        if isinstance(text, (list, tuple)):
            labels[icode] = {f"alt{i}" if i else "": str(t).strip() for i, t in enumerate(text)}
        else:
            labels[icode] = _texts(text, f"scales.{name}.labels.{code}", file)
    missing = tuple(_as_list(spec.get("missing"), f"scales.{name}.missing", file))
    for code in missing:
        if isinstance(code, (Mapping, list)):
            raise SurveyDefinitionError(
                f"scales.{name}.missing has {_shown(code)}.", file=file, expected="codes such as -99 or N/A"
            )
        number = _yaml_number(code)
        if number is not None and number.is_integer() and lo <= number <= hi:
            raise SurveyDefinitionError(
                f"scales.{name}.missing has {_shown(code)}, a real answer on the scale {lo}-{hi}: every {int(number)} "
                "would be deleted.",
                file=file,
                expected=f"missing codes outside {lo}-{hi}, such as -99 or 99",
            )
    return Scale(name=name, min=lo, max=hi, labels=labels, missing=missing)


def _parse_item(spec: Any, position: int, scales: Mapping[str, Scale], file: str) -> Item:
    if isinstance(spec, str):
        spec = {"id": spec}
    if not isinstance(spec, Mapping) or "id" not in spec:
        raise SurveyDefinitionError(
            f"items[{position}]: item number {position} has no 'id'.", file=file, expected="{id: q1, scale: sat7}"
        )
    item_id = str(spec["id"]).strip()
    check_keys(spec, ITEM_KEYS, f"items[{position}] ({item_id}).", file)
    scale = spec.get("scale")
    if scale is None:
        if len(scales) == 1:
            scale = next(iter(scales))
        else:
            raise SurveyDefinitionError(f"item '{item_id}' has no 'scale'.", file=file)
    if str(scale) not in scales:
        raise SurveyDefinitionError(
            f"item '{item_id}' uses scale '{scale}', which is not defined under 'scales'.",
            file=file,
            expected=f"one of {', '.join(scales) or '(no scales defined)'}",
        )
    construct = spec.get("construct")
    return Item(
        id=item_id,
        scale=str(scale),
        construct=str(construct).strip() if construct is not None else None,
        text=_texts(spec.get("text"), f"items.{item_id}.text", file),
        reverse=_bool(spec.get("reverse", False), f"items[{position}] ({item_id}).reverse", file),
        asked_if=_parse_asked_if(spec.get("asked_if"), item_id, position, file),
    )


def _parse_asked_if(spec: Any, item_id: str, position: int, file: str) -> AskedIf | None:
    """``asked_if: {item: q_complained, in: [1]}`` (both keys required); None when absent."""
    if spec is None:
        return None
    example = "asked_if: {item: q_complained, in: [1]}"
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError(f"item '{item_id}': 'asked_if' must be a mapping.", file=file, expected=example)
    check_keys(spec, ASKED_IF_KEYS, f"items[{position}] ({item_id}).asked_if.", file)
    if "item" not in spec or "in" not in spec:
        raise SurveyDefinitionError(
            f"item '{item_id}': 'asked_if' needs both 'item' and 'in'.", file=file, expected=example
        )
    codes = tuple(_int(v, f"items.{item_id}.asked_if.in", file) for v in _as_list(spec["in"], "", file))
    if not codes:
        raise SurveyDefinitionError(f"item '{item_id}': 'asked_if.in' is empty.", file=file, expected=example)
    return AskedIf(item=str(spec["item"]).strip(), codes=codes)


def _check_asked_if(items: Sequence[Item], scales: Mapping[str, Scale], paths: Sequence[tuple[str, str]], file: str) -> None:
    """The filter item exists, is asked of everyone, and the codes are on its scale; a block in the CSI
    model is filtered as a whole (the model needs whole blocks, see docs/survey-definition.md)."""
    by_id = {i.id: i for i in items}
    for item in items:
        rule = item.asked_if
        if rule is None:
            continue
        cond = by_id.get(rule.item)
        if cond is None or cond.id == item.id:
            raise SurveyDefinitionError(
                f"item '{item.id}': asked_if names item '{rule.item}', which is not another item in 'items'.",
                file=file,
                expected="the id of the filter question, e.g. q_complained",
            )
        if cond.reverse:
            raise SurveyDefinitionError(
                f"item '{item.id}': its filter item '{cond.id}' is reverse-keyed.",
                file=file,
                expected="a filter question that is not reverse-keyed",
            )
        if cond.asked_if is not None:
            raise SurveyDefinitionError(
                f"item '{item.id}': its filter item '{cond.id}' is itself asked only of some respondents.",
                file=file,
                expected="a filter question asked of everyone",
            )
        scale = scales[cond.scale]
        bad = [c for c in rule.codes if not scale.min <= c <= scale.max]
        if bad:
            raise SurveyDefinitionError(
                f"item '{item.id}': asked_if.in has {bad}, outside the scale of '{cond.id}' ({scale.min}-{scale.max}).",
                file=file,
                expected=f"codes {scale.min}-{scale.max}",
            )
    modelled = {c for p in paths for c in p}
    blocks: dict[str, list[Item]] = {}
    for item in items:
        if item.construct:
            blocks.setdefault(item.construct, []).append(item)
    for construct, members in blocks.items():
        filters = {m.asked_if for m in members}
        if construct in modelled and len(filters) > 1:
            raise SurveyDefinitionError(
                f"construct '{construct}' is in 'paths' and only some of its items have the same 'asked_if'.",
                file=file,
                expected="the same asked_if on every item of a modelled construct, or on none",
            )


def _parse_cleaning(spec: Any, file: str) -> CleaningRules:
    if spec is None:
        return CleaningRules()
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError("'cleaning' must be a mapping of rule thresholds.", file=file)
    check_keys(spec, list(CleaningRules.__dataclass_fields__), "cleaning.", file)
    values = {}
    for key, value in spec.items():
        if key == "straightline_extremes":
            if not isinstance(value, bool):
                raise SurveyDefinitionError(f"cleaning.{key} is {value!r}.", file=file, expected="true or false")
            values[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SurveyDefinitionError(f"cleaning.{key} is {value!r}.", file=file, expected="a number")
        values[key] = int(value) if key == "straightline_min_items" else float(value)
    rules = CleaningRules(**values)
    for key in ("min_answered", "speeder_fraction", "max_unreadable"):
        if not 0 <= getattr(rules, key) <= 1:
            raise SurveyDefinitionError(f"cleaning.{key} must be between 0 and 1.", file=file)
    if not 0 < rules.outlier_alpha < 1:
        raise SurveyDefinitionError("cleaning.outlier_alpha must be between 0 and 1.", file=file)
    if rules.straightline_min_items < 2:
        raise SurveyDefinitionError("cleaning.straightline_min_items must be at least 2.", file=file)
    return rules


def _parse_index(spec: Any, constructs: Sequence[str], file: str) -> IndexConfig:
    if spec is None:
        return IndexConfig()
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError("'index' must be a mapping, e.g. {weights: equal}.", file=file)
    check_keys(spec, INDEX_KEYS, "index.", file)
    method = str(spec.get("weights", "equal")).lower()
    if method not in INDEX_METHODS:
        raise SurveyDefinitionError(
            f"index.weights is '{method}'.", file=file, expected=" | ".join(INDEX_METHODS)
        )
    chosen = tuple(str(c) for c in _as_list(spec.get("constructs"), "index.constructs", file))
    for c in chosen:
        if c not in constructs:
            raise SurveyDefinitionError(
                f"index.constructs names '{c}', but no item has that construct.",
                file=file,
                expected=f"one of {', '.join(constructs)}",
            )
    labels: tuple[str, ...] = ()
    matrix: tuple[tuple[float, ...], ...] = ()
    if method == "ahp":
        ahp = spec.get("ahp")
        if not isinstance(ahp, Mapping) or "matrix" not in ahp:
            raise SurveyDefinitionError(
                "index.weights is 'ahp' but there is no index.ahp.matrix.",
                file=file,
                expected="index: {weights: ahp, ahp: {labels: [...], matrix: [[1, 3], [1/3, 1]]}}",
            )
        check_keys(ahp, AHP_KEYS, "index.ahp.", file)
        labels = tuple(str(c) for c in _as_list(ahp.get("labels"), "index.ahp.labels", file)) or chosen
        rows = []
        for r, row in enumerate(_as_list(ahp["matrix"], "index.ahp.matrix", file), start=1):
            rows.append(tuple(_ahp_number(v, r, file) for v in _as_list(row, "index.ahp.matrix", file)))
        matrix = tuple(rows)
        if not labels or len(labels) != len(matrix) or any(len(r) != len(labels) for r in matrix):
            raise SurveyDefinitionError(
                f"index.ahp.matrix must be square with one row and column per label ({len(labels)} labels).",
                file=file,
            )
        for c in labels:
            if c not in constructs:
                raise SurveyDefinitionError(
                    f"index.ahp.labels names '{c}', but no item has that construct.", file=file
                )
        chosen = chosen or labels
        if set(labels) != set(chosen):
            raise SurveyDefinitionError(
                "index.ahp.labels must list exactly the constructs of index.constructs.", file=file
            )
    return IndexConfig(weights=method, constructs=chosen, ahp_labels=labels, ahp_matrix=matrix)


def _ahp_number(value: Any, row: int, file: str) -> float:
    """A Saaty judgement: a number or a fraction written as text ('1/3')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            return float(num) / float(den)
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise SurveyDefinitionError(
            f"index.ahp.matrix row {row} has {value!r}.", file=file, expected="numbers such as 3 or 1/3"
        ) from None


def parse_margins(spec: Any, key: str, file: str) -> dict[str, dict[str, float]]:
    """Segment -> group -> share from ``weighting.margins`` or a wave's ``margins``.

    Refuses, naming the file and key: a margin that is not a mapping, a share that is not a
    number in (0, 1], and a segment whose shares do not sum to 1 (within ``SHARE_SUM_TOL``).
    """
    if not isinstance(spec, Mapping) or not spec:
        raise SurveyDefinitionError(
            f"'{key}' must map a segment to its groups' population shares.",
            file=file,
            expected=f"{key}: {{region: {{East: 0.6, West: 0.4}}}}",
        )
    out: dict[str, dict[str, float]] = {}
    for segment, groups in spec.items():
        where = f"{key}.{segment}"
        if not isinstance(groups, Mapping) or not groups:
            raise SurveyDefinitionError(f"'{where}' must map each group to its share.", file=file)
        shares: dict[str, float] = {}
        for group, share in groups.items():
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
                raise SurveyDefinitionError(
                    f"'{where}.{group}' is {share!r}.", file=file, expected="a population share above 0, at most 1"
                )
            shares[str(group)] = float(share)
        total = sum(shares.values())
        if abs(total - 1) > SHARE_SUM_TOL:
            raise SurveyDefinitionError(
                f"the shares of '{where}' sum to {total:.6g}, not 1.", file=file, expected="shares summing to 1"
            )
        out[str(segment)] = shares
    return out


def _check_margin_segments(margins: Mapping[str, Any], segments: Sequence[str], key: str, file: str) -> None:
    for segment in margins:
        if segment not in segments:
            raise SurveyDefinitionError(
                f"'{key}' names segment '{segment}', which is not declared under 'segments'.",
                file=file,
                expected=f"one of {', '.join(segments) or '(no segments declared)'}",
            )


def _parse_weighting(spec: Any, segments: Sequence[str], file: str) -> WeightingConfig | None:
    """The ``weighting:`` block (see :class:`WeightingConfig`); None when absent."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError(
            "'weighting' must be a mapping.", file=file, expected="weighting: {method: rake, margins: {...}}"
        )
    check_keys(spec, WEIGHTING_KEYS, "weighting.", file)
    method = str(spec.get("method", "rake")).lower()
    if method not in WEIGHTING_METHODS:
        raise SurveyDefinitionError(
            f"weighting.method is '{method}'.", file=file, expected=" | ".join(WEIGHTING_METHODS)
        )
    if "margins" not in spec:
        raise SurveyDefinitionError("'weighting' has no 'margins'.", file=file, expected="segment -> group -> share")
    margins = parse_margins(spec["margins"], "weighting.margins", file)
    _check_margin_segments(margins, segments, "weighting.margins", file)
    if method == "poststratify" and len(margins) != 1:
        raise SurveyDefinitionError(
            f"weighting.method is 'poststratify' with {len(margins)} segments.",
            file=file,
            expected="one segment (or method: rake for several)",
        )
    bounds = None
    if spec.get("bounds") is not None:
        raw = spec["bounds"]
        ok = isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
        if not ok or not 0 < raw[0] < 1 < raw[1]:
            raise SurveyDefinitionError(
                f"weighting.bounds is {raw!r}.", file=file, expected="[low, high] with 0 < low < 1 < high, e.g. [0.3, 3.0]"
            )
        bounds = (float(raw[0]), float(raw[1]))
    return WeightingConfig(method=method, margins=margins, bounds=bounds)


def wave_weighting(survey: Survey, wave: Wave) -> WeightingConfig | None:
    """The weighting of one wave: the survey's ``weighting:`` with the wave's ``margins:`` replacing the
    margins of the segments it names (raking by default when only the wave has margins); None unweighted.

    Raises :class:`SurveyDefinitionError` naming the wave file when its margins name an undeclared segment.
    """
    if not wave.margins:
        return survey.weighting
    _check_margin_segments(wave.margins, survey.segments, "margins", str(wave.path))
    base = survey.weighting or WeightingConfig()
    margins = {**base.margins, **wave.margins}
    if base.method == "poststratify" and len(margins) != 1:
        raise SurveyDefinitionError(
            f"'margins' gives {len(margins)} segments but the survey's weighting.method is 'poststratify'.",
            file=str(wave.path),
            expected="one segment",
        )
    return WeightingConfig(method=base.method, margins=margins, bounds=base.bounds)


def _parse_pls(spec: Any, file: str) -> PLSConfig:
    if spec is None:
        return PLSConfig()
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError(
            "'pls' must be a mapping, e.g. {scheme: path, bootstrap: 5000}.", file=file
        )
    check_keys(spec, list(PLSConfig.__dataclass_fields__), "pls.", file)
    cfg = PLSConfig(
        scheme=str(spec.get("scheme", "path")).lower(),
        missing=str(spec.get("missing", "listwise")).lower(),
        bootstrap=_int(spec.get("bootstrap", 5000), "pls.bootstrap", file),
        seed=_int(spec.get("seed", 20240601), "pls.seed", file),
    )
    if cfg.scheme not in ("path", "factorial", "centroid"):
        raise SurveyDefinitionError(
            f"pls.scheme is '{cfg.scheme}'.", file=file, expected="path, factorial or centroid"
        )
    if cfg.missing not in ("listwise", "mean"):
        raise SurveyDefinitionError(
            f"pls.missing is '{cfg.missing}'.", file=file, expected="listwise or mean"
        )
    if cfg.bootstrap < 100:
        raise SurveyDefinitionError(
            f"pls.bootstrap is {cfg.bootstrap}.", file=file, expected="100 or more resamples"
        )
    return cfg


def _parse_targets(spec: Any, file: str) -> dict[str, dict[str, float]]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError("'targets' must map a KPI to {min: x} or {max: x}.", file=file)
    from .kpis import KNOWN_KPIS

    check_keys(spec, list(KNOWN_KPIS), "targets.", file)
    out: dict[str, dict[str, float]] = {}
    for kpi, bound in spec.items():
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            bound = {"min": bound}
        if not isinstance(bound, Mapping) or not set(bound) <= {"min", "max"} or not bound:
            raise SurveyDefinitionError(
                f"targets.{kpi} is {bound!r}.", file=file, expected="{min: 0.9} or {max: 0.05}"
            )
        out[str(kpi)] = {k: _float(v, f"targets.{kpi}.{k}", file) for k, v in bound.items()}
    return out


def _units(value: Any, segments: tuple[str, ...], file: str) -> str | None:
    """The ``units:`` key: one of the survey's segments (one report per group of it), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in segments:
        raise SurveyDefinitionError(
            f"'units' is {value!r}, which is not one of the segments.",
            file=file,
            expected=f"one of the segments: {', '.join(segments) or '(none defined)'}",
        )
    return value


def _parse_comments(spec: Any, about_names: Sequence[str], file: str) -> dict[str, dict[str, Any]]:
    """``comments: {codebook: {code: {zh: [...], en: [...], about: item-or-construct}}}`` checked and compiled
    once (:func:`analysis.comments.compile_codebook`, so a bad pattern is refused here, naming the code)."""
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise SurveyDefinitionError("'comments' must be a mapping.", file=file, expected="comments: {codebook: ...}")
    check_keys(spec, COMMENTS_KEYS, "comments.", file)
    book = spec.get("codebook") or {}
    if not isinstance(book, Mapping):
        raise SurveyDefinitionError(
            "'comments.codebook' must map a code to its words.", file=file, expected="code: {zh: [...], en: [...]}"
        )
    out: dict[str, dict[str, Any]] = {}
    for code, entry in book.items():
        where = f"comments.codebook.{code}"
        if not isinstance(entry, Mapping):
            raise SurveyDefinitionError(f"'{where}' must be a mapping.", file=file, expected="{zh: [...], en: [...]}")
        check_keys(entry, CODE_KEYS, f"{where}.", file)
        about = entry.get("about")
        if about is not None and str(about) not in about_names:
            raise SurveyDefinitionError(
                f"'{where}.about' names '{about}', which is no item or construct.", file=file,
                expected="an item id or a construct",
            )
        words = {lang: tuple(str(w) for w in _as_list(entry.get(lang), f"{where}.{lang}", file)) for lang in ("zh", "en")}
        out[str(code)] = {**{k: v for k, v in words.items() if v}, "about": str(about) if about is not None else None}
    from .comments import CodebookError, compile_codebook

    try:
        compile_codebook(out)
    except CodebookError as e:
        raise SurveyDefinitionError(f"comments.codebook: {e}.", file=file, expected="words, or re: patterns (RE2)") from e
    return out


def load_survey(path: str | Path = "params/survey.yaml") -> Survey:
    """Read and validate a survey definition (CONTRACT section 1).

    Returns a :class:`Survey`. Raises :class:`SurveyDefinitionError` naming the
    file and the offending key for: no items, duplicate item ids, an item with
    an undefined scale, a scale with min >= max, ``overall_satisfaction`` /
    ``loyalty`` / ``recommend`` / ``repurchase`` naming an unknown item, a path
    naming a construct no item has, an unknown language or index method.
    """
    path = Path(path)
    file = str(path)
    spec = _read_yaml(path, "Survey definition")
    check_keys(spec, SURVEY_KEYS, "", file)
    for key in NOT_YET_APPLIED:
        if key in spec:
            warnings.warn(
                f"{file}: '{key}' is read but not applied by this version of csat-lab; results are not affected.",
                stacklevel=2,
            )

    scales_spec = spec.get("scales") or {}
    if not isinstance(scales_spec, Mapping) or not scales_spec:
        raise SurveyDefinitionError(
            "has no 'scales'.", file=file, expected="at least one scale with min and max"
        )
    scales = {str(name): _parse_scale(str(name), s, file) for name, s in scales_spec.items()}

    items_spec = _as_list(spec.get("items"), "items", file)
    if not items_spec:
        raise SurveyDefinitionError("has no 'items'.", file=file, expected="a list of rated questions")
    items = tuple(_parse_item(s, i, scales, file) for i, s in enumerate(items_spec, start=1))
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise SurveyDefinitionError(
                f"item id '{item.id}' is defined twice.", file=file, expected="unique ids"
            )
        seen.add(item.id)
    ids = [i.id for i in items]
    constructs = list(dict.fromkeys(i.construct for i in items if i.construct))

    def item_ref(key: str, value: Any, allow_outside: bool = False) -> str:
        ref = str(value).strip()
        if ref not in ids and not allow_outside:
            raise SurveyDefinitionError(
                f"'{key}' names item '{ref}', which is not in 'items'.", file=file, expected="an item id"
            )
        return ref

    if "overall_satisfaction" not in spec:
        raise SurveyDefinitionError("has no 'overall_satisfaction'.", file=file, expected="one item id")
    overall = item_ref("overall_satisfaction", spec["overall_satisfaction"])
    loyalty = tuple(item_ref("loyalty", v) for v in _as_list(spec.get("loyalty"), "loyalty", file))
    recommend = (
        item_ref("recommend", spec["recommend"], allow_outside=True) if spec.get("recommend") else None
    )
    if recommend and recommend in ids:
        scale = scales[items[ids.index(recommend)].scale]
        if (scale.min, scale.max) != (0, 10):
            raise SurveyDefinitionError(
                f"'recommend' item '{recommend}' is on scale '{scale.name}' ({scale.min}-{scale.max}).",
                file=file,
                expected="a 0-10 scale for NPS",
            )
    repurchase = item_ref("repurchase", spec["repurchase"]) if spec.get("repurchase") else None

    paths: list[tuple[str, str]] = []
    for k, p in enumerate(_as_list(spec.get("paths"), "paths", file), start=1):
        if not isinstance(p, Sequence) or isinstance(p, str) or len(p) != 2:
            raise SurveyDefinitionError(f"paths[{k}]: path {p!r} must be a pair [from, to].", file=file)
        src, dst = str(p[0]).strip(), str(p[1]).strip()
        for c in (src, dst):
            if c not in constructs:
                raise SurveyDefinitionError(
                    f"paths[{k}]: path [{src}, {dst}] names construct '{c}', but no item has that construct.",
                    file=file,
                    expected=f"one of {', '.join(constructs) or '(no constructs)'}",
                )
        if src == dst:
            raise SurveyDefinitionError(f"paths[{k}]: path [{src}, {dst}] points a construct at itself.", file=file)
        paths.append((src, dst))

    language = str(spec.get("language", "en")).lower()
    if language not in LANGUAGES:
        raise SurveyDefinitionError(f"language is '{language}'.", file=file, expected="en or zh")

    pii = tuple(str(c) for c in _as_list(spec.get("pii"), "pii", file))
    codebook = [_parse_segment(x, i, file) for i, x in enumerate(_as_list(spec.get("segments"), "segments", file))]
    segments = tuple(seg.column for seg in codebook)
    if len(set(segments)) != len(segments):
        raise SurveyDefinitionError("a column is listed twice under 'segments'.", file=file)
    open_ended = tuple(str(c) for c in _as_list(spec.get("open_ended"), "open_ended", file))
    rid = str(spec["respondent_id"]) if spec.get("respondent_id") else None
    cid = str(spec["customer_id"]) if spec.get("customer_id") else None
    duration = str(spec["duration"]) if spec.get("duration") else None
    for col in (*segments, *open_ended, *(c for c in (rid, cid, duration) if c), *ids):
        if col in pii:
            raise SurveyDefinitionError(
                f"column '{col}' is declared as PII and also used for analysis.",
                file=file,
                expected="PII columns only under 'pii'",
            )

    satisfied = tuple(
        _int(v, "satisfied_levels", file) for v in _as_list(spec.get("satisfied_levels"), "", file)
    )
    overall_scale = scales[items[ids.index(overall)].scale]
    for lvl in satisfied:
        if not overall_scale.min <= lvl <= overall_scale.max:
            raise SurveyDefinitionError(
                f"satisfied_levels has {lvl}, outside the overall satisfaction scale "
                f"{overall_scale.min}-{overall_scale.max}.",
                file=file,
            )
    construct_texts: dict[str, dict[str, str]] = {}
    raw_constructs = spec.get("constructs") or {}
    if not isinstance(raw_constructs, Mapping):
        raise SurveyDefinitionError(
            "'constructs' must map a construct to its display name.",
            file=file,
            expected="constructs: {Quality: {en: Product quality, zh: ...}}",
        )
    for name, text in raw_constructs.items():
        if str(name) not in constructs:
            raise SurveyDefinitionError(
                f"'constructs' names '{name}', but no item has that construct.",
                file=file,
                expected=f"one of {', '.join(constructs)}",
            )
        construct_texts[str(name)] = _texts(text, f"constructs.{name}", file)
    _check_asked_if(items, scales, paths, file)
    zones = spec.get("zones") or {}
    if not isinstance(zones, Mapping):
        raise SurveyDefinitionError("'zones' must be a mapping of thresholds.", file=file)
    check_keys(zones, ZONE_KEYS, "zones.", file)

    return Survey(
        path=path,
        title=_texts(spec.get("title"), "title", file),
        language=language,
        scales=scales,
        items=items,
        overall_satisfaction=overall,
        loyalty=loyalty,
        respondent_id=rid,
        customer_id=cid,
        pii=pii,
        segments=segments,
        units=_units(spec.get("units"), segments, file),
        segment_codebook={seg.column: seg for seg in codebook},
        duration=duration,
        recommend=recommend,
        open_ended=open_ended,
        paths=tuple(paths),
        targets=_parse_targets(spec.get("targets"), file),
        cleaning=_parse_cleaning(spec.get("cleaning"), file),
        index=_parse_index(spec.get("index"), constructs, file),
        pls=_parse_pls(spec.get("pls"), file),
        construct_texts=construct_texts,
        zones=dict(zones),
        satisfied_levels=satisfied,
        repurchase=repurchase,
        weighting=_parse_weighting(spec.get("weighting"), segments, file),
        codebook=_parse_comments(spec.get("comments"), [*ids, *constructs], file),
        sha256=sha256_file(path),
    )


def load_wave(path: str | Path) -> Wave:
    """Read and validate a wave file (CONTRACT section 2).

    Paths inside it (``raw``, ``operations``) are relative to the wave file.
    Raises :class:`SurveyDefinitionError` when the raw file does not exist or a
    key has the wrong type.
    """
    path = Path(path)
    file = str(path)
    spec = _read_yaml(path, "Wave file")
    check_keys(spec, WAVE_KEYS, "", file)
    if "wave" not in spec:
        raise SurveyDefinitionError("has no 'wave' id.", file=file, expected="wave: 2025H1")
    wave_id = str(spec["wave"]).strip()
    if len(wave_id) > MAX_WAVE_ID:
        raise SurveyDefinitionError(
            f"wave id {_shown(wave_id)} has {len(wave_id)} characters.", file=file, expected=f"at most {MAX_WAVE_ID}"
        )
    bad = not wave_id or any(ch in wave_id for ch in "/\\:") or wave_id.startswith(".")
    if bad or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in wave_id):
        raise SurveyDefinitionError(
            f"wave id {_shown(wave_id)} cannot be used in file names.",
            file=file,
            expected="letters, digits and - _ (no /, \\, :, control characters, nor a leading dot)",
        )
    if wave_id in ("tracking", "index"):
        raise SurveyDefinitionError(f"wave id '{wave_id}' is reserved for a report name.", file=file)
    if not spec.get("raw"):
        raise SurveyDefinitionError(
            "has no 'raw' file.", file=file, expected="raw: ../../data/raw/<wave>.csv"
        )
    for key in ("raw", "operations", "baseline"):
        if spec.get(key) is not None and not isinstance(spec[key], (str, int)) or isinstance(spec.get(key), bool):
            raise SurveyDefinitionError(f"'{key}' is {_shown(spec[key])}.", file=file, expected="a text")
    try:
        return _wave_files(path, spec, file, wave_id)
    except OSError as exc:  # a name too long for the system, a path through a file
        raise SurveyDefinitionError(f"a file it names cannot be used ({exc.strerror}).", file=file) from None


def _wave_files(path: Path, spec: Mapping[str, Any], file: str, wave_id: str) -> Wave:
    """The rest of :func:`load_wave`: the files a wave names, its numbers and its baseline."""
    raw = (path.parent / str(spec["raw"])).resolve()
    if raw.is_dir():
        raise SurveyDefinitionError(f"the raw file '{spec['raw']}' is a folder ({raw}).", file=file)
    if not raw.exists():
        raise SurveyDefinitionError(
            f"the raw file '{spec['raw']}' does not exist (looked for {raw}).", file=file
        )
    if raw.suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".sav"):
        raise SurveyDefinitionError(
            f"the raw file '{raw.name}' has an unsupported type.", file=file, expected=".csv, .xlsx or .sav"
        )
    operations = None
    if spec.get("operations"):
        operations = (path.parent / str(spec["operations"])).resolve()
        if not operations.is_file():
            raise SurveyDefinitionError(
                f"the operations file '{spec['operations']}' does not exist (looked for {operations}).",
                file=file,
            )
    invited = _int(spec["invited"], "invited", file) if spec.get("invited") is not None else None
    if invited is not None and invited <= 0:
        raise SurveyDefinitionError("'invited' must be positive.", file=file)
    customers = _int(spec["customers"], "customers", file) if spec.get("customers") is not None else None
    fieldwork = spec.get("fieldwork") or {}
    if not isinstance(fieldwork, Mapping):
        raise SurveyDefinitionError("'fieldwork' must be a mapping {start: ..., end: ...}.", file=file)
    fieldwork = {
        str(k): v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else str(v)
        for k, v in fieldwork.items()
    }
    baseline = str(spec["baseline"]).strip() if spec.get("baseline") else None
    if baseline == wave_id:
        raise SurveyDefinitionError("a wave cannot be its own baseline.", file=file)
    return Wave(
        id=wave_id,
        path=path,
        raw=raw,
        invited=invited,
        baseline=baseline,
        operations=operations,
        customers=customers,
        fieldwork=fieldwork,
        margins=parse_margins(spec["margins"], "margins", file) if spec.get("margins") is not None else {},
    )


def order_waves(waves: Sequence[Wave]) -> list[Wave]:
    """Order waves so that every baseline comes before the waves that compare with it.

    Waves without a baseline keep their given order (file name order). A
    baseline that names no loaded wave is allowed (the comparison is skipped
    with a note); a cycle raises :class:`SurveyDefinitionError`.
    """
    by_id: dict[str, Wave] = {}
    for w in waves:
        if w.id in by_id:
            raise SurveyDefinitionError(
                f"wave id '{w.id}' is used by two wave files ({by_id[w.id].path.name} and {w.path.name}).",
                file=str(w.path),
            )
        by_id[w.id] = w
    ordered: list[Wave] = []
    state: dict[str, str] = {}

    def visit(w: Wave) -> None:
        if state.get(w.id) == "done":
            return
        if state.get(w.id) == "visiting":
            raise SurveyDefinitionError(f"baselines form a cycle at wave '{w.id}'.", file=str(w.path))
        state[w.id] = "visiting"
        if w.baseline and w.baseline in by_id:
            visit(by_id[w.baseline])
        state[w.id] = "done"
        ordered.append(w)

    for w in waves:
        visit(w)
    return ordered


def survey_waves(survey_path: str | Path) -> list[Wave]:
    """The wave files beside a survey definition (``<its folder>/waves/*.yaml``), loaded and in baseline
    order: what ``csat run`` runs without ``--wave``, and the notebooks' default waves."""
    return order_waves([load_wave(p) for p in discover_waves(Path(survey_path).parent / "waves")])


def discover_waves(directory: str | Path) -> list[Path]:
    """All wave files (``*.yaml`` / ``*.yml``) in ``directory``, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SurveyDefinitionError("wave folder not found.", file=str(directory))
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise SurveyDefinitionError(
            "has no wave files.", file=str(directory), expected="params/waves/<wave>.yaml"
        )
    return files
