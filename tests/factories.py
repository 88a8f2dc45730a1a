"""Merchants, sales and API clients for tests, made through the real services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from sales import merchants, services
from sales.models import MerchantToken, Sale

PASSWORD = "correct-horse-battery-staple"

# A valid body for POST /api/v1/sales.
NEW_SALE = {
    "product_name": "iPhone 15",
    "sku": "iphone-15",
    "unit_price": "449.00",
    "currency": "EUR",
    "quantity": 100,
    "starts_at": "2030-01-01T10:00:00Z",
    "ends_at": "2030-01-01T11:00:00Z",
    "per_user_limit": 2,
    "rate": 500,
    "burst": 800,
    "admission_rate": 40,
}


def make_merchant(username: str) -> Any:
    return merchants.merchant_create(username=username, password=PASSWORD)


def make_sale(merchant: Any, *, live: bool = False, **fields: Any) -> Sale:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "product_name": "Phone",
        "sku": f"sku-{Sale.objects.count() + 1}-{merchant.pk}",
        "unit_price": Decimal("499.00"),
        "quantity": 100,
        "starts_at": now,
        "ends_at": now + timedelta(hours=1),
        # The suite's shoppers all come from 127.0.0.1 and mint their cookies for free:
        # the defaults against bots are off unless a test is about them.
        "units_per_address": 0,
        "admissions_per_address": 0,
        "proof_bits": 0,
    }
    sale = services.sale_create(merchant=merchant, **{**defaults, **fields})
    return services.sale_go_live(sale_id=sale.pk) if live else sale


def api_client(merchant: Any) -> Client:
    """A test client that sends the merchant's bearer token on every request."""
    _, raw = MerchantToken.issue(merchant=merchant, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


# What a merchant types into the admin's Add sale form (split date and time fields).
ADMIN_SALE_FORM = {
    "product_name": "Console",
    "sku": "console-1",
    "unit_price": "299.00",
    "currency": "EUR",
    "quantity": "50",
    "starts_at_0": "2030-01-01",
    "starts_at_1": "10:00:00",
    "ends_at_0": "2030-01-01",
    "ends_at_1": "11:00:00",
    "per_user_limit": "1",
    "units_per_address": "4",
    "admissions_per_address": "10",
    "proof_bits": "18",
    "rate": "100",
    "burst": "100",
    "admission_rate": "10",
}
