"""The C library as C programmers use it: `dist/install-c.sh PREFIX` from the release tarball,
then a program built outside the source tree (examples/hello.c, copied away) with nothing but
`pkg-config --cflags --libs incluster`, linked dynamically and statically, run against the
test server in the simulated pod; and the musl archive made into a static program that runs
in an empty root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, TOKEN, VERSION

SONAME = "libincluster.so.0"


CACHE = Path(os.environ.get("INCLUSTER_CACHE") or Path.home() / ".cache/incluster")


def tarball(dist: Path, libc: str) -> Path:
    return dist / f"incluster-{VERSION}-x86_64-linux-{libc}.tar.gz"


def install(dist: Path, prefix: Path, *options: str, libc: str = "gnu") -> None:
    out = subprocess.run(["bash", str(ROOT / "dist/install-c.sh"), "--libc", libc, *options,
                          str(prefix), str(tarball(dist, libc))], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    print(out.stdout, end="")


def build_outside(prefix: Path, tmp_path: Path, *pkg_config_options: str) -> Path:
    """examples/hello.c compiled in a folder of its own with only pkg-config's flags."""
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "examples/hello.c", app / "hello.c")
    env = {"PATH": "/usr/bin:/bin", "PKG_CONFIG_PATH": str(prefix / "lib/pkgconfig")}
    flags = subprocess.run(["pkg-config", *pkg_config_options, "--cflags", "--libs", "incluster"],
                           check=True, capture_output=True, text=True, env=env).stdout.split()
    assert f"-I{prefix}/include" in flags and "-lincluster" in flags, flags
    print(f"\n  cc hello.c {' '.join(flags)}")
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "hello.c", *flags, "-o", "hello"],
                   cwd=app, check=True, env=env)
    return app / "hello"


def needed(elf: Path) -> list[str]:
    out = subprocess.run(["readelf", "-dW", str(elf)], check=True, capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.*)\]", out)


