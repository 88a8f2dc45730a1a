"""SKUs are each merchant's own: two merchants may sell the same SKU at once, and
the seed's /order finds a SKU only in the namespace of the shop that proves its
shopper (its storefront token), or else the demo merchant's, never another's."""

from __future__ import annotations

import pytest
from django.test import Client

from infra.errors import ApplicationError
from orders.buy import decision
from sales import services
from sales.live import live_state
from tests.factories import api_client, make_merchant, make_sale
from tests.support.shoppers import storefront

pytestmark = pytest.mark.django_db

INIT = {"productId": "tv-55", "quantity": 10}


def order(sku: str, user: str, **headers: str) -> Client:
    return Client().post(
        "/order", {"productId": sku, "userId": user}, content_type="application/json", **headers
    )


def test_two_merchants_sell_the_same_sku_at_once(owner, other_merchant) -> None:
    mine = make_sale(owner, live=True, sku="tv-55")
    theirs = make_sale(other_merchant, live=True, sku="tv-55")
    assert (live_state(mine.pk).status, live_state(theirs.pk).status) == ("live", "live")


def test_one_merchant_still_has_one_open_sale_per_sku(owner) -> None:
    make_sale(owner, live=True, sku="tv-55")
    with pytest.raises(ApplicationError) as refused:
        services.sale_go_live(sale_id=make_sale(owner, sku="tv-55").pk)
    assert "tv-55" in refused.value.message and "another merchant" not in refused.value.message


def test_init_of_a_sku_another_merchant_sells_starts_the_callers_own(owner, other_merchant) -> None:
    theirs = api_client(other_merchant).post("/init", INIT, content_type="application/json")
    mine = api_client(owner).post("/init", INIT, content_type="application/json")
    assert (theirs.status_code, mine.status_code) == (200, 200), mine.content
    assert theirs.json()["saleId"] != mine.json()["saleId"]
    assert live_state(theirs.json()["saleId"]).status == "live"  # untouched


def test_anonymous_order_reaches_only_the_demo_merchants_sale(other_merchant, demo_mode) -> None:
    decision.forget_sold_out_flags()
    demo = make_merchant("demo")
    theirs = make_sale(other_merchant, live=True, sku="tv-55")

    assert order("tv-55", "seed-1").status_code == 404  # the demo merchant sells no tv-55
    assert live_state(theirs.pk).sold == 0

    ours = make_sale(demo, live=True, sku="tv-55")
    answer = order("tv-55", "seed-1")
    assert (answer.status_code, answer.json()["sale_id"]) == (200, ours.pk)
    assert (live_state(ours.pk).sold, live_state(theirs.pk).sold) == (1, 0)


def test_a_storefront_shopper_orders_from_its_own_merchants_sale(owner, other_merchant) -> None:
    decision.forget_sold_out_flags()
    make_sale(other_merchant, live=True, sku="tv-55")
    mine = make_sale(owner, live=True, sku="tv-55")
    headers = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in storefront(owner).headers("ann").items()
    }

    answer = Client().post("/order", {"productId": "tv-55"}, content_type="application/json", **headers)

    assert (answer.status_code, answer.json()["sale_id"]) == (200, mine.pk), answer.content
