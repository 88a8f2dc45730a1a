"""The buy API's request and answer bodies (pydantic: the hot path validates
with them directly, ninja documents them)."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import BaseModel


class BuyIn(BaseModel):
    """Plain pydantic, not ninja's Schema: its extra validator (for ORM objects)
    costs time on the hot path and has nothing to do here."""

    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f]+$",
        description="The shopper's id: trusted only in demo mode. Otherwise the shopper is the "
        "fg_shopper cookie's or the X-Shopper-Token's; omit it, or send that same id.",
    )
    quantity: int = Field(default=1, ge=1, le=1000)


class BuyOut(Schema):
    status: str = Field(
        description="accepted, accepted_pending, rate_limited, sold_out, not_started, paused, ended, "
        "limit_reached, not_found, idempotency_key_reused, invalid, unavailable, shopper_required, "
        "shopper_invalid"
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
    userId: str | None = None  # as BuyIn.user_id: trusted only in demo mode
