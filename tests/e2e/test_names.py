"""Resources by name against a real kube-apiserver, from the CLI, Python and C: every kubectl
form, kubectl's priority between groups (core events over events.k8s.io), a CRD created
during the test and found at once by plural, singular, short name and kind (the client's
discovery cache was filled before it existed), the did-you-mean error, -A listings, and
server-side apply of a multi-document YAML manifest from all three fronts."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import incluster
from cluster import NAMESPACE, ROOT, SERVICE_ACCOUNT, ApiError, Cluster
from conftest import TARGET, run

GROUP = "stable.names.example.com"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"crontabs.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab",
                  "shortNames": ["ct"]},
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}],
    },
}
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def eventually(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Wait (bounded) for something the API server does asynchronously: RBAC and CRD
    establishment. A wait, not a timed assertion: only the deadline fails it."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(0.1)


def admin_ok(cluster: Cluster, path: str) -> bool:
    try:
        cluster.admin("GET", path)
        return True
    except ApiError:
        return False


@pytest.fixture(scope="module")
def rbac(cluster: Cluster) -> Iterator[None]:
    """Let the simulated pod's ServiceAccount use Deployments, CronTabs and deletecollection of
    ConfigMaps in its namespace, and list ConfigMaps in every namespace (for -A)."""
    subject = [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}]
    cluster.admin("POST", f"{RBAC}/namespaces/{NAMESPACE}/roles", {
        "metadata": {"name": "names"},
        "rules": [
            {"apiGroups": ["apps", GROUP], "resources": ["deployments", "crontabs"],
             "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["deletecollection"]},
        ],
    })
    cluster.admin("POST", f"{RBAC}/namespaces/{NAMESPACE}/rolebindings", {
        "metadata": {"name": "names"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "names"},
        "subjects": subject,
    })
    cluster.admin("POST", f"{RBAC}/clusterroles", {
        "metadata": {"name": "names-list-configmaps"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
    })
    cluster.admin("POST", f"{RBAC}/clusterrolebindings", {
        "metadata": {"name": "names-list-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "names-list-configmaps"},
        "subjects": subject,
    })
    kube = incluster.Client()

    def allowed() -> bool:
        return kube.can_i("list", "configmaps", namespace="") and kube.can_i(
            "get", "deployments.apps")

    eventually(allowed, "the RBAC rules taking effect")
    yield
    for path in [f"{RBAC}/namespaces/{NAMESPACE}/roles/names",
                 f"{RBAC}/namespaces/{NAMESPACE}/rolebindings/names",
                 f"{RBAC}/clusterroles/names-list-configmaps",
                 f"{RBAC}/clusterrolebindings/names-list-configmaps"]:
        cluster.admin("DELETE", path)


@pytest.fixture(scope="module")
def names_c(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/e2e/c/names.c, compiled strictly and linked against libincluster.so."""
    out = tmp_path_factory.mktemp("c") / "names"
    subprocess.run(
        ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
         str(ROOT / "tests" / "e2e" / "c" / "names.c"), f"-L{TARGET}", f"-Wl,-rpath,{TARGET}",
         "-lincluster", "-o", str(out)],
        check=True,
    )
    return out


