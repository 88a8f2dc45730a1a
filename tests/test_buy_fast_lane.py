"""The servers of the buy routes that are not Django answer exactly as Django's
ninja routes do: same status, same body, same headers, for every outcome. Each
test runs twice: through the WSGI fast lane (orders/buy/lane.py, granian serving
flux_admin.wsgi) and through the asyncio front (orders/buy/front.py, what the one
address runs), both over real HTTP; the ninja route through Django's test client."""

from __future__ import annotations

import io
import json
import time
import uuid

import pytest
from django.test import Client

from orders.buy import decision, identity
from orders.buy import lane as buy_lane
from sales.live import live_state
from tests.factories import make_merchant, make_sale
from tests.support.http import WebServer
from tests.support.shoppers import shopper_cookie, storefront
from waitingroom.queue import queue_join

pytestmark = pytest.mark.django_db
# Tests about the answers themselves name shoppers in the body (demo mode, both lanes);
# the tests of identity run outside it.
demo = pytest.mark.usefixtures("demo_mode")

# Added by one server or the other whatever the application says.
TRANSPORT_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}
# Differ between two accepted orders by design.
PER_ORDER_FIELDS = {"order_id", "accepted_at_ms", "user_id"}


@pytest.fixture(params=["lane", "front"])
def demo_fast(request: pytest.FixtureRequest) -> WebServer:
    """In demo mode: the WSGI fast lane, then the asyncio front."""
    return request.getfixturevalue("demo_web_server" if request.param == "lane" else "demo_front")


@pytest.fixture(params=["lane", "front"])
def server(request: pytest.FixtureRequest) -> WebServer:
    """Not in demo mode: the WSGI fast lane, then the asyncio front."""
    return request.getfixturevalue("web_server" if request.param == "lane" else "front")


@pytest.fixture(autouse=True)
def fresh_process_memory() -> None:
    decision.forget_sold_out_flags()
    identity.forget_storefront_keys()


