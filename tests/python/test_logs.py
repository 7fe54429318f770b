"""Pod logs from Python: lines as str or bytes, follow with resume, callbacks, Ctrl-C."""

from __future__ import annotations

import base64
import os
import signal
import threading
import time

import pytest

import incluster
from conftest import Server, explicit

NS = "pl"
FAST = {"backoff": (0.005, 0.05)}


def pod(server: Server, name: str, containers: list[str] | None = None) -> None:
    server.control("POST", "/_control/pods",
                   {"namespace": NS, "name": name, "containers": containers or ["app"]})


def append(server: Server, name: str, lines: list[str], **kw: object) -> None:
    server.control("POST", "/_control/logs",
                   {"namespace": NS, "pod": name, "lines": lines, **kw})


def generate(server: Server, name: str, count: int) -> None:
    server.control("POST", "/_control/logs/generate",
                   {"namespace": NS, "pod": name, "count": count, "size": 60})


def terminate(server: Server, name: str) -> None:
    server.control("PUT", f"/_control/pods/{NS}/{name}/state",
                   {"container": "app", "state": "terminated"})


def test_lines_as_text_with_replacement_and_as_bytes(server: Server) -> None:
    c = explicit(server, namespace=NS)
    pod(server, "p")
    append(server, "p", ["hello", "wörld"])
    append(server, "p", [base64.b64encode(b"bad \xff byte").decode(),
                         base64.b64encode(b"no newline").decode()],
           base64=True, no_newline_last=True)
    assert list(c.logs("p")) == ["hello", "wörld", "bad \ufffd byte", "no newline"]
    assert list(c.logs("p", as_bytes=True))[2] == b"bad \xff byte"
    assert list(c.logs("p", namespace=NS, tail_lines=1)) == ["no newline"]


def test_text_lines_with_non_ascii_anywhere(server: Server) -> None:
    # ASCII lines are made by a word-at-a-time check and one copy; any other byte, in the
    # first word, across a word boundary or in the tail after the last whole word, must take
    # the decoding path.
    c = explicit(server, namespace=NS)
    pod(server, "q")
    raw = [b"", b"\xc3\xa9", b"1234567\xc3\xa9", b"12345678\xff", b"x" * 15 + b"\xc3\xbc",
           b"\x7f" * 17, b"y" * 64 + b"\x80" + b"z" * 7, b"plain ascii line of some length"]
    append(server, "q", [base64.b64encode(r).decode() for r in raw], base64=True)
    assert list(c.logs("q")) == [r.decode("utf-8", "replace") for r in raw]
    assert list(c.logs("q", as_bytes=True)) == raw


def test_follow_resumes_across_drops_and_ends_with_the_container(server: Server) -> None:
    c = explicit(server, namespace=NS)
    pod(server, "p")
    server.control("PUT", "/_control/logs/faults", {"drop_every": 9, "drop_mid_line": True})
    generate(server, "p", 100)
    seqs = []
    with c.logs("p", follow=True, **FAST) as lines:
        for line in lines:
            seqs.append(int(line.split("seq=")[1][:10]))
            if len(seqs) == 100:
                generate(server, "p", 50)
            if len(seqs) == 150:
                terminate(server, "p")
    assert seqs == list(range(1, 151))


def test_callback_form_and_exception(server: Server) -> None:
    c = explicit(server, namespace=NS)
    pod(server, "p")
    generate(server, "p", 20)
    seen: list[str] = []

    def take_five(line: str) -> bool:
        seen.append(line)
        return len(seen) < 5

    assert c.logs("p", callback=take_five) is None
    assert len(seen) == 5

    def boom(line: str) -> None:
        raise LookupError(line)

    with pytest.raises(LookupError, match="seq=0000000001"):
        c.logs("p", callback=boom)


def test_cancel_and_ctrl_c_interrupt_a_quiet_follow(server: Server) -> None:
    c = explicit(server, namespace=NS)
    pod(server, "p")
    lines = c.logs("p", follow=True)
    threading.Timer(0.2, lines.cancel).start()
    start = time.monotonic()
    assert list(lines) == []
    assert time.monotonic() - start < 3

    lines = c.logs("p", follow=True)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        next(lines)
    timer.join()
    lines.close()


def test_errors(server: Server) -> None:
    c = explicit(server, namespace=NS)
    with pytest.raises(incluster.NotFound):
        c.logs("missing")
    pod(server, "two", ["a", "b"])
    with pytest.raises(incluster.ApiError) as info:
        c.logs("two")
    assert info.value.status == 400 and "choose one of: [a b]" in str(info.value)
    with pytest.raises(incluster.ApiError, match=r"the pod's containers: a, b"):
        c.logs("two", container="ghost")
    with pytest.raises(incluster.InvalidArgument, match="sinceTime"):
        c.logs("two", container="a", since_time="yesterday")