def run_hello(hello: Path, pod_env: dict[str, str], **extra: str) -> None:
    out = subprocess.run([str(hello)], capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", **pod_env, **extra})
    assert out.returncode == 0, out
    assert out.stdout.startswith("HTTP 200: ") and "gitVersion" in out.stdout, out.stdout


def test_the_tarballs_hold_bin_include_lib_and_pkgconfig(dist: Path) -> None:
    for libc, libs in (("gnu", {"libincluster.a", "libincluster.so", SONAME, f"libincluster.so.{VERSION}"}),
                       ("musl", {"libincluster.a"})):
        top = f"incluster-{VERSION}-x86_64-linux-{libc}"
        with tarfile.open(tarball(dist, libc)) as t:
            names = set(t.getnames())
            assert {f"{top}/bin/incluster", f"{top}/include/incluster.h",
                    f"{top}/lib/pkgconfig/incluster.pc"} <= names, names
            assert {n.split("/")[-1] for n in names if "/lib/libincluster" in n} == libs
            pc = t.extractfile(f"{top}/lib/pkgconfig/incluster.pc")
            assert pc is not None
            text = pc.read().decode()
        assert f"Version: {VERSION}\n" in text and "prefix=${pcfiledir}/../..\n" in text, text
        # What rustc says a static link needs (the C library at least).
        private = re.search(r"^Libs.private: (.*)$", text, re.M)
        assert private and "-lc" in private.group(1).split(), text


def test_dynamic_link_resolves_the_soname_from_prefix(dist: Path, tmp_path: Path, pod_env: dict[str, str]) -> None:
    prefix = tmp_path / "prefix"
    install(dist, prefix)
    lib = prefix / "lib"
    assert os.readlink(lib / "libincluster.so") == SONAME
    assert os.readlink(lib / SONAME) == f"libincluster.so.{VERSION}"
    soname = subprocess.run(["readelf", "-dW", str(lib / SONAME)], check=True, capture_output=True,
                            text=True).stdout
    assert f"(SONAME)             Library soname: [{SONAME}]" in soname
    assert subprocess.run(["pkg-config", "--modversion", "incluster"], capture_output=True, text=True,
                          env={"PKG_CONFIG_PATH": str(lib / "pkgconfig")}).stdout.strip() == VERSION

    hello = build_outside(prefix, tmp_path)
    # The program asks for the SONAME, not the unversioned name nor the full version.
    assert SONAME in needed(hello)
    ldd = subprocess.run(["ldd", str(hello)], capture_output=True, text=True,
                         env={"LD_LIBRARY_PATH": str(lib)}).stdout
    assert f"{SONAME} => {lib / SONAME}" in ldd, ldd
    run_hello(hello, pod_env, LD_LIBRARY_PATH=str(lib))


def test_static_link_needs_no_libincluster_at_run_time(dist: Path, tmp_path: Path, pod_env: dict[str, str]) -> None:
    prefix = tmp_path / "prefix"
    install(dist, prefix, "--library-type", "staticlib")
    assert not list((prefix / "lib").glob("libincluster.so*"))
    hello = build_outside(prefix, tmp_path, "--static")
    assert not [n for n in needed(hello) if "incluster" in n], needed(hello)
    shutil.rmtree(prefix)
    run_hello(hello, pod_env)


@pytest.mark.parametrize("bad", [["--library-type", "dll"], ["--libc", "bionic"], []])
def test_install_refuses_bad_options_naming_them(bad: list[str], tmp_path: Path) -> None:
    out = subprocess.run(["bash", str(ROOT / "dist/install-c.sh"), *bad], capture_output=True, text=True)
    assert out.returncode == 2, out
    assert (bad[1] if bad else "usage:") in out.stderr, out.stderr


def test_install_refuses_a_file_that_is_not_a_release_tarball(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as t:
        t.add(ROOT / "Cargo.toml", arcname="incluster-x/Cargo.toml")
    out = subprocess.run(["bash", str(ROOT / "dist/install-c.sh"), str(tmp_path / "p"), str(bogus)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "is not an incluster C tarball" in out.stderr, out.stderr



def test_the_musl_static_library_makes_a_program_that_runs_in_an_empty_root(
        dist: Path, tmp_path: Path, server: Any) -> None:
    """Alpine's way: a static program from libincluster.a and pkg-config --static. zig (from
    dist/build.sh's tools) stands in for Alpine's musl gcc, which this machine lacks."""
    prefix = tmp_path / "prefix"
    install(dist, prefix, "--library-type", "staticlib", libc="musl")
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "examples/hello.c", app / "hello.c")
    env = {"PATH": "/usr/bin:/bin", "PKG_CONFIG_PATH": str(prefix / "lib/pkgconfig"),
           "HOME": str(Path.home())}  # zig keeps its built musl libc in ~/.cache/zig
    flags = subprocess.run(["pkg-config", "--static", "--cflags", "--libs", "incluster"], check=True,
                           capture_output=True, text=True, env=env).stdout.split()
    print(f"\n  zig cc -target x86_64-linux-musl -static hello.c {' '.join(flags)}")
    subprocess.run([str(CACHE / "dist-tools/bin/python"), "-m", "ziglang", "cc", "-target",
                    "x86_64-linux-musl", "-static", "-std=c11", "-Wall", "-Wextra", "-Werror",
                    "hello.c", *flags, "-o", "hello"], cwd=app, check=True, env=env)
    assert needed(app / "hello") == []

    root = tmp_path / "root"
    sa = root / "var/run/secrets/kubernetes.io/serviceaccount"
    sa.mkdir(parents=True)
    shutil.copy(app / "hello", root / "hello")
    (sa / "token").write_text(TOKEN)
    (sa / "namespace").write_text("dist-ns")
    shutil.copy(server.ca, sa / "ca.crt")
    cmd = [shutil.which("chroot") or "/usr/sbin/chroot", str(root), "/hello"]
    if os.geteuid() != 0:
        cmd = ["unshare", "--user", "--map-root-user", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env={
        "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(server.port)})
    assert out.returncode == 0 and out.stdout.startswith("HTTP 200: "), out
    assert "gitVersion" in out.stdout and '"kind":"PodList"' in out.stdout, out.stdout
