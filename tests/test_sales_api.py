"""The merchant sales API (/api/v1/sales): create, read live figures, change state."""

from __future__ import annotations

import pytest
from django.test import Client

from sales.models import Sale
from tests.factories import NEW_SALE, api_client

pytestmark = pytest.mark.django_db


def test_create_then_run_a_sale(owner) -> None:
    client = api_client(owner)
    created = client.post("/api/v1/sales", NEW_SALE, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    sale_id = body["id"]
    assert body["status"] == "draft"
    assert body["merchant"] == "owner"
    assert body["figures"] == {
        "quantity": 100,
        "sold": 0,
        "remaining": 100,
        "persisted_orders": 0,
        "live_status": None,
    }

    live = client.post(f"/api/v1/sales/{sale_id}/go-live")
    assert live.status_code == 200
    assert live.json()["status"] == "live"
    assert live.json()["figures"]["live_status"] == "live"

    assert client.post(f"/api/v1/sales/{sale_id}/pause").json()["status"] == "paused"
    assert client.post(f"/api/v1/sales/{sale_id}/resume").json()["status"] == "live"
    restocked = client.post(
        f"/api/v1/sales/{sale_id}/restock", {"units": 20}, content_type="application/json"
    )
    assert restocked.json()["figures"]["remaining"] == 120
    assert client.post(f"/api/v1/sales/{sale_id}/end").json()["status"] == "ended"

    fetched = client.get(f"/api/v1/sales/{sale_id}").json()
    assert fetched["status"] == "ended"
    assert fetched["quantity"] == 120


def test_invalid_transition_is_409_naming_the_status(owner) -> None:
    client = api_client(owner)
    sale_id = client.post("/api/v1/sales", NEW_SALE, content_type="application/json").json()["id"]
    response = client.post(f"/api/v1/sales/{sale_id}/resume")
    assert response.status_code == 409
    assert response.json()["status"] == "invalid_transition"
    assert "it is draft" in response.json()["detail"]


def test_anonymous_calls_are_401(owner) -> None:
    anonymous = Client()
    assert anonymous.get("/api/v1/sales").status_code == 401
    response = anonymous.post("/api/v1/sales", NEW_SALE, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["status"] == "unauthorized"
    assert Client(HTTP_AUTHORIZATION="Bearer fg_not-a-token").get("/api/v1/sales").status_code == 401
    assert Sale.objects.count() == 0


def test_tokens_are_stored_hashed(owner) -> None:
    from sales.models import MerchantToken

    token, raw = MerchantToken.issue(merchant=owner, name="ci")
    stored = MerchantToken.objects.get(pk=token.pk)
    assert raw not in (stored.token_hash, stored.hint)
    assert len(stored.token_hash) == 64
    assert MerchantToken.find(raw) == stored


def test_openapi_schema_lists_the_sales_routes() -> None:
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert "/api/v1/sales" in paths
    assert "/api/v1/sales/{sale_id}/restock" in paths
