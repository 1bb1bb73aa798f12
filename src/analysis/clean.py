"""Cleaning: validation, missing codes, duplicates, speeders, straight-liners, outliers, privacy.

Rules run in a fixed order and a row's ``reason`` is the first rule that
removes it, so every raw data row gets exactly one line in the cleaning log:

0. ``field_count``    a CSV line with more or fewer fields than the header (semicolons in a comma
                      file): every cell of it is emptied on reading, so no part of the line (names,
                      phone numbers) reaches an output; the log keeps its row number
1. ``duplicate_id``   the respondent id appeared in an earlier row (the first is kept)
2. ``duplicate_row``  the same answers as an earlier row: every rated item (as coded, so ``7`` and
                      its scale label agree), open-ended answer, segment and customer id; the
                      respondent id, duration, PII and undeclared columns (a submission time)
                      may differ: a re-submission or a row exported twice
3. ``incomplete``     answered share of the rated items below ``cleaning.min_answered`` (0.5)
4. ``speeder``        duration below ``cleaning.speeder_fraction`` (1/3) of the median duration
                      of all raw rows of the wave
5. ``straightliner``  the same answer on every answered item of a question grid, with at least
                      ``cleaning.straightline_min_items`` (5) answered items; a grid is all items
                      sharing a scale (raw answers, before reverse-coding, so a reversed item
                      answered like the others counts). An answer at the top or bottom of the
                      scale counts only when the row gave a reverse-keyed item the raw answer at
                      the same end (a contradiction); otherwise an all-top row may be a delighted
                      customer (``cleaning.straightline_extremes: true`` restores the old rule). Single constructs are deliberately not
                      used: a delighted customer may honestly give the top level to all five
                      items of one dimension (on the real ECSI mobi data that rule would drop 10%
                      of respondents). Longstring and IRV (Curran 2016; R ``careless``) are
                      reported for every row.
6. ``outlier``        Mahalanobis D^2 with chi-square p < ``cleaning.outlier_alpha`` (0.001):
                      flagged in the log, **not** removed.

Privacy: ``pii`` columns and any column the survey does not declare are never
carried into ``data/processed``; a declared ``customer_id`` is replaced by a
keyed hash (HMAC-SHA256) so waves can be linked without exposing ids (the key
has at least 16 bytes, :func:`id_key`); e-mail addresses and phone numbers typed
into open-ended answers are masked, in linear time on any text
(:func:`mask_text`). No raw respondent text reaches an output unchecked: an
implausible respondent id (a broken row's whole line) is written as
``[invalid id]`` (:func:`safe_respondent_id`), and a value rejected from a
rating cell is described in value_issues.csv by its kind (``number above the
scale``, ``text matching no label`` ...), never by its content (:func:`safe_value`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError
from .ingest import (
    VALUE_KINDS,
    VALUE_NOT_ASKED,
    RawData,
    code_items,
    numeric_column,
    read_raw,
    resolve_columns,
    text_column,
)
from .survey import Survey, Wave, segment_groups
from .words import word

RULES = ("field_count", "duplicate_id", "duplicate_row", "incomplete", "speeder", "straightliner")
RULE_TEXT = {rule: word(f"cleaning_rule.{rule}", "en") for rule in RULES}
KEY_ENV = "CSAT_ID_KEY"
KEY_FILE_ENV = "CSAT_KEY_FILE"


# --------------------------------------------------------------------------- rules (pure functions)
def duplicate_ids(ids: pd.Series) -> pd.Series:
    """True for every row whose (non-empty) id appeared in an earlier row; the first occurrence is kept."""
    present = ids.notna() & (ids.astype(str).str.strip() != "")
    return ids.duplicated(keep="first") & present


def duplicate_rows(frame: pd.DataFrame) -> pd.Series:
    """True for every row identical (all given columns) to an earlier row."""
    return frame.duplicated(keep="first")


def answered_share(codes: pd.DataFrame, asked: pd.DataFrame | None = None) -> pd.Series:
    """Share of the given items each row answered (0-1).

    With ``asked`` (a boolean frame of the same items, :meth:`analysis.survey.Survey.asked`), the
    share of the items the row was asked: a question skipped by design is not a missing answer.
    """
    if asked is None:
        return codes.notna().mean(axis=1)
    asked = asked.reindex(index=codes.index, columns=codes.columns, fill_value=True)
    n_asked = asked.sum(axis=1)
    share = (codes.notna() & asked).sum(axis=1) / n_asked.where(n_asked > 0)
    return share.fillna(0.0)


def drop_unasked_answers(
    codes: pd.DataFrame, asked: pd.DataFrame, columns: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers to a question the respondent was not asked (``asked_if``) set to missing.

    Input: coded answers, the asked frame (:meth:`analysis.survey.Survey.asked`), item -> raw header.
    Output: the codes with those answers NaN, and their value_issues rows (reason ``not asked``):
    such an answer breaks the questionnaire's routing, so it is not used.
    """
    stray = codes[asked.columns].notna() & ~asked
    if not stray.to_numpy().any():
        return codes, pd.DataFrame(columns=["row", "column", "item", "value", "reason"])
    frames = []
    out = codes.copy()
    for item in stray.columns[stray.any()]:
        rows = stray.index[stray[item]]
        rule = "not asked (asked_if)"
        frames.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "column": columns.get(item, item),
                    "item": item,
                    "value": VALUE_NOT_ASKED,
                    "reason": rule,
                }
            )
        )
        out.loc[rows, item] = np.nan
    return out, pd.concat(frames, ignore_index=True)


