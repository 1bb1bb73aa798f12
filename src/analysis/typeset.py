"""PDF and Word reports from the report's document model (:mod:`analysis.documents`).

* :func:`write_pdf`: Typst (the ``typst`` wheel, no download, no LaTeX). The
  document model is written as JSON next to the chart PNGs and a fixed
  template (``templates/typst/report.typ``) lays it out, so no text is ever
  read as Typst markup. A4, every section from a new page (the first, the
  one-page summary, directly under the title), tables with their header row
  repeated on every page they run over, KPI status cells coloured. Fonts: Noto
  Sans CJK SC (from the ``mplfonts`` wheel, a dependency; Debian's
  ``fonts-noto-cjk`` adds the bold face when installed) and its mono sibling;
  system fonts are ignored so every machine typesets alike, and Typst embeds
  (subsets of) every font it uses.
* :func:`write_docx`: pandoc (the ``pypandoc-binary`` wheel). The model is
  written as pandoc Markdown (every character of text backslash-escaped, pipe
  tables with widths in proportion to their content, page breaks as raw
  OpenXML before each section but the first), converted with a reference
  document whose table style has borders and a header band. pandoc marks each
  table's header row ``w:tblHeader``, so Word repeats it on every page the table
  runs over. Tables stay real, editable Word tables; charts are embedded
  pictures.
* :func:`write_quarto`: the same Markdown rendered by ``quarto`` (``csat run
  --engine quarto``), when it is on PATH.

Both files are written atomically (:func:`analysis.store.atomic_write`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .documents import Document, Heading, Image, ListBlock, Paragraph, Span, Table
from .store import atomic_write

TEMPLATE = Path(__file__).resolve().parent / "templates" / "typst" / "report.typ"

#: Text width of the A4 page in the PDF (210 mm less 2 x 16 mm margins), in cm.
TEXT_WIDTH_CM = 17.8
#: Text width of the Word page (pandoc's reference document: Letter/A4 less 2 x 2.54 cm), in cm.
DOCX_WIDTH_CM = 15.9
#: Charts are shown at this many pixels per cm at most (matplotlib's 100 dpi figures).
PIXELS_PER_CM = 100 / 2.54

#: The families the PDF is set in (text, code); both cover Latin, CJK and the report's symbols.
PDF_FONT = "Noto Sans CJK SC"
PDF_MONO = "Noto Sans Mono CJK SC"

#: Debian's fonts-noto-cjk (bold face); used when present.
SYSTEM_CJK_DIR = Path("/usr/share/fonts/opentype/noto")


class RenderError(RuntimeError):
    """Typst, pandoc or quarto failed; the message names the tool and its error."""


# --------------------------------------------------------------------------- shared helpers
_NUMERIC = re.compile(r"^[<>≤≥+\-−–]?\s*[\d.,]+\s*(%|pp|/ ?100)?(\s*[–-]\s*[+\-−]?[\d.,]+%?)?\s*[▲▼]?$")


def numeric_columns(table: Table) -> list[bool]:
    """Per column: every non-empty body cell is a number (``73.6``, ``+2.6``, ``58.9%``, ``< 0.001``)."""
    out = []
    for j in range(len(table.columns)):
        cells = [r[j].strip() for r in table.rows if j < len(r) and r[j].strip()]
        out.append(bool(cells) and all(_NUMERIC.match(c) for c in cells))
    return out


def _width(text: str) -> int:
    """Display width of a text: a CJK character counts 2."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def longest_word(table: Table) -> int:
    """The display width of the longest unbreakable run (no space) in the table's cells (a file hash: 64)."""
    return max((_width(w) for r in table.rows for c in r for w in c.split()), default=0)


def column_weights(table: Table, cap: int = 40) -> list[float]:
    """Relative column widths: the longest cell (header words or body) of each column, in display width,
    capped so one long text column does not squeeze the others to nothing; never below the column's
    longest unbreakable run (a file hash keeps its width)."""
    weights = []
    for j, head in enumerate(table.columns):
        body = max((_width(r[j]) for r in table.rows if j < len(r)), default=0)
        words_ = max([_width(w) for w in head.split()] + [_width(w) for r in table.rows if j < len(r) for w in r[j].split()] or [1])
        weights.append(float(max(min(max(body, 3), cap), words_)))
    total = sum(weights) or 1.0
    return [round(w / total, 4) for w in weights]


