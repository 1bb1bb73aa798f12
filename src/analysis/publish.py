"""Publishing: self-contained HTML reports, the report index and provenance.

A report is an executed notebook rendered by nbconvert's ``HTMLExporter``
with the package's ``csat`` template (``analysis/templates/csat``, extending
nbconvert's ``lab`` template). The template removes every network reference
of the stock templates (require.js, the MathJax and mermaid CDN scripts, the
widget manager) and drops JavaScript outputs, so a report opens from disk
with no network; charts are embedded as ``data:`` URIs.
:func:`render_html` hides all code, adds a table of contents (``nav#toc``)
built from the h2/h3 headings, and refuses to write a report that still
references an external resource.

Section ids (the contract with the report notebooks and ``scripts/check_reports.py``):
a markdown heading ending in ``{#id}`` gets that id (``## Executive summary {#summary}``),
whatever the language of its text. Wave reports must have the ids in
:data:`WAVE_REPORT_SECTIONS`, the tracking report those in
:data:`TRACKING_SECTIONS`; the index written by :func:`write_index` has
:data:`INDEX_SECTIONS`.

Provenance (:func:`provenance`) lists SHA-256 of every input, package
versions, the git commit and the run time; :func:`inputs_fingerprint`
(kept by :meth:`analysis.store.Store.write_stamp`) lets ``csat run`` skip a
wave whose inputs did not change.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import html
import os
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from .kpis import STATUS_TEXT, format_kpi_value, kpi_display
from .store import write_text
from .words import language_code, signed, word

#: Folder holding the nbconvert template ``csat``.
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "csat"

#: Element ids every wave report must contain (headings ``{#summary}`` ...).
WAVE_REPORT_SECTIONS = ("toc", "summary", "kpis", "provenance")
#: Element ids the cross-wave tracking report must contain.
TRACKING_SECTIONS = ("toc", "kpis", "provenance")
#: Element ids of ``reports/index.html``.
INDEX_SECTIONS = ("reports",)
#: Recommended (not required) further section ids of a wave report, in reading order.
WAVE_REPORT_OPTIONAL_SECTIONS = (
    "sample",
    "results",
    "reliability",
    "drivers",
    "zones",
    "priorities",
    "verbatims",
    "methods",
)

#: Packages whose versions go into the provenance table.
PROVENANCE_PACKAGES = (
    "csat-lab",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "pingouin",
    "matplotlib",
    "papermill",
    "nbconvert",
)


# --------------------------------------------------------------------------- small helpers
def escape_text(s: Any) -> str:
    """``s`` as HTML text: ``<``, ``>``, ``&`` and quotes escaped (``html.escape``); None/NaN -> ``""``."""
    if s is None or (isinstance(s, float) and s != s):
        return ""
    return html.escape(str(s), quote=True)


def _lang(language: str | None) -> str:
    return language_code(language)


# --------------------------------------------------------------------------- verbatims and KPI table
def verbatims_html(comments: Sequence[Any], limit: int = 20, language: str = "en") -> str:
    """Open-ended answers as an HTML list of escaped text, for ``IPython.display.HTML``.

    Inputs: the comments (empty and missing ones are skipped), at most
    ``limit`` shown in the given order, then a note of how many more there are.
    Output: ``<ul class="verbatims">`` HTML. Every comment is escaped with
    :func:`escape_text`, so ``<script>alert(1)</script>`` appears as visible text
    and never runs. Removing personal data from comments is the cleaning step's job.
    """
    texts = [str(c).strip() for c in comments if c is not None and not (isinstance(c, float) and c != c)]
    texts = [t for t in texts if t]
    shown = texts[: max(int(limit), 0)]
    items = "\n".join(f"<li>{escape_text(t)}</li>" for t in shown)
    out = f'<ul class="verbatims">\n{items}\n</ul>'
    more = len(texts) - len(shown)
    if more > 0:
        note = word("text.more_comments", language, n=more)
        out += f'\n<p class="verbatims-more">{escape_text(note)}</p>'
    return out


def kpi_html(table: pd.DataFrame, language: str = "en") -> str:
    """The KPI table (output of :func:`analysis.kpis.kpi_table`) as an HTML table with status badges.

    Values are formatted for people (``87.5%``, ``+2.3``), every cell escaped;
    the status cell carries a class ``kpi-met``, ``kpi-not-met`` or
    ``kpi-no-target`` styled by the report template.
    """
    shown = kpi_display(table, language)
    head = "".join(f"<th>{escape_text(c)}</th>" for c in shown.columns)
    rows = []
    for status, rec in zip(table["status"], shown.itertuples(index=False), strict=True):
        cls = {"met": "kpi-met", "not met": "kpi-not-met"}.get(status, "kpi-no-target")
        cells = [f"<td>{escape_text(v)}</td>" for v in rec[:-1]]
        cells.append(f'<td><span class="kpi-status {cls}">{escape_text(rec[-1])}</span></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    body = "\n".join(rows)
    return f'<table class="csat-table kpi-table">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


# --------------------------------------------------------------------------- HTML inspection
class _RefCollector(HTMLParser):
    """Collects resource references and h2/h3 headings of an HTML page."""

    URL_ATTRS = (
        "src",
        "href",
        "srcset",
        "poster",
        "data",
        "action",
        "background",
        "xlink:href",
        "formaction",
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.headings: list[tuple[int, str, str]] = []  # (level, id, text)
        self.ids: list[str] = []
        self._heading: list[Any] | None = None
        self._skip_depth = 0
        self._in_style = False
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        for name in self.URL_ATTRS:
            if a.get(name):
                self.refs.append((tag, name, a[name]))
        if a.get("style"):
            self.styles.append(a["style"])
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "style":
            self._in_style = True
        if tag in ("h2", "h3") and self._heading is None:
            self._heading = [int(tag[1]), a.get("id", ""), []]
        elif self._heading is not None and (
            self._skip_depth or (tag == "a" and "anchor-link" in a.get("class", ""))
        ):
            self._skip_depth += 1  # inside the heading's "¶" anchor link: not part of its text

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        if self._heading is not None and tag == f"h{self._heading[0]}":
            level, hid, parts = self._heading
            self.headings.append((level, hid, " ".join("".join(parts).split())))
            self._heading = None
            self._skip_depth = 0
        elif self._heading is not None and self._skip_depth:
            self._skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)
        if self._heading is not None and not self._skip_depth:
            self._heading[2].append(data)


_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_LOCAL_SCHEMES = ("data:", "#", "mailto:", "javascript:void")
_CSS_URL = re.compile(
    r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:[a-z][a-z0-9+.-]*:)?//[^'")\s]*)""", re.IGNORECASE
)