def speeders(duration: pd.Series, fraction: float) -> tuple[pd.Series, float]:
    """Rows faster than ``fraction`` x the median duration. Returns (flags, cutoff in seconds).

    A missing duration is not a speeder. The median is over all rows with a duration.
    """
    median = float(duration.median())
    cutoff = fraction * median if np.isfinite(median) else np.nan
    return (duration < cutoff).fillna(False).astype(bool), cutoff


def longstring(codes: pd.DataFrame) -> pd.Series:
    """Longest run of identical consecutive answers per row (missing answers skipped).

    As ``careless::longstring`` (Johnson 2005; Curran 2016).
    """
    arr = codes.to_numpy(dtype=float)
    n = len(arr)
    best = np.zeros(n, dtype=int)
    run = np.zeros(n, dtype=int)
    last = np.full(n, np.nan)  # the last answered value of each row so far
    for col in arr.T:  # a loop over the items, vectorised over the rows
        answered = ~np.isnan(col)
        run = np.where(answered, np.where(col == last, run + 1, 1), run)
        last = np.where(answered, col, last)
        best = np.maximum(best, run)
    return pd.Series(best, index=codes.index, name="longstring")


def irv(codes: pd.DataFrame) -> pd.Series:
    """Intra-individual response variability: the SD of a row's answers (ddof=1), as ``careless::irv``."""
    return codes.std(axis=1, ddof=1).rename("irv")


def straightliners(
    codes: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    min_items: int,
    ends: Mapping[str, tuple[float, float]] | None = None,
    reverse: Mapping[str, tuple[float, float]] | None = None,
) -> pd.Series:
    """True where every answered item of some block is identical, with at least ``min_items`` answered.

    Input: ``codes`` raw answers (before reverse-coding), ``blocks`` name -> items,
    ``min_items``; ``ends`` block name -> (scale min, scale max); ``reverse`` the
    reverse-keyed items -> their (scale min, scale max). Output: a boolean Series.
    Rule: with ``ends`` given, a uniform answer at an end of a block's scale (all top or all
    bottom) counts only when the row contradicts it: it gave a reverse-keyed item (in any
    grid) the raw answer at the same end ("everything is excellent" and "damage happens
    very often"). Otherwise an all-top row may be the most delighted customer and an
    all-bottom row the angriest (issue 11: on the real ECSI mobi survey the only uniform
    row is all 10s). A uniform answer inside the scale always counts. Without ``ends``
    every uniform answer counts (the rule before issue 11).
    """
    flags = pd.Series(False, index=codes.index)
    rev = dict(reverse or {})
    at_top = pd.Series(False, index=codes.index)  # a reverse item answered at its scale's top / bottom
    at_bottom = pd.Series(False, index=codes.index)
    for item, (lo_r, hi_r) in rev.items():
        if item in codes.columns:
            at_top |= codes[item] == hi_r
            at_bottom |= codes[item] == lo_r
    for name, items in blocks.items():
        if len(items) < min_items:
            continue
        block = codes[list(items)]
        answered = block.notna().sum(axis=1)
        hi, lo = block.max(axis=1), block.min(axis=1)
        same = (hi == lo) & (answered >= min_items)
        if ends is not None and name in ends:
            low, high = ends[name]
            contradicted = ((lo == high) & at_top) | ((lo == low) & at_bottom)
            same &= ~lo.isin([low, high]) | contradicted
        flags |= same
    return flags


