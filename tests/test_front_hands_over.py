"""The one address is the front (orders/buy/front.py): it answers the buy routes
itself and hands every other connection to nginx, which serves it as it always
did, with the client's own address (PROXY protocol) and websockets included.
Tried against the whole product (bin/run), over real sockets."""

from __future__ import annotations

import http.client
import json
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.factories import make_sale
from tests.support.product import Product
from tests.support.servers import database_url_for_tests

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Iterator[Product]:
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    running = Product(
        state_dir=tmp_path_factory.mktemp("front") / "stack", database_url=database_url, FLUX_DEMO_MODE="true"
    )
    running.start()
    yield running
    running.stop()


def buy_request(sale_id: int, user: str, host: str = "127.0.0.1") -> bytes:
    body = json.dumps({"user_id": user}).encode()
    return (
        f"POST /api/v1/sales/{sale_id}/buy HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """`count` HTTP answers read off one connection, in order."""
    data = b""
    answers = []
    while len(answers) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
            length = int(headers.get("content-length", "0"))
            if len(data) >= end + 4 + length:
                answers.append((int(head[0].split()[1]), headers, data[end + 4 : end + 4 + length]))
                data = data[end + 4 + length :]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {len(answers)} answers"
        data += chunk
    return answers


def test_buys_are_answered_by_the_front_and_pages_by_nginx(product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    with socket.create_connection(("127.0.0.1", product.port), timeout=10) as sock:
        # Two buys pipelined in one write, then a page on the same connection.
        sock.sendall(buy_request(sale.pk, "ann") + buy_request(sale.pk, "ben"))
        (first, first_headers, first_body), (second, _, second_body) = read_answers(sock, 2)
        assert (first, json.loads(first_body)["user_id"]) == (200, "ann")
        assert (second, json.loads(second_body)["user_id"]) == (200, "ben")  # in request order
        assert "server" not in first_headers  # the front's own answer: nginx never saw it
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        ((status, headers, _),) = read_answers(sock, 1)
        assert (status, headers.get("server")) == (200, "nginx")
        # Once nginx has the connection, a buy on it is still answered (by the WSGI lane).
        sock.sendall(buy_request(sale.pk, "cal"))
        ((status, headers, body),) = read_answers(sock, 1)
        assert (status, json.loads(body)["user_id"], headers.get("server")) == (200, "cal", "nginx")


def test_a_buy_the_lane_would_not_answer_goes_to_django(product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True)
    with socket.create_connection(("127.0.0.1", product.port), timeout=10) as sock:
        sock.sendall(buy_request(sale.pk, "dee", host="evil.example"))
        ((status, headers, _),) = read_answers(sock, 1)
    assert (status, headers.get("server")) == (400, "nginx")  # Django's DisallowedHost, through nginx


def test_django_sees_the_client_s_own_address(product: Product, owner: Any) -> None:
    """A failed sign-in is recorded (django-axes) under the address the request came
    from: the front tells nginx the client's, not its own."""
    from axes.models import AccessAttempt

    client_address = "127.0.0.7"
    connection = http.client.HTTPConnection(
        "127.0.0.1", product.port, timeout=10, source_address=(client_address, 0)
    )
    connection.request("GET", "/admin/login/")
    form = connection.getresponse()
    page = form.read()
    cookie = re.search(r"csrftoken=([^;]+)", form.getheader("Set-Cookie") or "")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert cookie and token
    body = urlencode(
        {"csrfmiddlewaretoken": token[1].decode(), "username": owner.username, "password": "wrong"}
    )
    connection.request(
        "POST",
        "/admin/login/",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie[1]}",
            "Origin": product.url,
        },
    )
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200  # the form again, with its error
    assert AccessAttempt.objects.filter(username=owner.username).values_list(
        "ip_address", flat=True
    ).get() == (client_address)


def test_websockets_go_through_the_front(product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True)
    with socket.create_connection(("127.0.0.1", product.port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET /ws/sales/{sale.pk}/ HTTP/1.1\r\nHost: 127.0.0.1:{product.port}\r\n"
                f"Origin: {product.url}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk
            head += chunk
    assert head.startswith(b"HTTP/1.1 101")


def test_the_port_is_refused_to_a_second_front(product: Product, tmp_path: Path) -> None:
    """SO_REUSEPORT would let a second checkout's front share the port and take half
    its connections: the front refuses a port that is already taken."""
    import subprocess
    import sys

    from tests.support.servers import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "serve_front",
            "--port",
            str(product.port),
            "--upstream",
            str(tmp_path / "x.sock"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**product.env, "FLUX_FRONT_PORT_WAIT_SECONDS": "1"},
    )
    assert result.returncode != 0
    assert f"cannot serve 127.0.0.1:{product.port}" in result.stderr
