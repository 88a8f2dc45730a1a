"""The buy API's request and answer bodies (pydantic: the hot path validates
with them directly, ninja documents them)."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel

from sales.validation import TEXT_PATTERN, text_problem


def _shopper_id(value: str) -> str:
    problem = text_problem(value)  # blank (the pattern refuses control characters)
    if problem:
        raise ValueError(problem)
    return value


# A shopper id: 1-128 characters, no control characters or bidi overrides, not blank.
ShopperId = Annotated[
    str, Field(min_length=1, max_length=128, pattern=TEXT_PATTERN), AfterValidator(_shopper_id)
]


class BuyIn(BaseModel):
    """Plain pydantic, not ninja's Schema: its extra validator (for ORM objects)
    costs time on the hot path and has nothing to do here."""

    user_id: ShopperId | None = Field(
        default=None,
        description="The shopper's id: trusted only in demo mode. Otherwise the shopper is the "
        "fg_shopper cookie's or the X-Shopper-Token's; omit it, or send that same id.",
    )
    # Strict: "1", 1.0 and true are refused, not taken for 1.
    quantity: int = Field(default=1, ge=1, le=1000, strict=True)


class BuyOut(Schema):
    status: str = Field(
        description="accepted, accepted_pending, rate_limited, sold_out, not_started, paused, ended, "
        "limit_reached, address_limit_reached, not_found, idempotency_key_reused, invalid, unavailable, "
        "shopper_required, shopper_invalid, proof_required"
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

    productId: str = Field(max_length=64)  # a SKU; one not on sale is simply not found
    userId: str | None = None  # as BuyIn.user_id (checked by it): trusted only in demo mode
