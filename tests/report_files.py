"""Helpers of the document tests: poppler's pdftotext / pdffonts, and small PNG charts."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def poppler(tool: str) -> str:
    """The path of a poppler-utils program; fails (never skips) when it is missing: .ci/run installs it."""
    path = shutil.which(tool)
    assert path, f"{tool} is missing: apt-get install poppler-utils (.ci/run installs it)"
    return path


def pdf_text(pdf: Path, first: int | None = None, last: int | None = None, raw: bool = False) -> str:
    """The text of a PDF (or of pages first..last) by pdftotext: layout kept, or (``raw``) in the order
    the PDF draws it (a table cell's words together)."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    mode = "-raw" if raw else "-layout"
    out = subprocess.run([poppler("pdftotext"), mode, *pages, str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def pdf_fonts(pdf: Path) -> list[dict[str, str]]:
    """pdffonts' table: one dict per font with its name, type and the emb / sub / uni flags."""
    out = subprocess.run([poppler("pdffonts"), str(pdf)], capture_output=True, check=True).stdout.decode()
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 7:  # name type... encoding emb sub uni object ID
            rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def png_bytes(seed: int) -> bytes:
    """A small bar chart with Chinese labels, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.plotting import use_style

    use_style()
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.bar(["质量", "价格", "服务"], [seed, seed + 1, seed + 2])
    ax.set_title(f"图 {seed}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DRAWING_INLINE = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}inline"


@dataclass
class WordFile:
    """What a .docx holds, read from its XML (zip inspection; python-docx would bring lxml, which changes
    how openpyxl writes the demo's .xlsx): tables as rows of cell texts, paragraphs outside tables,
    pictures, and whether each table's first row is a repeated header row."""

    tables: list[list[list[str]]]
    header_rows: list[bool]
    paragraphs: list[str]
    pictures: int
    media: list[str]
    page_breaks: int


def _text(element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{W}t"))


def read_docx(path: Path) -> WordFile:
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("word/document.xml"))
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    body = root.find(f"{W}body")
    tables, headers, paragraphs = [], [], []
    for el in body.iter():
        if el.tag == f"{W}tbl":
            rows = el.findall(f"{W}tr")
            tables.append([[_text(c) for c in r.findall(f"{W}tc")] for r in rows])
            headers.append(bool(rows) and rows[0].find(f"{W}trPr/{W}tblHeader") is not None)
    for p in body.findall(f"{W}p"):
        paragraphs.append(_text(p))
    pictures = sum(1 for _ in root.iter(DRAWING_INLINE))
    breaks = sum(1 for b in root.iter(f"{W}br") if b.get(f"{W}type") == "page")
    return WordFile(tables, headers, paragraphs, pictures, media, breaks)
