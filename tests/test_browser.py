"""Real-browser check of the reports: headless Debian Chromium, offline (scripts/check_reports.py)."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.publish import render_html, verbatims_html, write_index

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_reports.py"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]
pytest.importorskip(
    "playwright", reason="needs the playwright package (pip install playwright) to drive Chromium"
)


def png_b64(seed: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.plotting import use_style

    use_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["质量", "价格", "服务"], [seed, seed + 1, seed + 2])
    ax.set_title(f"图 {seed}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def report_notebook(path: Path) -> Path:
    v4 = nbformat.v4
    df = pd.DataFrame(
        {"指标": ["满意率", "净推荐值"], "实际值": ["91.0%", "+24"], "状态": ["达标", "无目标"]}
    )
    charts = [
        v4.new_output("display_data", data={"image/png": png_b64(i), "text/plain": "<Figure>"})
        for i in range(1, 5)
    ]
    verbatims = verbatims_html(
        ["<script>alert(1)</script>", '<img src="x.png" onerror="alert(2)">', "交货太慢"]
    )
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# 2025H1 满意度评估报告\n\n## 执行摘要 {#summary}\n\n总体满意度指数 78.4。"),
        v4.new_markdown_cell("## 目标达成 {#kpis}"),
        v4.new_code_cell(
            "kpis",
            execution_count=1,
            outputs=[
                v4.new_output(
                    "execute_result",
                    data={"text/html": df.to_html(index=False), "text/plain": ""},
                    execution_count=1,
                )
            ],
        ),
        v4.new_markdown_cell("## 结果 {#results}"),
        v4.new_code_cell("charts()", execution_count=2, outputs=charts),
        v4.new_markdown_cell("### 客户意见 {#verbatims}"),
        v4.new_code_cell(
            "v",
            execution_count=3,
            outputs=[v4.new_output("display_data", data={"text/html": verbatims, "text/plain": ""})],
        ),
        v4.new_markdown_cell("## 数据来源 {#provenance}\n\n输入文件的 SHA-256 与软件版本。"),
    ]
    nbformat.write(nb, path)
    return path


def run_checker(reports: Path, screenshots: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(reports), "--screenshots", str(screenshots)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rendered_reports_pass_in_chromium(tmp_path):
    reports = tmp_path / "reports"
    nb = report_notebook(tmp_path / "executed.ipynb")
    render_html(nb, reports / "2025H1.html", title="2025H1 满意度评估报告", language="zh")
    render_html(nb, reports / "tracking.html", title="跟踪报告", language="zh")
    entries = [
        {
            "wave": "2025H1",
            "href": "2025H1.html",
            "csi": 78.4,
            "satisfaction_rate": 0.91,
            "nps": 24,
            "n": 400,
            "kpis_met": "3/5",
        }
    ]
    write_index(reports, entries, title="零售客户满意度调查", language="zh")
    (reports / "notebooks").mkdir()
    (reports / "notebooks" / "ignored.html").write_text('<img src="missing.png">', encoding="utf-8")

    result = run_checker(reports, tmp_path / "shots")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3/3 reports passed" in result.stdout
    for name in ("2025H1", "tracking", "index"):
        shot = tmp_path / "shots" / f"{name}.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "shots" / "ignored.png").exists()


def test_broken_reports_fail_with_reasons(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "external.html").write_text(
        '<html><body><nav id="toc"></nav><h2 id="summary">s</h2><h2 id="kpis">k</h2><h2 id="provenance">p</h2>'
        '<script src="https://cdn.example.com/require.js"></script></body></html>',
        encoding="utf-8",
    )
    (reports / "broken.html").write_text(
        '<html><body><h2 id="summary">s</h2><img src="missing.png"><a href="2099H1.html">old</a></body></html>',
        encoding="utf-8",
    )
    (reports / "unescaped.html").write_text(
        '<html><body><p>comment: <script>alert("xss")</script></p></body></html>', encoding="utf-8"
    )
    result = run_checker(reports, tmp_path / "shots")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    blocks = {b.split()[0]: b for b in out.split("FAIL ")[1:]}
    assert set(blocks) == {"broken.html", "external.html", "unescaped.html"}
    assert "external request: https://cdn.example.com/require.js" in blocks["external.html"]
    assert "broken image" in blocks["broken.html"] and "missing.png" in blocks["broken.html"]
    assert "missing section: no element with id 'kpis'" in blocks["broken.html"]
    assert "broken link: 2099H1.html" in blocks["broken.html"]
    assert "dialog" in blocks["unescaped.html"] and "xss" in blocks["unescaped.html"]
    assert "0/3 reports passed" in out
    assert (tmp_path / "shots" / "broken.png").exists()
