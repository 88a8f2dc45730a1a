"""The servers and processes tests start and stop: bin/stack (Redis, PostgreSQL,
Kafka) and the product's own processes, run against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Where bin/stack keeps its state (pid files, logs): .stack/, or FLUX_STACK_DIR.
STATE_DIR = Path(os.environ.get("FLUX_STACK_DIR") or ROOT / ".stack")


def stack(*args: str) -> subprocess.CompletedProcess[str]:
    """Run bin/stack on the servers under test; fail the test with its output if it fails.

    With FLUX_STACK=external the servers are not the project's: bin/test-external
    hands over its stand-ins' controls (FLUX_STAND_INS, an env file); without them
    a test that needs to stop a server cannot run, and says so."""
    env = None
    if os.environ.get("FLUX_STACK") == "external":
        controls = os.environ.get("FLUX_STAND_INS")
        if not controls:
            pytest.skip(
                "FLUX_STACK=external without FLUX_STAND_INS: the servers are not ours to stop and start"
            )
        env = {**os.environ, **stand_in_controls(Path(controls))}
    result = subprocess.run(
        [str(ROOT / "bin" / "stack"), *args], capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, f"bin/stack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def server_pid(name: str) -> int:
    """The pid of the server under test ("redis", "kafka"), from the pid file of
    whoever runs it: bin/stack here, or bin/test-external's stand-ins."""
    state = STATE_DIR
    if os.environ.get("FLUX_STACK") == "external":
        controls = os.environ.get("FLUX_STAND_INS")
        if not controls:
            pytest.skip(
                "FLUX_STACK=external without FLUX_STAND_INS: the servers' processes are not ours to signal"
            )
        state = Path(stand_in_controls(Path(controls))["FLUX_STACK_DIR"])
    return int((state / "run" / f"{name}.pid").read_text())


def stand_in_controls(path: Path) -> dict[str, str]:
    """The variables (NAME=value lines) that point bin/stack at the stand-in servers."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def database_url_for_tests() -> str:
    """DATABASE_URL of the test database, for the real processes a test starts."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_process(args: list[str], log_name: str, **env: str) -> subprocess.Popen:
    """Start one of the product's processes against the test database; its
    output goes to <state dir>/logs/test-<log_name>.log (.stack/ unless FLUX_STACK_DIR says)."""
    import os

    log_dir = STATE_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"test-{log_name}.log", "w")  # noqa: SIM115 - lives as long as the process
    environment = {**os.environ, "DATABASE_URL": database_url_for_tests(), **env}
    # A session of its own: stop_process stops its children with it (granian's workers
    # outlived their main process once, and held a port after the suite).
    return subprocess.Popen(
        args, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the process and the children it started (start_process gives it a
    group of its own), SIGKILL after `timeout`; then any child that outlived it."""
    import contextlib
    import os
    import signal

    try:
        leader = os.getpgid(process.pid) == process.pid
    except ProcessLookupError:
        leader = False

    def signal_all(number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if leader:
                os.killpg(process.pid, number)
            else:
                process.send_signal(number)

    signal_all(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_all(signal.SIGKILL)
        process.wait()
    if leader:
        signal_all(signal.SIGKILL)


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Any, seconds: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.2)
