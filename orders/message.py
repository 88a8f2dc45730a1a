"""The order message: the one definition of what an accepted order looks like on
the `orders` topic, from the buy decision to the consumer.

buy.lua writes it (JSON, in the same atomic step that reserves the units, into
the sale's ledger, fg:{id}:ledger), the buy path publishes those bytes as they
are (orders/publisher.py), the re-publisher sends the ledger's copy again, and
the consumer decodes it here. tests/test_order_message.py holds buy.lua's
output to FIELDS.

    order_id        UUID, made by the buy path: the order's identity everywhere
    sale_id         int
    sku             the sale's SKU when it was bought
    user_id         the shopper
    quantity        int >= 1
    unit_price      decimal string, the sale's price when it was bought
    currency        ISO 4217 code
    accepted_at_ms  Redis TIME when buy.lua accepted it (epoch ms)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

FIELDS = ("order_id", "sale_id", "sku", "user_id", "quantity", "unit_price", "currency", "accepted_at_ms")
# What the consumer cannot persist an order without.
REQUIRED_FIELDS = ("order_id", "sale_id", "user_id", "quantity", "unit_price", "accepted_at_ms")


class PoisonMessage(Exception):
    """A message that can never become an order; it goes to the dead-letter topic."""


@dataclass(frozen=True, slots=True)
class IncomingOrder:
    """A decoded order message, with where it was read from the topic."""

    order_id: uuid.UUID
    sale_id: int
    user_id: str
    quantity: int
    unit_price: Decimal
    accepted_at: datetime
    partition: int
    offset: int
    raw: bytes


def message_fields(value: bytes | None) -> dict:
    """The message's JSON object, as written; PoisonMessage if it is not one."""
    try:
        data = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise PoisonMessage(f"undecodable: {error}") from None
    if not isinstance(data, dict):
        raise PoisonMessage("undecodable: not a JSON object")
    return data


def order_decode(value: bytes | None, *, partition: int = -1, offset: int = -1) -> IncomingOrder:
    """Parse one message from buy.lua; raise PoisonMessage naming what is wrong."""
    data = message_fields(value)
    missing = [name for name in REQUIRED_FIELDS if data.get(name) in (None, "")]
    if missing:
        raise PoisonMessage(f"missing fields: {', '.join(missing)}")
    try:
        order = IncomingOrder(
            order_id=uuid.UUID(str(data["order_id"])),
            sale_id=int(data["sale_id"]),
            user_id=str(data["user_id"])[:128],
            quantity=int(data["quantity"]),
            unit_price=Decimal(str(data["unit_price"])),
            accepted_at=datetime.fromtimestamp(int(data["accepted_at_ms"]) / 1000, tz=UTC),
            partition=partition,
            offset=offset,
            raw=value or b"",
        )
    except (ValueError, TypeError, InvalidOperation, OverflowError) as error:
        raise PoisonMessage(f"invalid field: {error}") from None
    if order.quantity < 1:
        raise PoisonMessage("invalid field: quantity < 1")
    return order
