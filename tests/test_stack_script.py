"""bin/stack up is idempotent: a second call leaves the running servers alone."""

from __future__ import annotations

import re

from tests.conftest import stack


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

    from tests.conftest import ROOT

    result = subprocess.run([str(ROOT / "bin/stack"), "up", "mysql"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "unknown service 'mysql'" in result.stderr
