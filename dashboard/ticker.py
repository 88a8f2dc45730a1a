"""The dashboard's ticker: the one process that computes every live sale's
dashboard once a second (`manage.py run_dashboard`, the supervisord program
`dashboard`). Its own process rather than a step of the admitter's: a slow
PostgreSQL or Kafka read here must never delay an admission, and the admitter
ticks twice as often.

Every tick, while it holds its lease (waitingroom/leader.py, its own key),

    1. reads which sales to tick from PostgreSQL (the admitter's list: the open
       ones and those that ended in the last minute); the last list if it fails;
    2. reads their cumulative figures from Redis, one round trip (figures.reading_many);
    3. reads their books (orders.reconcile.sales_reconcile: persisted orders, drift,
       anomalies) with the consumer lag a thread of its own measures on Kafka
       (a Kafka that hangs must not hold the tick);
    4. makes each sale's point from this reading and the last one (rates per second),
       appends it to the sale's history (dashboard/history.py) and sends it to the
       sale's watchers: ONE message per sale to the group ``dashboard-sale-<id>``,
       whatever the number of pages open.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from django.db import DatabaseError, connection

from dashboard.figures import Reading, point_make, reading_many
from dashboard.history import history_append
from infra.errors import ServiceUnavailable
from orders.reconcile import Reconciliation, orders_lag, sales_reconcile
from sales import keys
from waitingroom.admitter import sales_to_tick
from waitingroom.broadcast import group_send
from waitingroom.leader import LeaseHolder

logger = logging.getLogger(__name__)

# A lag measured longer ago than this (Kafka stopped answering) is shown as unknown.
LAG_STALE_SECONDS = 5.0


def sale_group(sale_id: int) -> str:
    """The Channels group of a sale's dashboards (dashboard/consumers.py joins it)."""
    return f"dashboard-sale-{sale_id}"


class DashboardTicker(LeaseHolder):
    lease_key = keys.DASHBOARD_LEASE_KEY
    work = "computing the live dashboards"

    def __init__(self, **lease: Any) -> None:
        """`lease`: LeaseHolder's holder, tick_seconds, lease_seconds and report."""
        super().__init__(**lease)
        self.sale_ids: list[int] = []
        self.previous: dict[int, Reading] = {}
        self._lag: tuple[float, int | None] = (0.0, None)  # (measured at, monotonic; backlog)
        self._lag_thread: threading.Thread | None = None

    # --- the consumer lag, measured beside the tick ---------------------------------

    def _watch_lag(self) -> None:
        while not self._stop.is_set():
            if self.leading:
                lag = orders_lag()
                self._lag = (time.monotonic(), lag) if lag is not None else self._lag
            self._stop.wait(self.tick_seconds)

    def consumer_lag(self) -> int | None:
        measured_at, lag = self._lag
        return lag if time.monotonic() - measured_at <= LAG_STALE_SECONDS else None

    def run(self) -> None:
        self._lag_thread = threading.Thread(target=self._watch_lag, name="dashboard-lag", daemon=True)
        self._lag_thread.start()
        super().run()

    # --- one tick ---------------------------------------------------------------------

    def _refresh_sale_ids(self) -> None:
        try:
            self.sale_ids = sales_to_tick()
        except DatabaseError as error:
            logger.warning("dashboard: PostgreSQL does not answer, ticking the last known sales: %s", error)
            connection.close()

    def _books(self, sale_ids: list[int]) -> dict[int, Reconciliation]:
        try:
            return sales_reconcile(sale_ids=sale_ids, consumer_lag=self.consumer_lag())
        except (DatabaseError, ServiceUnavailable, redis.RedisError) as error:
            logger.warning("dashboard: books not read this tick: %s", error)
            connection.close()
            return {}

    def tick(self) -> dict[int, dict[str, object]]:
        """Make, keep and send every ticked sale's point. Returns the points."""
        self._refresh_sale_ids()
        try:
            readings = reading_many(self.sale_ids)
        except ServiceUnavailable as error:
            logger.warning("dashboard: no tick, %s", error)
            return {}
        books = self._books(list(readings))
        points = {
            sale_id: point_make(reading, self.previous.get(sale_id), books.get(sale_id))
            for sale_id, reading in readings.items()
        }
        self.previous = readings
        try:
            history_append(points)
        except ServiceUnavailable as error:
            logger.warning("dashboard: history not kept this tick: %s", error)
        for sale_id, point in points.items():
            try:
                group_send(sale_group(sale_id), {"type": "dashboard.point", "point": point})
            except (redis.RedisError, OSError) as error:
                logger.warning("dashboard: sale %s not sent: %s", sale_id, error)
        return points
