"""Input a hostile client sends to the sales API and the admin gets a 4xx naming
what is wrong, never a 500, and never leaves a row that breaks a page later:
datetimes out of range once in UTC, NUL and other control characters, loose types."""

from __future__ import annotations

import pytest
from django.test import Client

from sales.models import Sale
from tests.factories import NEW_SALE, api_client, make_sale

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change, field",
    [
        # Year 9999 in its own zone, but year 10000 in UTC: PostgreSQL stored it, Python could not read it back.
        (
            {"starts_at": "9999-12-31T23:59:59+14:00", "ends_at": "9999-12-31T23:59:59-14:00"},
            "ends_at",
        ),
        ({"ends_at": "9999-12-31T23:59:59-14:00"}, "ends_at"),
        ({"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at"),
        ({"starts_at": "1970-01-01T00:00:00Z"}, "starts_at"),
        ({"product_name": "a\u0000b"}, "product_name"),
        ({"product_name": "bell\u0007"}, "product_name"),
        ({"product_name": "evil\u202egnp.exe"}, "product_name"),
        ({"product_name": "   "}, "product_name"),
        ({"sku": "a\u0000b"}, "sku"),
        ({"currency": "E\u0000R"}, "currency"),
        ({"quantity": "100"}, "quantity"),
        ({"quantity": 100.0}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"rate": "5"}, "rate"),
        ({"per_user_limit": 1.5}, "per_user_limit"),
    ],
)
def test_hostile_field_is_422_and_the_list_still_answers(owner, change: dict, field: str) -> None:
    client = api_client(owner)
    response = client.post("/api/v1/sales", {**NEW_SALE, **change}, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()
    assert Sale.objects.count() == 0
    assert client.get("/api/v1/sales").status_code == 200


@pytest.mark.parametrize(
    "change, field",
    [
        ({"product_name": "a\u0000b"}, "product_name"),
        ({"sku": "x\u0000"}, "sku"),
        ({"ends_at": "9999-12-31T23:59:59-14:00"}, "ends_at"),
        ({"quantity": "7"}, "quantity"),
    ],
)
def test_hostile_patch_is_422(owner, change: dict, field: str) -> None:
    client = api_client(owner)
    sale = make_sale(owner)
    response = client.patch(f"/api/v1/sales/{sale.pk}", change, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()
    assert client.get(f"/api/v1/sales/{sale.pk}").status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"productId": "a\u0000b", "quantity": 5}, "productId"),
        ({"productId": "ok-sku", "quantity": "5"}, "quantity"),
    ],
)
def test_hostile_init_is_422(owner, body: dict, field: str) -> None:
    response = api_client(owner).post("/init", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()
    assert Sale.objects.count() == 0


def test_hostile_restock_units_are_422(owner) -> None:
    client = api_client(owner)
    sale = make_sale(owner, live=True)
    for units in ("5", 5.0, True):
        response = client.post(
            f"/api/v1/sales/{sale.pk}/restock", {"units": units}, content_type="application/json"
        )
        assert response.status_code == 422, (units, response.content)


@pytest.mark.parametrize("query", ["status__exact=%00", "q=%00", "sku=a%00b"])
def test_admin_sale_list_refuses_a_nul_in_the_query(operator, query: str) -> None:
    client = Client()
    client.force_login(operator)
    response = client.get(f"/admin/sales/sale/?{query}")
    assert response.status_code == 400, response.status_code


def test_an_unexpected_error_is_json_without_a_traceback(owner, settings, monkeypatch) -> None:
    """Whatever goes wrong inside the API, the answer is JSON naming no code, in DEBUG too."""
    from sales import selectors

    settings.DEBUG = True

    def broken(**_kwargs):
        raise RuntimeError("a secret detail of the code")

    monkeypatch.setattr(selectors, "sale_list", broken)
    response = Client(
        raise_request_exception=False, HTTP_AUTHORIZATION=api_client(owner).defaults["HTTP_AUTHORIZATION"]
    ).get("/api/v1/sales")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "error", "detail": "Internal error.", "fields": {}}
    assert b"secret detail" not in response.content and b"Traceback" not in response.content


@pytest.mark.parametrize("body", ["\u0000", "{", "not json"])
def test_a_body_that_is_not_json_is_400_in_the_error_shape(owner, body: str) -> None:
    response = api_client(owner).post("/api/v1/sales", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == "malformed" and response.json()["fields"] == {}


@pytest.mark.parametrize("path", ["/api/v1/sales/null,null/pause", "/api/v1/sales/%1B%0Ax/pause"])
def test_an_api_path_that_names_no_route_is_a_json_404(owner, path: str) -> None:
    response = api_client(owner).post(path)
    assert response.status_code == 404
    assert response.json()["status"] == "not_found"


@pytest.mark.parametrize("body", ["1249", "[]", '"text"', "null", '{"product_name": "x", "colour": "red"}'])
def test_a_patch_that_is_not_an_object_of_known_fields_is_422(owner, body: str) -> None:
    client = api_client(owner)
    sale = make_sale(owner)
    response = client.patch(f"/api/v1/sales/{sale.pk}", body, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    assert Sale.objects.get(pk=sale.pk).updated_at == sale.updated_at
