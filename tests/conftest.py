"""Fixtures for the real servers: tests talk to the Redis, PostgreSQL and Kafka
that bin/stack runs (under pytest, settings move to test-only Redis databases
and `test.`-prefixed Kafka topics; pytest-django makes a test database)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
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
