#!/usr/bin/env python
"""Open every HTML report in headless Chromium, offline, and fail on anything a reader would notice.

Usage::

    python scripts/check_reports.py REPORTS_DIR [--screenshots DIR] [--min-images N]
        [--chromium /usr/bin/chromium] [--timeout SECONDS]

Every ``*.html`` directly under REPORTS_DIR (not in sub-folders such as
``notebooks/``) is opened from disk by Debian's Chromium (driven by the
``playwright`` package through ``executable_path``; no ``playwright install``)
with a fresh profile and the network disabled. A report fails on:

* a console error or an uncaught script error;
* a JavaScript dialog (``alert`` ...): an open-ended answer was not escaped;
* a request that is not ``file:`` / ``data:`` / ``blob:`` (an external resource);
* a failed request (a missing local file);
* a broken image (``naturalWidth`` 0);
* a missing required section id (:data:`analysis.publish.WAVE_REPORT_SECTIONS`,
  ``TRACKING_SECTIONS`` for ``tracking.html``, ``INDEX_SECTIONS`` for ``index.html``);
* a wave report with fewer than ``--min-images`` charts (default 4);
* a link to a local file that does not exist, or to an in-page ``#id`` that no element has.

A full-page PNG screenshot of every report is saved to ``--screenshots``
(default ``REPORTS_DIR/../screenshots``). Exit status: 0 all reports pass,
1 a report fails (the problems are listed), 2 the check could not run
(no Chromium, no playwright, no reports).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    # belt and braces next to the offline browser context: no name resolves, no proxy is reachable
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

try:  # the section ids are defined next to the template that produces them
    from analysis.publish import INDEX_SECTIONS, TRACKING_SECTIONS, WAVE_REPORT_SECTIONS
except ImportError:  # pragma: no cover - running the script without the package installed
    WAVE_REPORT_SECTIONS = ("toc", "summary", "kpis", "provenance")
    TRACKING_SECTIONS = ("toc", "kpis", "provenance")
    INDEX_SECTIONS = ("reports",)

_PAGE_FACTS_JS = """
() => {
  const images = Array.from(document.images).map(i => ({src: i.currentSrc || i.src || '', ok: i.complete && i.naturalWidth > 0}));
  const svgs = document.querySelectorAll('.jp-RenderedSVG svg').length;
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => ({raw: a.getAttribute('href'), url: a.href}));
  return {images, svgs, ids, links};
}
"""


@dataclass
class PageResult:
    """What the browser saw on one page."""

    name: str
    problems: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    n_images: int = 0


def required_sections(name: str) -> tuple[str, ...]:
    """The element ids a report file must contain, by its file name."""
    if name == "index.html":
        return tuple(INDEX_SECTIONS)
    if name == "tracking.html":
        return tuple(TRACKING_SECTIONS)
    return tuple(WAVE_REPORT_SECTIONS)


def _file_of(url: str) -> Path | None:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


def check_page(context, path: Path, screenshots: Path | None, min_images: int, timeout_ms: int) -> PageResult:
    """Open one report in ``context`` (a playwright BrowserContext) and list its problems."""
    result = PageResult(path.name)
    problems = result.problems
    page = context.new_page()
    page.set_default_timeout(timeout_ms)

    def on_console(msg) -> None:
        if msg.type == "error":
            problems.append(f"console error: {msg.text}")

    def on_request(req) -> None:
        if not req.url.startswith(LOCAL_SCHEMES):
            problems.append(f"external request: {req.url}")

    def on_failed(req) -> None:
        if req.url.startswith(LOCAL_SCHEMES):  # external ones are already reported
            problems.append(f"failed request: {req.url} ({req.failure})")

    def on_dialog(dialog) -> None:
        problems.append(f"a script opened a {dialog.type} dialog: {dialog.message!r} (unescaped HTML?)")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("dialog", on_dialog)
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(200)  # late console messages and image decoding
        facts = page.evaluate(_PAGE_FACTS_JS)
    except Exception as exc:  # a page that cannot even load
        problems.append(f"could not open the page: {exc}")
        page.close()
        return result

    for img in facts["images"]:
        if not img["ok"]:
            problems.append(f"broken image: {img['src'][:120]}")
    result.n_images = sum(img["ok"] for img in facts["images"]) + int(facts["svgs"])
    ids = set(facts["ids"])
    for section in required_sections(path.name):
        if section not in ids:
            problems.append(f"missing section: no element with id '{section}'")
    if required_sections(path.name) == tuple(WAVE_REPORT_SECTIONS) and result.n_images < min_images:
        problems.append(f"only {result.n_images} chart(s); a wave report needs at least {min_images}")
    for link in facts["links"]:
        raw = link["raw"] or ""
        if raw.startswith("#"):
            from urllib.parse import unquote

            # browsers match the fragment as written, then percent-decoded (nbconvert encodes non-ASCII ids)
            if len(raw) > 1 and raw[1:] not in ids and unquote(raw[1:]) not in ids:
                problems.append(f"broken in-page link: {raw}")
            continue
        target = _file_of(link["url"])
        if target is not None and not target.exists():
            problems.append(f"broken link: {raw} (no file {target.name})")

    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
        result.screenshot = screenshots / f"{path.stem}.png"
        try:
            page.screenshot(path=str(result.screenshot), full_page=True)
        except Exception as exc:
            problems.append(f"screenshot failed: {exc}")
    page.close()
    return result


def check_reports(
    reports_dir: Path,
    screenshots: Path | None = None,
    min_images: int = 4,
    chromium: str = DEFAULT_CHROMIUM,
    timeout: float = 30.0,
) -> list[PageResult]:
    """Check every ``*.html`` directly under ``reports_dir``; returns one :class:`PageResult` per page."""
    from playwright.sync_api import sync_playwright

    pages = sorted(p for p in Path(reports_dir).glob("*.html") if p.is_file())
    results = []
    with tempfile.TemporaryDirectory(prefix="csat-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            offline=True,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        try:
            for path in pages:
                results.append(check_page(context, path, screenshots, min_images, int(timeout * 1000)))
        finally:
            context.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports_dir", type=Path, help="folder with the HTML reports (e.g. reports/)")
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for full-page PNG screenshots")
    parser.add_argument(
        "--min-images", type=int, default=4, help="charts a wave report must have (default 4)"
    )
    parser.add_argument(
        "--chromium", default=DEFAULT_CHROMIUM, help=f"Chromium executable (default {DEFAULT_CHROMIUM})"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a page (default 30)")
    args = parser.parse_args(argv)

    if not Path(args.chromium).exists():
        print(
            f"check_reports: Chromium not found at {args.chromium} (apt-get install chromium).",
            file=sys.stderr,
        )
        return 2
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("check_reports: the 'playwright' package is missing (pip install playwright).", file=sys.stderr)
        return 2
    reports = Path(args.reports_dir)
    if not reports.is_dir() or not any(reports.glob("*.html")):
        print(f"check_reports: no *.html reports in {reports}.", file=sys.stderr)
        return 2
    screenshots = args.screenshots or reports.resolve().parent / "screenshots"

    results = check_reports(reports, screenshots, args.min_images, args.chromium, args.timeout)
    failed = [r for r in results if r.problems]
    for r in results:
        mark = "FAIL" if r.problems else "ok  "
        shot = f" -> {r.screenshot}" if r.screenshot else ""
        print(f"{mark} {r.name} ({r.n_images} images){shot}")
        for problem in r.problems:
            print(f"     - {problem}")
    print(f"{len(results) - len(failed)}/{len(results)} reports passed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