def image_width_cm(image: Image, text_width: float) -> float:
    """A chart's printed width: its natural size at :data:`PIXELS_PER_CM`, at most the text width."""
    natural = image.width / PIXELS_PER_CM if image.width else text_width
    return round(min(natural, text_width), 2)


@contextmanager
def _workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="csat-typeset-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_images(doc: Document, folder: Path) -> dict[int, str]:
    """The document's charts as PNG files in ``folder``; block index -> file name."""
    names = {}
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Image):
            names[k] = f"chart-{k:03d}.png"
            (folder / names[k]).write_bytes(b.png)
    return names


def _first_section(doc: Document) -> int | None:
    """Index of the first level-2 heading (the section that shares the title's page)."""
    return next((k for k, b in enumerate(doc.blocks) if isinstance(b, Heading) and b.level == 2), None)


# --------------------------------------------------------------------------- PDF (Typst)
def font_dirs() -> list[Path]:
    """Folders Typst loads fonts from: the mplfonts wheel's (Noto Sans CJK SC regular, mono), and Debian's
    Noto CJK folder when present (adds the bold face)."""
    import mplfonts

    dirs = [Path(mplfonts.__file__).resolve().parent / "fonts"]
    if SYSTEM_CJK_DIR.is_dir():
        dirs.append(SYSTEM_CJK_DIR)
    return dirs


def _span_json(s: Span) -> dict:
    return {"text": s.text, "strong": s.strong, "emph": s.emph, "code": s.code}


def typst_content(doc: Document, images: dict[int, str]) -> dict:
    """The JSON the Typst template reads: title, language, fonts and the blocks (see report.typ)."""
    first = _first_section(doc)
    blocks = []
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Heading):
            blocks.append({"kind": "heading", "level": min(b.level, 4), "text": b.text, "first": k == first})
        elif isinstance(b, Paragraph):
            blocks.append({"kind": "paragraph", "spans": [_span_json(s) for s in b.spans]})
        elif isinstance(b, ListBlock):
            items = [[_span_json(s) for s in item] for item in b.items]
            blocks.append({"kind": "list", "ordered": b.ordered, "items": items})
        elif isinstance(b, Table) and b.columns:
            small = len(b.columns) > 6 or longest_word(b) > 40
            blocks.append(
                {
                    "kind": "table",
                    "columns": b.columns,
                    "rows": b.rows,
                    "status": b.status,
                    "numeric": numeric_columns(b),
                    "widths": column_weights(b),
                    "size": 7.5 if small else 8.5,
                }
            )
        elif isinstance(b, Image):
            blocks.append({"kind": "image", "path": images[k], "width": image_width_cm(b, TEXT_WIDTH_CM)})
    return {"title": doc.title, "lang": doc.language, "fonts": [PDF_FONT], "mono": [PDF_MONO, PDF_FONT], "blocks": blocks}


def pdf_bytes(doc: Document) -> bytes:
    """The document typeset by Typst as PDF bytes (see the module docstring). Raises RenderError, also when
    Typst warns that a font is missing (its glyphs would be substituted)."""
    import typst

    with _workdir() as folder:
        images = _write_images(doc, folder)
        (folder / "content.json").write_text(
            json.dumps(typst_content(doc, images), ensure_ascii=False), encoding="utf-8"
        )
        shutil.copyfile(TEMPLATE, folder / "report.typ")
        try:
            pdf, warnings = typst.compile_with_warnings(
                str(folder / "report.typ"),
                root=str(folder),
                font_paths=[str(d) for d in font_dirs()],
                ignore_system_fonts=True,
                sys_inputs={"content": "content.json"},
            )
        except Exception as exc:  # typst.TypstError and friends
            raise RenderError(f"Typst could not typeset '{doc.title}': {exc}") from None
    fonts = [str(w) for w in warnings if "font" in str(w).lower()]
    if fonts:  # a missing font would mean substituted or missing glyphs: never publish that
        raise RenderError(f"Typst could not find the report's fonts for '{doc.title}': {'; '.join(fonts)}")
    return pdf


def write_pdf(doc: Document, path: str | Path) -> Path:
    """Write ``doc`` as a PDF (:func:`pdf_bytes`) atomically; returns the path."""
    data = pdf_bytes(doc)
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return path


# --------------------------------------------------------------------------- Word (pandoc)
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~^$@&%=:;\"'/,?])")


