"""Every outcome of POST /api/v1/sales/{id}/buy, with its status and a body whose
`status` field a program can read. Through Django's test client (the ninja route), in
demo mode: the body's user_id names the shopper (who the shopper is:
tests/test_shopper_identity_*.py)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.buy import decision
from sales import services
from sales.keys import ledger_key, pending_key
from sales.live import live_state
from tests.factories import make_merchant, make_sale
from tests.support.orders import orders_on_topic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_mode")]


@pytest.fixture(autouse=True)
def fresh_process_memory() -> None:
    decision.forget_sold_out_flags()


def buy(
    sale_id: int, body: object = None, key: str | None = "auto", header: str = "HTTP_IDEMPOTENCY_KEY", **extra
):
    headers = {} if key is None else {header: uuid.uuid4().hex if key == "auto" else key}
    payload = (
        body if isinstance(body, str) else json.dumps(body if body is not None else {"user_id": "alice"})
    )
    return Client().post(
        f"/api/v1/sales/{sale_id}/buy", payload, content_type="application/json", **headers, **extra
    )


def test_accepted_order_reaches_the_ledger_and_kafka(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=5, unit_price="449.00", sku="iphone-15")
    response = buy(sale.pk, {"user_id": "alice", "quantity": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    order_id = body["order_id"]
    uuid.UUID(order_id)
    assert (body["sale_id"], body["user_id"], body["quantity"]) == (sale.pk, "alice", 1)
    assert live_state(sale.pk).remaining == 4

    reservation = json.loads(redis_conn.hget(ledger_key(sale.pk), order_id))
    assert reservation == {
        "order_id": order_id, "sale_id": sale.pk, "sku": "iphone-15", "user_id": "alice", "quantity": 1,
        "unit_price": "449.00", "currency": "EUR", "accepted_at_ms": body["accepted_at_ms"],
    }  # fmt: skip
    assert redis_conn.zscore(pending_key(sale.pk), order_id) == body["accepted_at_ms"]
    assert orders_on_topic(sale.pk) == [reservation]


def test_the_seed_header_name_works(owner) -> None:
    sale = make_sale(owner, live=True)
    assert buy(sale.pk, header="HTTP_X_IDEMPOTENCY_KEY").json()["status"] == "accepted"


def test_sold_out(owner) -> None:
    sale = make_sale(owner, live=True, quantity=1)
    assert buy(sale.pk, {"user_id": "a"}).status_code == 200
    response = buy(sale.pk, {"user_id": "b"})
    assert response.status_code == 409
    assert response.json()["status"] == "sold_out"
    assert live_state(sale.pk).remaining == 0


def test_more_than_what_is_left_is_sold_out(owner) -> None:
    sale = make_sale(owner, live=True, quantity=2, per_user_limit=5)
    response = buy(sale.pk, {"user_id": "a", "quantity": 3})
    assert (response.status_code, response.json()["status"]) == (409, "sold_out")
    assert live_state(sale.pk).remaining == 2


def test_per_user_limit(owner) -> None:
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=2)
    assert buy(sale.pk, {"user_id": "a", "quantity": 2}).status_code == 200
    response = buy(sale.pk, {"user_id": "a", "quantity": 1})
    assert (response.status_code, response.json()["status"]) == (409, "limit_reached")
    assert buy(sale.pk, {"user_id": "b", "quantity": 1}).status_code == 200
    assert live_state(sale.pk).remaining == 7


def test_not_started_paused_ended(owner) -> None:
    now = timezone.now()
    later = make_sale(owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    services.sale_schedule(sale_id=later.pk)
    response = buy(later.pk)
    assert (response.status_code, response.json()["status"]) == (409, "not_started")

    sale = make_sale(owner, live=True)
    services.sale_pause(sale_id=sale.pk)
    response = buy(sale.pk)
    assert (response.status_code, response.json()["status"]) == (409, "paused")
    services.sale_resume(sale_id=sale.pk)
    assert buy(sale.pk).status_code == 200
    services.sale_end(sale_id=sale.pk)
    response = buy(sale.pk)
    assert (response.status_code, response.json()["status"]) == (409, "ended")
    assert live_state(sale.pk).remaining == 99


def test_past_the_end_time_is_ended_even_before_the_sweep(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True)
    past_ms = int((timezone.now() - timedelta(seconds=1)).timestamp() * 1000)
    redis_conn.hset(f"fg:{{{sale.pk}}}:state", "ends_ms", past_ms)
    assert buy(sale.pk).json()["status"] == "ended"


def test_unknown_sale_is_404() -> None:
    response = buy(987654)
    assert (response.status_code, response.json()["status"]) == (404, "not_found")


@pytest.mark.parametrize(
    "key, expected",
    [
        (None, "idempotency_key_missing"),
        ("has space", "idempotency_key_invalid"),
        ("k" * 129, "idempotency_key_invalid"),
    ],
)
def test_bad_idempotency_key_is_400(owner, key, expected: str) -> None:
    sale = make_sale(owner, live=True)
    response = buy(sale.pk, key=key)
    assert (response.status_code, response.json()["status"]) == (400, expected)
    assert live_state(sale.pk).remaining == 100


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "user_id"),
        ({"user_id": ""}, "user_id"),
        ({"user_id": 42}, "user_id"),
        ({"user_id": "u" * 129}, "user_id"),
        ({"user_id": "a\nb"}, "user_id"),
        ({"user_id": "a", "quantity": 0}, "quantity"),
        ({"user_id": "a", "quantity": "two"}, "quantity"),
        ({"user_id": "a", "quantity": 1001}, "quantity"),
        ("{not json", "body"),
        ("[1, 2]", "body"),
    ],
)
def test_invalid_body_is_422_naming_the_field(owner, body, field: str) -> None:
    sale = make_sale(owner, live=True)
    response = buy(sale.pk, body)
    assert response.status_code == 422
    assert response.json()["status"] == "invalid"
    assert field in response.json()["fields"], response.json()
    assert live_state(sale.pk).remaining == 100


def test_oversized_body_is_413(owner) -> None:
    sale = make_sale(owner, live=True)
    response = buy(sale.pk, {"user_id": "a" * 2000})
    assert (response.status_code, response.json()["status"]) == (413, "too_large")


def test_rate_limited_is_302_to_the_waiting_room(owner) -> None:
    sale = make_sale(owner, live=True, rate=1, burst=2)
    assert [buy(sale.pk, {"user_id": f"u{i}"}).status_code for i in range(2)] == [200, 200]
    response = buy(sale.pk, {"user_id": "u3"})
    assert response.status_code == 302
    assert response["Location"] == f"/waiting-room/{sale.pk}/"
    assert int(response["Retry-After"]) >= 1
    assert response.json()["status"] == "rate_limited"
    assert live_state(sale.pk).remaining == 98
    page = Client().get(response["Location"])
    assert page.status_code == 200
    assert b"waiting room" in page.content


def test_seed_compatible_order_route() -> None:
    """The seed's anonymous /order reaches the demo merchant's sales (FLUX_DEMO_MERCHANT)."""
    sale = make_sale(make_merchant("demo"), live=True, quantity=1, sku="iphone-15")
    first = Client().post(
        "/order", {"productId": "iphone-15", "userId": "seed-1"}, content_type="application/json"
    )
    assert first.status_code == 200
    assert first.json()["order_id"]
    second = Client().post(
        "/order", {"productId": "iphone-15", "userId": "seed-2"}, content_type="application/json"
    )
    assert second.status_code == 409
    unknown = Client().post("/order", {"productId": "nope", "userId": "x"}, content_type="application/json")
    assert unknown.status_code == 404
    services.sale_end(sale_id=sale.pk)
    # This process keeps the SKU's route for up to a second: the old sale answers it
    # (sold out, from this process's flag: it sold its one unit)...
    after_end = Client().post(
        "/order", {"productId": "iphone-15", "userId": "x"}, content_type="application/json"
    )
    assert (after_end.status_code, after_end.json()["status"]) == (409, "sold_out")
    time.sleep(decision.SKU_CACHE_SECONDS + 0.05)
    # ...then the SKU has no open sale.
    assert (
        Client()
        .post("/order", {"productId": "iphone-15", "userId": "x"}, content_type="application/json")
        .status_code
        == 404
    )


def test_buy_route_is_in_the_openapi_schema() -> None:
    operation = Client().get("/api/openapi.json").json()["paths"]["/api/v1/sales/{sale_id}/buy"]["post"]
    assert {"200", "202", "302", "400", "401", "404", "409", "413", "422", "503"} <= set(
        operation["responses"]
    )
    assert "user_id" in json.dumps(operation["requestBody"])