def mahalanobis_d2(codes: pd.DataFrame) -> pd.Series:
    """Squared Mahalanobis distance of each row from the centroid (missing answers mean-imputed)."""
    x = codes.astype(float)
    x = x.fillna(x.mean())
    keep = x.columns[x.std() > 0]
    arr = x[keep].to_numpy()
    centred = arr - arr.mean(axis=0)
    cov = np.cov(arr, rowvar=False)
    inv = np.linalg.pinv(np.atleast_2d(cov))
    d2 = np.einsum("ij,jk,ik->i", centred, inv, centred)
    return pd.Series(d2, index=codes.index, name="mahalanobis_d2")


def reverse_code(codes: pd.DataFrame, reverse: Mapping[str, tuple[int, int]]) -> pd.DataFrame:
    """Reverse-code items: x -> min + max - x for every item in ``reverse`` (item -> (min, max))."""
    out = codes.copy()
    for item, (lo, hi) in reverse.items():
        out[item] = lo + hi - out[item]
    return out


# --------------------------------------------------------------------------- privacy
#: The shortest customer-id key accepted, in bytes. A shorter key can be guessed, and with it every
#: hashed id reversed to the customer number (customer numbers are few enough to try them all).
MIN_KEY_BYTES = 16
_MAKE_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


def _checked_key(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            f"the customer-id key from {where} has {len(key)} byte(s); at least {MIN_KEY_BYTES} are needed, "
            "since a short key lets anyone turn the hashed ids back into customer numbers. Make a long "
            f"random key with {_MAKE_KEY} and put it in {KEY_ENV} or in the key file (or remove the key file "
            "and let csat create one; hashed ids then change, so waves hashed with the old key no longer link)."
        )
    return key


