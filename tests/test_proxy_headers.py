"""nginx (bin/proxy), behind the front at the one address users open, does not
tell its version, and tells granian which scheme the client used: its own, or,
behind a TLS terminator it is told to trust (FLUX_PROXY_TRUST_FORWARDED_PROTO),
the terminator's."""

from __future__ import annotations

import http.client
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import ROOT, free_port, start_process, stop_process, wait_for


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    process = start_process([str(ROOT / "bin" / "proxy")], "proxy-headers", FLUX_STACK_DIR=str(tmp_path))
    front = start_process(
        [sys.executable, "manage.py", "serve_front", "--port", str(port), "--upstream", str(tmp_path / "run" / "proxy.sock")],
        "proxy-headers-front",
    )  # fmt: skip

    def answers() -> bool:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return True
        except OSError:
            return False

    try:
        wait_for(answers, 20, "nginx")
        yield port
    finally:
        stop_process(front)
        stop_process(process)


def test_nginx_does_not_tell_its_version(proxy: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", proxy, timeout=5)
    connection.request("GET", "/static/no-such-file")
    response = connection.getresponse()
    body = response.read()
    assert response.status == 404
    assert response.getheader("Server") == "nginx"
    assert b"nginx/" not in body


@pytest.mark.parametrize(
    ("trust", "forwarded"),
    [(None, "$scheme"), ("true", "$http_x_forwarded_proto")],
    ids=["edge", "behind-tls"],
)
def test_the_scheme_nginx_forwards(tmp_path: Path, trust: str | None, forwarded: str) -> None:
    """The written configuration (nginx -t checks it without serving)."""
    import os

    env = {**os.environ, "FLUX_STACK_DIR": str(tmp_path), "FLUX_PORT": str(free_port())}
    if trust:
        env["FLUX_PROXY_TRUST_FORWARDED_PROTO"] = trust
    process = subprocess.Popen([str(ROOT / "bin" / "proxy")], cwd=ROOT, env=env)
    try:
        wait_for(lambda: (tmp_path / "nginx" / "nginx.conf").exists(), 10, "bin/proxy's nginx.conf")
    finally:
        stop_process(process)
    conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert f"proxy_set_header X-Forwarded-Proto {forwarded};" in conf
