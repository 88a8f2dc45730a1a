"""A header whose value is not ASCII gets a 400 that names it, on the buy routes
and on every other route the front reads: a non-ASCII Idempotency-Key or
X-Shopper-Token used to be dropped on the way (granian drops such values) and
reported as missing (401, "who is buying?")."""

from __future__ import annotations

import http.client
import json

import pytest

from sales.live import live_state
from tests.at_the_door.conftest import exchange, http_request
from tests.factories import make_sale
from tests.support.product import Product
from tests.support.shoppers import shopper_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

UTF8 = "schlüssel-ключ".encode()


@pytest.mark.parametrize(
    "header", ["Idempotency-Key", "X-Shopper-Token", "Admission-Token", "X-Idempotency-Key"]
)
def test_a_buy_with_a_header_that_is_not_ascii_is_400_naming_it(product: Product, owner, header: str) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    _, cookies = shopper_cookie()
    headers: dict[str, str | bytes] = {
        "Content-Type": "application/json",
        "Idempotency-Key": "ascii-1",
        **cookies,
    }
    headers[header] = UTF8
    for path in (f"/api/v1/sales/{sale.pk}/buy", "/order"):
        status, _, body = exchange(product.port, http_request("POST", path, headers, b'{"productId": "x"}'))
        answer = json.loads(body)
        assert status == 400, (path, body)
        assert header in answer["detail"] and header in answer["fields"]
    assert live_state(sale.pk).sold == 0


def test_a_page_with_a_header_that_is_not_ascii_is_400_naming_it(product: Product, owner) -> None:
    sale = make_sale(owner, live=True)
    status, _, body = exchange(product.port, http_request("GET", f"/sales/{sale.pk}/", {"X-Note": UTF8}))
    assert status == 400
    assert json.loads(body)["fields"] == {"X-Note": ["Not ASCII."]}


def test_a_cookie_that_is_not_ascii_is_not_refused(product: Product, owner) -> None:
    """Another page of the same site may set any cookie; the shopper must still get in."""
    sale = make_sale(owner, live=True)
    status, _, _ = exchange(
        product.port, http_request("GET", f"/sales/{sale.pk}/", {"Cookie": b"pref=" + UTF8})
    )
    assert status == 200


def test_a_buy_later_on_a_page_s_connection_is_refused_too(product: Product, owner) -> None:
    """A browser buys on the connection its page came on, which the front has handed to
    nginx: nginx refuses the buy's own headers by name there."""
    sale = make_sale(owner, live=True, quantity=5)
    _, cookies = shopper_cookie()
    connection = http.client.HTTPConnection("127.0.0.1", product.port, timeout=10)
    try:
        connection.request("GET", f"/sales/{sale.pk}/", headers=cookies)
        assert connection.getresponse().read() and True
        for header in ("Idempotency-Key", "X-Shopper-Token"):
            connection.putrequest("POST", f"/api/v1/sales/{sale.pk}/buy")
            for name, value in {"Content-Type": "application/json", "Content-Length": "2", **cookies}.items():
                connection.putheader(name, value)
            connection.putheader(header, UTF8)
            connection.endheaders(b"{}")
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert response.status == 400, answer
            assert answer["fields"] == {header: ["Not ASCII."]}
    finally:
        connection.close()
    assert live_state(sale.pk).sold == 0
