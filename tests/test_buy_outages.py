"""When Redis or Kafka cannot take an order, the buy API answers 503 with
Retry-After and reserves nothing; when Kafka's acknowledgement is late, the
order is accepted-pending and its reservation is kept, never given back."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from django.test import Client, override_settings

from infra.clients import reset_clients
from orders.buy import decision
from orders.publisher import order_publisher
from sales.keys import ledger_key, pending_key
from sales.live import live_state
from tests.factories import make_sale
from tests.support.orders import orders_on_topic
from tests.support.servers import server_pid, stack, wait_for

# Demo mode: the body's user_id names the shopper (these tests are about the outages).
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.usefixtures("demo_mode")]


def buy(sale_id: int, user: str):
    return Client().post(
        f"/api/v1/sales/{sale_id}/buy",
        {"user_id": user},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=user,
    )


def test_kafka_down_is_503_and_reserves_nothing(owner, restart_server, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    assert buy(sale.pk, "before").status_code == 200
    restart_server.append("kafka")
    stack("down", "kafka")
    wait_for(lambda: not order_publisher().available, 15, "the producer to notice the broker is gone")

    response = buy(sale.pk, "during")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response["Retry-After"] == "1"
    assert live_state(sale.pk).remaining == 9
    assert redis_conn.hlen(ledger_key(sale.pk)) == 1

    stack("up", "kafka")
    wait_for(lambda: order_publisher().available, 30, "the producer to see the broker again")
    assert buy(sale.pk, "after").status_code == 200
    assert live_state(sale.pk).remaining == 8


def test_late_acknowledgement_keeps_the_reservation_pending(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=10)
    # The producer is connected and acknowledged (right after a broker restart, by
    # another test, the first acknowledgement can take longer than a request waits).
    wait_for(
        lambda: buy(sale.pk, f"warm-up-{time.monotonic()}").status_code == 200, 30, "a prompt acknowledgement"
    )
    taken = 10 - live_state(sale.pk).remaining

    kafka_pid = server_pid("kafka")
    os.kill(kafka_pid, signal.SIGSTOP)  # the broker hangs: connected, but no acknowledgement comes
    try:
        with override_settings(BUY_KAFKA_ACK_TIMEOUT=0.5):
            response = buy(sale.pk, "late")
    finally:
        os.kill(kafka_pid, signal.SIGCONT)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted_pending"
    order_id = body["order_id"]
    # Not given back: the stock stays taken and the reservation waits in the ledger.
    assert live_state(sale.pk).remaining == 10 - taken - 1
    assert json.loads(redis_conn.hget(ledger_key(sale.pk), order_id))["user_id"] == "late"
    assert redis_conn.zscore(pending_key(sale.pk), order_id) is not None
    # The same key replays as accepted: the decision is the reservation.
    replay = buy(sale.pk, "late")
    assert (replay.status_code, replay.json()["order_id"]) == (200, order_id)
    # librdkafka kept the message and delivers it once the broker wakes up.
    wait_for(lambda: order_id in {o["order_id"] for o in orders_on_topic(sale.pk)}, 30, "the late message")


def test_redis_down_is_503(owner, restart_server) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    decision.forget_sold_out_flags()
    restart_server.append("redis")
    stack("down", "redis")
    reset_clients()

    response = buy(sale.pk, "no-redis")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "Redis" in response.json()["detail"]
    stack("up", "redis")
    reset_clients()
    assert buy(sale.pk, "redis-back").status_code == 200
    assert live_state(sale.pk).remaining == 9  # the append-only file kept the sale
