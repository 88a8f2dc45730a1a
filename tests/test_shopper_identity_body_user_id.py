"""A body user_id names the shopper only in demo mode. Outside it, a buy with no
proof of its shopper is refused 401 shopper_required, so rotating the body's
user_id no longer bypasses the per-shopper limit; a proven shopper whose body
names someone else is refused 422, never sold to under either name."""

from __future__ import annotations

import json
import uuid

import pytest

from sales.live import live_state
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.shoppers import shopper_cookie, storefront

pytestmark = pytest.mark.django_db


def buy(
    server: WebServer, sale_id: int, body: dict, headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    status, answer_headers, raw = server.post(
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps(body),
        {"Idempotency-Key": uuid.uuid4().hex, **(headers or {})},
    )
    assert "Location" not in answer_headers  # a refusal of identity is not a trip to the waiting room
    return status, json.loads(raw)


def test_rotating_the_body_user_id_no_longer_buys_outside_demo_mode(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=1)
    answers = [buy(web_server, sale.pk, {"user_id": f"bot-{n}"}) for n in range(5)]
    assert {(status, body["status"]) for status, body in answers} == {(401, "shopper_required")}
    assert live_state(sale.pk).sold == 0


@pytest.mark.parametrize("proof", ["cookie", "storefront token"])
def test_a_proven_shopper_cannot_rotate_the_body_user_id_past_the_limit(
    owner, web_server: WebServer, proof: str
) -> None:
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=1)
    if proof == "cookie":
        shopper_id, headers = shopper_cookie()
    else:
        shop = storefront(owner)
        shopper_id, headers = shop.shopper_id("alice"), shop.headers("alice")

    status, body = buy(web_server, sale.pk, {}, headers)
    assert (status, body["status"], body["user_id"]) == (200, "accepted", shopper_id)
    for n in range(5):
        status, body = buy(web_server, sale.pk, {"user_id": f"alias-{n}"}, headers)
        assert (status, body["status"]) == (422, "invalid")
        assert shopper_id in body["fields"]["user_id"][0]
    status, body = buy(web_server, sale.pk, {"user_id": shopper_id}, headers)  # naming itself is fine
    assert (status, body["status"]) == (409, "limit_reached")
    assert live_state(sale.pk).sold == 1


def test_demo_mode_trusts_the_body_user_id(owner, demo_web_server: WebServer) -> None:
    """The seed's clients (and README's curl examples) name the shopper in the body."""
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=1)
    status, body = buy(demo_web_server, sale.pk, {"user_id": "alice"})
    assert (status, body["status"], body["user_id"]) == (200, "accepted", "alice")
    status, body = buy(demo_web_server, sale.pk, {"user_id": "alice"})
    assert (status, body["status"]) == (409, "limit_reached")
    status, body = buy(demo_web_server, sale.pk, {})
    assert (status, body["status"], list(body["fields"])) == (422, "invalid", ["user_id"])
    # A proof, where one is sent, still wins over the body.
    shopper_id, headers = shopper_cookie()
    status, body = buy(demo_web_server, sale.pk, {"user_id": "alice"}, headers)
    assert (status, body["status"]) == (422, "invalid")
    status, body = buy(demo_web_server, sale.pk, {}, headers)
    assert (status, body["user_id"]) == (200, shopper_id)