FORMS = [
    ("pods", f"/api/v1/namespaces/{NAMESPACE}/pods"),
    ("po", f"/api/v1/namespaces/{NAMESPACE}/pods"),
    ("pod/app-pod", f"/api/v1/namespaces/{NAMESPACE}/pods/app-pod"),
    ("Pod/app-pod", f"/api/v1/namespaces/{NAMESPACE}/pods/app-pod"),
    ("cm", f"/api/v1/namespaces/{NAMESPACE}/configmaps"),
    ("deploy/web", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/web"),
    ("deployments.apps/web", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/web"),
    ("deployments.v1.apps", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"),
    ("jobs.batch", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"),
    ("cronjobs", f"/apis/batch/v1/namespaces/{NAMESPACE}/cronjobs"),
    ("hpa", f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers"),
    # The core group's events win over events.k8s.io's, as in kubectl.
    ("events", f"/api/v1/namespaces/{NAMESPACE}/events"),
    ("ev", f"/api/v1/namespaces/{NAMESPACE}/events"),
    ("events.events.k8s.io", f"/apis/events.k8s.io/v1/namespaces/{NAMESPACE}/events"),
    ("ns/kube-system", "/api/v1/namespaces/kube-system"),
    ("nodes", "/api/v1/nodes"),
    ("clusterroles.rbac.authorization.k8s.io", f"{RBAC}/clusterroles"),
    ("/api/v1/namespaces/x/pods", "/api/v1/namespaces/x/pods"),
]


def test_every_form_from_python_c_and_the_cli(cluster: Cluster, cli: Path, names_c: Path) -> None:
    kube = incluster.Client()
    for what, path in FORMS:
        assert kube.resolve(what)["path"] == path, what
        c = run([names_c, "resolve", what, "-", "one"])
        assert (c.returncode, c.stdout.split("\t")[0]) == (0, path), (what, c.stdout)
    r = kube.resolve("deploy", namespace="other", all_namespaces=False)
    assert (r["path"], r["kind"], r["namespaced"]) == (
        "/apis/apps/v1/namespaces/other/deployments", "Deployment", True)
    assert kube.resolve("pods", all_namespaces=True)["path"] == "/api/v1/pods"
    c = run([names_c, "resolve", "nodes", "ignored", "one"])
    assert c.stdout == "/api/v1/nodes\tNode\t0\n"
    c = run([names_c, "resolve", "pods", "-", "all"])
    assert c.stdout == "/api/v1/pods\tPod\t1\n"
    # The CLI requests what the name resolves to: the pod itself, in two forms.
    for args in (["get", "pod/app-pod"], ["get", "pod", "app-pod"], ["get", "po/app-pod"]):
        got = run([cli, *args, "-o", "jsonpath={.metadata.name}"])
        assert (got.returncode, got.stdout, got.stderr) == (0, "app-pod", ""), args
    names = run([cli, "get", "pods", "-o", "name"])
    assert names.returncode == 0 and "pod/app-pod\n" in names.stdout, names.stderr
    c = run([names_c, "get", "pod/app-pod"])
    assert c.returncode == 0 and json.loads(c.stdout)["metadata"]["name"] == "app-pod", c.stdout


def test_a_crd_created_now_is_found_at_once(cluster: Cluster, cli: Path, names_c: Path,
                                             rbac: None) -> None:
    kube = incluster.Client()
    kube.resolve("pods")  # the discovery cache is filled before the CRD exists
    with pytest.raises(incluster.InvalidArgument, match='no resource "crontabs"'):
        kube.resolve("crontabs")
    cluster.admin("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
    try:
        # Served once the API server's discovery lists it (what a client can see).
        eventually(lambda: admin_ok(cluster, f"/apis/{GROUP}/v1"), "the CRD being served")
        want = f"/apis/{GROUP}/v1/namespaces/{NAMESPACE}/crontabs"
        for what in ["crontabs", "crontab", "ct", "CronTab", f"crontabs.{GROUP}",
                     f"crontabs.v1.{GROUP}"]:
            r = kube.resolve(what)
            assert (r["path"], r["kind"], r["group"]) == (want, "CronTab", GROUP), what
            c = run([names_c, "resolve", what, "-", "one"])
            assert c.stdout == f"{want}\tCronTab\t1\n", (what, c.stdout)
        kube.post("ct", {"apiVersion": f"{GROUP}/v1", "kind": "CronTab",
                         "metadata": {"name": "nightly"}, "spec": {"at": "0 3 * * *"}})
        got = run([cli, "get", "crontab/nightly", "-o", "jsonpath={.spec.at}"])
        assert (got.returncode, got.stdout, got.stderr) == (0, "0 3 * * *", "")
        assert kube.get("CronTab/nightly")["spec"]["at"] == "0 3 * * *"
        gone = run([cli, "delete", "ct", "nightly", "-o", "name"])
        assert gone.returncode == 0, gone.stderr
        with pytest.raises(incluster.NotFound):
            kube.get("ct/nightly")
    finally:
        cluster.admin("DELETE",
                      f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.{GROUP}")


def test_did_you_mean_from_every_front(cluster: Cluster, cli: Path, names_c: Path) -> None:
    want = 'no resource "deploymnet"; did you mean deployments.apps?'
    with pytest.raises(incluster.InvalidArgument, match=want.replace("?", "\\?")):
        incluster.Client().get("deploymnet/web")
    got = run([cli, "get", "deploymnet/web"])
    assert got.returncode == 2 and want in got.stderr, got.stderr
    c = run([names_c, "get", "deploymnet/web"])
    assert c.returncode == 1 and f"error INCLUSTER_ERR_INVALID_ARGUMENT: invalid argument: {want}" \
        in c.stdout, c.stdout
    # A missing object is a 404, not a name error.
    got = run([cli, "get", "cm/absent-object"])
    assert got.returncode == 5 and "NotFound" in got.stderr, got.stderr


def test_selectors_all_namespaces_and_delete(cluster: Cluster, cli: Path, rbac: None) -> None:
    kube = incluster.Client()
    for name, ns in [("names-a", NAMESPACE), ("names-b", NAMESPACE), ("names-c", "default")]:
        cluster.admin("POST", f"/api/v1/namespaces/{ns}/configmaps",
                      {"metadata": {"name": name, "labels": {"names-e2e": "yes"}}})
    try:
        got = run([cli, "get", "cm", "-l", "names-e2e=yes", "-o", "name"])
        assert (got.returncode, got.stdout) == (0, "configmap/names-a\nconfigmap/names-b\n"), \
            got.stderr
        got = run([cli, "get", "configmaps", "-A", "-l", "names-e2e=yes",
                   "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}"])
        assert (got.returncode, got.stdout) == (0, "default/names-c e2e/names-a e2e/names-b "), \
            got.stderr
        items = kube.get("cm", all_namespaces=True, params={"labelSelector": "names-e2e=yes"})
        assert len(items["items"]) == 3
        gone = run([cli, "delete", "cm/names-a", "-o", "name"])
        assert (gone.returncode, gone.stdout) == (0, "configmaps/names-a\n"), gone.stderr
        gone = run([cli, "delete", "cm", "-l", "names-e2e=yes"])
        assert gone.returncode == 0, gone.stderr
        left = kube.get("cm", all_namespaces=True, params={"labelSelector": "names-e2e=yes"})
        assert [i["metadata"]["name"] for i in left["items"]] == ["names-c"]
    finally:
        cluster.admin("DELETE", "/api/v1/namespaces/default/configmaps/names-c")


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {p}-config
  labels: {{app: {p}}}
data:
  k: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {p}-web
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {p}}}
  template:
    metadata:
      labels: {{app: {p}}}
    spec:
      containers:
      - name: web
        image: example/web:1
"""


def applied(cluster: Cluster, p: str) -> tuple[Any, Any]:
    cm = cluster.admin("GET", f"/api/v1/namespaces/{NAMESPACE}/configmaps/{p}-config")
    dep = cluster.admin("GET", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{p}-web")
    return cm["data"]["k"], dep["spec"]["replicas"]


def test_apply_a_multi_document_manifest_from_every_front(
        cluster: Cluster, cli: Path, names_c: Path, rbac: None, tmp_path: Path) -> None:
    # CLI: kubectl's lines, the field manager recorded, a second apply changes the replicas.
    f = tmp_path / "cli.yaml"
    f.write_text(MANIFEST.format(p="cli"))
    got = run([cli, "apply", "-f", f, "--field-manager", "e2e-cli"])
    assert (got.returncode, got.stdout, got.stderr) == (
        0, "configmap/cli-config serverside-applied\ndeployment.apps/cli-web serverside-applied\n",
        "")
    assert applied(cluster, "cli") == ("1", 2)
    dep = cluster.admin("GET", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/cli-web")
    assert "e2e-cli" in [m["manager"] for m in dep["metadata"]["managedFields"]]
    f.write_text(MANIFEST.format(p="cli").replace("replicas: 2", "replicas: 3"))
    assert run([cli, "apply", "-f", f, "--field-manager", "e2e-cli"]).returncode == 0
    got = run([cli, "get", "deploy/cli-web", "-o", "jsonpath={.spec.replicas}"])
    assert (got.returncode, got.stdout) == (0, "3")
    # Another manager's apply of another value conflicts unless forced (the same values are
    # shared, so the ConfigMap, document 1, goes through).
    f.write_text(MANIFEST.format(p="cli").replace("replicas: 2", "replicas: 4"))
    got = run([cli, "apply", "-f", f, "--field-manager", "other"])
    assert got.returncode == 5 and "document 2 (Deployment cli-web)" in got.stderr, got.stderr
    assert "configmap/cli-config serverside-applied\n" == got.stdout
    assert run([cli, "apply", "-f", f, "--field-manager", "other",
                "--force-conflicts"]).returncode == 0
    assert applied(cluster, "cli") == ("1", 4)

    # Python, from the text and from objects.
    kube = incluster.Client()
    out = kube.apply(MANIFEST.format(p="py"), field_manager="e2e-py")
    assert [o["kind"] for o in out] == ["ConfigMap", "Deployment"]
    assert applied(cluster, "py") == ("1", 2)
    with pytest.raises(incluster.Conflict, match="document 1 \\(ConfigMap py-config\\)"):
        kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py-config"},
                    "data": {"k": "2"}}, field_manager="someone-else")

    # C.
    f = tmp_path / "c.yaml"
    f.write_text(MANIFEST.format(p="c"))
    c = run([names_c, "apply", f])
    assert (c.returncode, c.stdout) == (0, "applied 2\n")
    assert applied(cluster, "c") == ("1", 2)
    f.write_text(MANIFEST.format(p="c") + "---\napiVersion: v1\nkind: Nope\nmetadata: {name: x}\n")
    c = run([names_c, "apply", f])
    assert c.returncode == 1 and "document 3 (Nope x)" in c.stdout, c.stdout

    for p in ("cli", "py", "c"):
        cluster.admin("DELETE", f"/api/v1/namespaces/{NAMESPACE}/configmaps/{p}-config")
        cluster.admin("DELETE", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{p}-web")


def test_watch_and_wait_by_name(cluster: Cluster, cli: Path) -> None:
    cluster.admin("POST", f"/api/v1/namespaces/{NAMESPACE}/configmaps",
                  {"metadata": {"name": "names-watch"}})
    waited = run([cli, "wait", "cm", "names-watch", "--for", "create", "--timeout", "30s"])
    assert waited.returncode == 0 and "configmap/names-watch" in waited.stdout, waited.stderr
    met = incluster.Client().wait("configmap/names-watch", "create", timeout=30)
    assert met["metadata"]["name"] == "names-watch"
    got = run([cli, "watch", "cm/names-watch", "--no-resume", "--param", "timeoutSeconds=1",
               "-o", "name"])
    assert (got.returncode, got.stdout) == (0, "ADDED configmap/names-watch\n"), got.stderr
    cluster.admin("DELETE", f"/api/v1/namespaces/{NAMESPACE}/configmaps/names-watch")
