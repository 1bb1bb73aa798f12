"""One output scanner for the hostile-input tests (issue 16): nothing private, live or formula-like
leaves a run, whatever the inputs held.

:func:`scan` walks every file under an output folder and returns what it found (an empty list when
clean); :func:`assert_clean` fails with that list. Checked, per kind of file:

* every file: no planted personal datum (phone numbers in every form, e-mail addresses, customer
  numbers, Chinese ID numbers: the ``markers`` passed in, strings or regular expressions, a phone
  number also with its separators removed), no NUL character in a text file;
* CSV: no text cell (header included) beginning with ``=`` ``+`` ``-`` ``@`` tab or carriage
  return unless it is a plain number (after OWASP quoting such a cell begins with ``'``);
* parquet: the text of every column (and the column names), as for every file;
* HTML (and the HTML / Markdown outputs of an executed notebook): parsed with :mod:`html.parser`,
  so escaped text is text; no element or attribute from the inputs is live: no ``on...``
  attribute, no ``javascript:`` link, no ``<script>`` whose code holds a planted marker, no
  planted tag (``<img src=x>``, ``<svg onload>``, ``<iframe>``);
* PDF: the text pdftotext extracts (when poppler is installed; the document tests require it);
* DOCX / XLSX: the XML of every part.

Markdown outputs of notebooks are rendered with mistune (nbconvert's Markdown renderer) before
parsing, so raw HTML inside Markdown counts as live, as it is in Jupyter.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

#: Markup planted by the tests: each holds ``alert(``, so a live copy is recognised in code too.
MARKUP = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[md](javascript:alert(3))",
    '<a href="javascript:alert(4)">x</a>',
    "<svg onload=alert(5)>",
    "<iframe src=javascript:alert(6)>",
)
#: Formulas planted by the tests (a spreadsheet would run them).
FORMULAS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")
#: Personal data planted by the tests; :func:`scan` looks for each, and for a phone number also its digits.
PHONES = ("139.1234.5678", "(010) 1234-5678", "+86 139 1234 5678", "139-8765-4321", "13712345678")
EMAILS = ("hostile.person@example.org",)
CUSTOMER_NUMBERS = ("C991234",)
CN_IDS = ("11010519491231002X",)
PII = (*PHONES, *EMAILS, *CUSTOMER_NUMBERS, *CN_IDS)

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf|nan", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LIVE_TAGS = {"script", "iframe", "object", "embed"}
_TEXT_SUFFIXES = {".csv", ".json", ".html", ".htm", ".ipynb", ".md", ".txt", ".svg", ".yaml", ".xml"}


def needles(markers: Iterable[str]) -> list[str]:
    """Every string that must not appear: each marker, and a phone number's bare digits too."""
    out = []
    for m in markers:
        out.append(m)
        digits = re.sub(r"\D", "", m)
        if m in PHONES or (len(digits) >= 7 and re.fullmatch(r"[\d\s().+-]+", m)):
            out.append(digits)
            out.append(digits.removeprefix("86"))
    return list(dict.fromkeys(out))


class _LiveMarkup(HTMLParser):
    """Collects live elements: event attributes, javascript: links, planted tags, planted script code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if re.match(r"(?i)\s*(javascript|vbscript|data:text/html)", value) and name in (
                "href", "src", "action", "formaction", "xlink:href", "data",
            ):
                self.found.append(f"<{tag} {name}={value[:40]}>")
            if name == "style" and "alert(" in value:
                self.found.append(f"<{tag} style={value[:40]}>")
        if tag in ("img", "iframe") and dict(attrs).get("src") in ("x", None):
            self.found.append(f"<{tag} src=x>")
        if tag in _LIVE_TAGS:
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and "alert(" in data:
            self.found.append(f"<{self._in[-1]}> running {data.strip()[:40]!r}")


def live_markup(html: str) -> list[str]:
    """The live elements planted markup became in ``html`` (empty when every input is text)."""
    parser = _LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.found


def formula_cells(text: str) -> list[str]:
    """CSV cells (header included) a spreadsheet would run: text beginning with = + - @ tab or CR."""
    bad = []
    for r, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
        for cell in row:
            if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell.strip()):
                bad.append(f"row {r}: {cell[:40]!r}")
    return bad


def _markdown_html(markdown: str) -> str:
    import mistune

    return mistune.html(markdown)


def _notebook_parts(text: str) -> tuple[list[str], list[str]]:
    """An executed notebook's (HTML outputs, all output text); Markdown outputs rendered to HTML."""
    nb = json.loads(text)
    html, texts = [], []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime, value in data.items():
                value = "".join(value) if isinstance(value, list) else str(value)
                texts.append(value)
                if mime == "text/html" or mime == "image/svg+xml":
                    html.append(value)
                elif mime == "text/markdown":
                    html.append(_markdown_html(value))
            if "text" in out:
                texts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
    return html, texts


