"""The CLI's output options and verbs against a real kube-apiserver: -o/--pointer on watch events,
-o name after a DELETE, `incluster patch`, the 415 hint, info --pointer, and a watch that ends
when the reader of its stdout goes away (`| head -2`)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from cluster import NAMESPACE, Cluster
from conftest import run

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


def make(cli: Path, name: str, labels: dict[str, str] | None = None) -> None:
    body = {"metadata": {"name": name, "labels": labels or {}}, "data": {"k": "v"}}
    made = run([cli, "request", "POST", CMS, "--data", json.dumps(body)])
    assert made.returncode == 0, made.stderr


def test_cli_name_output_after_delete_and_for_non_objects(cluster: Cluster, cli: Path) -> None:
    make(cli, "cli-name")
    # The API server answers a ConfigMap DELETE with a Status naming it by resource.
    gone = run([cli, "request", "DELETE", f"{CMS}/cli-name", "-o", "name"])
    assert (gone.returncode, gone.stdout, gone.stderr) == (0, "configmaps/cli-name\n", "")
    version = run([cli, "get", "/version", "-o", "name"])
    assert version.returncode == 2
    assert version.stdout == ""
    assert "-o name: the answer is not a Kubernetes object" in version.stderr


def test_cli_patch_verb_and_the_415_hint(cluster: Cluster, cli: Path) -> None:
    make(cli, "cli-patch")
    item = f"{CMS}/cli-patch"
    merged = run([cli, "patch", item, "--data", '{"data":{"m":"1"}}',
                  "-o", "jsonpath={.data.m}"])
    assert (merged.returncode, merged.stdout, merged.stderr) == (0, "1", "")
    ops = '[{"op":"add","path":"/data/j","value":"2"}]'
    jsoned = run([cli, "patch", item, "--type", "json", "--data", ops, "--pointer", "/data/j"])
    assert (jsoned.returncode, jsoned.stdout) == (0, "2\n"), jsoned.stderr
    strategic = run([cli, "patch", item, "--type", "strategic", "--data",
                     '{"metadata":{"labels":{"s":"3"}}}', "--pointer", "/metadata/labels/s"])
    assert (strategic.returncode, strategic.stdout) == (0, "3\n"), strategic.stderr
    applied = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cli-patch"},
               "data": {"a": "4"}}
    ssa = run([cli, "patch", item, "--type", "apply", "--field-manager", "e2e-cli", "--force",
               "--data", json.dumps(applied)])
    assert ssa.returncode == 0, ssa.stderr
    managers = {f["manager"]: f["operation"]
                for f in json.loads(ssa.stdout)["metadata"]["managedFields"]}
    assert managers.get("e2e-cli") == "Apply", managers

    # PATCH through `request` with the default (JSON) content type: the server's 415, and a hint.
    bare = run([cli, "request", "PATCH", item, "--data", '{"data":{"x":"y"}}'])
    assert bare.returncode == 5
    assert "415" in bare.stderr and "UnsupportedMediaType" in bare.stderr, bare.stderr
    assert "hint:" in bare.stderr and "incluster patch PATH" in bare.stderr, bare.stderr
    assert run([cli, "request", "DELETE", item]).returncode == 0


def test_cli_info_pointer_gives_the_namespace(cluster: Cluster, cli: Path) -> None:
    ns = run([cli, "info", "--pointer", "/namespace"])
    assert (ns.returncode, ns.stdout, ns.stderr) == (0, f"{NAMESPACE}\n", "")
    who = run([cli, "whoami", "-o", "jsonpath={.username}"])
    assert (who.returncode, who.stdout) == (0, "system:serviceaccount:e2e:app"), who.stderr


def test_cli_watch_output_per_event_and_head_ends_it(cluster: Cluster, cli: Path) -> None:
    labels = {"cli-watch": "yes"}
    make(cli, "cli-watch-a", labels)
    make(cli, "cli-watch-b", labels)
    # `| head -2`: two events (the existing objects), then a silent watch whose reader has
    # left; the pipeline must end at once, not at the next change.
    start = time.monotonic()
    piped = subprocess.run(
        ["bash", "-c", f'"$0" watch {CMS} -l cli-watch=yes -o name | head -2; '
                       'echo "incluster exit ${PIPESTATUS[0]}"', str(cli)],
        capture_output=True, text=True, timeout=30)
    assert time.monotonic() - start < 20
    lines = piped.stdout.splitlines()
    assert sorted(lines[:2]) == ["ADDED configmap/cli-watch-a", "ADDED configmap/cli-watch-b"]
    assert lines[2:] == ["incluster exit 0"]
    assert piped.stderr == ""

    # -o jsonpath and --pointer apply to the event: its type and its object.
    with subprocess.Popen(
            [str(cli), "watch", CMS, "-l", "cli-watch=yes", "-o",
             "jsonpath={.type} {.object.metadata.name}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        assert proc.stdout is not None
        try:
            first = sorted([proc.stdout.readline(), proc.stdout.readline()])
            assert first == ["ADDED cli-watch-a\n", "ADDED cli-watch-b\n"]
            assert run([cli, "request", "DELETE", f"{CMS}/cli-watch-a"]).returncode == 0
            assert proc.stdout.readline() == "DELETED cli-watch-a\n"
        finally:
            proc.kill()
    assert run([cli, "request", "DELETE", f"{CMS}/cli-watch-b"]).returncode == 0
