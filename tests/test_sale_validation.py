"""Bad sale input gets a 4xx naming the field, and nothing is written."""

from __future__ import annotations

import pytest

from sales.models import Sale
from tests.factories import NEW_SALE, api_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change, field",
    [
        ({"quantity": "many"}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 10**30}, "quantity"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "free"}, "unit_price"),
        ({"unit_price": "123456789.00"}, "unit_price"),
        ({"currency": "euro"}, "currency"),
        ({"sku": "iphone 15!"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"product_name": "p" * 201}, "product_name"),
        ({"per_user_limit": 0}, "per_user_limit"),
        ({"rate": 0}, "rate"),
        ({"burst": 10**9}, "burst"),
        ({"admission_rate": -3}, "admission_rate"),
        ({"ends_at": "2029-12-31T10:00:00Z"}, "ends_at"),
        ({"starts_at": "2030-01-01T10:00:00"}, "starts_at"),  # no time zone
        ({"starts_at": "tomorrow"}, "starts_at"),
    ],
)
def test_bad_field_is_422_naming_it(owner, change: dict, field: str) -> None:
    response = api_client(owner).post(
        "/api/v1/sales", {**NEW_SALE, **change}, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["status"] == "invalid"
    assert field in body["fields"], body
    assert Sale.objects.count() == 0


def test_missing_field_and_malformed_json(owner) -> None:
    client = api_client(owner)
    missing = client.post("/api/v1/sales", {"sku": "a"}, content_type="application/json")
    assert missing.status_code == 422
    assert {"product_name", "quantity", "unit_price"} <= set(missing.json()["fields"])
    broken = client.post("/api/v1/sales", "{not json", content_type="application/json")
    assert 400 <= broken.status_code < 500
    assert Sale.objects.count() == 0


def test_restock_with_bad_units(owner) -> None:
    client = api_client(owner)
    sale_id = client.post("/api/v1/sales", NEW_SALE, content_type="application/json").json()["id"]
    for units in (0, -4, "lots"):
        response = client.post(
            f"/api/v1/sales/{sale_id}/restock", {"units": units}, content_type="application/json"
        )
        assert response.status_code == 422
        assert "units" in response.json()["fields"]
    assert Sale.objects.get(pk=sale_id).quantity == 100


@pytest.mark.parametrize(
    "address", ["http://shop.example/a.jpg", "javascript:alert(1)", "//shop.example/a.jpg"]
)
def test_a_picture_must_be_https_or_on_this_site(owner, address: str) -> None:
    reply = api_client(owner).post(
        "/api/v1/sales",
        {
            "product_name": "Kettle",
            "sku": "kettle",
            "unit_price": "9.99",
            "quantity": 5,
            "image_url": address,
        },
        content_type="application/json",
    )
    assert reply.status_code in (400, 422)
    assert "image_url" in reply.content.decode()
    assert not Sale.objects.filter(sku="kettle").exists()


def test_a_picture_can_be_given_and_taken_away(owner) -> None:
    client = api_client(owner)
    created = client.post(
        "/api/v1/sales",
        {"product_name": "Kettle", "sku": "kettle", "unit_price": "9.99", "quantity": 5,
         "image_url": "https://shop.example/kettle.jpg"},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["image_url"] == "https://shop.example/kettle.jpg"
    cleared = client.patch(
        f"/api/v1/sales/{created.json()['id']}", {"image_url": None}, content_type="application/json"
    )
    assert cleared.status_code == 200 and cleared.json()["image_url"] == ""