def external_references(page: str) -> list[str]:
    """Every reference of an HTML page to a resource on the network.

    Looks at URL attributes (``src``, ``href``, ``srcset``, ``poster``, ...) and
    at CSS ``url(...)`` / ``@import`` in ``<style>`` blocks and style
    attributes; a reference is external when it starts with ``scheme://`` or
    ``//`` (``http``, ``https``, ``ftp``, ``ws`` ...; ``file:`` too, as a
    report must not point into the author's disk). Returns descriptions like
    ``'script src=https://cdn...'``; an empty list for a self-contained page.
    """
    parser = _RefCollector()
    parser.feed(page)
    parser.close()
    found = []
    for tag, attr, value in parser.refs:
        values = [v.strip().split(" ")[0] for v in value.split(",")] if attr == "srcset" else [value]
        for v in values:
            if _EXTERNAL.match(v):
                found.append(f"{tag} {attr}={v}")
    for css in parser.styles:
        found += [f"css url={m}" for m in _CSS_URL.findall(css)]
    return found


def page_headings(page: str) -> list[tuple[int, str, str]]:
    """The h2/h3 headings of an HTML page as (level, id, text), in document order."""
    parser = _RefCollector()
    parser.feed(page)
    parser.close()
    return parser.headings


def page_ids(page: str) -> list[str]:
    """Every element id of an HTML page, in document order."""
    parser = _RefCollector()
    parser.feed(page)
    parser.close()
    return parser.ids


#: Characters left as they are in a ``#fragment`` link (``%`` too: nbconvert already percent-encodes non-ASCII ids).
_FRAGMENT_SAFE = "!$%&'()*+,-./:;=?@_~"


