"""The document model read from an executed report notebook (analysis.documents)."""

from __future__ import annotations

import base64

import nbformat
import pandas as pd

from analysis import documents as d
from analysis.publish import kpi_html, verbatims_html
from report_files import png_bytes

v4 = nbformat.v4


def styler_html(frame: pd.DataFrame) -> str:
    return frame.style.hide(axis="index").format(escape="html").to_html()


def notebook() -> nbformat.NotebookNode:
    kpis = pd.DataFrame(
        {
            "kpi": ["satisfaction_rate", "nps"],
            "value": [0.91, 12.0],
            "target": [">= 0.90", ""],
            "status": ["met", "no target"],
            "note": ["", ""],
            "label_en": ["Satisfaction rate", "NPS"],
            "label_zh": ["满意率", "净推荐值"],
            "unit": ["share", "points"],
        }
    )
    table = pd.DataFrame({"题目": ["质量 <b>", "价格"], "均值": ["5.61", "4.20"]})
    nb = v4.new_notebook()
    out = [
        v4.new_output("display_data", data={"text/markdown": "# 报告 · 2025H1", "text/plain": "<Markdown>"}),
        v4.new_output("display_data", data={"text/markdown": "## 执行摘要 {#summary}", "text/plain": ""}),
        v4.new_output("stream", name="stderr", text="a warning nobody should read"),
        v4.new_output("display_data", data={"text/markdown": "- **CSI**: 73.6 \\= *ok* `x`\n- two", "text/plain": ""}),
        v4.new_output("display_data", data={"text/html": kpi_html(kpis, "zh"), "text/plain": ""}),
        v4.new_output(
            "display_data",
            data={"text/html": styler_html(table), "text/plain": "<pandas.io.formats.style.Styler at 0x7f>"},
        ),
        v4.new_output("display_data", data={"image/png": base64.b64encode(png_bytes(1)).decode(), "text/plain": "<Figure>"}),
        v4.new_output(
            "display_data",
            data={"text/html": verbatims_html(["<script>x</script>", "慢"]) + "<details><summary>全部</summary><ul><li>hidden</li></ul></details>"},
        ),
    ]
    nb.cells = [
        v4.new_code_cell("secret_code = 1", outputs=out),
        v4.new_markdown_cell("## 方法 {#methods}\n\nText with [a link](https://example.com)."),
        v4.new_code_cell("removed()", metadata={"tags": ["remove_cell"]}, outputs=[out[1]]),
    ]
    return nb


def test_notebook_outputs_become_headings_text_tables_and_images(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook(), path)
    doc = d.from_notebook(path, "title", "zh")
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Heading", "Heading", "ListBlock", "Table", "Table", "Image", "ListBlock", "Heading", "Paragraph"]
    title, summary = doc.blocks[0], doc.blocks[1]
    assert (title.level, title.text) == (1, "报告 · 2025H1")
    assert (summary.level, summary.text, summary.id) == (2, "执行摘要", "summary")
    first = doc.blocks[2].items[0]
    assert first[0] == d.Span("CSI", strong=True)
    assert d.spans_text(first) == "CSI: 73.6 = ok x"  # the markdown escape is undone, emphasis kept as style
    kpi, items = doc.blocks[3], doc.blocks[4]
    assert kpi.columns == ["指标", "实际值", "目标", "状态"]
    assert kpi.rows[0][:2] == ["满意率", "91.0%"] and kpi.status == [["", "", "", "met"], ["", "", "", "no-target"]]
    assert items.columns == ["题目", "均值"] and items.rows == [["质量 <b>", "5.61"], ["价格", "4.20"]]
    image = doc.blocks[5]
    assert image.png == png_bytes(1) and (image.width, image.height) > (0, 0)
    assert [d.spans_text(i) for i in doc.blocks[6].items] == ["<script>x</script>", "慢"]
    assert d.spans_text(doc.blocks[8].spans) == "Text with a link."
    text = doc.text()
    for absent in ("secret_code", "warning nobody", "Styler at", "hidden", "removed"):
        assert absent not in text


def test_sections_group_blocks_under_level_two_headings(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook(), path)
    doc = d.from_notebook(path, "title", "zh")
    heads = [h.id if h else None for h, _ in doc.sections()]
    assert heads == [None, "summary", "methods"]
    assert len(doc.tables()) == 2 and len(doc.images()) == 1


def test_a_notebook_without_a_title_gets_one(tmp_path):
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("## Summary {#summary}\n\n1. one\n2. two")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    doc = d.from_notebook(path, "Tracking", "en")
    assert doc.blocks[0] == d.Heading(1, "Tracking")
    assert doc.blocks[2].ordered and [d.spans_text(i) for i in doc.blocks[2].items] == ["one", "two"]


def test_html_tables_without_thead_take_their_th_row_as_header():
    (table,) = d.html_blocks("<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2&amp;3</td></tr></table>")
    assert table.columns == ["a", "b"] and table.rows == [["1", "2&3"]]
