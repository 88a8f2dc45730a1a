"""Browser tests: Playwright drives Debian's chromium against the whole product
(bin/run under supervisord) through nginx, the one address a person opens, with
CSRF and every middleware on — what Django's test client skips.

A failing test leaves a full-page screenshot and a Playwright trace in
test-results/<test>/ (pyproject's addopts); `playwright show-trace` opens a trace.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page

from tests.support.browser import ConsoleWatch
from tests.support.product import Product
from tests.support.servers import database_url_for_tests

# Playwright's sync API runs an event loop in this thread; the tests still use the
# ORM for set-up, which Django refuses next to a running loop unless told it is
# safe (it is: the loop belongs to Playwright, not to Django). Not passed on to
# the product's processes (tests/support/product.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("FLUX_CHROMIUM", "/usr/bin/chromium")
# The flags a headless chromium needs on a machine with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium: Playwright cannot download its own browser here."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@contextmanager
def running_product(state_dir: Path, django_db_blocker: Any) -> Iterator[Product]:
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    running = Product(state_dir=state_dir, database_url=database_url)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def product(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Product]:
    """The whole product, started once for the browser tests and stopped after them
    (its Celery beat sweeps the test database every second: no other test should
    run beside it)."""
    with running_product(tmp_path_factory.mktemp("product"), django_db_blocker) as running:
        yield running


@pytest.fixture
def fresh_product(tmp_path: Path, django_db_setup: None, django_db_blocker: Any) -> Iterator[Product]:
    """The whole product started for one test. For a test whose pages write the
    admin's log (Add, Save): each test's database flush makes content types anew
    under new ids, and processes that outlived a flush still hold the old ids in
    Django's ContentType cache, so their log entries would point at nothing."""
    with running_product(tmp_path / "product", django_db_blocker) as running:
        yield running


@pytest.fixture
def console_errors(page: Page) -> Iterator[ConsoleWatch]:
    """The test fails at its end if a page it visited logged an unexpected error."""
    watch = ConsoleWatch()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(error: Error) -> None:
        watch.errors.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield watch
    unexpected = watch.unexpected()
    assert not unexpected, "the pages logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
def site(page: Page, product: Product, console_errors: ConsoleWatch, transactional_db: None) -> Page:
    """A browser tab on the product: relative URLs go to its one address, and the
    test fails on any console error. Data the test makes is committed (the
    product's processes read it over their own connections)."""
    page.set_default_timeout(15_000)
    page.context.set_default_navigation_timeout(20_000)
    return page
