"""Servers bin/stack does not run (Docker's compose.yaml, managed services):
with FLUX_STACK=external it starts and stops nothing, checks each configured
server in its own protocol and names the one that is missing; and in its own
mode, `bin/stack up` is all or nothing: a server that fails to start stops those
the same call started.

(The whole suite also runs against such servers: bin/test-external, the second
half of make test.)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.servers import ROOT, free_port

pytestmark = pytest.mark.slow


def bin_stack(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "bin" / "stack"), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **env},
        cwd=ROOT,
    )


def configured(**overrides: str) -> dict[str, str]:
    """FLUX_STACK=external with the servers this test run uses, some replaced."""
    db = settings.DATABASES["default"]
    servers = {
        "FLUX_STACK": "external",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CHANNELS_REDIS_URL": settings.CHANNELS_REDIS_URL,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "KAFKA_BOOTSTRAP_SERVERS": settings.KAFKA_BOOTSTRAP_SERVERS,
    }
    return {**servers, **overrides}


def test_external_servers_that_answer_are_checked_and_left_alone() -> None:
    up = bin_stack("up", **configured())
    assert up.returncode == 0, up.stdout + up.stderr
    lines = up.stdout.splitlines()
    assert any(
        line.startswith("[check] ok") and "redis (REDIS_URL)" in line and "Redis 7" in line for line in lines
    )
    assert any(line.startswith("[check] ok") and "postgresql" in line for line in lines)
    assert any(line.startswith("[check] ok") and "kafka" in line for line in lines)

    down = bin_stack("down", **configured())
    assert down.returncode == 0
    assert "nothing to stop" in down.stdout
    again = bin_stack("status", **configured())  # still there: down stopped nothing
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("REDIS_URL", "redis://127.0.0.1:{port}/9", "redis (REDIS_URL)"),
        ("CHANNELS_REDIS_URL", "redis://127.0.0.1:{port}/11", "redis (CHANNELS_REDIS_URL)"),
        ("DATABASE_URL", "postgres://flux:not-the-password@{pg}/flux", "postgresql"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:{port}", "kafka"),
    ],
)
def test_a_missing_server_is_named(setting: str, value: str, named: str) -> None:
    db = settings.DATABASES["default"]
    wrong = value.format(port=free_port(), pg=f"{db['HOST']}:{db['PORT']}")
    up = bin_stack("up", **configured(**{setting: wrong}))
    assert up.returncode != 0
    missing = [line for line in up.stdout.splitlines() if line.startswith("[check] MISSING")]
    assert len(missing) == 1, up.stdout
    assert named in missing[0]
    assert "a configured server is not usable" in up.stderr


def test_an_unknown_stack_mode_is_refused() -> None:
    result = bin_stack("up", FLUX_STACK="docker")
    assert result.returncode != 0
    assert "FLUX_STACK=docker" in result.stderr


def test_a_failed_start_stops_what_the_same_call_started() -> None:
    """PostgreSQL cannot start (its port is taken): the Redis this call had just
    started is stopped again, and the error names the cause."""
    state = Path(tempfile.mkdtemp(prefix="flux-partial-", dir="/tmp"))
    redis_port = free_port()
    try:
        stopped_after_failure(state, redis_port)
    finally:
        bin_stack("down", FLUX_STACK="native", FLUX_STACK_DIR=str(state), FLUX_REDIS_PORT=str(redis_port))
        shutil.rmtree(state, ignore_errors=True)


def stopped_after_failure(state: Path, redis_port: int) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        pg_port = squatter.getsockname()[1]
        up = bin_stack(
            "up",
            "redis",
            "postgres",
            FLUX_STACK="native",
            FLUX_STACK_DIR=str(state),
            FLUX_REDIS_PORT=str(redis_port),
            FLUX_PG_PORT=str(pg_port),
        )
    assert up.returncode != 0
    assert f"port {pg_port} is taken" in up.stderr
    assert "redis ready" in up.stdout  # it had started...
    assert "stopping what this call started (redis)" in up.stdout  # ...and was stopped
    assert not (state / "run" / "redis.pid").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
