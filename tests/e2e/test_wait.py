"""`wait` against the real API server, from the CLI, Python and C at once: a Job that succeeds
and one that fails (there is no controller-manager: the admin writes the Job's status
subresource, as the Job controller would), an object created while waiting, deletion, a label
selector over several Pods, an API server restart during the wait, and the timeout."""

from __future__ import annotations

import datetime
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import incluster
from cluster import NAMESPACE, NODE, ROOT, SERVICE_ACCOUNT, Cluster
from conftest import TARGET, run

JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
MERGE = "application/merge-patch+json"


@pytest.fixture(scope="module")
def jobs_readable(cluster: Cluster) -> None:
    """Let the pod's ServiceAccount read Jobs (the shared Role has no batch rules)."""
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}"
    cluster.admin("POST", f"{rbac}/roles", {
        "metadata": {"name": "wait-jobs"},
        "rules": [{"apiGroups": ["batch"], "resources": ["jobs"],
                   "verbs": ["get", "list", "watch"]}]})
    cluster.admin("POST", f"{rbac}/rolebindings", {
        "metadata": {"name": "wait-jobs"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "wait-jobs"},
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT,
                      "namespace": NAMESPACE}]})


@pytest.fixture(scope="module")
def c_wait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/e2e/c/wait.c, compiled strictly and linked against libincluster.so."""
    out = tmp_path_factory.mktemp("c-wait") / "wait"
    subprocess.run(
        ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
         str(ROOT / "tests" / "e2e" / "c" / "wait.c"), f"-L{TARGET}", f"-Wl,-rpath,{TARGET}",
         "-lincluster", "-o", str(out)],
        check=True,
    )
    return out


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_job(cluster: Cluster, name: str) -> None:
    cluster.admin("POST", JOBS, {
        "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "example/job:1"}]}}}})


def finish_job(cluster: Cluster, name: str, ok: bool) -> None:
    """Write the status the Job controller writes when the Job ends (the API server checks its
    consistency: a start time, and the SuccessCriteriaMet / FailureTarget condition first)."""
    t = now()

    def cond(kind: str, reason: str) -> dict[str, str]:
        return {"type": kind, "status": "True", "reason": reason, "message": reason,
                "lastProbeTime": t, "lastTransitionTime": t}

    if ok:
        status: dict[str, Any] = {
            "startTime": t, "completionTime": t, "succeeded": 1,
            "conditions": [cond("SuccessCriteriaMet", "CompletionsReached"),
                           cond("Complete", "CompletionsReached")]}
    else:
        status = {"startTime": t, "failed": 1,
                  "conditions": [cond("FailureTarget", "BackoffLimitExceeded"),
                                 cond("Failed", "BackoffLimitExceeded")]}
    cluster.admin("PATCH", f"{JOBS}/{name}/status", {"status": status}, content_type=MERGE)


def watches(cluster: Cluster, resource: str) -> int:
    """Watch requests on `resource` open at the API server now (its own gauge)."""
    text = cluster.admin("GET", "/metrics", raw=True).decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("apiserver_longrunning_requests{")
               and f'resource="{resource}"' in line and 'verb="WATCH"' in line)


def until_watching(cluster: Cluster, resource: str, before: int, n: int) -> None:
    """Block until `n` more watches on `resource` are open than `before`: the waits have listed
    and are watching, so what the test does next happens while they wait."""
    for _ in range(600):
        if watches(cluster, resource) >= before + n:
            return
        time.sleep(0.1)
    raise AssertionError(f"{n} waits never opened their watches on {resource}")


class Fronts:
    """One wait from each front, started at once and collected at the end."""

    def __init__(self, cli: Path, c_wait: Path, target: str, for_: list[str],
                 any_: list[str] | None = None, fail_on: list[str] | None = None,
                 label_selector: str | None = None, timeout: float = 120) -> None:
        any_, fail_on = any_ or [], fail_on or []
        args: list[str] = [str(cli), "wait", target, "--timeout", f"{timeout}s"]
        c_args: list[str] = [str(c_wait), target, "timeoutMs", str(int(timeout * 1000))]
        for flag, key, conds in (("--for", "for", for_), ("--for-any", "forAny", any_),
                                 ("--fail-on", "failOn", fail_on)):
            for cnd in conds:
                args += [flag, cnd]
                c_args += [key, cnd]
        if label_selector:
            args += ["-l", label_selector]
            c_args += ["labelSelector", label_selector]
        self.cli = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        self.c = subprocess.Popen(c_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.py: list[Any] = []
        kube = incluster.Client()

        def python() -> None:
            try:
                self.py.append(kube.wait(target, for_, any_=any_, fail_on=fail_on,
                                         label_selector=label_selector, timeout=timeout,
                                         with_conditions=True))
            except incluster.Error as e:
                self.py.append(e)

        self.thread = threading.Thread(target=python, daemon=True)
        self.thread.start()

    def running(self) -> bool:
        """None has finished yet (a wait for something not there yet must still be waiting)."""
        return self.cli.poll() is None and self.c.poll() is None and self.thread.is_alive()

    def results(self) -> tuple[tuple[int, str, str], tuple[int, str, str], Any]:
        """(exit, stdout, stderr) of the CLI and of C, and Python's answer or exception."""
        cli_out, cli_err = self.cli.communicate(timeout=180)
        c_out, c_err = self.c.communicate(timeout=180)
        self.thread.join(180)
        assert self.py, "the Python wait never returned"
        return ((self.cli.returncode, cli_out, cli_err), (self.c.returncode, c_out, c_err),
                self.py[0])


