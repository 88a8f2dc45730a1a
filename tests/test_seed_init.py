"""POST /init keeps the seed's shape but is a merchant action: never open."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from sales.live import live_state
from sales.models import Sale, SaleStatus
from tests.factories import api_client, make_merchant

pytestmark = pytest.mark.django_db

BODY = {"productId": "iphone-15", "quantity": 100}


def test_anonymous_init_is_401() -> None:
    response = Client().post("/init", BODY, content_type="application/json")
    assert response.status_code == 401
    assert Sale.objects.count() == 0


def test_merchant_init_starts_a_fresh_live_sale(owner) -> None:
    client = api_client(owner)
    first = client.post("/init", BODY, content_type="application/json")
    assert first.status_code == 200
    body = first.json()
    assert body["message"] == "Sale initialized"
    assert (body["productId"], body["quantity"]) == ("iphone-15", 100)
    assert live_state(body["saleId"]).remaining == 100

    # Calling it again (the seed resets stock this way) ends the old sale.
    second = client.post("/init", {**BODY, "quantity": 5}, content_type="application/json").json()
    assert Sale.objects.get(pk=body["saleId"]).status == SaleStatus.ENDED
    assert live_state(second["saleId"]).remaining == 5


def test_init_never_touches_another_merchants_sale_of_the_sku(owner, other_merchant) -> None:
    """SKUs are each merchant's own (tests/test_sku_per_merchant.py)."""
    mine = api_client(owner).post("/init", BODY, content_type="application/json").json()
    response = api_client(other_merchant).post("/init", BODY, content_type="application/json")
    assert response.status_code == 200
    assert Sale.objects.get(pk=mine["saleId"]).status == SaleStatus.LIVE


def test_demo_mode_lets_the_seed_scripts_init_anonymously(settings) -> None:
    make_merchant("demo")
    with override_settings(FLUX_DEMO_MODE=True, FLUX_DEMO_MERCHANT="demo"):
        response = Client().post("/init", BODY, content_type="application/json")
    assert response.status_code == 200
    assert Sale.objects.get(pk=response.json()["saleId"]).merchant.username == "demo"


def test_init_bad_body_is_422(owner) -> None:
    response = api_client(owner).post(
        "/init", {"productId": "x y", "quantity": -1}, content_type="application/json"
    )
    assert response.status_code == 422
    assert Sale.objects.count() == 0