def toc_html(headings: Sequence[tuple[int, str, str]], language: str = "en") -> str:
    """A ``<nav id="toc">`` of nested ordered lists linking h2 headings and the h3 headings under them.

    Headings without an id cannot be linked and are left out; an h3 before any h2 is listed at the top level.
    """
    lines = [
        f'<nav id="toc" class="csat-toc">\n<p class="toc-title">{escape_text(word("section.toc", language))}</p>'
    ]
    lines.append("<ol>")
    open_sub = False
    open_item = False
    for level, hid, text in headings:
        if not hid:
            continue
        link = f'<a href="#{escape_text(quote(hid, safe=_FRAGMENT_SAFE))}">{escape_text(text)}</a>'
        if level == 3 and open_item:
            if not open_sub:
                lines.append("<ol>")
                open_sub = True
            lines.append(f"<li>{link}</li>")
            continue
        if open_sub:
            lines.append("</ol>")
            open_sub = False
        if open_item:
            lines.append("</li>")
        lines.append(f"<li>{link}")
        open_item = True
    if open_sub:
        lines.append("</ol>")
    if open_item:
        lines.append("</li>")
    lines.append("</ol>\n</nav>")
    return "\n".join(lines)


_ANCHOR_EXTERNAL = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*(["'])\s*((?:[a-z][a-z0-9+.-]*:)?//[^"']*)\1[^>]*>(.*?)</a\s*>""",
    re.IGNORECASE | re.DOTALL,
)


def _neutralise_links(page: str) -> str:
    """Turn links to web pages into plain text (the address kept in a tooltip): a report makes no requests."""
    return _ANCHOR_EXTERNAL.sub(
        lambda m: (
            f'<span class="external-link" title="{escape_text(html.unescape(m.group(2)))}">{m.group(3)}</span>'
        ),
        page,
    )


_URL_ATTRIBUTE = re.compile(
    r"""(\s(?:href|src|action|formaction|xlink:href|poster|data|background)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)""",
    re.IGNORECASE,
)
_SCRIPT_SCHEME = re.compile(r"^(?:javascript|vbscript|data:text/html|data:application/xhtml)", re.IGNORECASE)
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")


def script_url(value: str) -> bool:
    """Whether a URL attribute's value would run script when followed (``javascript:``, ``vbscript:``,
    an HTML ``data:`` URL), however it is disguised (entities, case, spaces, control characters)."""
    return bool(_SCRIPT_SCHEME.match(_URL_JUNK.sub("", html.unescape(value))))


def _neutralise_script_urls(page: str) -> str:
    """Replace every script URL (:func:`script_url`) of the page by ``#``: a report never holds a live
    ``javascript:`` link, whatever a Markdown string let through."""

    def repl(m: re.Match[str]) -> str:
        value = m.group(2)
        bare = value[1:-1] if value[:1] in "\"'" else value
        return f'{m.group(1)}"#"' if script_url(bare) else m.group(0)

    return _URL_ATTRIBUTE.sub(repl, page)


# --------------------------------------------------------------------------- rendering
_HEADING_ID = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*\{#([A-Za-z][\w.:-]*)\}[ \t]*#*[ \t]*$", re.MULTILINE)


def explicit_heading_ids(markdown: str) -> str:
    """Turn ``## Title {#id}`` lines of a markdown text into ``<h2 id="id">Title</h2>`` blocks.

    The title is kept as escaped text (inline markdown in it is not rendered);
    blank lines around the block let the markdown after it render normally.
    """

    def repl(m: re.Match[str]) -> str:
        level = len(m.group(1))
        return f'\n<h{level} id="{escape_text(m.group(3))}">{escape_text(m.group(2))}</h{level}>\n'

    return _HEADING_ID.sub(repl, markdown)


def _prepare_notebook(nb: Any, title: str) -> Any:
    """Copy of the notebook ready for a stakeholder: no stderr, no widget state, explicit heading ids."""
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    nb.metadata.pop("widgets", None)
    kept = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove_cell", "remove-cell", "hide", "hide-cell"}:
            continue
        if cell.cell_type == "markdown":
            cell.source = explicit_heading_ids(cell.source)
        elif cell.cell_type == "code":
            outputs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    continue
                if tags & {"remove_output", "remove-output", "hide-output"}:
                    continue
                data = out.get("data")
                if data and "text/markdown" in data:
                    md = data["text/markdown"]
                    data["text/markdown"] = explicit_heading_ids(md if isinstance(md, str) else "".join(md))
                outputs.append(out)
            cell.outputs = outputs
        kept.append(cell)
    nb.cells = kept
    return nb


def _insert_toc(page: str, nav: str) -> str:
    """Put the table of contents after the report's title (the first h1, when it comes before any h2), else at the top."""
    h1 = re.search(r"<h1\b.*?</h1\s*>", page, flags=re.IGNORECASE | re.DOTALL)
    h2 = re.search(r"<h2\b", page, flags=re.IGNORECASE)
    if h1 and (h2 is None or h1.start() < h2.start()):
        return page[: h1.end()] + "\n" + nav + "\n" + page[h1.end() :]
    for pattern in (r"<main\b[^>]*>", r"<body\b[^>]*>"):
        m = re.search(pattern, page, flags=re.IGNORECASE)
        if m:
            return page[: m.end()] + "\n" + nav + "\n" + page[m.end() :]
    return nav + page


def render_html(
    executed_notebook: str | Path, out_html: str | Path, title: str, language: str = "en"
) -> Path:
    """Render an executed notebook to one self-contained HTML report.

    Inputs: the executed ``.ipynb`` (papermill output), the target ``.html``
    path, the page title, and the report language (``"en"`` or ``"zh"``: the
    ``lang`` attribute and the table-of-contents caption).

    Method: nbconvert ``HTMLExporter`` with the ``csat`` template (extends
    ``lab``; no require.js, MathJax, mermaid or widget scripts), code inputs
    and prompts excluded, stderr streams and cells tagged ``remove_cell`` /
    ``hide`` dropped, JavaScript outputs dropped, images embedded
    (``data:image/png;base64``); markdown headings ``## Text {#id}`` get the
    given id; then a ``<nav id="toc">`` of the h2/h3 headings is inserted at
    the top, links to web pages become plain text, ``javascript:`` and other
    script URLs become ``#`` (:func:`script_url`), and the page is checked
    with :func:`external_references`. Text from input files reaches the
    notebook's Markdown escaped (:func:`analysis.words.escape_markdown`) and its
    HTML escaped (:func:`escape_text`); the title is escaped by the template.

    Output: ``out_html``, written atomically (temporary file + ``os.replace``).
    Raises ``ValueError`` listing the references when the page would still
    load something from the network (e.g. an ``<img src="https://...">`` in a
    markdown cell); nothing is written then.
    """
    import nbformat
    from nbconvert import HTMLExporter

    executed_notebook = Path(executed_notebook)
    nb = nbformat.read(executed_notebook, as_version=4)
    nb = _prepare_notebook(nb, title)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        theme="light",
        language_code=_lang(language),
    )
    resources = {"metadata": {"name": title, "path": str(executed_notebook.parent)}}
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    page = _neutralise_script_urls(_neutralise_links(page))
    page = _insert_toc(page, toc_html(page_headings(page), language))
    external = external_references(page)
    if external:
        shown = "; ".join(external[:5]) + (f" and {len(external) - 5} more" if len(external) > 5 else "")
        raise ValueError(
            f"{executed_notebook}: the report would load resources from the network ({shown}). "
            "Embed images and styles in the notebook instead."
        )
    return write_text(out_html, page)


# --------------------------------------------------------------------------- provenance
def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_commit(path: str | Path | None = None) -> str:
    """The git commit of the repository holding ``path`` (default: this package), ``-dirty`` when
    tracked files have uncommitted changes; ``"unknown"`` outside a repository, without commits or without git."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    if where.is_file():
        where = where.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=False
        )
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = head.stdout.strip()
    return commit + ("-dirty" if status.returncode == 0 and status.stdout.strip() else "")


def _display_path(path: Path, root: Path | None) -> str:
    path = Path(path).resolve()
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


def source_date() -> _dt.datetime | None:
    """The time ``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC; the reproducible-builds convention)
    names, or None when it is unset or not a whole number: no output carries the wall clock."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value.isdigit():
        return None
    return _dt.datetime.fromtimestamp(int(value), tz=_dt.timezone.utc)