def test_a_job_that_succeeds_and_one_that_fails(cluster: Cluster, cli: Path, c_wait: Path,
                                                jobs_readable: None) -> None:
    make_job(cluster, "wj-ok")
    make_job(cluster, "wj-bad")
    either = ["condition=Complete", "condition=Failed"]
    before = watches(cluster, "jobs")
    ok = Fronts(cli, c_wait, f"{JOBS}/wj-ok", [], any_=either)
    bad = Fronts(cli, c_wait, f"{JOBS}/wj-bad", [], any_=["condition=Complete"],
                 fail_on=["condition=Failed"])
    which = Fronts(cli, c_wait, f"{JOBS}/wj-bad", [], any_=either)
    until_watching(cluster, "jobs", before, 9)
    assert ok.running() and bad.running() and which.running()
    finish_job(cluster, "wj-ok", ok=True)
    finish_job(cluster, "wj-bad", ok=False)

    (code, out, err), (c_code, c_out, c_err), py = ok.results()
    assert (code, out) == (0, "job.batch/wj-ok condition=Complete=True met\n"), err
    assert (c_code, c_out) == (0, "wj-ok\tcondition=Complete=True\n"), c_err
    obj, met = py
    assert obj["metadata"]["name"] == "wj-ok" and met == ["condition=Complete=True"]

    # --for-any reports which one held.
    (code, out, err), (c_code, c_out, c_err), py = which.results()
    assert (code, out) == (0, "job.batch/wj-bad condition=Failed=True met\n"), err
    assert (c_code, c_out) == (0, "wj-bad\tcondition=Failed=True\n"), c_err
    assert py[1] == ["condition=Failed=True"]

    # A failure condition: can no longer be met, exit 8 (and its own C code, Python class).
    (code, out, err), (c_code, c_out, c_err), py = bad.results()
    assert code == 8 and "the failure condition condition=Failed=True is met" in err, err
    assert c_code == 8 and c_err.startswith("INCLUSTER_ERR_UNMEETABLE"), c_err
    assert isinstance(py, incluster.Unmeetable), py


def test_an_object_created_later_then_deleted(cluster: Cluster, cli: Path, c_wait: Path) -> None:
    before = watches(cluster, "configmaps")
    later = Fronts(cli, c_wait, f"{CMS}/wait-later", ["jsonpath={.data.k}=v"])
    until_watching(cluster, "configmaps", before, 3)
    # Not there yet: waited for, not an error.
    assert later.running()
    cluster.admin("POST", CMS, {"metadata": {"name": "wait-later"}, "data": {"k": "x"}})
    cluster.admin("PATCH", f"{CMS}/wait-later", {"data": {"k": "v"}}, content_type=MERGE)
    (code, out, err), (c_code, c_out, c_err), py = later.results()
    assert (code, out) == (0, "configmap/wait-later jsonpath={.data.k}=v met\n"), err
    assert (c_code, c_out) == (0, "wait-later\tjsonpath={.data.k}=v\n"), c_err
    assert py[0]["data"] == {"k": "v"}

    before = watches(cluster, "configmaps")
    gone = Fronts(cli, c_wait, f"{CMS}/wait-later", ["delete"])
    deleted_while_waiting = Fronts(cli, c_wait, f"{CMS}/wait-later", ["condition=Ready"])
    until_watching(cluster, "configmaps", before, 6)
    assert gone.running() and deleted_while_waiting.running()
    cluster.admin("DELETE", f"{CMS}/wait-later")
    (code, out, err), (c_code, c_out, c_err), py = gone.results()
    assert (code, out) == (0, "configmap/wait-later delete met\n"), err
    assert (c_code, c_out) == (0, "wait-later\tdelete\n"), c_err
    assert py[1] == ["delete"]
    (code, out, err), (c_code, c_out, c_err), py = deleted_while_waiting.results()
    assert code == 8 and "deleted while waiting for condition=Ready=True" in err, err
    assert c_code == 8, c_err
    assert isinstance(py, incluster.Unmeetable), py


