"""Request and response shapes of the sales API. Types are checked here; the
rules (bounds, SKU syntax, end after start) live once, on the model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema
from pydantic import AwareDatetime


class SaleIn(Schema):
    product_name: str
    sku: str
    unit_price: Decimal
    currency: str = "EUR"
    quantity: int
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    per_user_limit: int = 1
    admission_rate: int = 50
    rate: int = 1000
    burst: int = 2000


class SalePatch(Schema):
    product_name: str | None = None
    sku: str | None = None
    unit_price: Decimal | None = None
    currency: str | None = None
    quantity: int | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    per_user_limit: int | None = None
    admission_rate: int | None = None
    rate: int | None = None
    burst: int | None = None


class RestockIn(Schema):
    units: int = Field(description="Units to add (≥ 1).")


class FiguresOut(Schema):
    quantity: int
    sold: int
    remaining: int
    persisted_orders: int
    live_status: str | None


class SaleOut(Schema):
    id: int
    merchant: str
    product_name: str
    sku: str
    unit_price: Decimal
    currency: str
    quantity: int
    starts_at: datetime | None
    ends_at: datetime | None
    per_user_limit: int
    admission_rate: int
    rate: int
    burst: int
    status: str
    figures: FiguresOut


class ErrorOut(Schema):
    status: str = Field(description="Machine-readable outcome, e.g. invalid, not_found, invalid_transition.")
    detail: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


class InitIn(Schema):
    """The seed's POST /init body."""

    productId: str
    quantity: int
    price: Decimal = Decimal("1.00")


class InitOut(Schema):
    message: str
    productId: str
    quantity: int
    saleId: int
