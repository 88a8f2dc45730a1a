"""Request and response shapes of the sales API. Types are checked here; the
rules (bounds, SKU syntax, end after start) live once, on the model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema
from pydantic import AwareDatetime, BaseModel


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


class BuyIn(BaseModel):
    """Plain pydantic, not ninja's Schema: its extra validator (for ORM objects)
    costs time on the hot path and has nothing to do here."""

    user_id: str = Field(
        min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$", description="The shopper's id."
    )
    quantity: int = Field(default=1, ge=1, le=1000)


class BuyOut(Schema):
    status: str = Field(
        description="accepted, accepted_pending, rate_limited, sold_out, not_started, paused, ended, "
        "limit_reached, not_found, idempotency_key_reused, invalid, unavailable"
    )
    detail: str
    sale_id: int | None = None
    order_id: str | None = Field(
        default=None, description="On accepted: the order's id, all the way to PostgreSQL."
    )
    user_id: str | None = None
    quantity: int | None = None
    accepted_at_ms: int | None = None


class OrderIn(BaseModel):
    """The seed's POST /order body."""

    productId: str
    userId: str
