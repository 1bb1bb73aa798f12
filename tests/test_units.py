"""analysis.units: one report per group of a segment, fanned out on Dask, the same bytes as a serial run."""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from analysis import units
from analysis.privacy import MIN_CELL
from analysis.survey import load_survey, load_wave
from analysis.wave import WaveAnalysis

REPO = Path(__file__).resolve().parent.parent
SURVEY = REPO / "params" / "survey.yaml"
WAVES = [REPO / "params" / "waves" / f"{w}.yaml" for w in ("2025H1", "2025H2")]


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    """The demo's first two waves cleaned, indexed and headlined into a processed folder (no notebooks)."""
    out = tmp_path_factory.mktemp("units")
    for path in WAVES:
        wa = WaveAnalysis.load(SURVEY, path, out_root=out)
        wa.clean()
        wa.index(n_boot=200)
        wa.headline()
        wa.save()
    return out


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_file_stem_is_safe_and_unique():
    names = ["华东", "A/B", "A_B", "..", "", "<script>x</script>", "a b", "x" * 200]
    stems = [units.file_stem(n) for n in names]
    assert stems[0] == "华东"  # a name of letters stays as it is
    assert len(set(stems)) == len(stems)
    for stem in stems:
        assert re.fullmatch(r"[\w-]+", stem) and not stem.startswith((".", "-")) and len(stem) <= 69


def _weighted_rate(clean: pd.DataFrame, weights: pd.DataFrame, inside: pd.Series, item: str, levels) -> float:
    """The weighted share of ``levels`` among the answered rows ``inside``, by hand (weights.csv by row)."""
    w = clean["row"].map(weights.set_index("row")["weight"])
    ok = inside & clean[item].notna()
    return float((w[ok] * clean.loc[ok, item].isin(levels)).sum() / w[ok].sum())


def test_unit_numbers_are_the_groups_own(processed):
    """The demo is weighted: the unit's satisfaction rate is the domain estimate, the whole wave's weights
    restricted to the group's rows, by hand; n is the group's own count; the baseline group likewise with
    its own saved weights; the page says it is weighted."""
    from analysis.words import word

    survey, wave = load_survey(SURVEY), load_wave(WAVES[1])
    tasks, left_out = units.unit_tasks(survey, wave, "region", processed / "data" / "processed")
    folder = processed / "data" / "processed"
    clean = pd.read_parquet(folder / "2025H2" / "clean.parquet")
    weights = pd.read_csv(folder / "2025H2" / "weights.csv")
    assert [t.group for t in tasks] == sorted(clean["region"].dropna().unique()) and not left_out
    task = tasks[0]
    wa = units.unit_analysis(task)
    inside = clean["region"] == task.group
    sat = clean.loc[inside, survey.overall_satisfaction].dropna()
    head = wa.read("headline").set_index("metric")
    rate = _weighted_rate(clean, weights, inside, survey.overall_satisfaction, survey.satisfied)
    assert head.loc["satisfaction_rate", "value"] == pytest.approx(rate, abs=1e-12)
    assert abs(rate - sat.isin(survey.satisfied).mean()) > 1e-6  # weighted, not the plain share
    assert head.loc["satisfaction_rate", "n"] == len(sat) and "n_eff" in head.columns
    assert len(task.baseline) > MIN_CELL and wa.has("wave_change")  # the same group of 2025H1
    base = pd.read_parquet(folder / "2025H1" / "clean.parquet")
    base_rate = _weighted_rate(base, pd.read_csv(folder / "2025H1" / "weights.csv"), base["region"] == task.group,
                               survey.overall_satisfaction, survey.satisfied)
    change = wa.read("wave_change").set_index("metric").loc["satisfaction_rate"]
    assert change["baseline"] == pytest.approx(base_rate, abs=1e-12)
    assert change["method"] == "design_z_paired" and change["n_paired"] > 0  # the demo links customers
    page = units.render(task, wa)
    text = _text(page)
    assert f"{int(inside.sum())}" in text and "<script" not in page
    assert word("column.value_weighted", wa.language) in text
    whole = _weighted_rate(clean, weights, clean["region"].notna() | True, survey.overall_satisfaction, survey.satisfied)
    assert f"{whole:.1%}" in text and f"{rate:.1%}" in text


