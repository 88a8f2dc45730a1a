"""The per-shopper limit used to follow the cookie: 30 fresh cookies bought 30 units of
a one-per-shopper sale (issue 22). Through the whole product, the front counts the
units of the hosted pages' shoppers per client address: 30 cookies on one address
buy one unit of a sale that allows one per address; a shopper on another address
still buys."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.at_the_door.test_bot_race import FromAddress
from tests.factories import make_sale
from tests.support.http import BrowserSession
from tests.support.product import Product
from tests.support.shoppers import prove

pytestmark = pytest.mark.django_db(transaction=True)


def cookie_shopper(product: Product, sale_id: int, address: str) -> BrowserSession:
    browser = BrowserSession(FromAddress(product.port, address))
    assert prove(browser, sale_id, browser.get(f"/sales/{sale_id}/").text).status == 200
    return browser


def buy(browser: BrowserSession, sale_id: int) -> str:
    headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    return browser.request(
        "POST", f"/api/v1/sales/{sale_id}/buy", json.dumps({"quantity": 1}), headers
    ).json()["status"]


def test_thirty_cookies_on_one_address_buy_one_unit(product: Product, owner: Any) -> None:
    sale = make_sale(
        owner,
        live=True,
        quantity=100,
        per_user_limit=1,
        units_per_address=1,
        proof_bits=8,
        rate=1000,
        burst=1000,
    )
    outcomes = [buy(cookie_shopper(product, sale.pk, "127.0.3.1"), sale.pk) for _ in range(30)]
    assert outcomes.count("accepted") == 1, outcomes
    assert outcomes.count("address_limit_reached") == 29, outcomes
    assert buy(cookie_shopper(product, sale.pk, "127.0.3.2"), sale.pk) == "accepted"
