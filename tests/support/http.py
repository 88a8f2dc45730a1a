"""Real HTTP to the product's WSGI server (granian, as in the Procfile): the
server on a free port, its answers, and a client that keeps cookies as a browser does."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.support.servers import free_port, start_process, stop_process


class WebServer:
    """The product's WSGI server (granian, as in the Procfile) on a free port."""

    def __init__(self, port: int, process: subprocess.Popen | None, source: str | None = None) -> None:
        self.port = port
        self.process = process
        self.source = source  # the client address to connect from (any of 127/8), or the default

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

        source = (self.source, 0) if self.source else None
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=source)
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

    def sign_in(self, username: str, password: str = PASSWORD, headers: dict[str, str] | None = None) -> None:
        """Sign in through the admin's login form, CSRF token and all, as a person does.
        `headers` go with both requests (X-Forwarded-Proto: https, as nginx sends it
        for an HTTPS request: the Origin is then the https one)."""
        import re
        from urllib.parse import urlencode

        headers = headers or {}
        origin = self.server.origin
        if headers.get("X-Forwarded-Proto") == "https":
            origin = origin.replace("http://", "https://", 1)
        form = self.get("/admin/login/", headers=headers)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        assert form.status == 200 and token is not None, form.body[:500]
        reply = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            urlencode({"csrfmiddlewaretoken": token[1].decode(), "username": username, "password": password}),
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin, **headers},
        )
        assert reply.status == 302 and "sessionid" in self.cookies, (reply.status, reply.body[:500])


@contextmanager
def _serving(args: list[str], log_name: str, env: dict[str, str | None], what: str) -> Iterator[WebServer]:
    """Start `args` (its port last given by the caller) with `env` over the test run's
    environment (None removes a variable), wait until it answers HTTP, stop it after."""
    import time

    port = int(args[args.index("--port") + 1])
    # start_process passes on os.environ: change it only while the process starts.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        process = start_process(args, log_name)
    server = WebServer(port, process)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                server.request("GET", "/waiting-room/0/")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{what} did not start; see .stack/logs/test-{log_name}.log") from None
                time.sleep(0.2)
        yield server
    finally:
        stop_process(process)


def granian_server(
    log_name: str,
    *,
    workers: int = 1,
    blocking_threads: int = 4,
    backlog: int | None = None,
    **env: str | None,
) -> AbstractContextManager[WebServer]:
    """A granian serving flux_admin.wsgi on a free port, with `env` over the
    test run's environment (None removes a variable): the test run's web server,
    or one started in demo mode or as production. Use it inside a fixture that
    unblocks the database."""
    import sys

    granian = str(Path(sys.executable).parent / "granian")
    tuning = ["--workers", str(workers), "--blocking-threads", str(blocking_threads)]
    if backlog is not None:
        tuning += ["--backlog", str(backlog)]
    args = [granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(free_port()), *tuning,
            "--no-access-log", "flux_admin.wsgi:application"]  # fmt: skip
    return _serving(args, log_name, env, "granian")


def front_server(log_name: str, **env: str | None) -> AbstractContextManager[WebServer]:
    """The front (manage.py serve_front, orders/buy/front.py) on a free port, with `env`
    over the test run's environment. It answers the buy routes itself; there is no
    nginx behind it here, so anything it hands over is answered 502."""
    import sys

    args = [sys.executable, "manage.py", "serve_front", "--port", str(free_port()), "--workers", "1",
            "--upstream", f"/nonexistent/{log_name}.sock"]  # fmt: skip
    return _serving(args, log_name, env, "the front")


def production_granian(log_name: str, **env: str | None) -> AbstractContextManager[WebServer]:
    """granian_server configured as production (FLUX_ENV=production, a real-length
    secret, only 127.0.0.1 allowed, no debug, no demo mode, no trusted origins).
    Tests reach it over plain HTTP, straight to granian: production's redirect to
    HTTPS is off here (tests/test_production_https.py has it on), unless `env` says."""
    production: dict[str, str | None] = {
        "FLUX_ENV": "production",
        "SECRET_KEY": f"{log_name}-test-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": None,
        "DEBUG": None,
        "FLUX_DEMO_MODE": None,
        "SECURE_SSL_REDIRECT": "false",
    }
    return granian_server(log_name, **{**production, **env})
