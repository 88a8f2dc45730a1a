"""bin/stack up is idempotent: a second call leaves the running servers alone;
an unknown service is refused; the Redis it runs keeps an append-only file
(reservations live in Redis: a restart replays them)."""

from __future__ import annotations

import re

import redis

from tests.support.servers import stack


def pids(status_output: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)\s+running\s+pid (\d+)", status_output))


def test_up_twice_is_harmless() -> None:
    stack("up")
    before = pids(stack("status").stdout)
    assert set(before) == {"redis", "postgres", "kafka"}

    again = stack("up").stdout

    assert "redis already running" in again
    assert "kafka already running" in again
    assert "postgres already running" in again
    assert pids(stack("status").stdout) == before


def test_unknown_service_is_refused() -> None:
    import subprocess

    from tests.support.servers import ROOT

    result = subprocess.run([str(ROOT / "bin/stack"), "up", "mysql"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "unknown service 'mysql'" in result.stderr


def test_redis_keeps_an_append_only_file(redis_conn: redis.Redis) -> None:
    assert redis_conn.config_get("appendonly") == {"appendonly": "yes"}
