"""Crash tests: a sale under concurrent load, a fault injected into the real
pipeline, recovery, then the books: orders in PostgreSQL = accepted answers, no
duplicates, sold <= quantity, stock + orders = quantity."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db.models import Sum

from orders.models import Order
from sales import buying
from sales.live import live_state
from tests.conftest import ROOT, stack, stop_process, wait_for
from tests.consumer_helpers import fresh_group, start_consumer
from tests.factories import make_sale

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def sell(sale_id: int, buyers: int, threads: int = 16) -> list[str]:
    """`buyers` shoppers buy one unit each, concurrently; the accepted order ids."""
    accepted: list[str] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        result = buying.buy(
            sale_id=sale_id, user_id=f"b{n}", quantity=1, idempotency_key=f"crash-{sale_id}-{n}"
        )
        if result.outcome in (buying.ACCEPTED, buying.PENDING):
            import json

            with lock:
                accepted.append(json.loads(result.body)["order_id"])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(buyers)))
    return accepted


def log_of(name: str) -> str:
    return (ROOT / ".stack" / "logs" / f"test-{name}.log").read_text()


def persisted(sale_id: int) -> int:
    return Order.objects.filter(sale_id=sale_id).count()


def assert_books(sale, accepted: list[str]) -> None:
    rows = set(str(pk) for pk in Order.objects.filter(sale=sale).values_list("order_id", flat=True))
    assert rows == set(accepted)  # every accepted order, once, and nothing else
    units = Order.objects.filter(sale=sale).aggregate(units=Sum("quantity"))["units"]
    state = live_state(sale.pk)
    sale.refresh_from_db()
    assert units <= sale.quantity
    assert state.remaining + units == sale.quantity
    assert sale.persisted_units == units
    assert not sale.oversold_flag


def test_consumer_killed_mid_drain(owner) -> None:
    sale = make_sale(owner, live=True, quantity=1500, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    accepted = sell(sale.pk, 2000)
    assert len(accepted) == 1500

    consumer = start_consumer(group, "consumer-killed", batch_size=50)
    wait_for(lambda: persisted(sale.pk) >= 200, 30, "the consumer to be mid-drain")
    consumer.send_signal(signal.SIGKILL)
    consumer.wait()
    assert persisted(sale.pk) < 1500, "the drain finished before the kill; make the batch smaller"

    restarted = start_consumer(group, "consumer-restarted", batch_size=500)
    try:
        wait_for(lambda: persisted(sale.pk) == 1500, 60, "the restarted consumer to catch up")
    finally:
        stop_process(restarted)
    assert_books(sale, accepted)


def test_postgres_stopped_mid_drain(owner, restart_server) -> None:
    sale = make_sale(owner, live=True, quantity=1200, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    accepted = sell(sale.pk, 1200)
    consumer = start_consumer(group, "consumer-pg-outage", batch_size=50)
    try:
        wait_for(lambda: persisted(sale.pk) >= 100, 30, "the consumer to be mid-drain")
        from django.db import connection

        connection.close()
        restart_server.append("postgres")
        stack("down", "postgres")
        import time

        time.sleep(3)  # the consumer meets the outage and backs off
        stack("up", "postgres")
        wait_for(lambda: persisted(sale.pk) == 1200, 90, "the consumer to finish after PostgreSQL came back")
    finally:
        stop_process(consumer)
    assert "postgresql unavailable" in log_of("consumer-pg-outage")  # it really met the outage
    assert_books(sale, accepted)


def test_sigterm_finishes_the_batch_and_exits_cleanly(owner) -> None:
    sale = make_sale(owner, live=True, quantity=300, rate=1_000_000, burst=1_000_000)
    group = fresh_group()
    accepted = sell(sale.pk, 300)
    consumer = start_consumer(group, "consumer-sigterm", batch_size=100)
    wait_for(lambda: persisted(sale.pk) == 300, 30, "the drain")
    consumer.send_signal(signal.SIGTERM)
    assert consumer.wait(30) == 0
    assert "stopped cleanly: offsets committed" in log_of("consumer-sigterm")
    assert_books(sale, accepted)
