"""Fixtures for the end-to-end tests: one real control plane per session (``cluster.py``), the
CLI and C program built by cargo, and helpers that run them in the simulated pod.

Paths come from $CARGO_TARGET_DIR (default ~/.cache/incluster/target): ``debug/incluster``,
``debug/libincluster.so`` and ``debug/testserver`` (the fake kubelet).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import CACHE, NAMESPACE, ROOT, Cluster  # noqa: E402

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target")) / "debug"


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory(prefix="incluster-e2e-") as tmp:
        c = Cluster(Path(tmp))
        with c:
            # The client library reads these; the tests run in the simulated pod.
            saved = {k: os.environ.get(k) for k in c.env()}
            os.environ.update(c.env())
            try:
                yield c
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v


@pytest.fixture(scope="session")
def cli() -> Path:
    path = TARGET / "incluster"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo build` (tests/run.sh does)")
    return path


@pytest.fixture(scope="session")
def c_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/e2e/c/e2e.c, compiled strictly and linked against libincluster.so."""
    out = tmp_path_factory.mktemp("c") / "e2e"
    subprocess.run(
        ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
         str(ROOT / "tests" / "e2e" / "c" / "e2e.c"), f"-L{TARGET}", f"-Wl,-rpath,{TARGET}",
         "-lincluster", "-o", str(out)],
        check=True,
    )
    return out


def run(args: list[Any], timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a program in the simulated pod (the environment the ``cluster`` fixture set)."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, **kw)


def configmaps(cluster: Cluster, prefix: str = "") -> dict[str, str]:
    """The server's ConfigMaps (name -> data.v), read as the admin."""
    items = cluster.admin("GET", f"/api/v1/namespaces/{NAMESPACE}/configmaps")["items"]
    return {i["metadata"]["name"]: (i.get("data") or {}).get("v", "")
            for i in items if i["metadata"]["name"].startswith(prefix)}
