"""Printing the HTML report in Chromium (print stylesheet, templates/csat/static/print.css): wide tables fit
the page, nothing is clipped, the summary is page one and each section starts a new page."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.publish import render_html
from report_files import pdf_pages, pdf_text

CHROMIUM = Path("/usr/bin/chromium")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"),
]
pytest.importorskip("playwright", reason="needs the playwright package to drive Chromium")

HASH = "75d52e84364a906e44fe7a7f08a01c38c08151b213dbedff69f68468d0d795f7"
A4_WIDTH_MM, MARGIN_MM = 210, 12


def wide_table() -> pd.DataFrame:
    cols = ["Item"] + [f"Heading {k}" for k in range(1, 10)]
    rows = [[HASH[: 20 + k % 40]] + [f"value {k}.{j} with a longer note" for j in range(1, 10)] for k in range(60)]
    return pd.DataFrame(rows, columns=cols)


def styled(frame: pd.DataFrame) -> str:
    return frame.style.hide(axis="index").format(escape="html").to_html()


def notebook(path: Path) -> Path:
    v4 = nbformat.v4
    prov = pd.DataFrame({"kind": ["file"], "name": ["data/raw/2025H2_complaints.csv"], "value": [HASH]})
    nb = v4.new_notebook()

    def html(x: str):
        return v4.new_output("display_data", data={"text/html": x, "text/plain": "<Styler>"})

    nb.cells = [
        v4.new_markdown_cell("# 报告 2025H2\n\n## 执行摘要 {#summary}\n\n总体满意度指数 73.6。"),
        v4.new_markdown_cell("## 目标达成 {#kpis}"),
        v4.new_code_cell("t", outputs=[html(styled(wide_table()))]),
        v4.new_markdown_cell("## 数据来源 {#provenance}"),
        v4.new_code_cell("p", outputs=[html(styled(prov))]),
    ]
    nbformat.write(nb, path)
    return path


CLIPPED = """() => {
  const out = [];
  const page = document.documentElement.clientWidth;
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    if (r.right > page + 1 || r.left < -1) out.push(`table ${r.left}-${r.right} outside 0-${page}`);
    for (let a = t.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      const box = a.getBoundingClientRect();
      if (s.overflowX !== 'visible' && (r.right > box.right + 1 || r.left < box.left - 1))
        out.push(`table cut by ${a.tagName}.${a.className} (${s.overflowX})`);
    }
    for (const c of t.querySelectorAll('td, th')) {
      if (c.scrollWidth > c.clientWidth + 1) out.push(`cell overflows: ${c.textContent.slice(0, 30)}`);
    }
  }
  return out;
}"""


def print_report(html: Path, pdf: Path) -> list[str]:
    from check_reports import CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    width_px = round((A4_WIDTH_MM - 2 * MARGIN_MM) / 25.4 * 96)
    with tempfile.TemporaryDirectory(prefix="csat-print-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, offline=True,
            viewport={"width": width_px, "height": 1000},
        )
        try:
            page = context.new_page()
            page.goto(html.as_uri())
            page.emulate_media(media="print")
            problems = page.evaluate(CLIPPED)
            page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
        finally:
            context.close()
    return problems


def test_printed_report_fits_wide_tables_and_breaks_between_sections(tmp_path):
    html = render_html(notebook(tmp_path / "nb.ipynb"), tmp_path / "2025H2.html", title="报告", language="zh")
    pdf = tmp_path / "printed.pdf"
    assert print_report(html, pdf) == []
    flat = "".join(pdf_text(pdf, raw=True).split())
    assert "Heading9" in flat and "value59.9withalongernote" in flat  # the last column is on the page
    assert HASH in flat
    first = pdf_text(pdf, 1, 1)
    assert "执行摘要" in first and "目标达成" not in first  # the summary is page one, alone
    pages = ["".join(pdf_text(pdf, k, k, raw=True).split()) for k in range(2, pdf_pages(pdf) + 1)]
    assert pages[0].startswith("目标达成")
    long_pages = [p for p in pages if "withalongernote" in p]
    assert len(long_pages) >= 2 and all("Heading9" in p for p in long_pages)  # header row repeated
    assert any(p.startswith("数据来源") for p in pages)
