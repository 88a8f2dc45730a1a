"""A merchant sees and changes only their own sales, in the API and the admin
pages; guessing another's sale id gets "not found". Operators see all."""

from __future__ import annotations

from datetime import UTC

import pytest
from django.test import Client

from sales.models import SaleStatus
from tests.factories import ADMIN_SALE_FORM, api_client, make_sale

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("owner_side", ["owner", "other"])
def test_api_hides_the_other_merchants_sale(owner, other_merchant, owner_side: str) -> None:
    mine, theirs = (owner, other_merchant) if owner_side == "owner" else (other_merchant, owner)
    sale = make_sale(theirs, live=True)
    client = api_client(mine)

    assert client.get(f"/api/v1/sales/{sale.pk}").status_code == 404
    assert [s["id"] for s in client.get("/api/v1/sales").json()] == []
    for action in ("pause", "end", "go-live", "schedule", "resume"):
        response = client.post(f"/api/v1/sales/{sale.pk}/{action}")
        assert response.status_code == 404, action
        assert response.json()["detail"] == f"No sale {sale.pk}."
    assert (
        client.post(
            f"/api/v1/sales/{sale.pk}/restock", {"units": 5}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        client.patch(f"/api/v1/sales/{sale.pk}", {"quantity": 1}, content_type="application/json").status_code
        == 404
    )

    sale.refresh_from_db()
    assert (sale.status, sale.quantity) == (SaleStatus.LIVE, 100)
    assert api_client(theirs).get(f"/api/v1/sales/{sale.pk}").status_code == 200


def test_admin_pages_hide_the_other_merchants_sale(owner, other_merchant) -> None:
    sale = make_sale(owner, live=True, product_name="Owner's phone")
    intruder = signed_in(other_merchant)

    listing = intruder.get("/admin/sales/sale/")
    assert listing.status_code == 200
    assert "Owner&#x27;s phone" not in listing.content.decode()
    assert intruder.get(f"/admin/sales/sale/{sale.pk}/change/").status_code == 302  # "doesn't exist" redirect
    assert intruder.post(f"/admin/sales/sale/{sale.pk}/transition/end/").status_code == 404
    assert intruder.post(f"/admin/sales/sale/{sale.pk}/restock/", {"units": 3}).status_code == 404
    sale.refresh_from_db()
    assert (sale.status, sale.quantity) == (SaleStatus.LIVE, 100)

    mine = signed_in(owner)
    assert "Owner&#x27;s phone" in mine.get("/admin/sales/sale/").content.decode()
    page = mine.get(f"/admin/sales/sale/{sale.pk}/change/")
    assert page.status_code == 200
    assert "100 units offered · 0 sold · 100 left" in page.content.decode()


def test_orders_admin_is_scoped_too(owner, other_merchant) -> None:
    from datetime import datetime
    from decimal import Decimal

    from orders.models import Order

    sale = make_sale(owner, live=True)
    Order.objects.create(
        sale=sale,
        user_id="shopper-1",
        quantity=1,
        unit_price=Decimal("1"),
        accepted_at=datetime.now(UTC),
    )
    assert "shopper-1" in signed_in(owner).get("/admin/orders/order/").content.decode()
    assert "shopper-1" not in signed_in(other_merchant).get("/admin/orders/order/").content.decode()


def test_operator_sees_every_merchants_sales(owner, other_merchant, operator) -> None:
    first, second = make_sale(owner), make_sale(other_merchant)
    page = signed_in(operator).get("/admin/sales/sale/").content.decode()
    assert first.sku in page and second.sku in page


def test_merchant_runs_a_sale_from_the_admin(owner) -> None:
    client = signed_in(owner)
    created = client.post(
        "/admin/sales/sale/add/",
        ADMIN_SALE_FORM,
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    sale = owner.sales.get(sku="console-1")
    assert sale.status == SaleStatus.DRAFT

    assert client.post(f"/admin/sales/sale/{sale.pk}/transition/schedule/").status_code == 302
    sale.refresh_from_db()
    assert sale.status == SaleStatus.SCHEDULED
    client.post(f"/admin/sales/sale/{sale.pk}/transition/go_live/")
    client.post(f"/admin/sales/sale/{sale.pk}/transition/pause/")
    sale.refresh_from_db()
    assert sale.status == SaleStatus.PAUSED
    client.post(f"/admin/sales/sale/{sale.pk}/restock/", {"units": 5})
    sale.refresh_from_db()
    assert sale.quantity == 55
    # Ending is final: the list action asks first, and only the confirmation ends.
    asked = client.post("/admin/sales/sale/", {"action": "end_selected", "_selected_action": [sale.pk]})
    assert asked.status_code == 200 and b"Yes, end these sales" in asked.content
    sale.refresh_from_db()
    assert sale.status == SaleStatus.PAUSED
    client.post(
        "/admin/sales/sale/", {"action": "end_selected", "_selected_action": [sale.pk], "post": "yes"}
    )
    sale.refresh_from_db()
    assert sale.status == SaleStatus.ENDED


def test_anomalies_admin_is_scoped(owner, other_merchant) -> None:
    import uuid

    from orders.models import OrderAnomaly

    sale = make_sale(owner, live=True)
    OrderAnomaly.objects.create(
        order_id=uuid.uuid4(), sale=sale, reason="would take sale past its quantity", message={}
    )
    assert "would take sale past" in signed_in(owner).get("/admin/orders/orderanomaly/").content.decode()
    assert (
        "would take sale past"
        not in signed_in(other_merchant).get("/admin/orders/orderanomaly/").content.decode()
    )
    assert "Orders</a>" in signed_in(owner).get(f"/admin/sales/sale/{sale.pk}/change/").content.decode()
