"""Fixtures for the real servers: tests talk to the Redis, PostgreSQL and Kafka
that bin/stack runs (under pytest, settings move to test-only Redis databases
and `test.`-prefixed Kafka topics; pytest-django makes a test database)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import redis

from flux_admin.clients import redis_client, reset_clients
from tests.factories import PASSWORD, make_merchant

ROOT = Path(__file__).resolve().parent.parent


def stack(*args: str) -> subprocess.CompletedProcess[str]:
    """Run bin/stack; fail the test with its output if it fails."""
    result = subprocess.run([str(ROOT / "bin" / "stack"), *args], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"bin/stack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Sale ids of each run start where no earlier run's did: the Kafka topics
    outlive the test database, and tests find their orders there by sale id."""
    import time

    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('sales_sale', 'id'), %s)", [int(time.time() * 1000)]
        )


@pytest.fixture(scope="session", autouse=True)
def kafka_topics() -> None:

    from orders.topics import topics_ensure

    topics_ensure()


@pytest.fixture(autouse=True)
def redis_conn() -> Iterator[redis.Redis]:
    """The app's Redis client on the test database, emptied before every test
    (sale ids restart with each test database, their Redis keys must too)."""
    client = redis_client()
    client.flushdb()
    yield client


@pytest.fixture
def restart_server() -> Iterator[list[str]]:
    """Names put in the yielded list are brought back up after the test,
    whatever happened, so one failing test cannot leave a server down."""
    stopped: list[str] = []
    yield stopped
    if stopped:
        stack("up", *stopped)
        reset_clients()


@pytest.fixture
def owner(db: None) -> Any:
    """The merchant who owns the sales under test."""
    return make_merchant("owner")


@pytest.fixture
def other_merchant(db: None) -> Any:
    return make_merchant("other")


@pytest.fixture
def operator(db: None) -> Any:
    """Platform staff: a superuser, who sees every merchant's sales."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("operator", password=PASSWORD)


def commit_orders_topic_to_end(group_id: str | None = None) -> None:
    """Mark every message on the orders topic as consumed by a consumer group (by
    default the order consumer's): the state a drained pipeline leaves behind, or
    a clean start for a test's own consumer group."""
    from confluent_kafka import Consumer, TopicPartition
    from django.conf import settings

    consumer = Consumer(
        {
            "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
            "group.id": group_id or settings.KAFKA_ORDERS_GROUP,
        }
    )
    try:
        topic = settings.KAFKA_ORDERS_TOPIC
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = []
        for number in partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, number), timeout=10)
            ends.append(TopicPartition(topic, number, high))
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()


def database_url_for_tests() -> str:
    """DATABASE_URL of the test database, for the real processes a test starts."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_process(args: list[str], log_name: str, **env: str) -> subprocess.Popen:
    """Start one of the product's processes against the test database; its
    output goes to .stack/logs/test-<log_name>.log."""
    import os

    log_dir = ROOT / ".stack" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"test-{log_name}.log", "w")  # noqa: SIM115 - lives as long as the process
    environment = {**os.environ, "DATABASE_URL": database_url_for_tests(), **env}
    return subprocess.Popen(args, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebServer:
    """The product's WSGI server (granian, as in the Procfile) on a free port."""

    def __init__(self, port: int, process: subprocess.Popen) -> None:
        self.port = port
        self.process = process

    def post(
        self, path: str, body: bytes | str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict, bytes]:
        """One request on a new connection: (status, headers, body)."""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def request(
        self, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None
    ) -> HttpReply:
        """One request of any method on a new connection; every header of the
        answer is kept (a response can set several cookies)."""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return HttpReply(response.status, response.headers, response.read())
        finally:
            connection.close()

    @property
    def origin(self) -> str:
        """What a browser on this server's pages sends as Origin."""
        return f"http://127.0.0.1:{self.port}"


class HttpReply:
    """An answer over real HTTP: status, all headers, body."""

    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class BrowserSession:
    """Real HTTP with a cookie jar, as a browser keeps one for a site: every
    Set-Cookie is stored and sent back. The Secure flag is not honoured, on
    purpose: tests reach production-configured servers over plain HTTP."""

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None
    ) -> HttpReply:
        from http.cookies import SimpleCookie

        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        reply = self.server.request(method, path, body, sent)
        for header in reply.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":  # Django deletes a cookie this way
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, headers: dict[str, str] | None = None) -> HttpReply:
        return self.request("GET", path, headers=headers)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        """Sign in through the admin's login form, CSRF token and all, as a person does."""
        import re
        from urllib.parse import urlencode

        form = self.get("/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        assert form.status == 200 and token is not None, form.body[:500]
        reply = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            urlencode({"csrfmiddlewaretoken": token[1].decode(), "username": username, "password": password}),
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.server.origin},
        )
        assert reply.status == 302 and "sessionid" in self.cookies, (reply.status, reply.body[:500])


@pytest.fixture(scope="session")
def web_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    import sys
    import time

    port = free_port()
    granian = str(Path(sys.executable).parent / "granian")
    with django_db_blocker.unblock():
        process = start_process(
            [granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
             "--blocking-threads", "8", "--backlog", "2048", "--no-access-log", "flux_admin.wsgi:application"],
            "granian",
        )  # fmt: skip
    server = WebServer(port, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            server.post("/api/v1/sales/0/buy", "{}")
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("granian did not start; see .stack/logs/test-granian.log") from None
            time.sleep(0.2)
    yield server
    stop_process(process)


@contextmanager
def granian_server(log_name: str, **env: str | None) -> Iterator[WebServer]:
    """Another granian serving flux_admin.wsgi on a free port, with `env` over the
    test run's environment (None removes a variable): a server started in demo
    mode or as production. Use it inside a fixture that unblocks the database."""
    import sys
    import time

    port = free_port()
    granian = str(Path(sys.executable).parent / "granian")
    # start_process passes on os.environ: change it only while the process starts.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        process = start_process(
            [granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--blocking-threads", "4", "--no-access-log", "flux_admin.wsgi:application"],
            log_name,
        )  # fmt: skip
    server = WebServer(port, process)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                server.request("GET", "/waiting-room/0/")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(
                        f"granian did not start; see .stack/logs/test-{log_name}.log"
                    ) from None
                time.sleep(0.2)
        yield server
    finally:
        stop_process(process)


def orders_on_topic(sale_id: int) -> list[dict]:
    """Every order message for the sale on the orders topic, read from the start
    up to the end offsets as they are now."""
    from orders.topics import sale_order_messages

    return sale_order_messages(sale_id)


def wait_for(condition: Any, seconds: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.2)
