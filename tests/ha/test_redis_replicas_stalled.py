"""No "accepted" that only the primary holds: while no replica acknowledges, the
buy API answers 503 (not 200), although the primary took the decision; and the
re-publisher does not hand that reservation to Kafka either (persisted while only
the primary held it, a failover could take its unit back into stock and sell it
twice). Once the replicas run again the same Idempotency-Key replays the decision
(the same order), and the reservation is re-published and persisted once.

The replicas are frozen with SIGSTOP (as replicas that hang, or a network
partition between the primary and them, would look) for 12 s: longer than the
re-publisher's grace period (5 s) plus its interval (5 s)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import pytest

from tests.factories import make_sale
from tests.support.ha import node_pid, redis_primary_node
from tests.support.product import Product
from tests.support.servers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STALLED_SECONDS = 12


def test_decision_no_replica_holds_is_not_answered_accepted(ha_product: Product, owner: Any) -> None:
    from orders.models import Order

    sale = make_sale(owner, live=True, quantity=10, rate=1000, burst=1000)
    status, body = ha_product.buy(sale.pk, "warm-up", uuid.uuid4().hex)
    assert status == 200, body
    primary = redis_primary_node()
    replicas = [node_pid(f"redis-{i}") for i in range(3) if f"redis-{i}" != primary]
    key = uuid.uuid4().hex
    for pid in replicas:
        os.kill(pid, signal.SIGSTOP)
    try:
        status, body = ha_product.buy(sale.pk, "shopper-stalled", key)
        time.sleep(STALLED_SECONDS)  # the re-publisher passes (every 5 s) over a reservation 5 s old
        persisted_while_stalled = Order.objects.filter(sale=sale, user_id="shopper-stalled").exists()
    finally:
        for pid in replicas:
            os.kill(pid, signal.SIGCONT)
    assert status == 503, body
    assert "Redis" in body["detail"], body
    assert not persisted_while_stalled, "a reservation only the primary held was handed to Kafka"

    replayed: dict = {}

    def replays() -> bool:
        answer, replayed["body"] = ha_product.buy(sale.pk, "shopper-stalled", key)
        return answer == 200

    wait_for(replays, 30, "the same key to be answered once the replicas hold its decision")
    order_id = replayed["body"]["order_id"]
    # Never handed to Kafka by the request that answered 503: the re-publisher does it.
    wait_for(lambda: Order.objects.filter(order_id=order_id).exists(), 60, "the reservation to be persisted")
    assert Order.objects.filter(sale=sale, user_id="shopper-stalled").count() == 1
    status, again = ha_product.buy(sale.pk, "shopper-stalled", key)
    assert (status, again["order_id"]) == (200, order_id)