def test_local_cluster_gives_the_serial_bytes(processed):
    """Two workers (threads of this process) write the same pages, byte for byte, as a serial run."""
    survey, wave = load_survey(SURVEY), load_wave(WAVES[0])
    tasks, _ = units.unit_tasks(survey, wave, "channel", processed / "data" / "processed")
    serial = units.fan_out(units.unit_report, tasks, scheduler="serial")
    on_dask = units.fan_out(units.unit_report, tasks, workers=2, processes=False)
    assert [g for g, _ in serial] == [t.group for t in tasks]
    assert on_dask == serial


def test_small_groups_skipped_and_listed_escaped(processed, tmp_path):
    """A group under the privacy minimum gets no page and is named (escaped) in the index; a hostile group
    name is escaped in its page and sanitised in its file name."""
    out = tmp_path / "out"
    shutil.copytree(processed / "data", out / "data")
    clean_path = out / "data" / "processed" / "2025H1" / "clean.parquet"
    clean = pd.read_parquet(clean_path)
    clean["region"] = clean["region"].astype(object)  # a categorical segment takes no new names
    clean.loc[clean.index[: MIN_CELL - 1], "region"] = "<b>tiny</b>"
    clean.loc[clean.index[MIN_CELL : MIN_CELL + 150], "region"] = "<i>x</i>/../evil"
    clean.to_parquet(clean_path)
    # the edited rows have regions the margins do not list: this test of names runs unweighted
    survey, wave = replace(load_survey(SURVEY), weighting=None), replace(load_wave(WAVES[0]), margins={})
    done = units.write_unit_reports(survey, [wave], "region", out, scheduler="serial")
    pages = done.pages["2025H1"]
    assert "<b>tiny</b>" not in pages and done.skipped["2025H1"] == ["<b>tiny</b>"]
    evil = pages["<i>x</i>/../evil"]
    assert evil.parent == out / "reports" / "units" / "2025H1" and evil.exists()
    page = evil.read_text(encoding="utf-8")
    assert "<i>x</i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    index = done.index.read_text(encoding="utf-8")
    assert "&lt;b&gt;tiny&lt;/b&gt;" in index and "<b>tiny" not in index
    for path in pages.values():
        assert html.escape(f"2025H1/{path.name}", quote=True) in index
    assert len(pages) == clean["region"].nunique() - 1


def test_units_key_must_be_a_segment(tmp_path):
    from analysis.errors import SurveyDefinitionError

    text = SURVEY.read_text(encoding="utf-8") + "\nunits: regoin\n"
    (tmp_path / "survey.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SurveyDefinitionError, match="units"):
        load_survey(tmp_path / "survey.yaml")
    (tmp_path / "survey.yaml").write_text(SURVEY.read_text(encoding="utf-8") + "\nunits: region\n", encoding="utf-8")
    assert load_survey(tmp_path / "survey.yaml").units == "region"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_csat_run_units_on_a_dask_scheduler_and_two_workers(tmp_path):
    """`dask scheduler` + 2 `dask worker` processes; `csat run --units region --scheduler tcp://...` writes
    every region's report for every wave run."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "params", project / "params")
    shutil.copytree(REPO / "data" / "raw", project / "data" / "raw")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "CSAT_ID_KEY": "fixed-test-key-0123456789", "OPENBLAS_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        time.sleep(3)
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(3)
        waves = ["--wave", "params/waves/2025H1.yaml", "--wave", "params/waves/2025H2.yaml"]
        res = subprocess.run(
            [str(bin_dir / "csat"), "run", *waves, "--no-progress", "--units", "region", "--scheduler", address],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert res.returncode == 0, res.stderr[-2000:]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    for wave in ("2025H1", "2025H2"):
        clean = pd.read_parquet(project / "data" / "processed" / wave / "clean.parquet")
        regions = sorted(clean["region"].dropna().unique())
        written = sorted(p.name for p in (project / "reports" / "units" / wave).glob("*.html"))
        assert written == sorted(f"{units.file_stem(r)}.html" for r in regions)
    assert (project / "reports" / "units" / "index.html").exists()


def test_a_wave_run_again_without_units_drops_its_old_unit_pages(tmp_path):
    from analysis.units import drop_stale_units

    root = tmp_path / "reports" / "units"
    for wave in ("w1", "w2"):
        (root / wave).mkdir(parents=True)
        (root / wave / "east.html").write_text("old", encoding="utf-8")
    (root / "index.html").write_text("index", encoding="utf-8")
    drop_stale_units(tmp_path, "w1")
    assert not (root / "w1").exists() and (root / "w2" / "east.html").exists() and (root / "index.html").exists()
    drop_stale_units(tmp_path, "w2")
    assert not root.exists()
    drop_stale_units(tmp_path, "w3")  # nothing there: no error
