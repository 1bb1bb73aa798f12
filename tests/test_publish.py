"""Publishing: self-contained HTML, escaping, provenance hashes, the index page, run stamps."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from analysis.kpis import kpi_table
from analysis.publish import (
    external_references,
    git_commit,
    inputs_fingerprint,
    kpi_html,
    provenance,
    render_html,
    verbatims_html,
    write_index,
)

CODE_MARKER = "SECRET_CODE_MARKER_42"
# Any src/href attribute pointing at the network (independent of the package's own checker).
NETWORK_ATTR = re.compile(r"""\b(?:src|href|srcset)\s*=\s*["']?\s*(?:[a-z]+:)?//""", re.IGNORECASE)


def png_bytes() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([1, 3, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def tiny_notebook(path: Path, png: bytes) -> Path:
    """A notebook as papermill leaves it: markdown headings, a DataFrame output, a PNG chart, a stderr warning."""
    df = pd.DataFrame({"item": ["Quality", "Price"], "mean": [5.5, 4.25]})
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell(
            "# Wave 2025H1 evaluation\n\n## Executive summary {#summary}\n\nSee the [handbook](https://example.com/h)."
        ),
        v4.new_code_cell(
            f"print('{CODE_MARKER}')\ndf",
            execution_count=1,
            outputs=[
                v4.new_output("stream", name="stderr", text="UserWarning: noisy library\n"),
                v4.new_output(
                    "execute_result",
                    data={"text/html": df.to_html(), "text/plain": str(df)},
                    execution_count=1,
                ),
            ],
        ),
        v4.new_markdown_cell("## KPIs {#kpis}\n\n### Operational KPIs\n\nText under the KPIs."),
        v4.new_code_cell(
            "plot()",
            execution_count=2,
            outputs=[
                v4.new_output(
                    "display_data",
                    data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"},
                )
            ],
        ),
        v4.new_markdown_cell("## Provenance {#provenance}\n\nInputs and versions."),
    ]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render")
    png = png_bytes()
    nb = tiny_notebook(folder / "executed.ipynb", png)
    out = render_html(nb, folder / "reports" / "2025H1.html", title="Wave 2025H1 <evaluation>")
    return out, out.read_text(encoding="utf-8"), png


def test_render_hides_code_and_stderr(rendered):
    out, page, _ = rendered
    assert out.name == "2025H1.html"
    assert CODE_MARKER not in page
    assert 'class="jp-InputPrompt' not in page and "In&nbsp;[" not in page
    assert "noisy library" not in page
    assert "<td>Quality</td>" in page  # the DataFrame output is kept
    assert "<title>Wave 2025H1 &lt;evaluation&gt;</title>" in page
    assert list(out.parent.iterdir()) == [out]  # atomic write leaves no temporary file


def test_render_has_no_network_reference(rendered):
    _, page, _ = rendered
    assert NETWORK_ATTR.findall(page) == []
    assert re.findall(r"<script\b[^>]*\bsrc=", page, flags=re.IGNORECASE) == []
    assert "require.js" not in page and "mathjax" not in page.lower()
    # the markdown link to a web page became plain text
    assert "handbook" in page
    assert external_references(page) == []


def test_render_embeds_the_png(rendered):
    _, page, png = rendered
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page


class _Toc(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_nav = False
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self._href = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "nav" and a.get("id") == "toc":
            self.in_nav = True
        if self.in_nav and tag == "a":
            self._href = a["href"]

    def handle_endtag(self, tag):
        if tag == "nav":
            self.in_nav = False

    def handle_data(self, data):
        if self._href:
            self.links.append((self._href, data))
            self._href = None


def test_render_table_of_contents(rendered):
    _, page, _ = rendered
    toc = _Toc()
    toc.feed(page)
    assert [text for _, text in toc.links] == ["Executive summary", "KPIs", "Operational KPIs", "Provenance"]
    assert [href for href, _ in toc.links][:2] == ["#summary", "#kpis"]
    assert {"toc", "summary", "kpis", "provenance"} <= toc.ids
    for href, _ in toc.links:  # every entry points at an existing heading
        assert href[1:] in toc.ids
    assert page.index('id="toc"') < page.index('id="summary"')


def test_render_refuses_external_resource(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('## Logo\n\n<img src="https://example.com/logo.png">')]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=r"network.*https://example.com/logo.png"):
        render_html(path, tmp_path / "out.html", title="x")
    assert not (tmp_path / "out.html").exists()


def test_render_chinese_caption(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## 执行摘要 {#summary}\n\n满意度较上期提升。")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    page = render_html(path, tmp_path / "zh.html", title="第一期", language="zh").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    assert '<p class="toc-title">目录</p>' in page
    assert '<a href="#summary">执行摘要</a>' in page


def test_external_references_detection():
    page = (
        '<html><head><link rel="stylesheet" href="//fonts.example.com/a.css">'
        "<style>body{background:url('https://x.example/bg.png')}</style></head>"
        '<body><script src="https://cdn.example/require.js"></script>'
        '<img srcset="a.png 1x, http://x.example/b.png 2x"><img src="data:image/png;base64,AAAA">'
        '<a href="#kpis">ok</a><a href="2025H1.html">ok</a><p>see https://example.com in text</p></body></html>'
    )
    found = external_references(page)
    assert len(found) == 4
    assert any("require.js" in f for f in found) and any("fonts.example.com" in f for f in found)
    assert any("x.example/bg.png" in f for f in found) and any("x.example/b.png" in f for f in found)


class _Texts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.items: list[str] = []
        self.tags: list[str] = []
        self._in_li = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_li = tag == "li"
        if self._in_li:
            self.items.append("")

    def handle_endtag(self, tag):
        self._in_li = False

    def handle_data(self, data):
        if self._in_li:
            self.items[-1] += data


def test_verbatims_are_escaped_text():
    comments = ["<script>alert(1)</script>", "价格太高 & 服务慢", None, "  ", '"quoted" <b>bold</b>']
    out = verbatims_html(comments)
    assert "<script" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    parsed = _Texts()
    parsed.feed(out)
    assert parsed.items == ["<script>alert(1)</script>", "价格太高 & 服务慢", '"quoted" <b>bold</b>']
    assert set(parsed.tags) == {"ul", "li"}


def test_verbatims_limit_note():
    out = verbatims_html([f"c{i}" for i in range(25)], limit=20, language="zh")
    assert out.count("<li>") == 20 and "另有 5 条意见未显示" in out
    assert "5 more comments" in verbatims_html([f"c{i}" for i in range(25)], limit=20)


def test_kpi_html_badges():
    table = kpi_table(
        {"satisfaction_rate": 0.93, "nps": 20.0},
        {"satisfaction_rate": {"min": 0.9}, "response_rate": {"min": 0.8}},
    )
    out = kpi_html(table, "en")
    assert '<span class="kpi-status kpi-met">met</span>' in out
    assert '<span class="kpi-status kpi-not-met">not met (no data)</span>' in out
    assert '<span class="kpi-status kpi-no-target">no target</span>' in out
    assert "<td>93.0%</td>" in out


# --------------------------------------------------------------------------- provenance
SURVEY_YAML = """
title: {en: Test survey}
scales:
  s5: {min: 1, max: 5}
items:
  - {id: q1, scale: s5, construct: Quality}
  - {id: q2, scale: s5, construct: Quality}
overall_satisfaction: q2
"""


def test_provenance_hashes_and_versions(tmp_path):
    from analysis.survey import load_survey, load_wave

    params = tmp_path / "params"
    (params / "waves").mkdir(parents=True)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    raw = tmp_path / "data" / "raw" / "w1.csv"
    raw.write_bytes(b"q1,q2\n5,4\n3,3\n")
    (params / "survey.yaml").write_text(SURVEY_YAML, encoding="utf-8")
    (params / "waves" / "w1.yaml").write_text("wave: w1\nraw: ../../data/raw/w1.csv\n", encoding="utf-8")
    extra = tmp_path / "notebook.ipynb"
    extra.write_bytes(b"not really a notebook \x00\xff")
    survey = load_survey(params / "survey.yaml")
    wave = load_wave(params / "waves" / "w1.yaml")
    when = dt.datetime(2025, 7, 1, 8, 30, tzinfo=dt.timezone.utc)

    prov = provenance(survey, [wave, wave], [extra, raw], now=when)
    assert list(prov.columns) == ["kind", "name", "value"]
    files = prov[prov["kind"] == "file"].set_index("name")["value"]
    assert list(files.index) == [
        "params/survey.yaml",
        "params/waves/w1.yaml",
        "data/raw/w1.csv",
        "notebook.ipynb",
    ]
    for name, value in files.items():
        assert value == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    packages = prov[prov["kind"] == "package"].set_index("name")["value"]
    import numpy
    import scipy

    import analysis

    assert packages["pandas"] == pd.__version__
    assert packages["numpy"] == numpy.__version__
    assert packages["scipy"] == scipy.__version__
    assert packages["analysis"] == analysis.__version__
    assert {"statsmodels", "pingouin", "matplotlib", "papermill", "nbconvert"} <= set(packages.index)
    one = prov.set_index("name")["value"]
    assert one["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    assert one["run time"] == "2025-07-01T08:30:00+00:00"
    assert re.fullmatch(r"unknown|[0-9a-f]{40}(-dirty)?", one["commit"])


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_and_dirty(tmp_path):
    assert git_commit(tmp_path) == "unknown"  # not a repository
    env = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("one\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "a.txt"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *env, "commit", "-q", "-m", "x"], check=True)
    head = (tmp_path / ".git" / "HEAD").read_text().split()[-1]
    sha = (tmp_path / ".git" / head).read_text().strip()  # read the ref file directly, not via rev-parse
    assert git_commit(tmp_path) == sha
    (tmp_path / "a.txt").write_text("two\n")
    assert git_commit(tmp_path / "a.txt") == sha + "-dirty"


# --------------------------------------------------------------------------- index page
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[list[str]] = []
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._a = False
        self._td = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links.append([dict(attrs)["href"], ""])
            self._a = True
        if tag == "td":
            self.cells.append("")
            self._td = True

    def handle_endtag(self, tag):
        self._a = self._a and tag != "a"
        self._td = self._td and tag != "td"

    def handle_data(self, data):
        if self._a:
            self.links[-1][1] += data
        if self._td:
            self.cells[-1] += data


def test_index_escapes_and_links(tmp_path):
    evil = '<script>alert("x")</script>'
    entries = [
        {
            "wave": "2024H2",
            "href": "2024H2.html",
            "csi": 71.24,
            "satisfaction_rate": 0.8125,
            "nps": 12.0,
            "n": 412,
            "kpis_met": "2/5",
        },
        {
            "wave": evil,
            "href": f"{evil}.html",
            "csi": float("nan"),
            "satisfaction_rate": None,
            "nps": -3.4,
            "n": 9,
            "kpis_met": "<b>1/5</b>",
        },
    ]
    path = write_index(tmp_path, entries, title="满意度 & <报告>", language="zh")
    assert path == tmp_path / "index.html"
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page
    assert NETWORK_ATTR.findall(page) == []
    parsed = _Links()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert parsed.links[0] == ["tracking.html", "跟踪报告：各期对比"]
    assert parsed.links[1] == ["2024H2.html", "2024H2"]
    href, text = parsed.links[2]
    assert text == evil  # the wave name is shown as text
    assert href == "%3Cscript%3Ealert%28%22x%22%29%3C/script%3E.html"
    assert parsed.cells[:6] == ["2024H2", "71.2", "81.2%", "+12", "412", "2/5"]
    assert parsed.cells[6:] == [evil, "–", "–", "-3", "9", "<b>1/5</b>"]
    assert "<title>满意度 &amp; &lt;报告&gt;</title>" in page
    assert 'id="reports"' in page and '<html lang="zh">' in page


def test_index_english_without_tracking(tmp_path):
    page = write_index(tmp_path, [], title="Survey", language="en", tracking_href=None).read_text(
        encoding="utf-8"
    )
    assert "No wave reports yet." in page
    assert "tracking" not in page.split("<body>")[1].lower()


# --------------------------------------------------------------------------- incremental runs
def test_fingerprint_properties(tmp_path):
    a, b = tmp_path / "raw.csv", tmp_path / "wave.yaml"
    a.write_bytes(b"q1\n5\n")
    b.write_bytes(b"wave: w1\n")
    fp = inputs_fingerprint([a, b], ["csat-lab 0.1.0"])
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(a, moved / a.name)
    shutil.copy(b, moved / b.name)
    assert (
        inputs_fingerprint([moved / a.name, moved / b.name], ["csat-lab 0.1.0"]) == fp
    )  # location-independent
    assert inputs_fingerprint([b, a], ["csat-lab 0.1.0"]) != fp
    assert inputs_fingerprint([a, b], ["csat-lab 0.2.0"]) != fp
    assert inputs_fingerprint([a, b, tmp_path / "missing.csv"], ["csat-lab 0.1.0"]) != fp
    a.write_bytes(b"q1\n4\n")
    assert inputs_fingerprint([a, b], ["csat-lab 0.1.0"]) != fp


def test_stamp_round_trip(tmp_path):
    from analysis.store import Store

    assert Store(tmp_path).read_stamp() is None
    Store(tmp_path / "w1").write_stamp("abc123", info={"wave": "w1"})
    assert Store(tmp_path / "w1").read_stamp() == "abc123"
    (tmp_path / "w1" / ".csat_stamp.json").write_text("{broken", encoding="utf-8")
    assert Store(tmp_path / "w1").read_stamp() is None


def test_escape_helper_matches_stdlib():
    from analysis.publish import escape_text

    s = "<a href='x'>&\"</a>"
    assert escape_text(s) == html.escape(s, quote=True)
    assert html.unescape(escape_text(s)) == s
    assert escape_text(None) == "" and escape_text(float("nan")) == ""


def test_provenance_accepts_plain_objects(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("x", encoding="utf-8")
    prov = provenance(SimpleNamespace(path=f), [], [], root=tmp_path)
    assert prov.iloc[0].tolist() == ["file", "s.yaml", hashlib.sha256(b"x").hexdigest()]


def test_index_links_the_pdf_and_word_files_beside_a_report(tmp_path):
    entries = [{"wave": "2025H1", "href": "2025H1.html", "documents": [("PDF", "2025H1.pdf"), ("Word", "2025H1.docx")]}]
    page = write_index(tmp_path, entries, title="t", language="en").read_text(encoding="utf-8")
    parsed = _Links()
    parsed.feed(page)
    assert parsed.links[1:] == [["2025H1.html", "2025H1"], ["2025H1.pdf", "PDF"], ["2025H1.docx", "Word"]]