def through_django(path: str, body: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    response = Client().post(path, body, content_type="application/json", **meta)
    return response.status_code, dict(response.headers), response.content


def comparable(status: int, headers: dict, body: bytes) -> tuple[int, dict, object]:
    headers = {k.lower(): v for k, v in headers.items() if k.lower() not in TRANSPORT_HEADERS}
    try:
        parsed = json.loads(body)
    except ValueError:
        return status, headers, body
    if parsed.get("status") in {"accepted", "accepted_pending"}:
        parsed = {k: v for k, v in parsed.items() if k not in PER_ORDER_FIELDS}
        headers.pop("content-length", None)  # the order id and the time are in the body
    return status, headers, parsed


def both(
    web_server: WebServer, path: str, body: object, headers: object = None, key: bool = True
) -> tuple[tuple, tuple]:
    """The same request through the fast lane and through Django, each with its own
    idempotency key (a shared key would replay the first answer). A callable body
    or headers gives each lane its own (called with 0 for the fast lane, 1 for Django)."""
    answers = []
    for n, lane in enumerate((web_server.post, through_django)):
        sent = {"Idempotency-Key": uuid.uuid4().hex} if key else {}
        content = body(n) if callable(body) else body
        text = content if isinstance(content, str) else json.dumps(content)
        extra = headers(n) if callable(headers) else headers
        answers.append(comparable(*lane(path, text, {**sent, **(extra or {})})))
    return answers[0], answers[1]


@demo
def test_accepted_sold_out_and_limit_are_the_same(owner, demo_fast: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=2, per_user_limit=1)
    path = f"/api/v1/sales/{sale.pk}/buy"

    fast, django = both(demo_fast, path, lambda n: {"user_id": f"alice-{n}"})
    assert fast[0] == 200 and fast[2]["status"] == "accepted"
    assert fast == django

    fast, django = both(demo_fast, path, {"user_id": "alice"})
    assert fast == django == (409, fast[1], {"status": "sold_out", "detail": "Sold out.", "sale_id": sale.pk})

    other = make_sale(owner, live=True, quantity=5, per_user_limit=1)
    path = f"/api/v1/sales/{other.pk}/buy"
    both(demo_fast, path, lambda n: {"user_id": f"bob-{n}"})  # each bob's one unit
    fast, django = both(demo_fast, path, lambda n: {"user_id": f"bob-{n}"})
    assert fast[2]["status"] == "limit_reached"
    assert fast == django


@demo
def test_security_headers_are_django_s(owner, demo_fast: WebServer) -> None:
    sale = make_sale(owner, live=True)
    fast, django = both(demo_fast, f"/api/v1/sales/{sale.pk}/buy", lambda n: {"user_id": f"carol-{n}"})
    assert fast[2]["status"] == "accepted"
    assert fast[1] == django[1]
    assert {"x-frame-options", "x-content-type-options", "referrer-policy", "content-type"} <= set(fast[1])


@demo
@pytest.mark.parametrize(
    ("body", "headers", "key", "status", "outcome"),
    [
        ({"user_id": "dave"}, {}, False, 400, "idempotency_key_missing"),
        ({"user_id": "dave"}, {"Idempotency-Key": "not a key!"}, False, 400, "idempotency_key_invalid"),
        ({"user_id": "dave", "quantity": 0}, {}, True, 422, "invalid"),
        ("{not json", {}, True, 422, "invalid"),
        ({"user_id": "x" * 5000}, {}, True, 413, "too_large"),
    ],
)
def test_bad_input_is_the_same(owner, demo_fast: WebServer, body, headers, key, status, outcome) -> None:
    sale = make_sale(owner, live=True)
    fast, django = both(demo_fast, f"/api/v1/sales/{sale.pk}/buy", body, headers, key=key)
    assert (fast[0], fast[2]["status"]) == (status, outcome)
    assert fast == django


@demo
def test_unknown_sale_and_key_reuse_are_the_same(owner, demo_fast: WebServer) -> None:
    fast, django = both(demo_fast, "/api/v1/sales/999999999/buy", {"user_id": "erin"})
    assert (fast[0], fast[2]["status"]) == (404, "not_found")
    assert fast == django

    sale = make_sale(owner, live=True)
    path = f"/api/v1/sales/{sale.pk}/buy"
    answers = []
    for shopper, lane in (("erin", demo_fast.post), ("fay", through_django)):
        # A shopper of its own per server: an accepted key is what a reuse is told about
        # (a refused key records nothing, tests/test_buy_refusals_not_stored.py).
        key = {"Idempotency-Key": uuid.uuid4().hex}
        lane(path, json.dumps({"user_id": shopper}), key)
        answers.append(comparable(*lane(path, json.dumps({"user_id": shopper, "quantity": 2}), key)))
    assert answers[0][2]["status"] == "idempotency_key_reused"
    assert answers[0] == answers[1]


@demo
def test_rate_limited_is_the_same(owner, demo_fast: WebServer) -> None:
    sale = make_sale(owner, live=True, rate=1, burst=1)
    path = f"/api/v1/sales/{sale.pk}/buy"
    demo_fast.post(path, json.dumps({"user_id": "gus"}), {"Idempotency-Key": uuid.uuid4().hex})
    fast, django = both(demo_fast, path, {"user_id": "gus"})
    assert (fast[0], fast[1]["location"], fast[2]["status"]) == (
        302,
        f"/waiting-room/{sale.pk}/",
        "rate_limited",
    )
    assert fast == django


@demo
def test_rate_limited_for_a_json_client_is_the_same_429(owner, demo_fast: WebServer) -> None:
    """A page's fetch() asks for JSON: 429 with the waiting room's address in the body."""
    sale = make_sale(owner, live=True, rate=1, burst=1)
    path = f"/api/v1/sales/{sale.pk}/buy"
    demo_fast.post(path, json.dumps({"user_id": "ida"}), {"Idempotency-Key": uuid.uuid4().hex})
    fast, django = both(demo_fast, path, {"user_id": "ida"}, {"Accept": "application/json"})
    assert (fast[0], fast[2]["status"], fast[2]["waiting_room"]) == (
        429,
        "rate_limited",
        f"/waiting-room/{sale.pk}/",
    )
    assert fast == django


@demo
def test_the_waiting_room_and_admission_refusals_are_the_same(owner, demo_fast: WebServer) -> None:
    sale = make_sale(owner, live=True)
    path = f"/api/v1/sales/{sale.pk}/buy"
    queue_join(sale_id=sale.pk, shopper="first-in-line")  # someone waits: newcomers go to the back
    fast, django = both(demo_fast, path, {"user_id": "hal"})
    assert (fast[0], fast[2]["status"]) == (302, "rate_limited")
    assert fast == django
    fast, django = both(demo_fast, path, {"user_id": "hal"}, {"Admission-Token": "forged"})
    assert (fast[0], fast[2]["status"]) == (403, "admission_invalid")
    assert fast == django


@demo
def test_seed_order_route_is_the_same(demo_fast: WebServer) -> None:
    # The seed's anonymous /order reaches the demo merchant's sales (FLUX_DEMO_MERCHANT).
    sale = make_sale(make_merchant("demo"), live=True, quantity=5, sku=f"fast-lane-{uuid.uuid4().hex[:8]}")
    fast, django = both(
        demo_fast, "/order", lambda n: {"productId": sale.sku, "userId": f"hana-{n}"}, key=False
    )
    assert fast[0] == 200
    assert fast == django
    fast, django = both(demo_fast, "/order", {"productId": "no-such-sku", "userId": "hana"}, key=False)
    assert (fast[0], fast[2]["status"]) == (404, "not_found")
    assert fast == django


def test_other_requests_and_disallowed_hosts_go_to_django(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True)
    status, _, body = web_server.post(
        f"/api/v1/sales/{sale.pk}/buy",
        json.dumps({"user_id": "ivan"}),
        {"Idempotency-Key": uuid.uuid4().hex, "Host": "evil.example"},
    )
    assert status == 400  # Django's DisallowedHost, as for any other page
    assert body.startswith(b"<!DOCTYPE html>")
    assert live_state(sale.pk).remaining == sale.quantity
    # A merchant route without credentials: ninja's auth refuses it (401), not the fast lane.
    status, _, body = web_server.post(f"/api/v1/sales/{sale.pk}/restock", json.dumps({"units": 1}))
    assert status == 401
    assert "detail" in json.loads(body)
    assert live_state(sale.pk).quantity == sale.quantity


def test_identity_refusals_are_the_same(owner, other_merchant, server: WebServer) -> None:
    shop, their_shop = storefront(owner), storefront(other_merchant)
    sale = make_sale(owner, live=True)
    forged = identity.shopper_token_sign(
        key_id=shop.key_id, secret="guessed", shopper_ref="alice", expires=int(time.time()) + 60
    )
    cases = {
        "no proof of the shopper": ({}, {"user_id": "alice"}, 401, "shopper_required"),
        "a tampered cookie": (
            {"Cookie": f"{identity.SHOPPER_COOKIE}=s_x:forged"},
            {},
            401,
            "shopper_invalid",
        ),
        "a forged token": ({"X-Shopper-Token": forged}, {}, 401, "shopper_invalid"),
        "another merchant's token (buy.lua)": (their_shop.headers("alice"), {}, 401, "shopper_invalid"),
        "a body naming another shopper": (shop.headers("alice"), {"user_id": "bob"}, 422, "invalid"),
    }
    for case, (headers, body, status, outcome) in cases.items():
        fast, django = both(server, f"/api/v1/sales/{sale.pk}/buy", body, headers)
        assert (fast[0], fast[2]["status"]) == (status, outcome), case
        assert fast == django, case
    demo_sale = make_sale(make_merchant("demo"), live=True)  # what the seed's anonymous /order reaches
    fast, django = both(server, "/order", {"productId": demo_sale.sku}, key=False)
    assert (fast[0], fast[2]["status"], fast[2]["sale_id"]) == (401, "shopper_required", demo_sale.pk)
    assert fast == django
    assert live_state(sale.pk).sold == 0


def test_proven_shoppers_buy_the_same(owner, server: WebServer) -> None:
    shop = storefront(owner)
    sale = make_sale(owner, live=True, quantity=10, sku=f"fast-lane-{uuid.uuid4().hex[:8]}")
    path = f"/api/v1/sales/{sale.pk}/buy"
    for proof in (lambda n: shopper_cookie()[1], lambda n: shop.headers(f"ann-{n}")):
        fast, django = both(server, path, {"quantity": 1}, proof)
        assert (fast[0], fast[2]["status"]) == (200, "accepted")
        assert fast == django
    fast, django = both(
        server, "/order", {"productId": sale.sku}, lambda n: shop.headers(f"bo-{n}"), key=False
    )
    assert (fast[0], fast[2]["status"]) == (200, "accepted")
    assert fast == django
    assert live_state(sale.pk).sold == 6


def test_an_unexpected_error_is_a_json_500_without_traceback(monkeypatch, caplog) -> None:
    """The wrapper alone (a WSGI call, no server): a bug in the edge is logged and
    answered 500 in JSON, never with a traceback in the answer."""

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(buy_lane, "buy_answer", broken)
    lane = buy_lane.BuyFastLane(lambda environ, start_response: pytest.fail("went to Django"))
    started = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/sales/1/buy",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(b"{}"),
    }
    body = b"".join(lane(environ, lambda status, headers: started.append(status)))
    assert started == ["500 Internal Server Error"]
    assert json.loads(body) == {"status": "error", "detail": "Internal error."}
    assert "boom" in caplog.text
