"""Issue 20's request edges from Python: the same decisions the core makes for C and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

import incluster
from conftest import TOKEN, SaDir, Server, explicit

COLL = "/api/v1/namespaces/edges/configmaps"


def test_field_manager_goes_with_every_patch_type_and_force_only_with_apply(
        server: Server) -> None:
    c = explicit(server)
    c.post(COLL, {"metadata": {"name": "fm"}, "data": {"a": "1"}})
    for patch_type, body in [("merge", {"data": {"m": "1"}}), ("strategic", {"data": {"s": "1"}}),
                             ("json", [{"op": "add", "path": "/data/j", "value": "1"}])]:
        c.patch(f"{COLL}/fm", body, patch_type=patch_type, field_manager="py-mgr")
        last = server.requests()[-1]
        assert last["path"].endswith("/fm?fieldManager=py-mgr"), (patch_type, last)
    server.clear_requests()
    with pytest.raises(incluster.InvalidArgument,
                       match="force is only valid for an apply patch, not for a merge patch"):
        c.patch(f"{COLL}/fm", {"data": {}}, field_manager="py-mgr", force=True)
    assert server.requests() == []


@pytest.mark.parametrize("method,says", [
    ("FOO", 'HTTP method "FOO" is not supported: use one of GET, HEAD, POST'),
    ("GE T", 'HTTP method "GE T" is not a valid method name'),
    ("", 'HTTP method "" is not a valid method name'),
])
def test_a_method_that_is_not_one_is_an_argument_error_sent_nowhere(
        server: Server, method: str, says: str) -> None:
    c = explicit(server)
    server.clear_requests()
    for call in (c.request, c.request_raw):
        with pytest.raises(incluster.InvalidArgument, match=says) as info:
            call(method, "/version")
        assert isinstance(info.value, ValueError)
    assert server.requests() == []
    assert c.request("get", "/version")["major"] == "1"


def test_params_with_none_values_are_left_out(server: Server) -> None:
    c = explicit(server)
    assert c.get("/_test/echo", params={"limit": None, "a": 1})["query"] == "a=1"
    assert c.get("/_test/echo", params=[("a", None), ("b", "2")])["query"] == "b=2"
    assert c.get("/_test/echo", params={"limit": None})["query"] in (None, "")
    server.clear_requests()
    w = c.watch(COLL, params={"limit": None, "extra": "1"}, resume=False)
    w.close()
    paths = [r["path"] for r in server.requests()]
    assert any("extra=1" in p for p in paths), paths
    assert not any("limit" in p for p in paths), paths


ARGUMENT_ERRORS: list[tuple[str, Callable[[Server, incluster.Client], Any], str]] = [
    ("bad patch_type",
     lambda s, c: c.patch(f"{COLL}/x", {}, patch_type="yaml"),  # type: ignore[arg-type]
     'patch type "yaml" is not one of'),
    ("force off apply", lambda s, c: c.patch(f"{COLL}/x", {}, patch_type="json", force=True),
     "force is only valid for an apply patch"),
    ("patch without a body", lambda s, c: c.patch(f"{COLL}/x"), "patch needs json= or data="),
    ("json= and data=", lambda s, c: c.post(COLL, {}, data=b"x"), "give json= or data="),
    ("timeout=0", lambda s, c: explicit(s, timeout=0), "timeout must be a number of seconds > 0"),
    ("connect_timeout=nan", lambda s, c: explicit(s, connect_timeout=float("nan")),
     "connect_timeout must be a number of seconds > 0"),
    ("rate_limit=(0, 0)", lambda s, c: explicit(s, rate_limit=(0, 0)),
     "rate limit qps must be a number > 0"),
    ("rate_limit burst 0", lambda s, c: explicit(s, rate_limit=(5, 0)),
     "rate limit burst must be at least 1"),
    ("max_attempts=0", lambda s, c: explicit(s, max_attempts=0),
     "max attempts must be at least 1"),
    ("token= and token_file=", lambda s, c: explicit(s, token_file="/x"),
     "give token= or token_file="),
    ("ca_file= and ca_pem=", lambda s, c: explicit(s, ca_pem="x"), "give ca_file= or ca_pem="),
]


@pytest.mark.parametrize("case", ARGUMENT_ERRORS, ids=[c[0] for c in ARGUMENT_ERRORS])
def test_every_argument_error_is_invalid_argument(
        server: Server, case: tuple[str, Callable[[Server, incluster.Client], Any], str]) -> None:
    _, call, says = case
    with pytest.raises(incluster.InvalidArgument, match=says) as info:
        call(server, explicit(server))
    # Still a ValueError, and caught by `except incluster.Error`.
    assert isinstance(info.value, ValueError) and isinstance(info.value, incluster.Error)


def test_an_explicit_server_keeps_the_pods_credentials(server: Server, pod: SaDir) -> None:
    c = incluster.Client(server=server.url)
    assert c.namespace == "py-ns"
    assert c.get("/_test/echo")["authorization"] == "valid"
    # What the caller gives overrides what is kept.
    c = incluster.Client(server=server.url, token="someone-else", namespace="mine")
    assert c.namespace == "mine"
    with pytest.raises(incluster.Unauthorized):
        c.get("/version")


def test_an_explicit_server_without_a_token_is_refused_outside_a_pod(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCLUSTER_SERVICEACCOUNT_DIR", str(tmp_path / "no-sa"))
    with pytest.raises(incluster.ConfigError, match="no token for https://127.0.0.1") as info:
        incluster.Client(server=server.url, ca_file=server.ca)
    assert "system:anonymous" in str(info.value)
    # With a token it works, and a plain http:// URL stays the anonymous proxy route.
    assert incluster.Client(server=server.url, ca_file=server.ca, token=TOKEN).get(
        "/version")["major"] == "1"


def test_the_request_timeout_names_the_request_and_the_limit(server: Server) -> None:
    with pytest.raises(incluster.TimeoutError,
                       match=r"GET /_test/delay: no complete answer from 127\.0\.0\.1:\d+ "
                             r"within the request timeout of 300ms"):
        explicit(server, timeout=0.3).get("/_test/delay", params={"ms": 3000})


def test_a_body_that_is_not_json_names_the_path_type_and_request_raw(server: Server) -> None:
    c = explicit(server)
    with pytest.raises(incluster.DecodeError) as info:
        c.get("/_test/status/200", params={"plain": 1})
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(
        "decode error: GET /_test/status/200: the response body "
        "(Content-Type: text/plain; charset=utf-8) "
        "is not JSON: ")
    assert str(info.value).endswith("(request_raw() returns the raw body)")
    assert c.request_raw("GET", "/_test/status/200", params={"plain": 1}).text == \
        "plain failure 200"


def test_can_i_verbs_are_case_insensitive_and_unknown_ones_warn(server: Server) -> None:
    c = explicit(server)
    # pytest runs with -W error: a warning here would fail the call.
    assert c.can_i("GET", "pods") is True
    assert '"verb":"get"' in server.requests()[-1]["body"]
    with pytest.warns(UserWarning, match="verb 'foo' is not a known verb"):
        assert c.can_i("foo", "pods") is False


def test_help_shows_the_options() -> None:
    docs = {name: getattr(incluster.Client, name).__doc__ or "" for name in
            ("watch", "logs", "get", "request", "patch", "can_i")}
    for name, doc in docs.items():
        assert "see the stubs" not in doc, name
    for word in ("label_selector", "resource_version", "on_gone", "callback", "cancel()",
                 "close()", "Watch.resource_version"):
        assert word in docs["watch"], word
    for word in ("tail_lines", "since_seconds", "follow", "as_bytes"):
        assert word in docs["logs"], word
    assert "params" in docs["get"] and "request_raw" in docs["get"]
    assert "field_manager" in docs["patch"] and "force" in docs["patch"]
    assert "rate_limit" in (incluster.Client.__doc__ or "")
    sig = getattr(incluster.Client.watch, "__text_signature__", "") or ""
    assert "label_selector=None" in sig, sig
