"""Fixtures for the real servers: tests talk to the Redis, PostgreSQL and Kafka
that bin/stack runs (under pytest, settings move to test-only Redis databases
and `test.`-prefixed Kafka topics; pytest-django makes a test database).

Only fixtures live here; what tests import is in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis

from infra.clients import redis_client, reset_clients
from tests.factories import PASSWORD, make_merchant
from tests.support.http import WebServer, front_server, granian_server
from tests.support.servers import stack

# tests/ha kill servers of the HA topology: only `make test-ha` (bin/test-ha) runs
# them, on that topology; it sets FLUX_HA_TESTS.
collect_ignore = [] if os.environ.get("FLUX_HA_TESTS") else ["ha"]
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests last. Playwright's sync API keeps an event loop running in the
    main thread from its first test on, and a test that runs a loop of its own there
    afterwards fails ("Cannot run the event loop while another loop is running").
    pytest-django's and pytest's own reordering (by database use, by fixture scope)
    moved them ahead of such tests once a new test file was added."""
    items[:] = sorted(items, key=lambda item: item.path.is_relative_to(BROWSER_TESTS))


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
    from orders.buy import decision

    client = redis_client()
    client.flushdb()
    decision.forget_sold_out_flags()  # what this process remembers of Redis goes with it
    decision.forget_sku_routes()
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


@pytest.fixture(scope="session")
def web_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    """The test run's granian, shared by every test that talks real HTTP. Not in
    demo mode: a buy must prove its shopper (tests/support/shoppers.py)."""
    with ExitStack() as running:
        # The database is unblocked while the server starts, not for the whole session.
        with django_db_blocker.unblock():
            server = running.enter_context(
                granian_server("granian", workers=2, blocking_threads=8, backlog=2048)
            )
        yield server


@pytest.fixture(scope="session")
def demo_web_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    """A granian in demo mode (FLUX_DEMO_MODE): the body's user_id names the shopper,
    as the seed's clients send it. For tests about something other than who the
    shopper is."""
    with ExitStack() as running:
        with django_db_blocker.unblock():
            server = running.enter_context(
                granian_server(
                    "granian-demo-mode", workers=2, blocking_threads=8, backlog=2048, FLUX_DEMO_MODE="true"
                )
            )
        yield server


@pytest.fixture(scope="session")
def front(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    """The front (orders/buy/front.py) on a port of its own, not in demo mode."""
    with django_db_blocker.unblock(), front_server("front") as server:
        yield server


@pytest.fixture(scope="session")
def demo_front(django_db_setup: None, django_db_blocker: Any) -> Iterator[WebServer]:
    """The front in demo mode."""
    with django_db_blocker.unblock(), front_server("front-demo-mode", FLUX_DEMO_MODE="true") as server:
        yield server


@pytest.fixture
def demo_mode(settings: Any) -> None:
    """This process in demo mode (Django's test client, direct calls of the edge):
    the body's user_id names the shopper."""
    settings.FLUX_DEMO_MODE = True