def provenance(
    survey: Any,
    waves: Sequence[Any],
    inputs: Sequence[str | Path] = (),
    now: _dt.datetime | None = None,
    root: str | Path | None = None,
) -> pd.DataFrame:
    """Provenance of a report: what went in and what produced it.

    Inputs: the :class:`~analysis.survey.Survey`, the :class:`~analysis.survey.Wave`
    objects the report uses (their wave file, raw file and complaint log are
    hashed), further input files (e.g. the report notebook), the run time
    (default: ``SOURCE_DATE_EPOCH`` when set, else none: the wall clock is never written, so two
    runs of the same inputs give the same report byte for byte) and the
    folder file names are shown relative to (default: the parent of the survey
    definition's folder, i.e. the project root for ``params/survey.yaml``;
    files outside it are shown by name only, so no home-directory path leaks).

    Output: a tidy DataFrame with columns ``kind`` (``file``, ``package``,
    ``python``, ``git``, ``run``), ``name`` and ``value``: one ``file`` row per
    distinct input (value = SHA-256 of its bytes, survey definition first),
    one ``package`` row per package in :data:`PROVENANCE_PACKAGES` (``analysis``
    is shown under the distribution name ``csat-lab``), the Python version,
    the git commit (:func:`git_commit`) and, when known, the run time (ISO 8601, UTC).
    """
    from .survey import sha256_file

    survey_path = Path(survey.path)
    base = Path(root).resolve() if root is not None else survey_path.resolve().parent.parent
    files: list[Path] = [survey_path]
    for wave in waves:
        files += list(wave.inputs())
    files += [Path(p) for p in inputs]
    rows: list[dict[str, str]] = []
    seen: set[Path] = set()
    for f in files:
        key = Path(f).resolve()
        if key in seen:
            continue
        seen.add(key)
        rows.append({"kind": "file", "name": _display_path(key, base), "value": sha256_file(key)})
    for package in PROVENANCE_PACKAGES:
        rows.append(
            {
                "kind": "package",
                "name": "analysis" if package == "csat-lab" else package,
                "value": _version(package),
            }
        )
    rows.append({"kind": "python", "name": "python", "value": platform.python_version()})
    rows.append({"kind": "git", "name": "commit", "value": git_commit()})
    when = now or source_date()
    if when is not None:  # never the wall clock: two runs of the same inputs are byte-identical
        rows.append({"kind": "run", "name": "run time", "value": when.isoformat(timespec="seconds")})
    return pd.DataFrame(rows, columns=["kind", "name", "value"])