def id_key(root: Path) -> bytes:
    """The secret key for hashing customer ids.

    From the environment variable ``CSAT_ID_KEY``, else the file named by
    ``CSAT_KEY_FILE``, else ``<root>/.csat_key`` (created with a random key of
    32 bytes, 64 hex digits, on first use; it is git-ignored and must never be
    committed). A key shorter than :data:`MIN_KEY_BYTES` (16) bytes, or an
    empty one, is refused with an :class:`~analysis.errors.InputError` that
    says how to make one.
    """
    env = os.environ.get(KEY_ENV)
    if env is not None:
        return _checked_key(env.encode("utf-8"), f"the environment variable {KEY_ENV}")
    path = Path(os.environ.get(KEY_FILE_ENV) or Path(root) / ".csat_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return _checked_key(path.read_text(encoding="utf-8").strip().encode("utf-8"), f"the key file {path}")


def hash_ids(ids: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash (HMAC-SHA256, first 16 hex digits) of each id; missing stays missing."""

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            return None
        return "h" + hmac.new(key, str(v).strip().encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    position, uniques = pd.factorize(ids, use_na_sentinel=False)  # one hash per distinct id
    hashed = np.empty(len(uniques), dtype=object)
    hashed[:] = [one(u) for u in uniques]
    return pd.Series(hashed[position], index=ids.index, name=ids.name)


#: An e-mail address: a run of local-part characters, ``@``, a domain of dot-separated labels. Linear
#: time on any text: a match may only start where a run of local-part characters starts (the
#: look-behind), and the possessive ``++`` runs never give characters back, so every character is
#: looked at a bounded number of times (the earlier ``[\w.+-]+@...`` retried each start inside a
#: run: quadratic, over 300 s on a 1 MB comment).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)+")
#: A phone number: 7 to 15 digits (E.164 allows 15), optionally after ``+country`` and a bracketed
#: area code, the digits separated by up to two spaces, dots or dashes: ``13912345678``,
#: ``139-1234-5678``, ``139.1234.5678``, ``139 1234 5678``, ``(021) 6123-4567``, ``021-61234567``,
#: ``+86 139 1234 5678``, ``+86 (21) 6123 4567``. Bounded repetitions whose separators are never
#: digits: linear time.
_PHONE = re.compile(
    r"(?<!\d)(?:\+\d{1,3}[\s.-]{0,2})?(?:\(\+?\d{1,4}\)[\s.-]{0,2})?\d(?:[\s.-]{0,2}\d){6,14}(?!\d)"
)


def mask_text(text: str) -> str:
    """``text`` with Chinese ID numbers whose GB 11643 check digit is valid replaced by ``[id]``
    (:func:`analysis.comments.mask_cn_ids`), e-mail addresses by ``[email]`` and phone numbers by
    ``[phone]``."""
    from .comments import mask_cn_ids

    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", mask_cn_ids(text)))


def mask_contact_details(text: pd.Series) -> pd.Series:
    """Mask e-mail addresses and phone numbers typed into open-ended answers (linear time)."""

    def one(v: object) -> object:
        if not isinstance(v, str):
            return v
        return mask_text(v)

    return text.map(one).astype(object)


#: A word of an open-ended answer that may be a customer number: letters, digits, ``_`` and ``-``
#: (possessive: linear time on any text).
_ID_WORD = re.compile(r"[\w-]++")
#: The shortest customer id masked in open-ended answers (a shorter one, ``C1``, is also a word).
MIN_MASKED_ID = 4


def mask_customer_ids(text: pd.Series, ids: pd.Series) -> pd.Series:
    """Open-ended answers with every customer number of the wave replaced by ``[customer]``.

    Input: the answers and the wave's raw customer-id column. A word of an answer (a run of
    letters, digits, ``_``, ``-``) that equals a customer id of at least :data:`MIN_MASKED_ID` (4)
    characters holding a digit is masked: a respondent who types a customer number (theirs or
    another's) must not carry it past the keyed hash. One pass, one set look-up per word: linear.
    """
    known = {
        v for v in (str(x).strip() for x in ids.dropna().unique())
        if len(v) >= MIN_MASKED_ID and any(ch.isdigit() for ch in v)
    }
    if not known:
        return text

    def one(v: object) -> object:
        if not isinstance(v, str):
            return v
        return _ID_WORD.sub(lambda m: "[customer]" if m.group(0) in known else m.group(0), v)

    return text.map(one).astype(object)


#: The longest respondent id written as it is.
MAX_ID_LENGTH = 64
#: Characters no respondent id has: field separators and line breaks. An id holding one is a row
#: whose separators did not split it (semicolons in a comma file): the whole line, with names and
#: phone numbers, would otherwise land in the id.
_NOT_IN_ID = re.compile(r"[,;\t|\r\n]")
#: A respondent id that is only digits and phone separators, and a Chinese mobile number's digits
#: (with or without the country code 86): such an id is a phone number.
_MOBILE_ID = re.compile(r"[\d\s().+-]{11,20}")
_MOBILE = re.compile(r"(?:86)?1[3-9]\d{9}")
#: What value_issues.csv writes for a value that is not one of the known kinds.
VALUE_HIDDEN = "value not shown"
#: What is written instead of an implausible respondent id.
INVALID_ID = "[invalid id]"


def safe_respondent_id(value: object) -> object:
    """A respondent id as it may be written to an output.

    An id is written as it is unless it is implausible: longer than :data:`MAX_ID_LENGTH`
    (64) characters, or holding a field separator (``,`` ``;`` tab ``|``), a line break, an
    e-mail address, a Chinese mobile number (``139-1234-5678``, ``+86 13912345678``) or a
    Chinese ID number (valid check digit). Such an id is a broken row or personal data, and becomes ``[invalid id]``
    (the log's ``row`` still says which raw row it was). A missing id stays missing.
    """
    if not isinstance(value, str):
        return value
    if len(value) > MAX_ID_LENGTH or _NOT_IN_ID.search(value) or "@" in value and _EMAIL.search(value):
        return INVALID_ID
    if _MOBILE_ID.fullmatch(value) and _MOBILE.fullmatch(re.sub(r"\D", "", value)):
        return INVALID_ID  # a mobile phone number used as the respondent id
    from .comments import mask_cn_ids

    if "[id]" in mask_cn_ids(value):  # a Chinese ID number
        return INVALID_ID
    return value


def safe_value(value: object) -> object:
    """A value_issues.csv ``value`` as it may be written: one of the kinds in
    :data:`analysis.ingest.VALUE_KINDS`, else :data:`VALUE_HIDDEN`. A raw cell's content (a phone or
    customer number typed into a rating cell) never reaches an output, whatever a caller passed."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return value
    return value if isinstance(value, str) and value in VALUE_KINDS else VALUE_HIDDEN


# --------------------------------------------------------------------------- the wave
@dataclass
class CleanResult:
    """Everything cleaning produced for one wave.

    clean          kept rows: ``row``, ids, segments, duration, items (reverse-coded), open-ended
    log            one line per raw data row: row, kept, reason, plus checks (answered, longstring,
                   irv, mahalanobis_d2, outlier)
    value_issues   row, column, item, value, reason: answers set to missing
    attrition      step, removed, remaining
    dropped_columns  undeclared columns not carried forward
    pii_columns    declared PII columns present in the raw file (never carried forward)
    """

    survey: Survey
    wave: Wave
    clean: pd.DataFrame
    log: pd.DataFrame
    value_issues: pd.DataFrame
    attrition: pd.DataFrame
    dropped_columns: list[str] = field(default_factory=list)
    pii_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    separator: str | None = None
    speeder_cutoff: float = float("nan")

    @property
    def n_raw(self) -> int:
        return len(self.log)

    @property
    def n_kept(self) -> int:
        return int(self.log["kept"].sum())

    def tables(self) -> dict[str, pd.DataFrame]:
        """The cleaning outputs by store name: clean, cleaning_log, value_issues, attrition."""
        return {
            "clean": self.clean,
            "cleaning_log": self.log,
            "value_issues": self.value_issues[["row", "column", "value", "item", "reason"]],
            "attrition": self.attrition,
        }


def clean_wave(
    survey: Survey,
    wave: Wave,
    key_root: Path | None = None,
    raw: RawData | None = None,
    key: bytes | None = None,
) -> CleanResult:
    """Read a wave's raw export and apply every cleaning rule. Writes nothing.

    Returns a :class:`CleanResult`. Raises :class:`~analysis.errors.DataError`
    for an unreadable file or a column the survey declares but the file lacks.
    """
    raw = raw if raw is not None else read_raw(wave.raw)
    columns = resolve_columns(survey, raw)
    rules = survey.cleaning
    coded = code_items(survey, raw, columns)
    codes = coded.codes
    issues = [coded.issues]
    index = raw.frame.index
    asked = survey.asked(codes)
    codes, not_asked = drop_unasked_answers(codes, asked, columns)
    issues.append(not_asked)

    # rule 0: a CSV line with the wrong number of fields (its cells were emptied on reading)
    reason = pd.Series("", index=index, dtype=object)
    reason[index.isin(raw.bad_rows)] = "field_count"
    # rule 1: duplicate respondent ids
    if survey.respondent_id:
        ids = raw.frame[columns[survey.respondent_id]].astype(str).str.strip()
        reason[(reason == "") & duplicate_ids(ids)] = "duplicate_id"
    # rule 2: the same answers as an earlier row (a re-submission): coded items, open-ended answers,
    # segments and customer id; submission time, duration, PII and undeclared columns may differ
    same_person = [columns[c] for c in (*survey.segments, *survey.open_ended, survey.customer_id) if c]
    answers = pd.concat(
        [codes, raw.frame[same_person].astype(str).apply(lambda col: col.str.strip())], axis=1
    )
    dup_rows = duplicate_rows(answers)
    reason[(reason == "") & dup_rows] = "duplicate_row"
    # rule 3: incomplete (over the items each respondent was asked)
    answered = answered_share(codes, asked)
    reason[(reason == "") & (answered < rules.min_answered)] = "incomplete"
    # rule 4: speeders
    cutoff = float("nan")
    duration = None
    if survey.duration:
        duration, dur_issues = numeric_column(raw, columns[survey.duration], "not a number of seconds")
        issues.append(dur_issues)
        fast, cutoff = speeders(duration, rules.speeder_fraction)
        reason[(reason == "") & fast] = "speeder"
    # rule 5: straight-liners, on raw answers (before reverse-coding)
    grids: dict[str, list[str]] = {}
    for item in survey.items:
        grids.setdefault(item.scale, []).append(item.id)
    ends = None if rules.straightline_extremes else {
        g: (survey.scales[g].min, survey.scales[g].max) for g in grids
    }
    reverse_ends = {i.id: (survey.scales[i.scale].min, survey.scales[i.scale].max) for i in survey.items if i.reverse}
    straight = straightliners(codes, grids, rules.straightline_min_items, ends, reverse_ends)
    reason[(reason == "") & straight] = "straightliner"
    kept = reason == ""

    # checks reported for every row
    battery = codes[survey.item_ids]
    log = pd.DataFrame(
        {
            "row": index.to_numpy(),
            "kept": kept.to_numpy(),
            "reason": reason.to_numpy(),
            "answered": answered.round(4).to_numpy(),
            "longstring": longstring(battery).to_numpy(),
            "irv": irv(battery).round(4).to_numpy(),
        }
    )
    if survey.respondent_id:
        respondents = raw.frame[columns[survey.respondent_id]].astype(str).map(safe_respondent_id)
        log.insert(1, "respondent", respondents.to_numpy())
    if raw.notes:  # what reading changed in a row: NUL characters removed, an overlong cell cut
        log["note"] = ["; ".join(raw.notes.get(int(r), [])) for r in index]
    # rule 6: outliers among kept rows (flag only), on the items asked of everyone: an item skipped by
    # design (asked_if) would be mean-imputed for everyone not asked, which distorts the distances
    everyone = [i for i in survey.item_ids if i not in survey.conditional_items]
    d2 = pd.Series(np.nan, index=index)
    if kept.sum() > len(everyone) + 1:
        d2[kept] = mahalanobis_d2(codes.loc[kept, everyone])
    df = int((codes.loc[kept, everyone].std() > 0).sum())
    d2_cut = float(stats.chi2.isf(rules.outlier_alpha, df)) if df else np.inf
    log["mahalanobis_d2"] = d2.round(3).to_numpy()
    log["outlier"] = (d2 > d2_cut).to_numpy()

    # the clean table
    reverse = {
        i.id: (survey.scales[i.scale].min, survey.scales[i.scale].max) for i in survey.items if i.reverse
    }
    items = reverse_code(codes, reverse)
    parts: dict[str, pd.Series] = {"row": pd.Series(index.to_numpy(), index=index)}
    if survey.respondent_id:
        parts[survey.respondent_id] = (
            raw.frame[columns[survey.respondent_id]].astype(str).str.strip().map(safe_respondent_id)
        )
    if survey.customer_id:
        key = key if key is not None else id_key(key_root or Path.cwd())
        parts[survey.customer_id] = hash_ids(raw.frame[columns[survey.customer_id]], key)
    for seg in survey.segments:  # groups by the segment codebook: labels, bins, order (an ordered Categorical)
        parts[seg] = segment_groups(text_column(raw, columns[seg]), survey.segment(seg), survey.language)
    if duration is not None and survey.duration:
        parts[survey.duration] = duration
    for item_id in survey.rated_items:
        parts[item_id] = items[item_id]
    for col in survey.open_ended:
        parts[col] = mask_contact_details(text_column(raw, columns[col]))
        if survey.customer_id:
            parts[col] = mask_customer_ids(parts[col], raw.frame[columns[survey.customer_id]])
    clean = pd.DataFrame(parts).loc[kept].reset_index(drop=True)

    # accounting
    steps = [("raw data rows", 0, len(index))]
    remaining = len(index)
    for rule in RULES:
        n = int((reason == rule).sum())
        if rule == "field_count" and n == 0:  # shown only when the export had broken lines
            continue
        remaining -= n
        steps.append((rule, n, remaining))
    attrition = pd.DataFrame(steps, columns=["step", "removed", "remaining"])
    attrition["description"] = attrition["step"].map(RULE_TEXT).fillna(word("cleaning_rule.raw", "en"))
    attrition.loc[len(attrition)] = ["kept", 0, remaining, word("cleaning_rule.kept", "en")]
    attrition.loc[len(attrition)] = [
        "outlier (flagged, kept)",
        0,
        int(log["outlier"].sum()),
        word("cleaning_rule.outlier", "en", alpha=f"{rules.outlier_alpha:g}"),
    ]

    value_issues = (
        pd.concat([f for f in issues if len(f)], ignore_index=True)
        if any(len(f) for f in issues)
        else (pd.DataFrame(columns=["row", "column", "item", "value", "reason"]))
    )
    value_issues = value_issues.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    value_issues["value"] = value_issues["value"].astype(object).map(safe_value)
    declared = set(columns.values())
    pii_present = [c for c in raw.frame.columns if c in survey.pii]
    dropped = [c for c in raw.frame.columns if c not in declared and c not in survey.pii]
    return CleanResult(
        survey=survey,
        wave=wave,
        clean=clean,
        log=log,
        value_issues=value_issues,
        attrition=attrition,
        dropped_columns=dropped,
        pii_columns=pii_present,
        encoding=raw.encoding,
        separator=raw.separator,
        speeder_cutoff=cutoff,
    )