def md_escape(text: str) -> str:
    """Text as pandoc Markdown that reads back as exactly this text: every ASCII punctuation
    backslash-escaped (pandoc's ``all_symbols_escapable``), line breaks made spaces."""
    return _MD_PUNCT.sub(r"\\\1", " ".join(str(text).split()))


def md_spans(spans: list[Span]) -> str:
    out = []
    for s in spans:
        if not s.text.strip():
            out.append(" " if s.text else "")
            continue
        lead = " " if s.text[:1].isspace() else ""
        tail = " " if s.text[-1:].isspace() else ""
        t = md_escape(s.text)
        if s.code:
            t = "`` " + " ".join(s.text.split()).replace("`", "'") + " ``"
        if s.emph:
            t = f"*{t}*"
        if s.strong:
            t = f"**{t}**"
        out.append(lead + t + tail)
    return "".join(out)


def md_table(table: Table) -> str:
    """A pipe table; its separator line is long enough (>72 characters) for pandoc to take the relative
    column widths from it (:func:`column_weights`)."""
    numeric = numeric_columns(table)
    weights = column_weights(table)
    head = "| " + " | ".join(md_escape(c) or " " for c in table.columns) + " |"
    seps = []
    for w, num in zip(weights, numeric, strict=True):
        dashes = "-" * max(3, round(w * 120))
        seps.append(dashes + ":" if num else ":" + dashes)
    lines = [head, "|" + "|".join(seps) + "|"]
    lines += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in table.rows]
    return "\n".join(lines)


PAGE_BREAK_DOCX = '```{=openxml}\n<w:p><w:r><w:br w:type="page"/></w:r></w:p>\n```'
PAGE_BREAK_QUARTO = "{{< pagebreak >}}"


def markdown(doc: Document, images: dict[int, str], text_width: float = DOCX_WIDTH_CM, page_break: str = PAGE_BREAK_DOCX) -> str:
    """The document as pandoc Markdown (for pandoc's docx writer and for quarto)."""
    first = _first_section(doc)
    parts: list[str] = []
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Heading):
            if b.level == 2 and k != first and page_break:
                parts.append(page_break)
            ident = f" {{#{b.id}}}" if b.id else ""
            parts.append(f"{'#' * min(b.level, 6)} {md_escape(b.text)}{ident}")
        elif isinstance(b, Paragraph):
            parts.append(md_spans(b.spans))
        elif isinstance(b, ListBlock):
            mark = "1." if b.ordered else "-"
            parts.append("\n".join(f"{mark} {md_spans(item)}" for item in b.items))
        elif isinstance(b, Table) and b.columns:
            parts.append(md_table(b))
        elif isinstance(b, Image):
            parts.append(f"![]({images[k]}){{width={image_width_cm(b, text_width)}cm}}")
    return "\n\n".join(p for p in parts if p.strip()) + "\n"


def pandoc_path() -> str:
    """The pandoc program of the ``pypandoc-binary`` wheel (no download)."""
    import pypandoc

    return pypandoc.get_pandoc_path()


