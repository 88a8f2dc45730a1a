"""The front (orders/buy/front.py) when Redis goes away and comes back: every buy
is answered 503 with nothing reserved (the seed's route too, whose SKU lookup is
a step the front awaits on its own Redis connection), and once Redis is back the
front connects again by itself."""

from __future__ import annotations

import json
import uuid

import pytest

from infra.clients import reset_clients
from sales.live import live_state
from tests.factories import make_merchant, make_sale
from tests.support.http import WebServer
from tests.support.servers import stack

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def buy(front: WebServer, path: str, body: dict) -> tuple[int, dict]:
    status, _, answer = front.post(path, json.dumps(body), {"Idempotency-Key": uuid.uuid4().hex})
    return status, json.loads(answer)


def test_redis_down_is_503_through_the_front_and_it_reconnects(
    owner, demo_front: WebServer, restart_server
) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    demo_sale = make_sale(make_merchant("demo"), live=True, quantity=10)
    path = f"/api/v1/sales/{sale.pk}/buy"
    assert buy(demo_front, path, {"user_id": "before"})[0] == 200  # the front's connection is open

    restart_server.append("redis")
    stack("down", "redis")
    status, answer = buy(demo_front, path, {"user_id": "no-redis"})
    assert (status, answer["status"]) == (503, "unavailable")
    assert "Redis" in answer["detail"]
    # The seed's route looks its SKU up first (not in this front's memory yet).
    status, answer = buy(demo_front, "/order", {"productId": demo_sale.sku, "userId": "no-redis"})
    assert (status, answer["status"]) == (503, "unavailable")

    stack("up", "redis")
    reset_clients()
    assert buy(demo_front, path, {"user_id": "after"})[0] == 200
    assert buy(demo_front, "/order", {"productId": demo_sale.sku, "userId": "after"})[0] == 200
    assert live_state(sale.pk).remaining == 8  # before and after; nothing while Redis was down
    assert live_state(demo_sale.pk).remaining == 9
