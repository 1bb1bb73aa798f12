"""Hostile text from the analyst's input files (issue 16): a survey title, wave id, label or segment
group never becomes a live element or link in a report."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from analysis import report, words
from analysis.publish import render_html, write_index
from analysis.tracking import Tracking

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WAVE_ID = "<img src=x onerror=alert(7)>"
TITLE = "[md](javascript:alert(14))"
HOSTILE = [
    WAVE_ID,
    TITLE,
    "<script>alert(1)</script>",
    "[x](<javascript:alert(2)>)",
    "![i](javascript:alert(3))",
    "<a href='jav&#x61;script:alert(4)'>a</a>",
    "**bold** _it_ `code`\n# heading {#summary}",
    "<javascript:alert(5)>",
]


class _Live(HTMLParser):
    """What a browser would run or follow: script-like elements, event handlers, script URLs."""

    LIVE_TAGS = {"script", "img", "iframe", "object", "embed", "svg", "form", "math", "video", "audio"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k.startswith("on"):
                self.live.append(f"{tag} {k}")
            if k in ("href", "src", "action", "formaction", "xlink:href") and v is not None:
                self.links.append(v)
                if re.match(r"\s*(javascript|vbscript|data:text/html)", re.sub(r"[\x00-\x20]", "", v), re.I):
                    self.live.append(f"{tag} {k}={v}")
        if tag in self.LIVE_TAGS:
            self.live.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def live(page: str) -> _Live:
    p = _Live()
    p.feed(page)
    p.close()
    return p


def _render(tmp_path: Path, markdown: list[str], title: str = "t") -> str:
    """A notebook whose outputs are the given Markdown strings (as ``display(Markdown(...))`` makes them)."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": md, "text/plain": "<Markdown>"})
        for md in markdown
    ]
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return render_html(path, tmp_path / "out.html", title=title).read_text(encoding="utf-8")


def _ctx(title: str, wave_id: str) -> SimpleNamespace:
    return SimpleNamespace(survey=SimpleNamespace(title_text=lambda language=None: title), wave=SimpleNamespace(id=wave_id))


def test_report_title_with_hostile_title_and_wave_id_is_text(tmp_path: Path) -> None:
    md = report.title_markdown(_ctx(TITLE, WAVE_ID))
    page = _render(tmp_path, [md], title=f"{TITLE} {WAVE_ID}")
    found = live(page)
    assert found.live == []
    assert not any("alert" in link for link in found.links if not link.startswith("#"))  # "#..." heading anchors
    text = " ".join("".join(found.text).split())
    assert f"{TITLE} · {WAVE_ID}" in text  # shown as typed
    assert re.search(r"<h1[^>]*>", page)  # still the report's heading


def test_every_hostile_text_in_titles_shows_as_typed(tmp_path: Path) -> None:
    mds = [report.title_markdown(_ctx(t, w)) for t in HOSTILE for w in ("2025H1", t)]
    track = Tracking(survey=SimpleNamespace(title_text=lambda language=None: "", language="en"), root=tmp_path,
                     waves=[], wave_files=[])
    for t in HOSTILE:
        track.survey = SimpleNamespace(title_text=lambda language=None, t=t: t, language="en")
        mds.append(track.title_markdown())
    page = _render(tmp_path, mds)
    found = live(page)
    assert found.live == []
    assert not any("alert" in link for link in found.links if not link.startswith("#"))
    text = "".join(found.text)
    for t in HOSTILE:
        assert " ".join(t.split()) in " ".join(text.split())
    assert "summary" not in re.findall(r'id="([^"]+)"', page)  # no heading id smuggled in


def test_escape_markdown_text_round_trips_through_markdown(tmp_path: Path) -> None:
    samples = [*HOSTILE, "a_b*c*", "1. not a list", "- not a list", "| a | b |", "~~x~~", "$x$", "a\\b"]
    page = _render(tmp_path, [f"<p>{i}</p>\n\n{words.escape_markdown(s)}" for i, s in enumerate(samples)])
    found = live(page)
    assert found.live == [] and not re.search(r"<(em|strong|code|ol|ul|table|del|h\d)\b", page.split("</nav>")[1])
    text = " ".join("".join(found.text).split())
    for s in samples:
        assert " ".join(s.split()) in text, s