def _pandoc(args: list[str], cwd: Path, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run([pandoc_path(), *args], cwd=cwd, input=stdin, capture_output=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RenderError(f"pandoc failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


_TABLE_STYLE = (
    '<w:style w:type="table" w:styleId="Table"><w:name w:val="Table"/><w:basedOn w:val="TableNormal"/>'
    '<w:uiPriority w:val="99"/><w:pPr><w:spacing w:before="20" w:after="20"/></w:pPr><w:rPr><w:sz w:val="18"/></w:rPr>'
    '<w:tblPr><w:tblBorders>'
    + "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="D0D7DE"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    + '</w:tblBorders><w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar></w:tblPr>'
    '<w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:color w:val="FFFFFF"/></w:rPr>'
    '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="1F5F8B"/></w:tcPr></w:tblStylePr></w:style>'
)


@functools.lru_cache(maxsize=1)
def reference_docx() -> bytes:
    """pandoc's default reference document with a bordered table style and a header band (cached)."""
    with _workdir() as folder:
        raw = _pandoc(["--print-default-data-file", "reference.docx"], folder)
        src, out = folder / "in.docx", folder / "out.docx"
        src.write_bytes(raw)
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == "word/styles.xml":
                    xml = data.decode("utf-8")
                    xml = re.sub(r'<w:style w:type="table"[^>]*w:styleId="Table".*?</w:style>', "", xml, flags=re.S)
                    xml = xml.replace("</w:styles>", _TABLE_STYLE + "</w:styles>")
                    data = xml.encode("utf-8")
                zout.writestr(item, data)
        return out.read_bytes()


def docx_bytes(doc: Document) -> bytes:
    """The document as a Word file through pandoc (see the module docstring). Raises RenderError."""
    with _workdir() as folder:
        images = _write_images(doc, folder)
        (folder / "report.md").write_text(markdown(doc, images), encoding="utf-8")
        (folder / "reference.docx").write_bytes(reference_docx())
        lang = {"zh": "zh-CN"}.get(doc.language, doc.language)
        _pandoc(
            [
                "report.md",
                "--from=markdown-implicit_figures",
                "--to=docx",
                "--reference-doc=reference.docx",
                f"--metadata=lang:{lang}",
                "--output=report.docx",
            ],
            folder,
        )
        return (folder / "report.docx").read_bytes()


def write_docx(doc: Document, path: str | Path) -> Path:
    """Write ``doc`` as a Word file (:func:`docx_bytes`) atomically; returns the path."""
    data = docx_bytes(doc)
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return path


# --------------------------------------------------------------------------- quarto (optional)
def quarto_path() -> str | None:
    """The ``quarto`` program on PATH, or None."""
    return shutil.which("quarto")


def write_quarto(doc: Document, pdf: str | Path, docx: str | Path) -> tuple[Path, Path]:
    """Render ``doc`` with Quarto: its Markdown (:func:`markdown`, Quarto page breaks) to Typst-PDF and
    Word (``quarto render report.qmd --to typst`` / ``--to docx``). Raises RenderError without quarto."""
    quarto = quarto_path()
    if not quarto:
        raise RenderError("--engine quarto needs the 'quarto' program on PATH (https://quarto.org).")
    written = []
    with _workdir() as folder:
        images = _write_images(doc, folder)
        lang = {"zh": "zh-CN"}.get(doc.language, doc.language)
        header = json.dumps({"title": doc.title, "lang": lang}, ensure_ascii=False)
        body = markdown(doc, images, page_break=PAGE_BREAK_QUARTO)
        (folder / "report.qmd").write_text(f"---\n{header}\n---\n\n{body}", encoding="utf-8")
        for fmt, target, made in (("typst", pdf, "report.pdf"), ("docx", docx, "report.docx")):
            proc = subprocess.run(
                [quarto, "render", "report.qmd", "--to", fmt, "--output", made],
                cwd=folder,
                capture_output=True,
                timeout=600,
                check=False,
                env={**os.environ, "QUARTO_PRINT_STACK": "false"},
            )
            if proc.returncode != 0 or not (folder / made).exists():
                raise RenderError(f"quarto render --to {fmt} failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
            data = (folder / made).read_bytes()
            atomic_write(Path(target), lambda tmp, data=data: tmp.write_bytes(data))
            written.append(Path(target))
    return written[0], written[1]


# --------------------------------------------------------------------------- beside the HTML report
#: The document engines of ``csat run --engine``: Typst + pandoc (default, installed from PyPI) or quarto.
ENGINES = ("typst", "quarto")


def write_documents(
    executed: str | Path, html: str | Path, title: str, language: str = "en", engine: str = "typst"
) -> tuple[Path, Path]:
    """The PDF and Word files beside an HTML report (``reports/2025H1.html`` -> ``2025H1.pdf``, ``.docx``),
    from the same executed notebook (:func:`analysis.documents.from_notebook`).

    ``engine`` is ``"typst"`` (:func:`write_pdf`, :func:`write_docx`) or ``"quarto"``
    (:func:`write_quarto`). Returns the two paths. Raises RenderError.
    """
    from .documents import from_notebook

    if engine not in ENGINES:
        raise RenderError(f"unknown document engine {engine!r}; expected one of {', '.join(ENGINES)}.")
    html = Path(html)
    pdf, docx = html.with_suffix(".pdf"), html.with_suffix(".docx")
    doc = from_notebook(executed, title, language)
    if engine == "quarto":
        return write_quarto(doc, pdf, docx)
    return write_pdf(doc, pdf), write_docx(doc, docx)


__all__ = [
    "ENGINES",
    "RenderError",
    "docx_bytes",
    "font_dirs",
    "markdown",
    "md_escape",
    "pdf_bytes",
    "write_docx",
    "write_pdf",
    "write_documents",
    "write_quarto",
]
