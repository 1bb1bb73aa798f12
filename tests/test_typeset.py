"""PDF (Typst) and Word (pandoc) reports from the document model (analysis.typeset)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from fontTools.ttLib import TTFont

from analysis import typeset
from analysis.documents import Document, Heading, Image, ListBlock, Paragraph, Span, Table, png_size
from report_files import pdf_fonts, pdf_pages, pdf_text, png_bytes, read_docx

I18N = Path(typeset.__file__).resolve().parent / "i18n"
NASTY = "*bold* | pipe \\ back `tick` <script>alert(1)</script> [x](y) #h $1 @me {#id} 50%"


def image(seed: int) -> Image:
    png = png_bytes(seed)
    return Image(png, *png_size(png))


def document() -> Document:
    long_rows = [[f"题目 {k}", f"{k * 1.5:.1f}", f"{k % 7}.{k % 10}%"] for k in range(1, 121)]
    blocks = [
        Heading(1, "华信实业客户满意度调查 · 2025H2"),
        Heading(2, "执行摘要", "summary"),
        Table(["指标", "实际值", "变化"], [["满意度指数（0-100）", "73.6", "+2.6"], ["净推荐值（NPS）", "17.6", "+6.1"]]),
        ListBlock([[Span("已达标", strong=True), Span("：问卷回收率。")]]),
        ListBlock([[Span("交货周期")], [Span("价格合理性")]], ordered=True),
        Heading(2, "目标达成情况", "kpis"),
        Table(["指标", "状态"], [["满意率", "未达标"], ["回收率", "达标"]], status=[["", "not-met"], ["", "met"]]),
        Paragraph([Span(NASTY)]),
        Heading(2, "各题目满意度", "results"),
        *[image(k) for k in range(1, 5)],
        Table(["题目名称", "均值", "前两档占比"], long_rows),
        Heading(2, "数据来源", "provenance"),
        Table(["类别", "名称", "内容"], [["输入文件", "survey.yaml", "75d52e84364a906e44fe7a7f08a01c38c08151b213dbedff69f68468d0d795f7"]]),
    ]
    return Document("华信实业客户满意度调查 2025H2", "zh", blocks)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    return typeset.write_pdf(document(), tmp_path_factory.mktemp("pdf") / "r.pdf")


@pytest.fixture(scope="module")
def word_file(tmp_path_factory) -> Path:
    return typeset.write_docx(document(), tmp_path_factory.mktemp("docx") / "r.docx")


def test_pdf_text_holds_the_headings_numbers_and_literal_text(pdf):
    text = pdf_text(pdf)
    for s in ("执行摘要", "目标达成情况", "各题目满意度", "数据来源", "73.6", "+2.6", "17.6", "题目 120"):
        assert s in text
    flat = " ".join(text.split())
    assert NASTY in flat


def test_pdf_embeds_every_font(pdf):
    fonts = pdf_fonts(pdf)
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
    assert any("NotoSansCJK" in f["name"] for f in fonts)


def test_pdf_summary_is_page_one_and_sections_start_new_pages(pdf):
    first = pdf_text(pdf, 1, 1)
    assert "执行摘要" in first and "交货周期" in first and "目标达成情况" not in first
    assert "目标达成情况" in pdf_text(pdf, 2, 2)


def test_pdf_long_table_repeats_its_header_on_every_page(pdf):
    pages = [pdf_text(pdf, k, k) for k in range(1, pdf_pages(pdf) + 1)]
    long_pages = [p for p in pages if any(f"题目 {k} " in p for k in range(1, 121))]
    assert len(long_pages) >= 2
    for p in long_pages:
        assert "题目名称" in p and "前两档占比" in p  # the header row on each page the table runs over
    hash_text = pages[-1]  # a file hash is shown whole (copied from the PDF it is the hash)
    assert "75d52e84364a906e44fe7a7f08a01c38c08151b213dbedff69f68468d0d795f7" in hash_text


def test_docx_has_real_tables_with_repeated_headers_and_embedded_charts(word_file):
    d = read_docx(word_file)
    assert len(d.tables) == 4 and d.pictures == 4 and len(d.media) == 4
    kpi = d.tables[1]
    assert kpi[0] == ["指标", "状态"] and kpi[1] == ["满意率", "未达标"]
    assert len(d.tables[2]) == 121
    assert d.header_rows == [True] * 4  # the header row of each table repeats on every page
    assert d.page_breaks == 3  # a page break before each section but the summary
    assert NASTY in d.paragraphs and "执行摘要" in d.paragraphs


def test_markdown_escape_reads_back_as_the_same_text(tmp_path):
    import subprocess

    md = typeset.md_escape(NASTY)
    out = subprocess.run(
        [typeset.pandoc_path(), "-f", "markdown", "-t", "plain", "--wrap=none"],
        input=md.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert out.strip() == NASTY


def test_every_report_word_has_a_glyph_in_the_pdf_font():
    """No missing glyphs: every character of the language files is in Noto Sans CJK SC (the PDF's font)."""
    font = next(p for d in typeset.font_dirs() for p in d.glob("NotoSansCJKsc-Regular.otf"))
    cmap = TTFont(font).getBestCmap()

    def strings(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from strings(v)
        elif isinstance(x, str):
            yield x

    chars = set("▲▼→≥≤×−–·“”⚠✓…±")
    for lang in ("en", "zh"):
        for s in strings(yaml.safe_load((I18N / f"{lang}.yaml").read_text(encoding="utf-8"))):
            chars |= set(s)
    missing = sorted(c for c in chars if not c.isspace() and ord(c) not in cmap)
    assert missing == []


def test_numeric_columns_and_widths():
    t = Table(["a", "b", "c"], [["x", "73.6", "< 0.001"], ["yy", "+2.6", "58.9%"]])
    assert typeset.numeric_columns(t) == [False, True, True]
    w = typeset.column_weights(t)
    assert abs(sum(w) - 1) < 1e-3 and all(x > 0 for x in w)
    hashed = Table(["kind", "name", "value"], [["file", "params/survey.yaml", "a" * 64]])
    assert typeset.column_weights(hashed)[2] > 0.6  # an unbreakable hash gets the room it needs


def fake_quarto(folder: Path) -> Path:
    """A stand-in ``quarto`` that writes the output file it is asked for and logs its arguments."""
    script = folder / "quarto"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$@" >> "$QUARTO_LOG"\n'
        'out=""; prev=""; for a in "$@"; do [ "$prev" = "--output" ] && out="$a"; prev="$a"; done\n'
        'grep -q "执行摘要" report.qmd && printf "made by quarto" > "$out"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_quarto_engine_renders_the_same_markdown(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_quarto(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("QUARTO_LOG", str(tmp_path / "log"))
    pdf, word = typeset.write_quarto(document(), tmp_path / "r.pdf", tmp_path / "r.docx")
    assert pdf.read_text() == word.read_text() == "made by quarto"
    log = (tmp_path / "log").read_text().splitlines()
    assert log == ["render report.qmd --to typst --output report.pdf", "render report.qmd --to docx --output report.docx"]


def test_quarto_engine_without_quarto_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(typeset.RenderError, match="quarto"):
        typeset.write_quarto(document(), tmp_path / "r.pdf", tmp_path / "r.docx")


def test_csat_run_engine_quarto_without_quarto_stops_before_anything(small_survey, monkeypatch, capsys):
    from analysis.cli import main

    monkeypatch.setenv("PATH", str(small_survey / "no-bin"))
    out = small_survey / "out"
    status = main(["run", "--survey", str(small_survey / "params" / "survey.yaml"), "--out", str(out),
                   "--no-progress", "--engine", "quarto"])
    assert status == 2
    assert "--engine quarto needs the 'quarto' program on PATH" in capsys.readouterr().err
    assert not out.exists() or not any(out.rglob("*.html"))


def test_a_missing_font_stops_the_pdf(tmp_path, monkeypatch):
    monkeypatch.setattr(typeset, "font_dirs", lambda: [tmp_path])
    with pytest.raises(typeset.RenderError, match="font"):
        typeset.pdf_bytes(document())
