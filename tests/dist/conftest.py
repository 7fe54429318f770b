"""Fixtures for the release artefact tests: where dist/build.sh put them, the test server.

The artefacts come from $INCLUSTER_DIST (tests/run.sh builds them with dist/build.sh and sets
it), else from this checkout's dist/build.sh --print-dir. The test server and the simulated
pod's ServiceAccount files are the Python tests' own (tests/python/conftest.py).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]

# tests/python/conftest.py, under another module name: the server and SA-directory helpers
# are shared, not copied, and pytest's own `conftest` module stays this file.
_spec = importlib.util.spec_from_file_location("python_conftest", ROOT / "tests/python/conftest.py")
assert _spec is not None and _spec.loader is not None
shared: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shared)
TOKEN: str = shared.TOKEN
Server: Any = shared.Server
SaDir: Any = shared.SaDir

VERSION = next(
    line.split('"')[1]
    for line in (ROOT / "Cargo.toml").read_text().splitlines()
    if line.startswith("version = ")
)


@pytest.fixture(scope="session")
def dist() -> Path:
    d = os.environ.get("INCLUSTER_DIST") or subprocess.run(
        ["bash", str(ROOT / "dist/build.sh"), "--print-dir"],
        check=True, capture_output=True, text=True).stdout.strip()
    path = Path(d)
    if not (path / "SHA256SUMS").is_file():
        pytest.fail(f"no release artefacts in {path}: run `bash dist/build.sh` (tests/run.sh does)")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    s = Server(tmp_path / "server", "--token", TOKEN)
    yield s
    s.stop()


@pytest.fixture
def sa(server: Any, tmp_path: Path) -> Any:
    """A pod's ServiceAccount directory, as the kubelet lays it out."""
    return SaDir(tmp_path / "sa", TOKEN, server.ca, "dist-ns")


@pytest.fixture
def pod_env(server: Any, sa: Any) -> dict[str, str]:
    """The environment of a process in the simulated pod: the service env vars, the SA
    directory, and nothing inherited from this machine."""
    return {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(server.port),
        "INCLUSTER_SERVICEACCOUNT_DIR": str(sa.path),
    }


def add_pod_with_log(server: Any, ns: str, name: str, lines: list[str]) -> None:
    server.control("POST", "/_control/pods", {"namespace": ns, "name": name, "containers": ["app"]})
    server.control("POST", "/_control/logs", {"namespace": ns, "pod": name, "lines": lines})
