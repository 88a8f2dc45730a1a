"""The buy API takes only what it documents: a quantity is a JSON integer (not
"1", 1.0 or true), a shopper id holds no control or bidi characters and is not
blank, and a path with an encoded slash does not reach the buy route."""

from __future__ import annotations

import http.client
import json
import uuid

import pytest
from django.test import Client

from orders.buy import decision
from sales.live import live_state
from tests.factories import make_sale
from tests.test_proxy_headers import proxy  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_mode")]


def buy(sale_id: int, body: str) -> Client:
    return Client().post(
        f"/api/v1/sales/{sale_id}/buy",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


@pytest.mark.parametrize("quantity", ['"1"', "1.0", "true"])
def test_a_quantity_that_is_not_an_integer_is_422(owner, quantity: str) -> None:
    decision.forget_sold_out_flags()
    sale = make_sale(owner, live=True)
    response = buy(sale.pk, f'{{"user_id": "alice", "quantity": {quantity}}}')
    assert response.status_code == 422, response.content
    assert "quantity" in response.json()["fields"]
    assert live_state(sale.pk).sold == 0


@pytest.mark.parametrize("user_id", ["   ", "\t", "bob\u0000", "a\nb", "evil\u202etxt", "x\u2066y"])
def test_a_shopper_id_with_control_characters_or_only_blanks_is_422(owner, user_id: str) -> None:
    decision.forget_sold_out_flags()
    sale = make_sale(owner, live=True)
    response = buy(sale.pk, json.dumps({"user_id": user_id}))
    assert response.status_code == 422, response.content
    assert "user_id" in response.json()["fields"]
    assert live_state(sale.pk).sold == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/sales/1%2Fbuy", "/api/v1/sales%2F1%2Fbuy", "/api/v1/sales/1%2fbuy"]
)
def test_an_encoded_slash_does_not_reach_the_buy_route(proxy: int, path: str) -> None:  # noqa: F811
    """Through the one address (the front, nginx behind it, no web process behind
    nginx here): an encoded slash is handed to nginx, which refuses it; the plain
    path reaches the buy route, which asks who the shopper is."""
    connection = http.client.HTTPConnection("127.0.0.1", proxy, timeout=5)
    connection.request("POST", path, body="{}", headers={"Content-Type": "application/json"})
    assert connection.getresponse().status == 404
    connection = http.client.HTTPConnection("127.0.0.1", proxy, timeout=5)
    connection.request("POST", "/api/v1/sales/1/buy", body="{}", headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())["status"]) == (401, "shopper_required")
