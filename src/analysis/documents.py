"""The report as a document: headings, text, tables and charts, read from an executed report notebook.

The PDF and Word reports (:mod:`analysis.typeset`) are rendered from the same
content as the HTML report, never by converting the HTML page or the notebook
file: :func:`from_notebook` walks the executed notebook's cells and outputs,
in order, and builds a small document model:

* Markdown (markdown cells and ``text/markdown`` outputs) -> :class:`Heading`,
  :class:`Paragraph` and :class:`ListBlock` (parsed with mistune's AST
  renderer; ``## Title {#id}`` keeps its id);
* HTML outputs -> :class:`Table` (every ``<table>``: the DataFrames shown by
  :func:`analysis.report.show_table` through a pandas Styler, the KPI table of
  :func:`analysis.publish.kpi_html` and the tracking matrix with the status of
  each cell that shows one), and the lists
  and paragraphs of plain HTML blocks such as the verbatims; the collapsed full
  list of comments (``<details>``) is left out, as it is on paper;
* ``image/png`` outputs -> :class:`Image` (the charts, as the HTML embeds them).

Code, prompts, stderr, ``text/plain`` reprs (``<Styler at 0x...>``) and cells
tagged ``remove_cell`` / ``hide`` are never part of the document. A section is
what follows a level-2 heading; the first one of a wave report is the
one-page summary. Everything here is pure: no file is written.
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

#: Cell tags whose cell (or output) is not part of the report, as in :func:`analysis.publish.render_html`.
REMOVE_CELL_TAGS = frozenset({"remove_cell", "remove-cell", "hide", "hide-cell"})
REMOVE_OUTPUT_TAGS = frozenset({"remove_output", "remove-output", "hide-output"})

_TRAILING_ID = re.compile(r"\s*\{#([A-Za-z][\w.:-]*)\}\s*#*\s*$")


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Span:
    """A run of text with its emphasis."""

    text: str
    strong: bool = False
    emph: bool = False
    code: bool = False


@dataclass
class Heading:
    """A heading: level 1 (the title), 2 (a section), 3..6; ``id`` as in the HTML (``summary``)."""

    level: int
    text: str
    id: str = ""


@dataclass
class Paragraph:
    """A paragraph of spans."""

    spans: list[Span]


@dataclass
class ListBlock:
    """A bulleted (or numbered) list; each item a list of spans."""

    items: list[list[Span]]
    ordered: bool = False


@dataclass
class Table:
    """A table of text: header cells, body rows; ``status`` per body cell (``met``, ``not-met``,
    ``no-target`` or "", rows x columns; empty when no cell has one) for the KPI tables, whose status
    cells are coloured."""

    columns: list[str]
    rows: list[list[str]]
    status: list[list[str]] = field(default_factory=list)


@dataclass
class Image:
    """A PNG chart; its size in pixels is read from the PNG header."""

    png: bytes
    width: int
    height: int


Block = Heading | Paragraph | ListBlock | Table | Image


@dataclass
class Document:
    """A report: title, language (``en``/``zh``) and blocks in reading order."""

    title: str
    language: str
    blocks: list[Block]

    def sections(self) -> list[tuple[Heading | None, list[Block]]]:
        """The blocks grouped by level-2 heading: ``(None, blocks before the first h2)`` first."""
        out: list[tuple[Heading | None, list[Block]]] = [(None, [])]
        for b in self.blocks:
            if isinstance(b, Heading) and b.level == 2:
                out.append((b, []))
            else:
                out[-1][1].append(b)
        return out

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def images(self) -> list[Image]:
        return [b for b in self.blocks if isinstance(b, Image)]

    def text(self) -> str:
        """Every character a reader sees, for glyph checks and tests."""
        parts = [self.title]
        for b in self.blocks:
            if isinstance(b, Heading):
                parts.append(b.text)
            elif isinstance(b, Paragraph):
                parts.append(spans_text(b.spans))
            elif isinstance(b, ListBlock):
                parts += [spans_text(i) for i in b.items]
            elif isinstance(b, Table):
                parts += b.columns + [c for r in b.rows for c in r]
        return "\n".join(parts)


def spans_text(spans: list[Span]) -> str:
    """The plain text of a list of spans."""
    return "".join(s.text for s in spans)


# --------------------------------------------------------------------------- markdown
def _markdown_parser() -> Any:
    import mistune

    return mistune.create_markdown(renderer="ast", plugins=["table", "strikethrough"])


def _inline(tokens: list[dict], strong: bool = False, emph: bool = False) -> list[Span]:
    """Spans of mistune inline tokens (links become their text: a report on paper has no links)."""
    out: list[Span] = []
    for t in tokens:
        kind = t.get("type")
        if kind in ("text", "inline_html"):
            out.append(Span(t.get("raw", ""), strong, emph))
        elif kind == "codespan":
            out.append(Span(t.get("raw", ""), strong, emph, code=True))
        elif kind in ("softbreak", "linebreak"):
            out.append(Span(" ", strong, emph))
        elif kind == "strong":
            out += _inline(t.get("children", []), True, emph)
        elif kind == "emphasis":
            out += _inline(t.get("children", []), strong, True)
        elif "children" in t:
            out += _inline(t["children"], strong, emph)
        elif "raw" in t:
            out.append(Span(t["raw"], strong, emph))
    return _merge(out)


def _merge(spans: list[Span]) -> list[Span]:
    """Adjacent spans of the same style joined (mistune splits text at every escape)."""
    out: list[Span] = []
    for s in spans:
        if out and (out[-1].strong, out[-1].emph, out[-1].code) == (s.strong, s.emph, s.code):
            out[-1] = Span(out[-1].text + s.text, s.strong, s.emph, s.code)
        elif s.text:
            out.append(s)
    return out


def _item_spans(item: dict) -> list[Span]:
    spans: list[Span] = []
    for child in item.get("children", []):
        if child.get("type") == "list":  # a nested list is flattened into its parent item
            for sub in child.get("children", []):
                spans += [Span(" – "), *_item_spans(sub)]
        else:
            if spans:
                spans.append(Span(" "))
            spans += _inline(child.get("children", []))
    return _merge(spans)


def markdown_blocks(text: str) -> list[Block]:
    """Blocks of a Markdown text: headings (``{#id}`` kept), paragraphs, lists, tables."""
    blocks: list[Block] = []
    for t in _markdown_parser()(text):
        kind = t.get("type")
        if kind == "heading":
            raw = spans_text(_inline(t.get("children", [])))
            m = _TRAILING_ID.search(raw)
            hid = m.group(1) if m else ""
            title = raw[: m.start()] if m else raw
            blocks.append(Heading(int(t["attrs"]["level"]), title.strip(), hid))
        elif kind == "paragraph":
            spans = _inline(t.get("children", []))
            if spans_text(spans).strip():
                blocks.append(Paragraph(spans))
        elif kind == "list":
            items = [_item_spans(i) for i in t.get("children", [])]
            blocks.append(ListBlock(items, ordered=bool(t.get("attrs", {}).get("ordered"))))
        elif kind == "table":
            head, body = [], []
            for part in t.get("children", []):
                if part["type"] == "table_head":
                    head = [spans_text(_inline(c.get("children", []))) for c in part["children"]]
                else:
                    body = [
                        [spans_text(_inline(c.get("children", []))) for c in row["children"]]
                        for row in part["children"]
                    ]
            blocks.append(Table(head, body))
        elif kind == "block_quote":
            blocks += markdown_blocks_from_tokens(t.get("children", []))
        elif kind == "block_code":
            blocks.append(Paragraph([Span(t.get("raw", "").rstrip("\n"), code=True)]))
    return blocks


def markdown_blocks_from_tokens(tokens: list[dict]) -> list[Block]:
    """Paragraph blocks of already parsed tokens (the content of a block quote)."""
    return [Paragraph(_inline(t.get("children", []))) for t in tokens if t.get("type") == "paragraph"]


# --------------------------------------------------------------------------- HTML outputs
_STATUS_CLASSES = {"kpi-met": "met", "kpi-not-met": "not-met", "kpi-no-target": "no-target"}


class _HtmlBlocks(HTMLParser):
    """Tables, lists and paragraphs of an HTML output; ``<style>``, ``<script>`` and ``<details>`` skipped."""

    SKIP = ("style", "script", "details")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._skip = 0
        self._table: dict[str, Any] | None = None
        self._row: list[str] | None = None
        self._row_status: list[str] = []
        self._cell_status = ""
        self._cell: list[str] | None = None
        self._in_head = False
        self._all_th = False
        self._list: list[list[str]] | None = None
        self._ordered = False
        self._item: list[str] | None = None
        self._para: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            self._table = {"columns": [], "rows": [], "status": []}
        elif self._table is not None:
            if tag == "thead":
                self._in_head = True
            elif tag == "tr":
                self._row, self._row_status, self._all_th = [], [], True
            elif tag in ("td", "th") and self._row is not None:
                self._cell, self._cell_status = [], ""
                self._all_th = self._all_th and tag == "th"
            elif tag == "br" and self._cell is not None:
                self._cell.append(" ")
            for c in classes:
                if c in _STATUS_CLASSES:
                    self._cell_status = _STATUS_CLASSES[c]
        elif tag in ("ul", "ol"):
            self._list, self._ordered = [], tag == "ol"
        elif tag == "li" and self._list is not None:
            self._item = []
        elif tag == "p":
            self._para = []
        elif tag == "br":
            for buf in (self._item, self._para):
                if buf is not None:
                    buf.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(self._skip - 1, 0)
            return
        if self._skip:
            return
        t = self._table
        if t is not None:
            if tag in ("td", "th") and self._cell is not None and self._row is not None:
                self._row.append(" ".join("".join(self._cell).split()))
                self._row_status.append(self._cell_status)
                self._cell = None
            elif tag == "tr" and self._row is not None:
                if self._in_head or (not t["columns"] and not t["rows"] and self._all_th):
                    t["columns"] = self._row  # the last header row names the columns
                elif self._row:
                    t["rows"].append(self._row)
                    t["status"].append(self._row_status)
                self._row = None
            elif tag == "thead":
                self._in_head = False
            elif tag == "table":
                width = max([len(t["columns"]), *(len(r) for r in t["rows"])], default=0)
                cols = t["columns"] + [""] * (width - len(t["columns"]))
                rows = [r + [""] * (width - len(r)) for r in t["rows"]]
                status = [r + [""] * (width - len(r)) for r in t["status"]] if any(map(any, t["status"])) else []
                self.blocks.append(Table(cols, rows, status))
                self._table = None
        elif tag == "li" and self._item is not None and self._list is not None:
            text = " ".join("".join(self._item).split())
            if text:
                self._list.append([text])
            self._item = None
        elif tag in ("ul", "ol") and self._list is not None:
            if self._list:
                self.blocks.append(ListBlock([[Span(i[0])] for i in self._list], ordered=self._ordered))
            self._list = None
        elif tag == "p" and self._para is not None:
            text = " ".join("".join(self._para).split())
            if text:
                self.blocks.append(Paragraph([Span(text)]))
            self._para = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for buf in (self._cell, self._item, self._para):
            if buf is not None:
                buf.append(data)
                return


def html_blocks(page: str) -> list[Block]:
    """Tables, lists and paragraphs of an HTML fragment (a notebook's ``text/html`` output)."""
    parser = _HtmlBlocks()
    parser.feed(page)
    parser.close()
    return parser.blocks


# --------------------------------------------------------------------------- images
def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk; (0, 0) for something else."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return 0, 0
    w, h = struct.unpack(">II", png[16:24])
    return int(w), int(h)


def image_block(data: str | list[str]) -> Image:
    png = base64.b64decode("".join(data) if isinstance(data, list) else data)
    return Image(png, *png_size(png))


# --------------------------------------------------------------------------- the notebook
def _source(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def output_blocks(output: dict) -> list[Block]:
    """The blocks of one notebook output: a chart, Markdown, or HTML; nothing for stderr/plain text."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return []  # streams (print, warnings) and errors are not part of a report
    data = output.get("data", {})
    if "image/png" in data:
        return [image_block(data["image/png"])]
    if "text/markdown" in data:
        return markdown_blocks(_source(data["text/markdown"]))
    if "text/html" in data:
        return html_blocks(_source(data["text/html"]))
    return []


def notebook_blocks(nb: Any) -> list[Block]:
    """Every block of an executed notebook (an ``nbformat`` node or its dict), in order."""
    blocks: list[Block] = []
    for cell in nb["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if cell["cell_type"] == "markdown":
            blocks += markdown_blocks(_source(cell["source"]))
        elif cell["cell_type"] == "code" and not tags & REMOVE_OUTPUT_TAGS:
            for out in cell.get("outputs", []):
                blocks += output_blocks(out)
    return blocks


def from_notebook(executed: str | Path, title: str, language: str = "en") -> Document:
    """The document of an executed report notebook (papermill's output).

    Inputs: the ``.ipynb`` path, the report title (as the HTML page's), the
    report language. Output: a :class:`Document`; when the notebook shows no
    level-1 heading the title becomes one.
    """
    import nbformat

    from .words import language_code

    nb = nbformat.read(Path(executed), as_version=4)
    blocks = notebook_blocks(nb)
    if not any(isinstance(b, Heading) and b.level == 1 for b in blocks):
        blocks.insert(0, Heading(1, title))
    return Document(title=title, language=language_code(language), blocks=blocks)


__all__ = [
    "Block",
    "Document",
    "Heading",
    "Image",
    "ListBlock",
    "Paragraph",
    "Span",
    "Table",
    "from_notebook",
    "html_blocks",
    "markdown_blocks",
    "notebook_blocks",
]