def _parquet_text(path: Path) -> str:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    parts = [" ".join(table.column_names)]
    for column in table.columns:
        if str(column.type) in ("string", "large_string") or "dictionary" in str(column.type):
            parts.extend(str(v) for v in column.to_pylist() if v is not None)
    return "\n".join(parts)


def _pdf_text(path: Path) -> str | None:
    tool = shutil.which("pdftotext")
    if not tool:
        return None
    return subprocess.run([tool, "-raw", str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8", "replace")


def _zip_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels")))


def scan_file(path: Path, markers: Iterable[str | re.Pattern[str]] = PII) -> list[str]:
    """What one output file leaks: planted personal data, formula cells, live markup, NUL characters."""
    found: list[str] = []
    suffix = path.suffix.lower()
    html: list[str] = []
    if suffix == ".parquet":
        text = _parquet_text(path)
    elif suffix == ".pdf":
        text = _pdf_text(path) or ""
    elif suffix in (".docx", ".xlsx", ".pptx"):
        text = _zip_xml(path)
        found += [f"javascript link in {path.name}" for _ in re.findall(r'(?i)Target="\s*javascript:', text)]
    elif suffix in _TEXT_SUFFIXES:
        data = path.read_bytes()
        if b"\x00" in data or "\\u0000" in data.decode("utf-8", "replace"):
            found.append("NUL character")
        text = data.decode("utf-8", "replace")
        if suffix == ".csv":
            found += [f"formula cell {c}" for c in formula_cells(text)]
        elif suffix in (".html", ".htm", ".svg"):
            html.append(text)
        elif suffix == ".ipynb":
            outputs_html, texts = _notebook_parts(text)
            html += outputs_html
            text = "\n".join(texts)
    else:  # images, fonts: no text to read
        return []
    if "\x00" in text:
        found.append("NUL character")
    for needle in needles(m for m in markers if isinstance(m, str)):
        if needle in text:
            found.append(f"personal datum {needle!r}")
    for pattern in (m for m in markers if isinstance(m, re.Pattern)):
        if (hit := pattern.search(text)) is not None:
            found.append(f"personal datum {hit.group(0)!r} ({pattern.pattern})")
    for page in html:
        found += [f"live markup {m}" for m in live_markup(page)]
    return sorted(set(found))


def scan(out: Path, markers: Iterable[str | re.Pattern[str]] = PII) -> list[str]:
    """Every leak under the output folder ``out``, as ``'<relative path>: <what>'``; empty when clean."""
    markers = list(markers)
    found = []
    for path in sorted(Path(out).rglob("*")):
        if path.is_file():
            found += [f"{path.relative_to(out)}: {what}" for what in scan_file(path, markers)]
    return found


def assert_clean(out: Path, markers: Iterable[str | re.Pattern[str]] = PII) -> None:
    """Fail listing every leak under ``out`` (see :func:`scan`)."""
    found = scan(out, markers)
    assert not found, "\n".join(found[:50])


# --------------------------------------------------------------------------- a hostile demo
#: Segment groups of the demo replaced by hostile ones (formula, markup), everywhere they occur.
HOSTILE_GROUPS = {
    "华东": '=HYPERLINK("http://x","y")<script>alert(1)</script>',
    "电商": "@SUM(A1)<img src=x onerror=alert(2)>",
    "普通客户": "+1+1 [md](javascript:alert(3))",
}
#: Wave ids of the demo replaced by hostile ones.
HOSTILE_WAVES = {"2026H1": "2026H1<img src=x onerror=alert(7)>"}
HOSTILE_COMMENT = (
    '<script>alert(1)</script> =HYPERLINK("http://x","y") 电话 139.1234.5678 或 (010) 1234-5678 或 '
    "+86 139 1234 5678, 邮箱 hostile.person@example.org, 身份证 11010519491231002X, 客户号 C991234"
)


def _hostile(text: str, n: int) -> str:
    return f"{text}{MARKUP[n % len(MARKUP)]}"


def _yaml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML scalar


def _swap_everywhere(text: str, swaps: dict[str, str], quote: bool) -> str:
    for old, new in swaps.items():
        text = text.replace(old, _yaml_text(new) if quote else new)
    return text


def plant_everywhere(root: Path) -> None:
    """Markup, formulas and personal data in every text field of a demo project at ``root``
    (``params/`` and ``data/raw/`` as ``csat demo`` writes them): the title, construct names, item
    texts, scale labels, codebook words, segment groups (raw files, complaint logs and weighting
    margins), a wave id, comments, and phone and customer numbers typed into rating cells."""
    import pandas as pd
    import yaml

    params = root / "params"
    survey = (params / "survey.yaml").read_text(encoding="utf-8")
    spec = yaml.safe_load(survey)
    title = "<script>alert(1)</script> [md](javascript:alert(3)) =HYPERLINK(\"http://x\",\"y\")"
    survey = re.sub(r"(?m)^title: .*$", f"title: {{en: {_yaml_text(title)}, zh: {_yaml_text('调查' + title)}}}", survey)
    for n, (name, words) in enumerate(spec.get("constructs", {}).items()):
        survey = survey.replace(f"{name}: {{zh: {words['zh']}, en: {words['en']}}}",
                                f"{name}: {{zh: {_yaml_text(_hostile(words['zh'], n))}, en: {_yaml_text(_hostile(words['en'], n))}}}")
    item_texts = {}
    for n, item in enumerate(spec["items"]):
        zh, en = item["text"]["zh"], item["text"]["en"]
        new_zh, old = _hostile(zh, n), f"text: {{en: {en}, zh: {zh}}}"
        if old in survey:  # (an item text quoted in the file is left as it is)
            item_texts[zh] = new_zh
            survey = survey.replace(old, f"text: {{en: {_yaml_text(_hostile(en, n))}, zh: {_yaml_text(new_zh)}}}")
    labels = {"一般": "一般<img src=x onerror=alert(2)>", "Neutral": "=Neutral<script>alert(1)</script>"}
    survey = survey.replace("{zh: 一般, en: Neutral}", f"{{zh: {_yaml_text(labels['一般'])}, en: {_yaml_text(labels['Neutral'])}}}")
    survey = survey.replace("quality: {zh: [质量,", f"quality: {{zh: [{_yaml_text('<b onclick=alert(8)>质量')}, 质量,")
    survey = survey.replace("delivery: {zh: [交期,", f"delivery: {{zh: [{_yaml_text('=HYPERLINK(1)')}, 交期,")
    survey = _swap_everywhere(survey, HOSTILE_GROUPS, quote=True)
    (params / "survey.yaml").write_text(survey, encoding="utf-8")
    for wave_file in (params / "waves").glob("*.yaml"):
        text = wave_file.read_text(encoding="utf-8")
        for old, new in HOSTILE_WAVES.items():
            text = re.sub(rf"(?m)^(wave|baseline): {old}\b", lambda m, new=new: f"{m.group(1)}: {_yaml_text(new)}", text)
        wave_file.write_text(text, encoding="utf-8")
    for raw in sorted((root / "data" / "raw").iterdir()):
        _plant_raw(raw, {**HOSTILE_GROUPS, **labels, **item_texts}, pd)


def _plant_raw(raw: Path, swaps: dict[str, str], pd) -> None:  # noqa: ANN001
    """One raw file of the demo with its groups, labels and headers swapped; comments and rating
    cells of the survey exports get markup and personal data."""
    if raw.suffix == ".csv":
        data = raw.read_bytes()
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            encoding, text = "gbk", data.decode("gb18030")
        sep = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    elif raw.suffix == ".xlsx":
        frame = pd.read_excel(raw, dtype=object)
    else:
        return
    frame.columns = [swaps.get(c, c) for c in frame.columns]
    frame = frame.apply(lambda col: col.map(lambda v: swaps.get(v, v) if isinstance(v, str) else v)).astype(object)
    if "q_comment" in frame.columns:
        frame.loc[frame.index[:40:4], "q_comment"] = HOSTILE_COMMENT
        frame.loc[frame.index[:40:4], "cust_no"] = CUSTOMER_NUMBERS[0]  # a respondent types their number
        frame.loc[frame.index[3], frame.columns[0]] = PHONES[-1]  # a phone number as the respondent id
        frame["<img src=x onerror=alert(9)>"] = "=1+1"  # an undeclared column
        frame.loc[frame.index[1], "q_comment"] = ("很好\x00" if raw.suffix == ".csv" else "很好") + MARKUP[1]
    rated = [c for c in frame.columns if str(c).startswith("q_img") or c == "企业信誉" or str(c).startswith("<")]
    if rated and "q_comment" in frame.columns:
        for k, value in enumerate((*PHONES, *CUSTOMER_NUMBERS)):
            frame.loc[frame.index[5 + k * 7], rated[k % len(rated)]] = value
    if raw.suffix == ".csv":
        out = io.StringIO()
        frame.to_csv(out, sep=sep, index=False, lineterminator="\n")
        raw.write_bytes(out.getvalue().encode(encoding if encoding != "gbk" else "gb18030"))
    else:  # as text, never as formulas (an export holds what the respondent typed)
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        for r, row in enumerate([list(frame.columns), *frame.itertuples(index=False)], start=1):
            for c, value in enumerate(row, start=1):
                if value is None or value != value:
                    continue
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
        book.save(raw)
