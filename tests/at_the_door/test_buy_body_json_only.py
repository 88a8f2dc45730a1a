"""The buy API and the seed's POST /order take a JSON body only (415 otherwise, naming
the type): a form on another site can send a text/plain or form body with the
shopper's cookie without asking the browser first, which only JSON requires."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from sales.live import live_state
from tests.at_the_door.conftest import exchange, http_request
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.product import Product
from tests.support.shoppers import shopper_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_body_that_is_not_json_is_415_and_buys_nothing(
    product: Product, owner, content_type: str | None
) -> None:
    sale = make_sale(owner, live=True, quantity=5, sku="json-only")
    _, cookies = shopper_cookie()
    headers = {
        "Idempotency-Key": "json-1",
        **cookies,
        **({"Content-Type": content_type} if content_type else {}),
    }
    for path, body in (
        (f"/api/v1/sales/{sale.pk}/buy", b'{"quantity": 1}'),
        ("/order", b'{"productId": "json-only"}'),
    ):
        status, _, answer = exchange(product.port, http_request("POST", path, headers, body))
        assert status == 415, (path, answer)
        refusal = json.loads(answer)
        assert refusal["status"] == "unsupported_media_type"
        assert "application/json" in refusal["detail"]
        assert (repr(content_type) if content_type else "names none") in refusal["detail"]
    assert live_state(sale.pk).sold == 0


def test_json_with_a_charset_is_json(product: Product, owner) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    _, cookies = shopper_cookie()
    headers = {"Content-Type": "Application/JSON; charset=utf-8", "Idempotency-Key": "json-2", **cookies}
    status, _, body = exchange(
        product.port, http_request("POST", f"/api/v1/sales/{sale.pk}/buy", headers, b"{}")
    )
    assert (status, json.loads(body)["status"]) == (200, "accepted")


def test_every_server_of_the_route_says_415(web_server: WebServer, owner) -> None:
    """The WSGI lane and Django's ninja route answer as the front does."""
    sale = make_sale(owner, live=True, quantity=5)
    _, cookies = shopper_cookie()
    status, _, body = web_server.post(
        f"/api/v1/sales/{sale.pk}/buy",
        "{}",
        {"Content-Type": "text/plain", "Idempotency-Key": "j3", **cookies},
    )
    assert status == 415, body
    response = Client().post(
        f"/api/v1/sales/{sale.pk}/buy", "{}", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="j4",
        HTTP_COOKIE=cookies["Cookie"],
    )  # fmt: skip
    assert response.status_code == 415
    assert json.loads(body) == response.json()
    assert live_state(sale.pk).sold == 0
