"""The whole product as `make run` starts it: bin/run (supervisord) with every
process — nginx, granian, daphne, the order consumer, the admitter, the dashboard's ticker, Celery worker and beat —
on free ports, against the test database, Redis databases and Kafka topics.

Tests that need the one address a person uses (the browser tests, the
supervisor's restarts) talk to it exactly as a person would: through nginx.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.orders import commit_orders_topic_to_end
from tests.support.servers import ROOT, free_port

# Seconds the whole product gets to answer /healthz after it starts.
START_SECONDS = 60


class Product:
    """bin/run in its own state folder (sockets, logs, nginx config) and on its own ports."""

    def __init__(self, *, state_dir: Path, database_url: str, **env: str) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        self.env = {
            **environment,
            "FLUX_STACK_DIR": str(state_dir),
            "FLUX_PORT": str(self.port),
            "FLUX_WS_PORT": str(free_port()),
            "FLUX_WEB_THREADS": "4",
            "DATABASE_URL": database_url,
            # Its own consumer group: consumer tests elsewhere use the default one.
            "KAFKA_ORDERS_GROUP": f"test.product-{self.port}",
            **env,
        }
        self.process: subprocess.Popen | None = None

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # Its consumer group starts where the topic ends now, not at earlier runs' orders.
        commit_orders_topic_to_end(self.env["KAFKA_ORDERS_GROUP"])
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        log = open(self.state_dir / "run.log", "w")  # noqa: SIM115 - lives as long as supervisord
        self.process = subprocess.Popen(
            [str(ROOT / "bin" / "run")],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while not (self.healthy() and self.all_running() and self.websockets_listening()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the product did not start; see {self.state_dir}/run.log and logs/")
            time.sleep(0.3)

    def stop(self) -> None:
        """Like Ctrl+C on `make run`: supervisord stops every process, then itself."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(2)  # SIGINT, as Ctrl+C sends
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()

    # --- what runs ------------------------------------------------------------------

    def status(self) -> dict[str, tuple[str, int | None]]:
        """{program: (state, pid)} as supervisorctl reports it (web is web:web-0, web:web-1)."""
        result = subprocess.run(
            [str(ROOT / "bin" / "run"), "status"], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        programs = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                pid = re.search(r"pid (\d+)", line)
                programs[parts[0]] = (parts[1], int(pid.group(1)) if pid else None)
        return programs

    def all_running(self) -> bool:
        programs = self.status()
        return bool(programs) and all(state == "RUNNING" for state, _ in programs.values())

    def websockets_listening(self) -> bool:
        """daphne takes its port a moment after supervisord calls it running."""
        try:
            with socket.create_connection(("127.0.0.1", int(self.env["FLUX_WS_PORT"])), timeout=1):
                return True
        except OSError:
            return False

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=3) as response:
                return response.status == 200
        except (OSError, urllib.error.HTTPError):
            return False

    # --- talking to it through the one address -----------------------------------

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict]:
        """One JSON request through nginx: (status, decoded body or {})."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        opener = urllib.request.build_opener(NoRedirect())
        try:
            with opener.open(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else {}
        except ValueError:
            return status, {}

    def buy(
        self,
        sale_id: int,
        user_id: str | None,
        key: str,
        quantity: int = 1,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict]:
        """A body user_id names the shopper (a product in demo mode), or `headers`
        prove the shopper (tests/support/shoppers.py) and user_id is None."""
        body: dict = {"quantity": quantity} if user_id is None else {"user_id": user_id, "quantity": quantity}
        return self.request(
            "POST", f"/api/v1/sales/{sale_id}/buy", body, {"Idempotency-Key": key, **(headers or {})}
        )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a 302 (the waiting room) as it is instead of following it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
