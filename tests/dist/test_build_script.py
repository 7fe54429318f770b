"""dist/build.sh's own edges: where it puts things, and bad arguments refused before any build."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT


def build(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "dist/build.sh"), *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "INCLUSTER_CACHE": str(cache)})


def test_the_output_folder_is_outside_the_sources_and_named_for_the_commit(tmp_path: Path) -> None:
    out = build("--print-dir", cache=tmp_path)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    assert out.returncode == 0 and out.stdout.startswith(f"{tmp_path}/dist/{commit}"), out
    assert not list(tmp_path.iterdir()), "--print-dir must not create anything"


@pytest.mark.parametrize("args,code,says", [
    (["--frobnicate"], 2, "unknown argument '--frobnicate'"),
    (["--pythons", "3.x"], 2, "'3.x' is not a CPython version such as 3.12"),
    (["--musl-pythons", "3"], 2, "'3' is not a CPython version such as 3.12"),
    (["--pythons", "3.99"], 1, "no CPython 3.99 found"),
])
def test_bad_arguments_are_refused_before_anything_is_built(
        args: list[str], code: int, says: str, tmp_path: Path) -> None:
    out = build(*args, cache=tmp_path)
    assert out.returncode == code and says in out.stderr, out
    # Refused before the tools venv or any cargo work.
    assert not (tmp_path / "dist-tools").exists() and not (tmp_path / "target-dist").exists()
