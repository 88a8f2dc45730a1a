"""The OpenAPI schema (/api/openapi.json) states the real contract, so generated
clients and fuzzers (tests/test_api_fuzz.py) meet the API as it is: the buy
route's required Idempotency-Key header and its other headers, the sale fields'
bounds, and every status the routes answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operation(schema: dict, method: str, path: str) -> dict:
    return schema["paths"][path][method]


def test_the_buy_route_documents_its_headers(schema) -> None:
    buy = operation(schema, "post", "/api/v1/sales/{sale_id}/buy")
    headers = {p["name"]: p for p in buy["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["required"] is True
    assert headers["Idempotency-Key"]["schema"]["pattern"] == "^[A-Za-z0-9._:-]{1,128}$"
    assert {"X-Shopper-Token", "Admission-Token"} <= set(headers)
    assert {"200", "202", "302", "400", "401", "403", "404", "409", "413", "422", "429", "503"} <= set(
        buy["responses"]
    )


def test_the_buy_body_is_bounded(schema) -> None:
    buy = operation(schema, "post", "/api/v1/sales/{sale_id}/buy")
    body = buy["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert (body["quantity"]["minimum"], body["quantity"]["maximum"]) == (1, 1000)
    assert body["user_id"]["anyOf"][0]["maxLength"] == 128


def test_sale_fields_carry_their_constraints(schema) -> None:
    fields = schema["components"]["schemas"]["SaleIn"]["properties"]
    assert (fields["quantity"]["minimum"], fields["quantity"]["maximum"]) == (1, 10_000_000)
    assert fields["product_name"]["maxLength"] == 200 and "pattern" in fields["product_name"]
    assert fields["sku"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    assert fields["currency"]["pattern"] == "^[A-Z]{3}$"
    assert (fields["rate"]["minimum"], fields["burst"]["maximum"]) == (1, 1_000_000)
    assert schema["components"]["schemas"]["RestockIn"]["properties"]["units"]["minimum"] == 1


def test_sale_ids_are_bounded_like_the_database_s(schema) -> None:
    get = operation(schema, "get", "/api/v1/sales/{sale_id}")
    sale_id = next(p for p in get["parameters"] if p["name"] == "sale_id")
    assert (sale_id["schema"]["minimum"], sale_id["schema"]["maximum"]) == (1, 2**63 - 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/sales"),
        ("get", "/api/v1/sales"),
        ("patch", "/api/v1/sales/{sale_id}"),
        ("post", "/api/v1/sales/{sale_id}/restock"),
        ("post", "/api/v1/sales/{sale_id}/pause"),
    ],
)
def test_merchant_routes_document_400_and_403(schema, method: str, path: str) -> None:
    """400: a body that is not JSON; 403: a session call without its CSRF token."""
    assert {"400", "403"} <= set(operation(schema, method, path)["responses"])


def test_a_sale_id_past_bigint_is_404_not_500(owner) -> None:
    from tests.factories import api_client

    response = api_client(owner).get(f"/api/v1/sales/{10**30}")
    assert response.status_code in (404, 422), response.content