# --------------------------------------------------------------------------- the index page
#: The index page's words: the language-file key of each text and column heading.
_INDEX_KEYS = {
    "heading": "index_page.heading",
    "wave": "column.wave",
    "csi": "metric.csi",
    "satisfaction_rate": "metric.satisfaction_rate",
    "nps": "metric.nps",
    "n": "column.valid_responses",
    "kpis_met": "column.targets_met",
    "tracking": "index_page.tracking",
    "intro": "index_page.intro",
    "intro_waves": "index_page.intro_waves",
    "empty": "index_page.empty",
}

_INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", Arial, sans-serif; color: #1f2328; margin: 0; background: #fff; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; }
h1 { color: #1f5f8b; border-bottom: 3px solid #1f5f8b; padding-bottom: 6px; }
h2 { color: #1f5f8b; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 12px 0; }
th { background: #1f5f8b; color: #fff; padding: 6px 12px; text-align: left; }
td { border: 1px solid #d0d7de; padding: 6px 12px; }
td.num { text-align: right; }
tbody tr:nth-child(even) { background: #f4f7fa; }
a { color: #0b4f80; }
p.tracking { font-size: 1.1em; }
@media print { a { color: inherit; text-decoration: none; } main { padding: 0; } }
"""


def _fmt(value: Any, kind: str) -> str:
    """A headline number of the index page: ``kind`` share / int / nps / points (text passes through)."""
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–" if value is None else str(value)
    if kind == "nps" and x == x:
        return signed(x, 0)
    return format_kpi_value(x, {"int": "count"}.get(kind, kind))


def _href(href: Any) -> str:
    """A relative link, percent-encoded for the URL and escaped for the attribute."""
    return escape_text(quote(str(href), safe="/#.-_~"))


def write_index(
    reports_dir: str | Path,
    entries: Sequence[Mapping[str, Any]],
    title: str,
    language: str = "en",
    tracking_href: str | None = "tracking.html",
) -> Path:
    """Write ``reports/index.html``: a self-contained page linking every report with its headline numbers.

    Inputs: the reports folder; one entry per wave (in the order to show) with
    keys ``wave``, ``href`` (relative link, e.g. ``2025H1.html``), ``csi``
    (0-100), ``satisfaction_rate`` (0-1), ``nps`` (-100..100), ``n`` (valid
    responses) and ``kpis_met`` (text such as ``"3/5"``), optionally ``documents``: (label, link) pairs
    of the same report in other formats (``("PDF", "2025H1.pdf")``), linked beside the wave; the page title; the
    language (``"en"`` or ``"zh"``) of the fixed texts; the link of the
    tracking report (None: no link).

    Output: the path of ``index.html`` (written atomically; inline CSS, no
    script, no external reference, no time stamp). Every value is HTML-escaped
    and every link percent-encoded, so a wave named ``<script>`` shows as text.
    The table has id ``reports`` (:data:`INDEX_SECTIONS`).
    """
    lang = _lang(language)
    t = {name: word(key, lang) for name, key in _INDEX_KEYS.items()}
    rows = []
    for e in entries:
        wave = escape_text(e.get("wave", ""))
        link = f'<a href="{_href(e["href"])}">{wave}</a>' if e.get("href") else wave
        link += "".join(  # the same report as PDF and Word, when given
            f' · <a class="format" href="{_href(href)}">{escape_text(name)}</a>' for name, href in e.get("documents", ())
        )
        rows.append(
            "<tr>"
            f"<td>{link}</td>"
            f'<td class="num">{escape_text(_fmt(e.get("csi"), "points"))}</td>'
            f'<td class="num">{escape_text(_fmt(e.get("satisfaction_rate"), "share"))}</td>'
            f'<td class="num">{escape_text(_fmt(e.get("nps"), "nps"))}</td>'
            f'<td class="num">{escape_text(_fmt(e.get("n"), "int"))}</td>'
            f'<td class="num">{escape_text(_fmt(e.get("kpis_met"), "text"))}</td>'
            "</tr>"
        )
    head = "".join(
        f"<th>{escape_text(t[k])}</th>" for k in ("wave", "csi", "satisfaction_rate", "nps", "n", "kpis_met")
    )
    table = (
        f'<table id="reports">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
        if rows
        else f'<p id="reports">{escape_text(t["empty"])}</p>'
    )
    tracking = (
        f'<p class="tracking"><a id="tracking-link" href="{_href(tracking_href)}">{escape_text(t["tracking"])}</a></p>'
        if tracking_href
        else ""
    )
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape_text(title)}</title>\n<style>{_INDEX_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape_text(title)}</h1>\n<p>{escape_text(t['intro'] if tracking_href else t['intro_waves'])}</p>\n{tracking}\n"
        f"<h2>{escape_text(t['heading'])}</h2>\n{table}\n</main>\n</body>\n</html>\n"
    )
    return write_text(Path(reports_dir) / "index.html", page)


# --------------------------------------------------------------------------- incremental runs
def inputs_fingerprint(paths: Sequence[str | Path], extra: Sequence[str] = ()) -> str:
    """SHA-256 fingerprint of a wave's inputs, for skipping unchanged waves.

    Hashes, in the given order, each file's name and content (a missing file
    hashes as a marker, so it never matches a real fingerprint), then each
    ``extra`` string (package version, notebook version, options). Moving the
    project to another folder keeps the fingerprint; changing a byte, renaming
    or reordering an input, or changing an extra string changes it.
    Returns the hex digest.
    """
    from .survey import sha256_file

    h = hashlib.sha256()
    for p in paths:
        p = Path(p)
        digest = sha256_file(p) if p.is_file() else "<missing>"
        h.update(f"file\0{p.name}\0{digest}\n".encode())
    for s in extra:
        h.update(f"extra\0{s}\n".encode())
    return h.hexdigest()


def status_counts(table: pd.DataFrame) -> str:
    """``"met/with target"`` of a KPI table (e.g. ``"3/5"``) for the index page; ``"0/0"`` without targets."""
    with_target = table[table["status"] != "no target"]
    return f"{int((with_target['status'] == 'met').sum())}/{len(with_target)}"


__all__ = [
    "INDEX_SECTIONS",
    "STATUS_TEXT",
    "TRACKING_SECTIONS",
    "WAVE_REPORT_SECTIONS",
    "escape_text",
    "external_references",
    "git_commit",
    "inputs_fingerprint",
    "kpi_html",
    "provenance",
    "render_html",
    "script_url",
    "status_counts",
    "toc_html",
    "verbatims_html",
    "write_index",
]
