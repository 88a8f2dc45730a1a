"""POST /order routes a SKU to its sale from memory for up to a second (issue 14),
and a sale that takes a SKU over from another opens only once no process can
still route to the old one: no key can buy in the new sale and be answered by
the old one (one outcome per key)."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client

from orders.buy import decision
from sales import keys, services
from sales.live import live_arm
from tests.factories import make_merchant, make_sale

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_mode")]


def order(user: str, key: str | None = None) -> tuple[int, dict]:
    headers = {"HTTP_X_IDEMPOTENCY_KEY": key or uuid.uuid4().hex}
    answer = Client().post(
        "/order", {"productId": "iphone-15", "userId": user}, content_type="application/json", **headers
    )
    return answer.status_code, answer.json()


def test_a_route_is_kept_a_second_then_looked_up_again(redis_conn) -> None:
    sale = make_sale(make_merchant("demo"), live=True, quantity=10, sku="iphone-15")
    assert order("r1")[0] == 200
    # Behind the process's back: the SKU no longer names the sale in Redis.
    redis_conn.delete(keys.sku_key(keys.DEMO_SKU_OWNER, "iphone-15"))
    status, body = order("r2")
    assert (status, body["sale_id"]) == (200, sale.pk)  # the kept route
    time.sleep(decision.SKU_CACHE_SECONDS + 0.05)
    assert order("r3")[0] == 404  # looked up again: no sale


def test_a_sale_taking_a_sku_over_opens_only_after_every_route_to_the_old_one_expired() -> None:
    merchant = make_merchant("demo")
    old = make_sale(merchant, live=True, quantity=10, sku="iphone-15")
    assert order("warm")[0] == 200  # this process now routes iphone-15 to the old sale
    stale_routes = dict(decision._sku_routes)

    new = services.sale_init(merchant=merchant, sku="iphone-15", quantity=5, unit_price="9.99")
    key = uuid.uuid4().hex

    # Another process, which has routed nothing yet, reaches the new sale: not open yet,
    # and nothing recorded, on /order and on its own /buy route alike.
    decision.forget_sku_routes()
    status, body = order("alice", key)
    assert (status, body["status"], body["sale_id"]) == (409, "not_started", new.pk)
    direct = Client().post(
        f"/api/v1/sales/{new.pk}/buy",
        {"user_id": "bob", "quantity": 1},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert (direct.status_code, direct.json()["status"]) == (409, "not_started")

    # This process still routes to the old sale: ended, not recorded either.
    decision._sku_routes.update(stale_routes)
    status, body = order("alice", key)
    assert (status, body["status"], body["sale_id"]) == (409, "ended", old.pk)

    # Once every route to the old sale has expired, the new sale sells, and the key
    # has one outcome from then on, whichever process answers.
    time.sleep(keys.SKU_CACHE_MS / 1000 + 0.15)
    status, body = order("alice", key)
    assert (status, body["status"], body["sale_id"]) == (200, "accepted", new.pk)
    decision.forget_sku_routes()
    again_status, again = order("alice", key)
    assert (again_status, again["order_id"]) == (200, body["order_id"])


def test_a_sale_whose_sku_nobody_held_opens_at_once() -> None:
    make_sale(make_merchant("demo"), live=True, quantity=1, sku="iphone-15")
    assert order("first")[0] == 200


def test_re_arming_a_sale_does_not_close_it() -> None:
    sale = make_sale(make_merchant("demo"), live=True, quantity=5, sku="iphone-15")
    assert order("a")[0] == 200
    live_arm(sale=sale, status="live", remaining_if_new=0)  # what re-arming and rebuilding write
    assert order("b")[0] == 200
