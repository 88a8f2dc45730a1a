"""GET /api/v1/sales/<id>/books: a merchant's reconcile over the API (what a
rehearsal judges persistence by), the merchant's own sale only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orders.buy.decision import buy
from tests.factories import api_client, make_sale

pytestmark = pytest.mark.django_db


def test_a_merchant_reads_the_books_of_a_sale(owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=5, per_user_limit=2)
    assert buy(sale_id=sale.pk, user_id="alice", quantity=2, idempotency_key="k1").outcome.value == "accepted"
    books = api_client(owner).get(f"/api/v1/sales/{sale.pk}/books").json()
    # Sold in Redis, not yet in PostgreSQL (no consumer here): the drift the books report.
    assert books["sold"] == 2 and books["remaining"] == 3 and books["quantity"] == 5
    assert books["units_persisted"] == 0 and books["drift"] == 2 and books["settled"] is False
    assert books["reservations_in_ledger"] == 1


def test_another_merchant_and_nobody_are_refused(owner: Any, other_merchant: Any) -> None:
    sale = make_sale(owner, live=True)
    refused = api_client(other_merchant).get(f"/api/v1/sales/{sale.pk}/books")
    assert refused.status_code == 404 and refused.json()["status"] == "not_found"
    anonymous = Client().get(f"/api/v1/sales/{sale.pk}/books")
    assert anonymous.status_code == 401