def test_summary_and_actions_escape_labels_and_segment_groups() -> None:
    evil = "<img src=x onerror=alert(9)>[l](javascript:alert(10))"
    ipa = pd.DataFrame({"item": ["a", "b"], "label": [evil, "ok"], "quadrant": ["Concentrate here"] * 2})
    pri = pd.DataFrame({"item": ["a", "b"]})
    ctx = SimpleNamespace(language="en", read=lambda name: {"ipa": ipa, "priorities": pri}[name])
    out = report.recommended_actions(ctx)
    assert "<img" not in out and "](" not in out and html.unescape(out.replace("\\", "")).count(evil) == 1
    change = pd.DataFrame({"metric": ["CSI", f"CSI | {evil}"], "diff": [0.0, -9.0], "p": [0.5, 0.001]})
    ctx = SimpleNamespace(language="en", has=lambda name: True, read=lambda name: change)
    (alert,) = report.segment_alerts(ctx)
    assert "<img" not in alert and "](" not in alert


def test_render_never_keeps_a_javascript_link(tmp_path: Path) -> None:
    """Even unescaped Markdown (an analyst's own notebook) gives no live script link."""
    page = _render(
        tmp_path,
        [
            "[a](javascript:alert(1))",
            "<a href=' JaVaScRiPt:alert(2)'>b</a>",
            "<a href=\"jav&#x09;ascript:alert(3)\">c</a>",
            "<a href=vbscript:x>d</a>",
        ],
    )
    assert [x for x in live(page).live if "href" in x] == []


def test_report_notebooks_write_titles_through_the_escaping_helpers() -> None:
    for name in ("05_report", "06_tracking"):
        nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert not re.search(r"Markdown\(f[\"']#", code), name  # no title put together from raw input
        assert "title_markdown(" in code, name
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), name


def test_index_page_with_hostile_title_and_wave(tmp_path: Path) -> None:
    entries = [{"wave": WAVE_ID, "href": f"{WAVE_ID}.html", "csi": 70.0, "satisfaction_rate": 0.8, "nps": 1.0,
                "n": 10, "kpis_met": "1/2"}]
    page = write_index(tmp_path, entries, title=TITLE).read_text(encoding="utf-8")
    found = live(page)
    assert found.live == [] and not any("javascript" in link for link in found.links)
    assert TITLE in "".join(found.text) and WAVE_ID in "".join(found.text)


# --------------------------------------------------------------------------- killed runs
def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(tmp_path: Path, monkeypatch) -> None:
    import os
    import tempfile
    import time

    from analysis.runner import remove_leftovers

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    out = tmp_path / "out"
    processed = out / "data" / "processed"
    dead, alive = _dead_pid(), os.getpid()
    folders = {
        "dead staging": processed / f".staging-2025H1-{dead}-abcd1234",
        "dead notebooks": out / "reports" / "notebooks" / f".staging-2025-H1-{dead}-x_y",
        "dead kernel": temp / f"csat-kernel-{dead}-q1w2e3r4",
        "live staging": processed / f".staging-2025H2-{alive}-abcd1234",
        "live kernel": temp / f"csat-kernel-{alive}-q1w2e3r4",
        "old legacy": processed / ".staging-2025H1-oldstyle",
        "new legacy": temp / "csat-kernel-newstyle",
        "a wave": processed / "2025H1",
    }
    for f in folders.values():
        f.mkdir(parents=True)
        (f / "clean.parquet").write_bytes(b"respondent data")
    day_ago = time.time() - 25 * 3600
    os.utime(folders["old legacy"], (day_ago, day_ago))
    removed = remove_leftovers(out)
    gone = {k for k, f in folders.items() if not f.exists()}
    assert gone == {"dead staging", "dead notebooks", "dead kernel", "old legacy"}
    assert sorted(removed) == sorted(folders[k] for k in gone)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 1.0, 3.0])
def test_sigterm_during_a_run_leaves_nothing_partial(small_survey: Path, tmp_path: Path, delay: float) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "CSAT_ID_KEY": "test-key-0123456789", "TMPDIR": str(temp), "CSAT_THREADS": "1"}
    env.pop("CSAT_DEBUG", None)
    out = small_survey / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", "run", "--out", str(out), "--no-progress"],
        cwd=small_survey, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(temp.glob("csat-kernel-*")):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(delay)  # kernel starting, resetting, or inside a notebook
    assert list((out / "data" / "processed").glob(".staging-*"))  # the run is under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and "Traceback" not in err
    assert not list(out.rglob(".staging-*")) and not list(temp.glob("csat-kernel-*"))
    assert not (out / "data" / "processed" / "w1").exists()  # nothing published
