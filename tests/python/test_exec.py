"""exec from Python against the test server's exec endpoint (which runs the command)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading

import pytest

import incluster
from conftest import Server, explicit


def test_exit_code_and_streams_apart(server: Server) -> None:
    kube = explicit(server)
    r = kube.exec("web", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert r.returncode == 3
    assert r.stdout == b"out\n"
    assert r.stderr == b"err\n"
    assert r.args == ["sh", "-c", "echo out; echo err >&2; exit 3"]
    with pytest.raises(subprocess.CalledProcessError) as e:
        kube.exec("web", ["sh", "-c", "echo x; exit 4"], check=True)
    assert e.value.returncode == 4
    assert e.value.stdout == b"x\n"
    assert kube.exec("web", ["true"], check=True).returncode == 0


@pytest.mark.parametrize("kind", ["bytes", "str", "file"])
def test_stdin_is_fed_and_closed(server: Server, kind: str) -> None:
    kube = explicit(server)
    data = bytes(range(256)) * 1000 if kind != "str" else None
    stdin: object
    if kind == "bytes":
        stdin = data
    elif kind == "file":
        stdin = io.BytesIO(data or b"")
    else:
        stdin = "héllo\n" * 1000
        data = stdin.encode()
    r = kube.exec("web", ["cat"], stdin=stdin)
    assert r.returncode == 0
    assert r.stdout == data


def test_bad_stdin_and_names_are_typed_errors(server: Server) -> None:
    kube = explicit(server)
    with pytest.raises(TypeError):
        kube.exec("web", ["cat"], stdin=42)
    with pytest.raises(incluster.InvalidArgument, match="pod"):
        kube.exec("No/Such", ["true"])
    with pytest.raises(incluster.Forbidden, match="`create` on `pods/exec`"):
        kube.exec("fault-forbidden", ["true"])
    with pytest.raises(incluster.TransportError, match="may still be running"):
        kube.exec("fault-drop", ["echo", "x"])
    with pytest.raises(incluster.InvalidArgument, match="v4.channel.k8s.io"):
        kube.exec("v4-pod", ["cat"], stdin=b"x")


def test_timeout_cancels(server: Server) -> None:
    kube = explicit(server)
    with pytest.raises(incluster.TimeoutError, match="did not finish"):
        kube.exec("web", ["sleep", "30"], timeout=0.3)


def test_streaming_write_close_iterate_wait(server: Server) -> None:
    kube = explicit(server)
    with kube.exec_stream("web", ["sh", "-c", "read a; echo got:$a; cat >&2"], stdin=True) as s:
        assert s.protocol == "v5.channel.k8s.io"
        s.write("hello\n")
        s.write(b"rest")
        s.close_stdin()
        got: dict[int, bytes] = {1: b"", 2: b""}
        for ch, data in s:
            got[ch] += data
        assert got == {1: b"got:hello\n", 2: b"rest"}
        assert s.returncode == 0
        assert s.wait() == 0


def test_tty_resize(server: Server) -> None:
    kube = explicit(server)
    s = kube.exec_stream("web", ["sh", "-c", "sleep 0.5; echo done"], stdin=True, tty=True)
    s.resize(100, 30)
    out = b"".join(d for _, d in s)
    assert b"resize 100x30" in out
    assert s.returncode == 0


def test_cancel_from_another_thread(server: Server) -> None:
    kube = explicit(server)
    s = kube.exec_stream("web", ["sleep", "30"])
    threading.Timer(0.2, s.cancel).start()
    with pytest.raises(incluster.Cancelled):
        for _ in s:
            pass


def test_ctrl_c_interrupts_a_blocked_read_and_a_run(server: Server) -> None:
    kube = explicit(server)
    s = kube.exec_stream("web", ["sleep", "30"])
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        next(s)
    timer.join()
    s.close()
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        kube.exec("web", ["sleep", "30"])
    timer.join()


def test_attach(server: Server) -> None:
    kube = explicit(server)
    with kube.attach("web") as s:
        assert s.wait() == 0


def _echo_server() -> int:
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def serve() -> None:
        while True:
            conn, _ = srv.accept()

            def echo(c: socket.socket) -> None:
                with c:
                    while data := c.recv(65536):
                        c.sendall(data)

            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    port: int = srv.getsockname()[1]
    return port


def test_port_forward_socket(server: Server) -> None:
    kube = explicit(server)
    port = _echo_server()
    with kube.port_forward("web", port) as s:
        assert s.port == port
        s.sendall(b"x" * 100_000)
        got = b""
        while len(got) < 100_000:
            chunk = s.recv(65536)
            assert chunk
            got += chunk
        assert got == b"x" * 100_000
    with pytest.raises(incluster.Forbidden, match="pods/portforward"):
        kube.port_forward("fault-forbidden", 80)


def test_port_forward_listener(server: Server) -> None:
    import socket

    kube = explicit(server)
    port = _echo_server()
    with kube.port_forward_listen("web", port) as f:
        assert f.address[0] == "127.0.0.1"
        for i in range(20):
            with socket.create_connection(f.address) as c:
                c.sendall(b"ping %d" % i)
                assert c.recv(100) == b"ping %d" % i


def test_port_forward_listener_over_the_spdy_tunnel(server: Server) -> None:
    """The test server's ``spdy-…`` pods answer with kubectl's tunnel: concurrent
    connections on it, each half-closed by the client and answered to the end."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    kube = explicit(server)
    port = _echo_server()
    with kube.port_forward_listen("spdy-web", port) as f:

        def one(i: int) -> bytes:
            with socket.create_connection(f.address) as c:
                c.sendall(b"%d:" % i + b"y" * 50_000)
                c.shutdown(socket.SHUT_WR)
                got = b""
                while chunk := c.recv(65536):
                    got += chunk
                return got

        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(one, range(32)))
        assert got == [b"%d:" % i + b"y" * 50_000 for i in range(32)]