def set_ready(cluster: Cluster, pod: str) -> None:
    t = now()
    cluster.admin("PATCH", f"{PODS}/{pod}/status", {"status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": t}]}},
        content_type=MERGE)


def test_a_selector_over_several_pods(cluster: Cluster, cli: Path, c_wait: Path) -> None:
    names = ["wsel-0", "wsel-1", "wsel-2"]
    for n in names:
        cluster.admin("POST", PODS, {
            "metadata": {"name": n, "labels": {"app": "wsel"}},
            "spec": {"nodeName": NODE, "serviceAccountName": SERVICE_ACCOUNT,
                     "containers": [{"name": "c", "image": "example/app:1"}]}})
    before = watches(cluster, "pods")
    fronts = Fronts(cli, c_wait, PODS, ["condition=Ready"], label_selector="app=wsel")
    until_watching(cluster, "pods", before, 3)
    for n in names[:2]:
        set_ready(cluster, n)
    # Two of three are ready: every front still waits for the third.
    assert fronts.running()
    set_ready(cluster, names[2])
    (code, out, err), (c_code, c_out, c_err), py = fronts.results()
    assert code == 0, err
    assert out.splitlines() == [f"pod/{n} condition=Ready=True met" for n in names]
    assert (c_code, c_out.splitlines()) == (0, [f"{n}\tcondition=Ready=True" for n in names]), c_err
    assert [o["metadata"]["name"] for o, _ in py] == names


def test_an_apiserver_restart_during_the_wait(cluster: Cluster, cli: Path, c_wait: Path) -> None:
    cluster.admin("POST", CMS, {"metadata": {"name": "wait-restart"}, "data": {"step": "0"}})
    before = watches(cluster, "configmaps")
    fronts = Fronts(cli, c_wait, f"{CMS}/wait-restart", ["jsonpath={.data.step}=2"], timeout=240)
    until_watching(cluster, "configmaps", before, 3)
    cluster.admin("PATCH", f"{CMS}/wait-restart", {"data": {"step": "1"}}, content_type=MERGE)
    # The watches break, the API server's watch cache starts over (a resume may get 410).
    cluster.restart_apiserver()
    assert fronts.running()
    cluster.admin("PATCH", f"{CMS}/wait-restart", {"data": {"step": "2"}}, content_type=MERGE)
    (code, out, err), (c_code, c_out, c_err), py = fronts.results()
    assert (code, out) == (0, "configmap/wait-restart jsonpath={.data.step}=2 met\n"), err
    assert (c_code, c_out) == (0, "wait-restart\tjsonpath={.data.step}=2\n"), c_err
    assert py[0]["data"]["step"] == "2"


def test_the_timeout_exit_code(cluster: Cluster, cli: Path, c_wait: Path) -> None:
    cluster.admin("POST", CMS, {"metadata": {"name": "wait-never"}})
    fronts = Fronts(cli, c_wait, f"{CMS}/wait-never", ["condition=Ready"], timeout=1)
    (code, out, err), (c_code, c_out, c_err), py = fronts.results()
    assert (code, out) == (7, ""), err
    assert "did not meet condition=Ready=True within 1s" in err, err
    assert c_code == 7 and c_err.startswith("INCLUSTER_ERR_WAIT_TIMEOUT"), c_err
    assert isinstance(py, incluster.WaitTimeout), py
    # Checked once, already met: one list request, exit 0.
    once = run([cli, "wait", f"{CMS}/wait-never", "--for", "create", "--timeout", "0"])
    assert (once.returncode, once.stdout) == (0, "configmap/wait-never create met\n"), once.stderr
