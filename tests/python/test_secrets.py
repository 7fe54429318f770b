"""Secret hygiene in Python: with the pod's token in use, every success and every kind of failure
is turned into text (str, repr, tracebacks, exception attributes, an uncaught exception in a
child process, warnings) and scanned: the token, or any 12-character piece of it, never
appears."""

from __future__ import annotations

import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import incluster
from conftest import TOKEN, SaDir, Server, explicit


def assert_clean(what: str, text: str) -> None:
    for i in range(len(TOKEN) - 11):
        piece = TOKEN[i : i + 12]
        assert piece not in text, f"{what} contains a piece of the token {piece!r}:\n{text}"


def texts_of(e: BaseException) -> list[str]:
    out = [str(e), repr(e), "".join(traceback.format_exception(e))]
    for attr in ("status", "reason", "message", "details", "body"):
        out.append(repr(getattr(e, attr, None)))
    return out


def test_every_front_of_the_python_api_hides_the_token(server: Server, pod: SaDir) -> None:
    seen: list[str] = []
    kube = incluster.Client()
    seen += [repr(kube), str(kube), repr(kube.get("/version")), repr(kube.get("/_test/echo"))]
    seen.append(repr(kube.request_raw("GET", "/version")))
    seen.append(repr(kube.whoami()))
    server.control("POST", "/_control/pods",
                   {"namespace": "py-ns", "name": "p", "containers": ["app"]})
    with kube.logs("p") as logs:
        seen.append(repr(logs))
        seen += [repr(line) for line in logs]
    with kube.watch("/api/v1/namespaces/py-ns/configmaps", timeout_seconds=1,
                    resume=False) as w:
        seen.append(repr(w))
        seen += [repr(ev) for ev in w]

    failures: list[Any] = [
        lambda: kube.get("/api/v1/namespaces/py-ns/configmaps/missing"),
        lambda: kube.get("/_test/status/403"),
        lambda: kube.get("/_test/status/500"),
        lambda: kube.post("/api/v1/namespaces/py-ns/configmaps", {"x": {1}}),
        lambda: kube.logs("no-such-pod"),
        lambda: explicit(server, token="wrong").get("/version"),
        lambda: incluster.Client(server=server.url, ca_file=str(server.other_ca),
                                 token=TOKEN).get("/version"),
        lambda: incluster.Client(server="https://127.0.0.1:1", ca_file=str(server.ca),
                                 token=TOKEN, connect_timeout=1).get("/version"),
        lambda: explicit(server, timeout=0.2).get("/_test/delay", params={"ms": "2000"}),
        lambda: incluster.Client(serviceaccount_dir="/nonexistent"),
    ]
    for f in failures:
        try:
            f()
        except Exception as e:  # every kind: the point is to print them all
            seen += texts_of(e)
        else:
            raise AssertionError("expected a failure")
    server.set_tokens(["another"])
    try:
        kube.get("/version")
    except incluster.Unauthorized as e:
        seen += texts_of(e)
    for i, text in enumerate(seen):
        assert_clean(f"value #{i}", text)


def test_an_uncaught_error_in_a_program_prints_no_token(server: Server, pod: SaDir,
                                                        tmp_path: Path) -> None:
    server.set_tokens(["another"])
    program = tmp_path / "p.py"
    program.write_text(
        "import incluster, warnings\n"
        "warnings.simplefilter('always')\n"
        "c = incluster.Client(danger_insecure_skip_tls_verify=True)\n"
        "print(repr(c))\n"
        "c.get('/version')\n")
    out = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and "Unauthorized" in out.stderr, out.stderr
    assert_clean("stdout", out.stdout)
    assert_clean("stderr", out.stderr)


def test_kubeconfig_and_exec_plugin_errors_hide_the_token(server: Server, tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(f"#!/bin/sh\necho {TOKEN}\necho 'expired' >&2\nexit 1\n")
    plugin.chmod(0o755)
    seen: list[str] = []
    for name, user in [
        ("inline", f"    token: {TOKEN}"),
        ("exec", f"    exec: {{apiVersion: client.authentication.k8s.io/v1beta1, command: {plugin}}}"),
        ("badyaml", f"    token: [{TOKEN}"),
    ]:
        p = tmp_path / name
        p.write_text(
            f"current-context: c\nclusters:\n- name: s\n  cluster:\n    server: {server.url}\n"
            f"    certificate-authority: {server.ca}\ncontexts:\n- name: c\n  context: "
            f"{{cluster: s, user: u}}\nusers:\n- name: u\n  user:\n{user}\n"
        )
        try:
            kube = incluster.Client.from_kubeconfig(p)
            seen += [repr(kube), repr(kube.source), repr(kube.get("/_test/echo"))]
        except incluster.Error as e:
            seen += texts_of(e)
    assert any("expired" in t for t in seen)
    for i, text in enumerate(seen):
        assert_clean(f"text #{i}", text)
