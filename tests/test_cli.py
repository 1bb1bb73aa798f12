"""The `csat` command on bad input: exit status 2, one paragraph naming file and column, nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CSAT_ID_KEY": "test-key-0123456789"}
    env.pop("CSAT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, root: Path, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    message = " ".join(proc.stderr.split())
    for needle in needles:
        assert needle in message, message
    processed = root / "out" / "data" / "processed"
    assert not processed.exists() or not any(p.is_file() for p in processed.rglob("*"))
    reports = root / "out" / "reports"
    assert not reports.exists() or not any(p.is_file() for p in reports.rglob("*"))


def args(root: Path) -> list[str]:
    return [
        "run",
        "--survey",
        str(root / "params" / "survey.yaml"),
        "--out",
        str(root / "out"),
        "--no-progress",
    ]


def test_missing_raw_file(small_survey: Path) -> None:
    (small_survey / "data" / "raw" / "w1.csv").unlink()
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "w1.yaml", "does not exist")


def test_missing_item_column(small_survey: Path) -> None:
    raw = small_survey / "data" / "raw" / "w1.csv"
    raw.write_text(raw.read_text(encoding="utf-8").replace(",q4,", ",qq,", 1), encoding="utf-8")
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "w1.csv", "column 'q4'")


def test_unreadable_encoding(small_survey: Path) -> None:
    (small_survey / "data" / "raw" / "w1.csv").write_bytes(b"rid,q1\n\x81\x20\xff\xfe\x80,1\n")
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "w1.csv", "cannot be read as text")


@pytest.mark.parametrize(
    ("content", "needle"), [(b"", "is empty"), (b"rid,q1,q2\n", "header but no data rows")]
)
def test_empty_and_header_only(small_survey: Path, content: bytes, needle: str) -> None:
    (small_survey / "data" / "raw" / "w1.csv").write_bytes(content)
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "w1.csv", needle)


def test_bad_survey_definition(small_survey: Path) -> None:
    survey = small_survey / "params" / "survey.yaml"
    survey.write_text(
        survey.read_text(encoding="utf-8").replace("loyalty: [q5]", "loyalty: [q99]"), encoding="utf-8"
    )
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "survey.yaml", "'loyalty' names item 'q99'")


def test_unreadable_column_names_column_and_scale(small_survey: Path) -> None:
    raw = small_survey / "data" / "raw" / "w1.csv"
    lines = raw.read_text(encoding="utf-8").splitlines()
    fixed = [lines[0]] + [
        ",".join(f if i != 11 else "great" for i, f in enumerate(r.split(","))) for r in lines[1:]
    ]
    raw.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "column 'q6'", "scale 'sat5'")


def test_check_command_reads_everything_and_writes_nothing(small_survey: Path, capsys) -> None:
    os.environ["CSAT_ID_KEY"] = "test-key-0123456789"
    try:
        status = main(["check", "--survey", str(small_survey / "params" / "survey.yaml")])
    finally:
        os.environ.pop("CSAT_ID_KEY")
    assert status == 0
    assert "w1: 9 raw rows, 4 kept, 1 value issue(s)" in capsys.readouterr().out
    assert not (small_survey / "data" / "processed").exists()


def test_inconsistent_ahp_matrix_stops_the_run(small_survey: Path) -> None:
    survey = small_survey / "params" / "survey.yaml"
    text = survey.read_text(encoding="utf-8") + (
        "index:\n  weights: ahp\n"
        "  ahp:\n    labels: [Quality, Service, Satisfaction]\n"
        "    matrix: [[1, 9, 1/9], [1/9, 1, 9], [9, 1/9, 1]]\n"  # A > B > C > A: CR far above 0.10
    )
    survey.write_text(text, encoding="utf-8")
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "index.ahp.matrix", "survey.yaml", "CR")


def test_non_reciprocal_ahp_matrix_names_the_key(small_survey: Path) -> None:
    survey = small_survey / "params" / "survey.yaml"
    text = survey.read_text(encoding="utf-8") + (
        "index:\n  weights: ahp\n  ahp: {labels: [Quality, Service], matrix: [[1, 3], [3, 1]]}\n"
    )
    survey.write_text(text, encoding="utf-8")
    proc = run_cli(args(small_survey), small_survey)
    assert_clean_failure(proc, small_survey, "survey.yaml", "index.ahp.matrix", "not reciprocal")


def test_check_on_the_shipped_demo_passes_and_writes_nothing(tmp_path: Path) -> None:
    """End to end on the demo program (AHP index weights, three waves, three raw formats)."""
    repo = Path(__file__).resolve().parents[1]
    shutil.copytree(repo / "params", tmp_path / "params")
    shutil.copytree(repo / "data" / "raw", tmp_path / "data" / "raw")
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    proc = run_cli(["check"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["2025H1", "2025H2", "2026H1"]
    assert "2025H1: 2325 raw rows, 2230 kept, 50 value issue(s), encoding utf-8-sig" in lines
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert after == before  # no file written, created or touched


@pytest.mark.parametrize("key", [None, "short"])
def test_check_needs_no_hashing_key_and_writes_none(tmp_path: Path, key: str | None) -> None:
    """`csat check` validates only: customer ids are hashed with a throwaway key, so it works with no key
    configured (and writes no .csat_key) or a key `csat run` would refuse; `csat run` refuses the short key."""
    repo = Path(__file__).resolve().parents[1]
    shutil.copytree(repo / "params", tmp_path / "params")
    shutil.copytree(repo / "data" / "raw", tmp_path / "data" / "raw")
    env = {k: v for k, v in os.environ.items() if k not in ("CSAT_ID_KEY", "CSAT_KEY_FILE")}
    if key is not None:
        env["CSAT_ID_KEY"] = key
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    if key is not None:
        run = subprocess.run([sys.executable, "-m", "analysis.cli", "run", "--no-progress"], cwd=tmp_path,
                             env=env, capture_output=True, text=True)
        assert run.returncode == 2 and "CSAT_ID_KEY" in run.stderr
        assert not (tmp_path / "data" / "processed").exists() or not any((tmp_path / "data" / "processed").iterdir())


def test_segment_with_too_many_groups_is_refused_with_advice(small_survey: Path) -> None:
    """Issue 11, point 4: a segment with more groups than its limit stops csat check and csat run, with the
    advice to bin it or raise the limit; nothing is written."""
    survey = small_survey / "params" / "survey.yaml"
    text = survey.read_text(encoding="utf-8")
    survey.write_text(text.replace("segments: [region]", "segments: [{column: region, max_groups: 2}]"), encoding="utf-8")
    for command in (["check", "--survey", str(survey)], args(small_survey)):
        proc = run_cli(command, small_survey)
        assert_clean_failure(
            proc, small_survey, "survey.yaml", "segment 'region' has 3 groups, more than the limit of 2", "bins", "max_groups: 3"
        )
    survey.write_text(text.replace("segments: [region]", "segments: [{column: region, max_groups: 3}]"), encoding="utf-8")
    assert run_cli(["check", "--survey", str(survey)], small_survey).returncode == 0
