"""The Python wheels as users get them.

Each manylinux wheel is installed into a fresh venv of its own CPython, with a PATH that holds
only that venv (no Rust, cargo, maturin or C compiler reachable), and drives the test server
as a script in a pod would (smoke_wheel.py), the `incluster` command included. The shared
objects must need no glibc newer than 2.17. The musllinux wheels get the tag check only: no
musl CPython is to be had from the package registries this project uses (python.org builds
for musl are not on PyPI, and Debian packages no musl Python), so nothing here can import them.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, VERSION

SMOKE = Path(__file__).with_name("smoke_wheel.py")
CACHE = Path(os.environ.get("INCLUSTER_CACHE") or Path.home() / ".cache/incluster")


def dist_dir() -> Path:
    """The artefact folder, known at collection time (the tests are made per wheel)."""
    d = os.environ.get("INCLUSTER_DIST") or subprocess.run(
        ["bash", str(ROOT / "dist/build.sh"), "--print-dir"],
        check=True, capture_output=True, text=True).stdout.strip()
    return Path(d)


def wheels(tag: str) -> list[Path]:
    return sorted((dist_dir() / "python").glob(f"incluster-{VERSION}-cp3*{tag}*.whl")) or [
        Path(f"no {tag} wheel in {dist_dir() / 'python'} (run dist/build.sh)")]


def cpython(whl: Path) -> str:
    """'3.12' for a cp312 wheel."""
    m = re.search(r"-cp3(\d+)-", whl.name)
    assert m, f"{whl.name} is not a CPython wheel"
    return f"3.{m.group(1)}"


def interpreter(version: str) -> Path:
    """The machine's CPython X.Y (pyenv's, else python3.X on PATH), as dist/build.sh finds it."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    found = sorted(Path(root).glob(f"versions/{version}.*/bin/python")) if root else []
    for p in found + [Path(d) / f"python{version}" for d in os.environ["PATH"].split(":")]:
        if p.is_file() and os.access(p, os.X_OK):
            return p
    pytest.fail(f"no CPython {version} on this machine (pyenv or python{version} on PATH)")


def fresh_venv(version: str, where: Path) -> tuple[Path, dict[str, str]]:
    """A new venv of CPython X.Y and the environment to use it with: its bin/ alone on PATH."""
    subprocess.run([str(interpreter(version)), "-m", "venv", str(where)], check=True,
                   env={"PATH": "/usr/bin:/bin"})
    env = {"PATH": str(where / "bin"), "HOME": str(where), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_NO_INDEX": "1", "LANG": "C.UTF-8"}
    return where, env


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("whl", wheels("manylinux_2_17_x86_64"), ids=lambda p: p.name.split("-")[-3])
def test_manylinux_wheel_in_a_fresh_venv_with_no_build_tools(
        whl: Path, server: object, pod_env: dict[str, str], tmp_path: Path) -> None:
    assert whl.is_file(), whl
    venv, env = fresh_venv(cpython(whl), tmp_path / "venv")
    start = time.monotonic()
    subprocess.run([str(venv / "bin/pip"), "install", "-q", str(whl)], check=True, env=env)
    print(f"\n  pip install {whl.name}: {time.monotonic() - start:.2f} s")
    # pip put the very binary of the tarballs on the venv's PATH, executable.
    cli = venv / "bin/incluster"
    assert os.access(cli, os.X_OK) and sha256(cli) == sha256(dist_dir() / "incluster")
    out = subprocess.run(
        [str(venv / "bin/python"), str(SMOKE)], cwd=tmp_path, capture_output=True, text=True,
        env={**env, **pod_env, "SMOKE_CA": str(server.ca)})  # type: ignore[attr-defined]
    print(out.stdout, end="")
    assert out.returncode == 0 and "SMOKE OK" in out.stdout, out.stderr


def glibc_versions(elf: Path) -> set[tuple[int, ...]]:
    """The GLIBC_x.y symbol versions an ELF file asks for, from its dynamic symbol table."""
    out = subprocess.run(["objdump", "-T", str(elf)], check=True, capture_output=True, text=True)
    return {tuple(int(n) for n in v.split(".")) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", out.stdout)}


@pytest.mark.parametrize("whl", wheels("manylinux_2_17_x86_64"), ids=lambda p: p.name.split("-")[-3])
def test_manylinux_shared_objects_need_no_glibc_newer_than_2_17(whl: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(whl).extractall(tmp_path)
    objects = list(tmp_path.rglob("*.so"))
    assert [p.name for p in objects] == [f"_native.cpython-{cpython(whl).replace('.', '')}-x86_64-linux-gnu.so"]
    versions = glibc_versions(objects[0])
    # The extension does use glibc (so this check can fail), and nothing past 2.17.
    assert versions and max(versions) <= (2, 17), sorted(versions)[-3:]


@pytest.mark.parametrize("whl", wheels("musllinux_1_2_x86_64"), ids=lambda p: p.name.split("-")[-3])
def test_musllinux_wheel_tag_and_libc(whl: Path, tmp_path: Path) -> None:
    out = subprocess.run([str(CACHE / "dist-tools/bin/auditwheel"), "show", str(whl)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '"musllinux_1_2_x86_64"' in " ".join(out.stdout.split()), out.stdout
    zipfile.ZipFile(whl).extractall(tmp_path)
    (so,) = tmp_path.rglob("*.so")
    needed = subprocess.run(["readelf", "-dW", str(so)], check=True, capture_output=True, text=True).stdout
    assert "[libc.musl-x86_64.so.1]" in needed, needed
    assert "[libc.so]" not in needed and "libc.so.6" not in needed, needed
    assert not glibc_versions(so)


def test_a_wheel_on_the_wrong_interpreter_fails_at_install_with_pips_message(tmp_path: Path) -> None:
    whl = wheels("manylinux_2_17_x86_64")[0]
    other = "3.11" if cpython(whl) != "3.11" else "3.12"
    venv, env = fresh_venv(other, tmp_path / "venv")
    for wrong in (whl, wheels("musllinux_1_2_x86_64")[0]):
        out = subprocess.run([str(venv / "bin/pip"), "install", str(wrong)], capture_output=True,
                             text=True, env=env)
        assert out.returncode != 0, f"{wrong.name} installed on CPython {other}"
        assert "is not a supported wheel on this platform" in out.stderr, out.stderr
    assert not list((venv / "lib").glob("python*/site-packages/incluster"))


def test_sdist_holds_what_a_build_needs() -> None:
    """The sdist carries what maturin needs to build it: the crate and the Python package."""
    import tarfile

    sdist = dist_dir() / "python" / f"incluster-{VERSION}.tar.gz"
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for need in ("pyproject.toml", "Cargo.toml", "Cargo.lock", "build.rs", "src/lib.rs",
                 "include/incluster.h", "python/incluster/__init__.py",
                 "python/incluster/_native.pyi", "python/incluster/py.typed"):
        assert need in names, f"{need} is missing from {sdist.name}"
