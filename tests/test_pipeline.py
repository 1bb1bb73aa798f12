"""End to end: `csat run` on the shipped demo survey, executed notebooks and all (CONTRACT sections 3-4).

One run of the whole demo program (three waves, papermill notebooks, HTML) is
shared by every test in this file; it takes a minute or two.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.demo import simulate_program

ROOT = Path(__file__).resolve().parents[1]
WAVES = ["2025H1", "2025H2", "2026H1"]

pytestmark = pytest.mark.slow

CONTRACT_COLUMNS = {
    "cleaning_log.csv": ["row", "kept", "reason"],
    "value_issues.csv": ["row", "column", "value"],
    "item_stats.csv": ["item", "n", "mean", "sd", "top2box", "index"],
    "weights.csv": ["row", "weight"],
    "weighting.csv": ["variable", "group", "target", "sample_share", "weighted_share"],
    "reliability.csv": ["construct", "n_items", "alpha", "rho_c", "ave"],
    "csi_paths.csv": ["source", "target", "estimate", "se", "ci_low", "ci_high"],
    "group_tests.csv": [
        "variable",
        "group",
        "test",
        "statistic",
        "p",
        "p_adj",
        "effect_size",
        "effect_size_name",
    ],
    "zones.csv": ["type", "n", "share"],
    "ipa.csv": ["item", "importance", "performance", "quadrant"],
    "kpis.csv": ["kpi", "value", "target", "status"],
    "comments.csv": ["row", "language", "codes", "sentiment"],
    "comment_codes.csv": ["code", "n", "share", "ci_low", "ci_high", "mean_satisfaction"],
}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copy the demo program's inputs to a fresh folder and run `csat run` there once."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    before = {p: p.read_bytes() for p in (root / "data" / "raw").iterdir()}
    status = main(
        ["run", "--survey", str(root / "params" / "survey.yaml"), "--out", str(root), "--no-progress"]
    )
    assert status == 0
    after = {p: p.read_bytes() for p in (root / "data" / "raw").iterdir()}
    assert before == after, "data/raw must never be modified"
    return root


@pytest.fixture(scope="session")
def program():
    return simulate_program()


@pytest.mark.parametrize("wave", WAVES)
def test_contract_outputs(demo_run: Path, wave: str) -> None:
    folder = demo_run / "data" / "processed" / wave
    assert (folder / "clean.parquet").exists()
    for name, columns in CONTRACT_COLUMNS.items():
        table = pd.read_csv(folder / name)
        assert list(table.columns[: len(columns)]) == columns or set(columns) <= set(table.columns), name
        assert len(table) > 0, name
    kpis = pd.read_csv(folder / "kpis.csv")
    assert set(kpis["status"]) <= {"met", "not met", "no target"}
    gt = pd.read_csv(folder / "group_tests.csv")
    assert (gt["p_adj"].dropna() >= gt["p"].dropna().reindex(gt["p_adj"].dropna().index) - 1e-12).all()
    assert gt["test"].eq("design_wald").any()  # the demo is weighted: design-based tests (issue 13)
    assert "se" in pd.read_csv(folder / "item_stats.csv").columns
    for report in (f"{wave}.html", "tracking.html", "index.html"):
        assert (demo_run / "reports" / report).exists()
    assert (demo_run / "reports" / "notebooks" / wave / "01_clean.ipynb").exists()
    assert not list((demo_run / "data" / "processed").glob(".staging*"))


@pytest.mark.parametrize("wave", WAVES)
def test_every_weighted_n_of_the_demo_has_n_eff(demo_run: Path, wave: str) -> None:
    """The demo is weighted: every table with an ``n`` column has ``n_eff`` beside it (issue 13; the
    exemptions and the unweighted counterpart are in test_weighting_mobi)."""
    from test_weighting_mobi import n_eff_audit

    folder = demo_run / "data" / "processed" / wave
    tables = {p.stem: pd.read_csv(p) for p in folder.glob("*.csv")}
    assert {"comment_codes", "wave_change", "drivers", "csi_paths"} & set(tables)
    assert n_eff_audit(tables, weighted=True) == []


def test_weighted_demo_report_shows_the_unweighted_n(demo_run: Path) -> None:
    """The weighted demo's report says its figures are weighted and shows the unweighted n in its tables
    (the charts' own notes are checked on the figures in test_weighting_mobi)."""
    from analysis.words import word

    page = (demo_run / "reports" / "2026H1.html").read_text(encoding="utf-8")
    assert page.count(word("column.n_unweighted", "zh")) >= 4
    assert word("column.value_weighted", "zh") in page and word("column.mean_weighted", "zh") in page


def test_wave_change_only_with_baseline(demo_run: Path) -> None:
    processed = demo_run / "data" / "processed"
    assert not (processed / "2025H1" / "wave_change.csv").exists()
    first = pd.read_csv(processed / "2025H1" / "kpis.csv")
    assert not first["kpi"].str.endswith("_change").any()  # no change KPI without a baseline
    later = pd.read_csv(processed / "2026H1" / "kpis.csv").set_index("kpi")
    assert later.loc["index_change", "status"] in ("met", "not met")
    for wave in ("2025H2", "2026H1"):
        change = pd.read_csv(processed / wave / "wave_change.csv")
        assert list(change.columns[:1]) == ["metric"]
        assert {"baseline", "current", "diff", "ci_low", "ci_high", "p"} <= set(change.columns)
        assert (change["diff"] - (change["current"] - change["baseline"])).abs().max() < 1e-9


@pytest.mark.parametrize("wave", WAVES)
def test_cleaning_finds_exactly_the_planted_dirt(demo_run: Path, program, wave: str) -> None:
    truth = program.waves[wave]
    log = pd.read_csv(demo_run / "data" / "processed" / wave / "cleaning_log.csv", keep_default_na=False)
    assert len(log) == len(truth.raw)  # one line per raw data row
    assert log["row"].tolist() == list(range(1, len(truth.raw) + 1))
    assert log["reason"].tolist() == truth.truth_rows["reason"].fillna("").tolist()
    issues = pd.read_csv(demo_run / "data" / "processed" / wave / "value_issues.csv", dtype=str)
    got = set(zip(issues["row"].astype(int), issues["value"], strict=True))
    # value_issues.csv shows the kind of each planted value, never the value: the planted codes
    # out of range are 0 (below every demo scale) or 8, 9, 11, 77 (above it)
    tv = truth.truth_values

    def kind(value: str, planted: str) -> str:
        if planted == "unmatched_label":
            return "text matching no label"
        return "number below the scale" if value == "0" else "number above the scale"

    expected = {
        (int(r), kind(str(v), k)) for r, v, k in zip(tv["row"], tv["value"], tv["kind"], strict=True)
    }
    assert got == expected


def test_planted_segment_change_is_found(demo_run: Path, program) -> None:
    effect = program.effects[(program.effects["wave"] == "2026H1") & (program.effects["region"] != "all")]
    region = effect["region"].iloc[0]
    change = pd.read_csv(demo_run / "data" / "processed" / "2026H1" / "wave_change.csv").set_index("metric")
    planted = change.loc[f"CSI | region = {region}"]
    assert planted["diff"] < 0 and planted["p"] < 0.001
    assert planted["p_adj"] < 0.05 and planted["significant"]  # still found with Holm over all change rows
    others = [m for m in change.index if m.startswith("CSI | region = ") and not m.endswith(region)]
    assert sum(change.loc[m, "p"] < 0.001 and change.loc[m, "diff"] < -2 for m in others) == 0
    # the planted drop shows as a shift in customer types: fewer apostles in that region
    z = pd.read_csv(demo_run / "data" / "processed" / "2026H1" / "zones_by_segment.csv")
    z0 = pd.read_csv(demo_run / "data" / "processed" / "2025H2" / "zones_by_segment.csv")

    def apostle_share(t: pd.DataFrame) -> float:
        rows = t[(t["segment"] == "region") & (t["group"] == region) & (t["type"] == "apostle")]
        return float(rows["share"].iloc[0])

    assert apostle_share(z) < apostle_share(z0)


def test_ipa_has_a_concentrate_here_item(demo_run: Path) -> None:
    ipa = pd.read_csv(demo_run / "data" / "processed" / "2026H1" / "ipa.csv")
    assert (ipa["quadrant"] == "Concentrate here").any()


def test_no_pii_anywhere_in_outputs(demo_run: Path, program) -> None:
    pii_values = set()
    for wave in program.waves.values():
        for col in ("name", "phone", "email", "cust_no"):
            pii_values |= {str(v) for v in wave.raw[col].dropna().unique() if len(str(v)) >= 5}
    assert len(pii_values) > 1000
    texts = []
    for folder in ("data/processed", "reports"):
        for path in (demo_run / folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if path.suffix == ".parquet":
                    data = pd.read_parquet(path).to_csv().encode()
                texts.append(data.decode("utf-8", "ignore"))
    blob = "\n".join(texts)
    leaked = [v for v in pii_values if v in blob]
    assert leaked == []


def test_verbatims_escaped_in_report(demo_run: Path) -> None:
    page = (demo_run / "reports" / "2025H1.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_is_self_contained_and_has_provenance(demo_run: Path) -> None:
    from analysis.publish import external_references
    from analysis.survey import sha256_file

    for name in ("2026H1.html", "tracking.html", "index.html"):
        page = (demo_run / "reports" / name).read_text(encoding="utf-8")
        assert external_references(page) == []
    page = (demo_run / "reports" / "2026H1.html").read_text(encoding="utf-8")
    assert sha256_file(demo_run / "data" / "raw" / "2026H1.xlsx") in page
    assert sha256_file(demo_run / "params" / "survey.yaml") in page
    assert page.count("data:image/png;base64") >= 4


def test_rerun_skips_unchanged_waves(demo_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stamp = json.loads((demo_run / "data" / "processed" / "2025H1" / ".csat_stamp.json").read_text())
    status = main(
        ["run", "--survey", str(demo_run / "params" / "survey.yaml"), "--out", str(demo_run), "--no-progress"]
    )
    assert status == 0
    assert "Skipped 3 unchanged wave(s)" in capsys.readouterr().out
    assert json.loads((demo_run / "data" / "processed" / "2025H1" / ".csat_stamp.json").read_text()) == stamp


def test_reports_pass_the_browser_check(demo_run: Path, tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Debian's Chromium (apt-get install chromium)")
    pytest.importorskip("playwright")
    shots = Path(os.environ.get("CSAT_SCREENSHOTS") or tmp_path / "shots")  # CI keeps them as an artefact
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "check_reports.py"),
            str(demo_run / "reports"),
            "--screenshots",
            str(shots),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list(shots.glob("*.png"))) == 5


def test_notebooks_run_in_jupyter_with_nbval(demo_run: Path) -> None:
    """The source notebooks, as an analyst opens them (default parameters, cwd notebooks/), pass nbval-lax."""
    shutil.copytree(ROOT / "notebooks", demo_run / "notebooks", dirs_exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            str(demo_run / "notebooks"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=demo_run,
        env={**os.environ, "CSAT_ID_KEY": os.environ.get("CSAT_ID_KEY", "test-key-0123456789")},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_tracking_keeps_earlier_waves_when_one_wave_is_run(demo_run: Path) -> None:
    from analysis.runner import tracked_waves
    from analysis.survey import load_survey, load_wave

    survey = load_survey(demo_run / "params" / "survey.yaml")
    only = [load_wave(demo_run / "params" / "waves" / "2026H1.yaml")]
    tracked = tracked_waves(survey, only, demo_run / "data" / "processed")
    assert [w.id for w in tracked] == WAVES


def _contact_details(texts: pd.Series) -> set[str]:
    """Phone numbers, e-mail addresses and ID numbers typed into the demo's comments, as typed and as bare
    digits."""
    import re

    found: set[str] = set()
    for text in texts:
        for pat in (r"\+?\(?\d[\d ()-]{8,}\d", r"[\w.]+@[\w.]+\w", r"\d{17}[\dX]"):
            for m in re.findall(pat, text, flags=re.ASCII):
                found.add(m.strip())
                digits = re.sub(r"\D", "", m)
                if len(digits) >= 11:
                    found.add(digits)
    return found


def test_no_typed_phone_email_or_id_reaches_any_output(demo_run: Path, program) -> None:
    """Every output file (tables, executed notebooks, HTML reports) is free of the phone numbers, e-mail
    addresses and ID numbers the demo typed into its comments (CONTRACT: no PII outside data/raw)."""
    planted = pd.concat([w.truth_comments for w in program.waves.values()])
    needles = _contact_details(planted.loc[planted["pii"] != "", "text"])
    assert len(needles) >= 10
    files = [p for p in (demo_run / "data" / "processed").rglob("*") if p.is_file()]
    files += [p for p in (demo_run / "reports").rglob("*") if p.suffix in (".html", ".ipynb")]
    assert any(p.name == "comments.csv" for p in files) and any(p.suffix == ".html" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            body = "\n".join(map(str, frame.to_numpy().ravel()))
        else:
            body = path.read_text(encoding="utf-8", errors="replace")
        bare = "".join(ch for ch in body if ch.isdigit() or ch == "\n")
        for n in needles:
            assert n not in body, (path.name, n)
            if n.isdigit():
                assert n not in bare, (path.name, n)


def test_comment_section_in_every_wave_report(demo_run: Path) -> None:
    for wave in WAVES:
        html = (demo_run / "reports" / f"{wave}.html").read_text(encoding="utf-8")
        assert 'id="comments"' in html
        codes = pd.read_csv(demo_run / "data" / "processed" / wave / "comment_codes.csv")
        assert len(codes) == 6 and codes["n"].min() >= 5

# --------------------------------------------------------------------------- PDF and Word beside the HTML
def _zh(key: str) -> str:
    import yaml

    words = yaml.safe_load((ROOT / "src" / "analysis" / "i18n" / "zh.yaml").read_text(encoding="utf-8"))
    for part in key.split("."):
        words = words[part]
    return words


@pytest.mark.parametrize("wave", WAVES)
def test_pdf_and_docx_beside_each_wave_report(demo_run: Path, wave: str) -> None:
    """Every demo wave has a PDF (fonts embedded, the summary on page one with the headline numbers, the
    HTML's Chinese headings in its text, no glyph missing) and a Word file (>= 3 tables, >= 4 charts)."""
    from fontTools.ttLib import TTFont

    from analysis import documents, typeset
    from analysis.publish import page_headings
    from report_files import pdf_fonts, pdf_text, read_docx

    reports = demo_run / "reports"
    pdf, word_file, html = (reports / f"{wave}.{ext}" for ext in ("pdf", "docx", "html"))
    fonts = pdf_fonts(pdf)
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts

    head = pd.read_csv(demo_run / "data" / "processed" / wave / "headline.csv").set_index("metric")["value"]
    first = " ".join(pdf_text(pdf, 1, 1).split())
    assert _zh("section.summary") in first and _zh("summary_page.actions_title") in first
    assert _zh("section.kpis") not in first  # the summary has page one to itself
    for number in (f"{head['csi']:.1f}", f"{100 * head['satisfaction_rate']:.1f}%", f"{head['nps']:.1f}"):
        assert number in first, number
    text = " ".join(pdf_text(pdf).split())
    headings = [t for level, _, t in page_headings(html.read_text(encoding="utf-8")) if level == 2]
    assert len(headings) >= 8
    for heading in headings:
        assert heading in text, heading

    doc = documents.from_notebook(reports / "notebooks" / wave / "05_report.ipynb", "t", "zh")
    font = next(p for d in typeset.font_dirs() for p in d.glob("NotoSansCJKsc-Regular.otf"))
    cmap = TTFont(font).getBestCmap()
    assert sorted({c for c in doc.text() if not c.isspace() and ord(c) not in cmap}) == []

    word = read_docx(word_file)
    assert len(word.tables) >= 3 and word.pictures >= 4 and all(word.header_rows)
    assert _zh("section.summary") in word.paragraphs


def test_pdf_and_docx_beside_the_tracking_report(demo_run: Path) -> None:

    from report_files import pdf_fonts, pdf_text, read_docx

    reports = demo_run / "reports"
    assert all(f["emb"] == "yes" for f in pdf_fonts(reports / "tracking.pdf"))
    text = " ".join(pdf_text(reports / "tracking.pdf").split())
    for key in ("section.kpis", "section.trends", "section.segments", "section.types", "section.provenance"):
        assert _zh(key) in text
    word = read_docx(reports / "tracking.docx")
    assert len(word.tables) >= 3 and word.pictures >= 3


def test_printed_demo_report_clips_no_table(demo_run: Path, tmp_path: Path) -> None:
    from test_print import CHROMIUM, print_report

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium (.ci/run installs it)")
    assert print_report(demo_run / "reports" / "2025H2.html", tmp_path / "printed.pdf") == []


def test_missing_documents_are_made_again_without_rerunning(demo_run: Path) -> None:
    """A re-run that skips every wave still writes a deleted PDF / Word file, from the executed notebook."""
    pdf = demo_run / "reports" / "2025H1.pdf"
    pdf.unlink()
    status = main(["run", "--survey", str(demo_run / "params" / "survey.yaml"), "--out", str(demo_run), "--no-progress"])
    assert status == 0 and pdf.read_bytes()[:5] == b"%PDF-"


def test_index_links_every_format(demo_run: Path) -> None:
    page = (demo_run / "reports" / "index.html").read_text(encoding="utf-8")
    for wave in WAVES:
        for ext in ("html", "pdf", "docx"):
            assert f'href="{wave}.{ext}"' in page


def test_engine_quarto_renders_through_quarto_when_on_path(
    demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`csat run --engine quarto` hands the report's Markdown to the quarto on PATH (a stand-in here)."""
    from test_typeset import fake_quarto

    (tmp_path / "bin").mkdir()
    fake_quarto(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("QUARTO_LOG", str(tmp_path / "log"))
    reports = demo_run / "reports"
    keep = {ext: (reports / f"2025H2.{ext}").read_bytes() for ext in ("pdf", "docx")}
    for ext in keep:
        (reports / f"2025H2.{ext}").unlink()
    try:
        status = main(
            ["run", "--survey", str(demo_run / "params" / "survey.yaml"), "--out", str(demo_run), "--no-progress",
             "--engine", "quarto"]
        )
        assert status == 0
        assert (reports / "2025H2.pdf").read_text() == "made by quarto"
        assert "--to typst" in (tmp_path / "log").read_text()
    finally:
        for ext, data in keep.items():
            (reports / f"2025H2.{ext}").write_bytes(data)
