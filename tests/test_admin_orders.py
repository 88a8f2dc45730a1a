"""The orders list in the merchant console: filtered by the merchant's own
sales only, and exported as CSV, the list as filtered, never another
merchant's orders."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client

from orders.models import Order, OrderAnomaly
from tests.factories import make_sale

pytestmark = pytest.mark.django_db


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def place_order(sale, user_id: str, quantity: int = 1) -> Order:
    """An order row as the consumer writes it."""
    return Order.objects.create(
        sale=sale,
        user_id=user_id,
        quantity=quantity,
        unit_price=sale.unit_price,
        accepted_at=datetime(2030, 12, 1, 10, 0, 5, tzinfo=UTC),
    )


def exported(client: Client, query: str = "") -> tuple[str, list[dict[str, str]]]:
    response = client.get(f"/admin/orders/order/export.csv{query}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    return response["Content-Disposition"], list(csv.DictReader(io.StringIO(body)))


def test_the_sale_filter_lists_only_the_merchants_own_sales(owner, other_merchant, operator) -> None:
    mine = make_sale(owner, product_name="Mine")
    theirs = make_sale(other_merchant, product_name="Theirs")

    page = console(owner).get("/admin/orders/order/").content.decode()
    assert f"?sale__id__exact={mine.pk}" in page
    assert f"?sale__id__exact={theirs.pk}" not in page and "Theirs" not in page

    everything = console(operator).get("/admin/orders/order/").content.decode()
    assert f"?sale__id__exact={mine.pk}" in everything and f"?sale__id__exact={theirs.pk}" in everything
    counted = console(owner).get("/admin/orders/order/?_facets=True")  # Django's "Show counts"
    assert counted.status_code == 200


def test_filtering_by_sale_shows_that_sales_orders(owner) -> None:
    first, second = make_sale(owner, live=True), make_sale(owner, live=True)
    place_order(first, "shopper-first")
    place_order(second, "shopper-second")

    page = console(owner).get(f"/admin/orders/order/?sale__id__exact={first.pk}").content.decode()
    assert "shopper-first" in page and "shopper-second" not in page
    assert "2030-12-01 10:00 UTC" in page  # accepted at, with its zone


def test_another_merchants_sale_id_finds_nothing(owner, other_merchant) -> None:
    theirs = make_sale(other_merchant, live=True)
    place_order(theirs, "their-shopper")
    client = console(owner)

    page = client.get(f"/admin/orders/order/?sale__id__exact={theirs.pk}").content.decode()
    assert "their-shopper" not in page
    _, rows = exported(client, f"?sale__id__exact={theirs.pk}")
    assert rows == []


def test_the_list_links_to_its_csv_export(owner) -> None:
    sale = make_sale(owner, live=True)
    page = console(owner).get(f"/admin/orders/order/?sale__id__exact={sale.pk}").content.decode()
    assert (
        f'<a href="/admin/orders/order/export.csv?sale__id__exact={sale.pk}" download>Export CSV</a>' in page
    )


def test_csv_export_of_one_sale(owner, other_merchant) -> None:
    sale, other_sale = make_sale(owner, live=True), make_sale(owner, live=True)
    first = place_order(sale, "alice", quantity=2)
    place_order(sale, "=HYPERLINK(1)")  # a shopper id a spreadsheet would run
    place_order(other_sale, "bob")
    place_order(make_sale(other_merchant, live=True), "stranger")

    disposition, rows = exported(console(owner), f"?sale__id__exact={sale.pk}")
    assert disposition == f'attachment; filename="orders-sale-{sale.pk}.csv"'
    assert sorted(row["user_id"] for row in rows) == ["'=HYPERLINK(1)", "alice"]
    alice = next(row for row in rows if row["user_id"] == "alice")
    assert alice == {
        "order_id": str(first.order_id),
        "sale_id": str(sale.pk),
        "sku": sale.sku,
        "user_id": "alice",
        "quantity": "2",
        "unit_price": "499.00",
        "currency": "EUR",
        "accepted_at": "2030-12-01T10:00:05+00:00",
        "persisted_at": first.persisted_at.isoformat(),
        "status": "confirmed",
    }


def test_csv_export_of_everything_is_still_only_the_merchants(owner, other_merchant) -> None:
    place_order(make_sale(owner, live=True), "alice")
    place_order(make_sale(other_merchant, live=True), "stranger")

    disposition, rows = exported(console(owner))
    assert disposition == 'attachment; filename="orders.csv"'
    assert [row["user_id"] for row in rows] == ["alice"]
    _, searched = exported(console(owner), "?q=stranger")
    assert searched == []


def test_csv_export_follows_the_search(owner) -> None:
    sale = make_sale(owner, live=True)
    place_order(sale, "alice")
    place_order(sale, "bob")
    _, rows = exported(console(owner), "?q=bob")
    assert [row["user_id"] for row in rows] == ["bob"]


def test_a_bad_filter_value_goes_back_to_the_list(owner) -> None:
    make_sale(owner)  # a filter with no sales to offer is not shown, nor applied
    client = console(owner)
    for url in (
        "/admin/orders/order/?sale__id__exact=abc",
        "/admin/orders/order/export.csv?sale__id__exact=1x",
    ):
        answer = client.get(url)
        assert (answer.status_code, answer.get("Location")) == (302, "/admin/orders/order/?e=1"), url


def test_anomalies_are_spelled_right_and_filter_by_own_sale(owner, other_merchant) -> None:
    mine = make_sale(owner, live=True)
    theirs = make_sale(other_merchant, live=True)
    OrderAnomaly.objects.create(order_id=uuid.uuid4(), sale=mine, reason="past its quantity", message={})
    client = console(owner)

    assert "Order anomalies" in client.get("/admin/").content.decode()
    page = client.get("/admin/orders/orderanomaly/").content.decode()
    assert "Order anomalies" in page and "anomalys" not in page
    assert f"?sale__id__exact={mine.pk}" in page and f"?sale__id__exact={theirs.pk}" not in page


def test_the_order_page_shows_times_with_their_zone(owner) -> None:
    order = place_order(make_sale(owner, live=True), "alice")
    page = console(owner).get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert '<div class="readonly">2030-12-01 10:00 UTC</div>' in page
