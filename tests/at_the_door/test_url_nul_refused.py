"""A URL holding %00 gets 400 on every route of the one address: the buy routes
(which the front and the WSGI lane answer before Django, and so used to answer
`?x=%00` as if it were not there), the pages, the API and nginx's static files."""

from __future__ import annotations

import json

import pytest

from sales.live import live_state
from tests.at_the_door.conftest import exchange, http_request
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.product import Product
from tests.support.shoppers import shopper_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_nul_in_the_query_of_a_buy_is_400_and_buys_nothing(product: Product, owner) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    _, cookies = shopper_cookie()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "nul-1", **cookies}
    for path in (
        f"/api/v1/sales/{sale.pk}/buy?x=%00",
        f"/api/v1/sales/{sale.pk}/buy?a=1&b=%00c",
        "/order?%00",
    ):
        status, _, body = exchange(product.port, http_request("POST", path, headers, b"{}"))
        assert status == 400, (path, body)
        assert "NUL" in json.loads(body)["detail"]
    assert live_state(sale.pk).sold == 0


@pytest.mark.parametrize(
    "path",
    ["/sales/1/?x=%00", "/waiting-room/1/?%00", "/api/v1/sales/?q=%00", "/admin/login/?next=%00",
     "/sales/%00/", "/static/waitingroom/room.js%00", "/static/x?%00"],
)  # fmt: skip
def test_a_nul_anywhere_in_a_url_is_400(product: Product, path: str) -> None:
    status, _, body = exchange(product.port, http_request("GET", path))
    assert status == 400, (path, status, body[:200])


def test_the_wsgi_lane_hands_a_nul_query_to_django(web_server: WebServer, owner) -> None:
    """granian's fast lane (flux_admin/wsgi.py) answers buys before Django too."""
    sale = make_sale(owner, live=True, quantity=5)
    _, cookies = shopper_cookie()
    status, _, body = web_server.post(
        f"/api/v1/sales/{sale.pk}/buy?x=%00", "{}", {"Idempotency-Key": "nul-2", **cookies}
    )
    assert status == 400, body
    assert live_state(sale.pk).sold == 0
