"""Tests of what the one address refuses before anything is decided, sent as raw
bytes to the whole product (bin/run: the front, nginx, granian, daphne), started
once for this folder, not in demo mode."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.product import Product
from tests.support.servers import database_url_for_tests

# The cap on websockets per client address for this folder's product (200 by default).
SOCKETS_PER_ADDRESS = 20


@pytest.fixture(scope="package")
def product(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Product]:
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    running = Product(
        state_dir=tmp_path_factory.mktemp("door") / "stack",
        database_url=database_url,
        WS_SOCKETS_PER_ADDRESS=str(SOCKETS_PER_ADDRESS),
        WS_MEMORY_RETURN_SOCKETS="200",
    )
    running.start()
    yield running
    running.stop()


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """One raw request (Connection: close) and its answer: (status, headers, body). The
    bytes go as given: http.client would encode or refuse what these tests send."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        chunks, rest = [], body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2 :]
        body = b"".join(chunks)
    return int(lines[0].split()[1]), headers, body


def http_request(
    method: str, path: str, headers: dict[str, str | bytes] | None = None, body: bytes = b""
) -> bytes:
    """A request's bytes: header values may be bytes (sent as they are)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    if body or method == "POST":
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
