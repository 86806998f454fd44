"""analysis.collect.loopback: local fio servers for the loopback experiment."""

from __future__ import annotations

import shutil
import socket

import pytest

from analysis.collect import loopback

pytestmark = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not on PATH (.ci/run installs it)")


@pytest.fixture
def taken_port():
    """A port some other program listens on (all addresses, as a server elsewhere on the host would)."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        other.bind(("0.0.0.0", 0))
        other.listen()
        yield other.getsockname()[1]


def test_a_server_whose_port_was_taken_starts_again_on_another(tmp_path, monkeypatch, taken_port):
    ports = iter([taken_port])
    real = loopback.free_port
    monkeypatch.setattr(loopback, "free_port", lambda: next(ports, None) or real())
    with loopback.FioServers(2, tmp_path) as servers:
        assert servers.port != taken_port and len(servers.procs) == 2
        assert all(p.poll() is None for p in servers.procs)
        for host in servers.hosts:
            socket.create_connection((host, servers.port), timeout=2).close()
    assert servers.procs == []


def test_a_port_the_caller_fixed_is_not_replaced(tmp_path, taken_port):
    with pytest.raises(RuntimeError, match=rf"fio --server on port {taken_port} exited at start \(1 attempt"):
        with loopback.FioServers(1, tmp_path, port=taken_port):
            pass
