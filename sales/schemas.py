"""Request and response shapes of the sales API. Types and bounds are checked
here, with the model's own limits (so the OpenAPI schema states them); rules
across fields (end after start, one open sale per SKU) live once, on the model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from sales.models import (
    MAX_PER_USER_LIMIT,
    MAX_PRICE,
    MAX_PROOF_BITS,
    MAX_QUANTITY,
    MAX_RATE,
    SKU_PATTERN,
)
from sales.validation import IMAGE_URL_PATTERN, Moment, StrictInt, Text

ProductName = Text(200)
Sku = Text(64, pattern=SKU_PATTERN)
ImageUrl = Annotated[
    str,
    Field(
        max_length=500,
        pattern=IMAGE_URL_PATTERN,
        description="The product's picture: an https:// address or a path on this site; empty: none.",
    ),
]
Currency = Text(3, pattern=r"^[A-Z]{3}$")
Price = Annotated[Decimal, Field(ge=Decimal("0.01"), le=MAX_PRICE, max_digits=10, decimal_places=2)]
Quantity = StrictInt(1, MAX_QUANTITY)
PerUserLimit = StrictInt(1, MAX_PER_USER_LIMIT)
Rate = StrictInt(1, MAX_RATE)
PerAddress = StrictInt(0, MAX_QUANTITY)
ProofBits = StrictInt(0, MAX_PROOF_BITS)


class Body(BaseModel):
    """A request body: a JSON object with only the documented fields. Plain
    pydantic, not ninja's Schema, whose validator for ORM objects read any value
    (a bare number, a list) as an object with every field missing: a PATCH of
    `1249` was taken as an empty edit."""

    model_config = ConfigDict(extra="forbid")


class SaleIn(Body):
    product_name: ProductName  # type: ignore[valid-type]
    image_url: ImageUrl | None = None
    sku: Sku  # type: ignore[valid-type]
    unit_price: Price
    currency: Currency = "EUR"  # type: ignore[valid-type]
    quantity: Quantity  # type: ignore[valid-type]
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    queue_opens_at: Moment | None = Field(
        None, description="When the line (the pre-queue) opens before starts_at; none: once scheduled."
    )
    per_user_limit: PerUserLimit = 1  # type: ignore[valid-type]
    units_per_address: PerAddress = Field(  # type: ignore[valid-type]
        4, description="Units the hosted pages' shoppers behind one address may buy in all; 0: no cap."
    )
    admissions_per_address: PerAddress = Field(  # type: ignore[valid-type]
        10, description="Waiting-room turns shoppers behind one address get in all; 0: no cap."
    )
    proof_bits: ProofBits = Field(  # type: ignore[valid-type]
        18, description="Proof of work a browser does for a shopper identity: about 2^bits hashes; 0: none."
    )
    admission_rate: Rate = 50  # type: ignore[valid-type]
    rate: Rate = 1000  # type: ignore[valid-type]
    burst: Rate = 2000  # type: ignore[valid-type]


class SalePatch(Body):
    product_name: ProductName | None = None  # type: ignore[valid-type]
    image_url: ImageUrl | None = None
    sku: Sku | None = None  # type: ignore[valid-type]
    unit_price: Price | None = None
    currency: Currency | None = None  # type: ignore[valid-type]
    quantity: Quantity | None = None  # type: ignore[valid-type]
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    queue_opens_at: Moment | None = None
    per_user_limit: PerUserLimit | None = None  # type: ignore[valid-type]
    units_per_address: PerAddress | None = None  # type: ignore[valid-type]
    admissions_per_address: PerAddress | None = None  # type: ignore[valid-type]
    proof_bits: ProofBits | None = None  # type: ignore[valid-type]
    admission_rate: Rate | None = None  # type: ignore[valid-type]
    rate: Rate | None = None  # type: ignore[valid-type]
    burst: Rate | None = None  # type: ignore[valid-type]


class RestockIn(Body):
    units: StrictInt(1, MAX_QUANTITY) = Field(description="Units to add (≥ 1).")  # type: ignore[valid-type]


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
    image_url: str
    sku: str
    unit_price: Decimal
    currency: str
    quantity: int
    starts_at: datetime | None
    ends_at: datetime | None
    queue_opens_at: datetime | None
    per_user_limit: int
    units_per_address: int
    admissions_per_address: int
    proof_bits: int
    admission_rate: int
    rate: int
    burst: int
    status: str
    figures: FiguresOut


class ErrorOut(Schema):
    status: str = Field(description="Machine-readable outcome, e.g. invalid, not_found, invalid_transition.")
    detail: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


class InitIn(Body):
    """The seed's POST /init body."""

    productId: Sku  # type: ignore[valid-type]
    quantity: Quantity  # type: ignore[valid-type]
    price: Price = Decimal("1.00")


class InitOut(Schema):
    message: str
    productId: str
    quantity: int
    saleId: int
