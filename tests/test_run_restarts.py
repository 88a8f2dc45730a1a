"""`make run` keeps the site up when a process dies: supervisord starts it again.

Each kind of process is killed with SIGKILL while shoppers keep buying through
the front; /healthz must answer 200 again within seconds, supervisord must show a new
process in its place, and every order the API accepted must reach PostgreSQL
exactly once (the books of reconcile settle with no drift).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_sale
from tests.support.product import Product
from tests.support.servers import database_url_for_tests, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# How long a killed process may take to be replaced and the site to answer 200.
BACK_WITHIN_SECONDS = 15
KINDS = [
    "front",
    "proxy",
    "web:web-0",
    "ws",
    "consumer:consumer-0",
    "admitter",
    "dashboard",
    "worker",
    "beat",
]


@pytest.fixture
def product(tmp_path: Path, django_db_blocker: Any) -> Iterator[Product]:
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    # Demo mode: the shoppers name themselves in the body (this test is about restarts).
    running = Product(state_dir=tmp_path / "stack", database_url=database_url, FLUX_DEMO_MODE="true")
    running.start()
    yield running
    running.stop()


class Shoppers(threading.Thread):
    """Buys one unit at a time, each a new shopper and key, until stopped; keeps
    the order ids the API accepted (200, or 202: accepted, acknowledgement late)."""

    def __init__(self, product: Product, sale_id: int) -> None:
        super().__init__(daemon=True)
        self.product, self.sale_id = product, sale_id
        self.accepted: set[str] = set()
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            key = uuid.uuid4().hex
            try:
                status, body = self.product.buy(self.sale_id, f"shopper-{key[:12]}", key)
            except OSError:
                status, body = 0, {}
            if status in (200, 202):
                self.accepted.add(body["order_id"])
            else:
                self.failures += 1  # the proxy itself was down, or a 502/503 during a restart
                time.sleep(0.05)


def test_every_kind_of_process_killed_with_sigkill_comes_back(product: Product, owner: Any) -> None:
    from orders.models import Order
    from orders.reconcile import sale_reconcile_until_settled

    sale = make_sale(owner, live=True, quantity=1_000_000, rate=100_000, burst=100_000)
    shoppers = [Shoppers(product, sale.pk) for _ in range(4)]
    for shopper in shoppers:
        shopper.start()
    try:
        for kind in KINDS:
            accepted_before = sum(len(s.accepted) for s in shoppers)
            wait_for(lambda n=accepted_before: sum(len(s.accepted) for s in shoppers) > n + 20, 20, "buys")
            old_pid = product.status()[kind][1]
            assert old_pid, f"{kind} has no pid: {product.status()}"
            os.kill(old_pid, signal.SIGKILL)
            killed_at = time.monotonic()

            def replaced(kind: str = kind, old_pid: int | None = old_pid) -> bool:
                state, pid = product.status()[kind]
                return state == "RUNNING" and pid != old_pid and product.healthy()

            wait_for(replaced, BACK_WITHIN_SECONDS, f"{kind} to be restarted and /healthz to answer 200")
            print(f"{kind}: killed, replaced and healthy after {time.monotonic() - killed_at:.1f} s")
            if kind == "consumer:consumer-0":
                # The new consumer takes the partitions back at once (static membership),
                # rather than after the group's 45 s session timeout: an order accepted
                # now is persisted within seconds.
                status, body = product.buy(sale.pk, "after-restart", uuid.uuid4().hex)
                assert status == 200, body
                wait_for(
                    lambda order_id=body["order_id"]: Order.objects.filter(order_id=order_id).exists(),
                    BACK_WITHIN_SECONDS,
                    "an order accepted after the consumer's restart to be persisted",
                )
                shoppers[0].accepted.add(body["order_id"])
    finally:
        for shopper in shoppers:
            shopper.stopping.set()
        for shopper in shoppers:
            shopper.join(15)

    accepted = set().union(*(s.accepted for s in shoppers))
    assert len(accepted) > 100, "the shoppers hardly bought anything: the test proves nothing"
    # The consumer (restarted itself) persists every accepted order; the
    # re-publisher covers a reservation whose web process died mid-hand-off.
    wait_for(lambda: Order.objects.filter(sale=sale).count() >= len(accepted), 60, "every order persisted")
    persisted = {str(o) for o in Order.objects.filter(sale=sale).values_list("order_id", flat=True)}
    assert accepted <= persisted, f"accepted orders lost: {sorted(accepted - persisted)[:5]}"
    books = sale_reconcile_until_settled(sale_id=sale.pk, seconds=30)
    assert books.settled and books.drift == 0, books
    assert books.units_persisted == books.sold
