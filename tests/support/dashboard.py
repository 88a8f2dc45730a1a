"""The dashboard's ticker for tests: one tick, as its process runs it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dashboard.ticker import DashboardTicker


def ticker(holder: str = "test", tick_seconds: float = 1, lease_seconds: float = 3) -> DashboardTicker:
    return DashboardTicker(holder=holder, tick_seconds=tick_seconds, lease_seconds=lease_seconds)


def tick(ticking: DashboardTicker) -> dict[int, dict[str, object]]:
    """One tick on a thread of its own: the ticker sends through the channel layer on
    an event loop of its own, which cannot run in a thread where one already runs
    (after the browser tests, Playwright's runs in the test's). Its database
    connection is closed there, as the thread ends."""
    from django.db import connection

    def run() -> dict[int, dict[str, object]]:
        try:
            return ticking.tick()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(run).result()


def step(ticking: DashboardTicker) -> bool:
    """One round (lease, then tick if it leads) on a thread of its own, like tick()."""
    from django.db import connection

    def run() -> bool:
        try:
            return ticking.step()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(run).result()
