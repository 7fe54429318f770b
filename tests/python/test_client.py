"""incluster from Python, against the project's loopback HTTPS test API server."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import incluster
from conftest import TOKEN, SaDir, Server, explicit


def test_discovers_the_simulated_pod(server: Server, pod: SaDir) -> None:
    c = incluster.Client()
    assert c.namespace == "py-ns"
    assert c.server == f"https://127.0.0.1:{server.port}"
    v = c.get("/version")
    assert v["gitVersion"] == "v1.37.2-incluster-test"
    assert "py-ns" in repr(c)


def test_explicit_config_every_way(server: Server, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    clients = [
        explicit(server, namespace="a"),
        incluster.Client(server=server.url, ca_pem=server.ca.read_text(), token_file=token_file),
        incluster.Client(server=server.url, ca_pem=server.ca.read_bytes(), token=TOKEN),
        incluster.Client(server=server.url, ca_file=server.ca, token=TOKEN, timeout=5,
                         connect_timeout=2, max_attempts=3, rate_limit=(1000.0, 10)),
    ]
    assert clients[0].namespace == "a"
    assert clients[1].namespace == "default"
    for c in clients:
        assert c.get("/version")["major"] == "1"
    with pytest.raises(ValueError, match="not both"):
        incluster.Client(server=server.url, ca_file=server.ca, ca_pem="x")
    with pytest.raises(ValueError, match="timeout"):
        explicit(server, timeout=-1)


def test_kubectl_proxy_route(plain_server: Server) -> None:
    c = incluster.Client(server=plain_server.url)
    assert c.get("/version")["major"] == "1"


def test_parsed_results_and_encoding(server: Server) -> None:
    c = explicit(server)
    obj: dict[str, Any] = {
        "metadata": {"name": "types"},
        # Keys too: escaped ones reach the parser through its scratch buffer, long ones bypass
        # the key cache, and repeated ones come from it.
        # Two keys alike but for the middle share a cache slot: each must still be itself.
        "data": {"s": "héllo ✓", "esc": "a\"b\\c\n", "k\"e\ny": "1", "ключ": "2", "k" * 80: "3",
                 "aaaaaaaaXbbbbbbbb": "x", "aaaaaaaaYbbbbbbbb": "y",
                 # Short values come from the same cache: alike but for the middle, around
                 # the longest cached length (55 bytes), shorter than 8 bytes, equal to a key.
                 "v1": "ccccccccXdddddddd", "v2": "ccccccccYdddddddd", "v3": "ccccccccXdddddddd",
                 "v55": "v" * 54 + "w", "v56": "v" * 55 + "w", "v55b": "v" * 54 + "x",
                 "e": "", "7": "1234567", "8": "12345678", "16": "0123456789abcdef",
                 "17": "0123456789abcdefg", "u": "ü" * 27, "key": "aaaaaaaaXbbbbbbbb"},
        "binaryData": {},
        "extra": [1, -2, 2**63 - 1, 2**64 - 1, 1.5, True, False, None, [], {}],
    }
    created = c.post("/api/v1/namespaces/t/configmaps", obj)
    assert created["data"] == obj["data"]
    assert created["extra"] == obj["extra"]
    assert type(created["extra"][0]) is int and type(created["extra"][4]) is float
    assert created["extra"][5] is True and created["extra"][7] is None
    got = c.get("/api/v1/namespaces/t/configmaps/types")
    assert got == created
    with pytest.raises(TypeError, match="type set is not JSON"):
        c.post("/api/v1/namespaces/t/configmaps", {"a": {1, 2}})
    with pytest.raises(ValueError, match="NaN"):
        c.post("/api/v1/namespaces/t/configmaps", {"a": float("nan")})
    with pytest.raises(TypeError, match="dict keys must be str"):
        c.post("/api/v1/namespaces/t/configmaps", {1: "x"})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="nested too deeply"):
        c.post("/api/v1/namespaces/t/configmaps", loop)


def test_crud_patch_types_and_params(server: Server) -> None:
    c = explicit(server)
    coll = "/api/v1/namespaces/p/configmaps"
    item = coll + "/cm"
    c.post(coll, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    assert c.put(item, {"metadata": {"name": "cm"}, "data": {"a": "2"}})["data"] == {"a": "2"}
    assert c.patch(item, {"data": {"m": "x"}})["data"]["m"] == "x"
    assert c.patch(item, {"data": {"s": "y"}}, patch_type="strategic")["data"]["s"] == "y"
    ops = [{"op": "replace", "path": "/data/a", "value": "3"}]
    assert c.patch(item, ops, patch_type="json")["data"]["a"] == "3"
    applied = c.patch(
        item,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"ap": "z"}},
        patch_type="apply",
        field_manager="pytest",
        force=True,
    )
    assert applied["metadata"]["managedFields"][0]["manager"] == "pytest"
    last = server.requests()[-1]
    assert last["content_type"] == "application/apply-patch+yaml"
    assert last["path"].endswith("?fieldManager=pytest&force=true")
    with pytest.raises(incluster.InvalidArgument, match="patch type \"bogus\" is not one of"):
        c.patch(item, {}, patch_type="bogus")

    echo = c.get("/_test/echo", params={"labelSelector": "app in (a,b)", "watch": False, "n": 5})
    assert echo["query"] == "labelSelector=app%20in%20%28a%2Cb%29&watch=false&n=5"
    echo = c.get("/_test/echo", params=[("a", "1"), ("a", "2")])
    assert echo["query"] == "a=1&a=2"
    echo = c.request("POST", "/_test/echo", data="raw text", content_type="text/plain")
    assert (echo["body"], echo["content_type"]) == ("raw text", "text/plain")

    assert c.delete(item)["status"] == "Success"
    assert c.request("GET", coll)["items"] == []


def test_raw_response(server: Server) -> None:
    r = explicit(server).request_raw("GET", "/version")
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.body.startswith(b"{") and r.text == r.body.decode()
    assert r.json()["major"] == "1"
    assert "200" in repr(r)


def test_every_exception_type_and_its_attributes(server: Server, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    c = explicit(server)
    cases: list[tuple[str, type[incluster.ApiError], int, str]] = [
        ("/_test/status/401", incluster.Unauthorized, 401, "Unauthorized"),
        ("/_test/status/403", incluster.Forbidden, 403, "Forbidden"),
        ("/_test/status/404", incluster.NotFound, 404, "NotFound"),
        ("/_test/status/409", incluster.Conflict, 409, "Conflict"),
        ("/_test/status/410", incluster.Gone, 410, "Expired"),
        ("/_test/status/429", incluster.TooManyRequests, 429, "TooManyRequests"),
        ("/_test/status/500", incluster.ApiError, 500, "InternalError"),
    ]
    for path, cls, status, reason in cases:
        with pytest.raises(cls) as info:
            c.get(path)
        e = info.value
        assert type(e) is cls
        assert isinstance(e, incluster.ApiError) and isinstance(e, incluster.Error)
        assert (e.status, e.reason, e.message) == (status, reason, f"test status {status}")
        assert e.body.startswith(b"{") and b'"kind":"Status"' in e.body
        assert f"GET {path} {status} ({reason}): test status {status}" == str(e)
        again = pickle.loads(pickle.dumps(e))
        assert (type(again), again.status, again.reason, str(again)) == (cls, status, reason, str(e))
    with pytest.raises(incluster.TooManyRequests) as info429:
        c.get("/_test/status/429")
    assert info429.value.details == {"retryAfterSeconds": 1}
    with pytest.raises(incluster.NotFound) as nf:
        c.get("/api/v1/namespaces/x/configmaps/missing")
    assert nf.value.details == {"name": "missing", "kind": "configmaps"}
    with pytest.raises(incluster.ApiError) as plain:
        c.get("/_test/status/502", params={"plain": 1})
    assert (plain.value.status, plain.value.details, plain.value.message) == (
        502, None, "plain failure 502")

    with pytest.raises(incluster.Unauthorized) as unauth:
        explicit(server, token="tok-py-WRONG-7a").get("/version")
    assert unauth.value.reason == "Unauthorized"

    with pytest.raises(incluster.TlsError, match="unknown issuer") as tls:
        incluster.Client(server=server.url, ca_file=server.other_ca, token=TOKEN).get("/version")
    assert isinstance(tls.value, incluster.TransportError)

    with pytest.raises(incluster.TransportError, match="connection refused"):
        incluster.Client(server="http://127.0.0.1:1").get("/version")

    with pytest.raises(incluster.TimeoutError) as to:
        explicit(server, timeout=0.3).get("/_test/delay", params={"ms": 3000})
    assert isinstance(to.value, TimeoutError) and isinstance(to.value, incluster.TransportError)

    with pytest.raises(incluster.InvalidArgument, match="must start with '/'"):
        c.get("version")

    r = c.request_raw("GET", "/_test/status/200", params={"plain": 1})
    with pytest.raises(incluster.DecodeError, match="not JSON"):
        r.json()

    for var in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(incluster.ConfigError, match="not running in a pod"):
        incluster.Client()
    missing = tmp_path / "nope"
    with pytest.raises(incluster.ConfigError, match=f"token file {missing} does not exist"):
        incluster.Client(server=server.url, ca_file=server.ca, token_file=missing)
    bad_ca = tmp_path / "bad.crt"
    bad_ca.write_text("garbage")
    with pytest.raises(incluster.ConfigError, match=f"CA file {bad_ca} is not PEM"):
        incluster.Client(server=server.url, ca_file=bad_ca)


def test_the_token_never_appears_in_messages(server: Server) -> None:
    secret = "tok-py-NEVER-SHOW-5c2d"
    c = incluster.Client(server=server.url, ca_file=server.ca, token=secret)
    texts = [repr(c), str(c)]
    for call in (lambda: c.get("/version"), lambda: c.get("/_test/status/500"),
                 lambda: c.whoami(), lambda: c.can_i("get", "pods")):
        try:
            call()
        except incluster.Error as e:
            texts += [str(e), repr(e), repr(e.args), getattr(e, "body", b"").decode()]
    assert len(texts) > 2
    for t in texts:
        assert secret not in t, t


def test_threads_share_one_client(server: Server) -> None:
    c = explicit(server)
    ok: list[int] = []

    def work() -> None:
        ok.append(sum(1 for _ in range(40) if c.get("/version")["major"] == "1"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ok == [40] * 8


def test_the_gil_is_released_while_waiting(server: Server) -> None:
    c = explicit(server)
    done = threading.Event()
    fast_calls = 0

    def slow() -> None:
        c.get("/_test/delay", params={"ms": 1500})
        done.set()

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.1)
    while not done.is_set() and fast_calls < 20:
        c.get("/version")
        fast_calls += 1
    t.join()
    # Twenty requests finished while the other thread sat in a 1.5 s request.
    assert fast_calls == 20


def test_token_rotation_fails_no_call(server: Server, pod: SaDir) -> None:
    server.set_tokens(["rot-0"])
    pod.rotate("rot-0")
    c = incluster.Client()
    failures: list[str] = []
    stop = threading.Event()
    calls = [0]

    def work() -> None:
        while not stop.is_set():
            try:
                c.get("/version")
                calls[0] += 1
            except incluster.Error as e:
                failures.append(str(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(1, 11):
        server.set_tokens([f"rot-{i - 1}", f"rot-{i}"])
        pod.rotate(f"rot-{i}")
        server.set_tokens([f"rot-{i}"])
        time.sleep(0.03)
    stop.set()
    for t in threads:
        t.join()
    assert calls[0] > 10
    assert failures == []


def test_ctrl_c_interrupts_a_blocked_request(server: Server) -> None:
    c = explicit(server)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        c.get("/_test/delay", params={"ms": 5000})
    timer.join()
    assert time.monotonic() - start < 3
    assert c.get("/version")["major"] == "1"


def test_context_manager_closes(server: Server) -> None:
    with explicit(server) as c:
        assert c.get("/version")["major"] == "1"
    with pytest.raises(incluster.InvalidArgument, match="closed"):
        c.get("/version")


def test_whoami_and_can_i(server: Server) -> None:
    c = explicit(server, namespace="ns1")
    me = c.whoami()
    assert me["username"] == "system:serviceaccount:test:tester"
    assert me["source"] == "SelfSubjectReview"
    assert "system:authenticated" in me["groups"]
    assert c.can_i("list", "configmaps") is True
    assert c.can_i("delete", "deployments.apps", name="web") is False
    body = server.requests()[-1]["body"]
    assert '"resource":"deployments"' in body and '"group":"apps"' in body
    assert '"namespace":"ns1"' in body and '"name":"web"' in body
    assert c.can_i("get", "/healthz") is True
    assert c.can_i("get", "pods", namespace="") is True
    assert '"namespace":""' in server.requests()[-1]["body"]


def test_a_compressed_body_is_never_inflated(server: Server) -> None:
    c = explicit(server)
    raw = c.request_raw("GET", "/_test/gzip-bomb", params={"mb": "8"})
    assert raw.headers["content-encoding"] == "gzip"
    assert len(raw.body) < 1_000_000  # the compressed bytes, as sent
    with pytest.raises(incluster.DecodeError, match=r"compressed \(Content-Encoding: gzip\)"):
        c.get("/_test/gzip-bomb", params={"mb": "8"})
