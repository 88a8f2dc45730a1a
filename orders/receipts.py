"""A shopper's receipts: the orders the server accepted for them, as the server has
them, for the pages to show after a reload, a sell-out, a pause or the end.

An accepted order is first in the sale's Redis ledger (the commit point, written by
buy.lua), then, within a second or so, a row of orders_order (the consumer), after
which it leaves the ledger. A receipt is read from the row when there is one
("confirmed") and from the ledger otherwise ("being_confirmed"): either way it is
what the server decided, never what the page remembers.

A receipt has a link of its own that the shopper can keep: /sales/<sale>/orders/<order>/
with a signature of the two ids (django.core.signing, salt "flux.receipt"), so that
the link needs no cookie and cannot be guessed for someone else's order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import redis
from django.core import signing
from django.urls import reverse

from infra.clients import redis_client
from infra.errors import ServiceUnavailable
from orders.message import IncomingOrder, PoisonMessage, order_decode
from orders.models import Order
from sales import keys

RECEIPT_SALT = "flux.receipt"
SHOWN_PER_SHOPPER = 20  # a shopper's receipts on one sale page (the per-shopper limit keeps it small)


class ReceiptStatus:
    CONFIRMED = "confirmed"  # in PostgreSQL, exactly once
    BEING_CONFIRMED = "being_confirmed"  # accepted (in the ledger), not written to PostgreSQL yet


@dataclass(frozen=True, slots=True)
class Receipt:
    order_id: str
    sale_id: int
    quantity: int
    unit_price: Decimal
    accepted_at: datetime
    status: str
    shopper: str  # whose it is (never shown: the page checks it against the cookie)

    @property
    def accepted_at_ms(self) -> int:
        return int(self.accepted_at.timestamp() * 1000)

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def url(self) -> str:
        return receipt_url(sale_id=self.sale_id, order_id=self.order_id)

    def as_json(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "quantity": self.quantity,
            "unit_price": str(self.unit_price),
            "accepted_at_ms": self.accepted_at_ms,
            "status": self.status,
            "url": self.url,
        }


def _signer() -> signing.Signer:
    return signing.Signer(salt=RECEIPT_SALT)


def receipt_signature(*, sale_id: int, order_id: str) -> str:
    return _signer().signature(f"{sale_id}:{order_id}")


def receipt_url(*, sale_id: int, order_id: str) -> str:
    """The link of one receipt; anyone holding it sees that one order."""
    path = reverse("receipt", kwargs={"sale_id": sale_id, "order_id": order_id})
    return f"{path}?k={receipt_signature(sale_id=sale_id, order_id=order_id)}"


def receipt_signature_valid(*, sale_id: int, order_id: str, signature: str) -> bool:
    return signing.constant_time_compare(signature, receipt_signature(sale_id=sale_id, order_id=order_id))


def _receipt(order: Order | IncomingOrder, status: ReceiptStatus) -> Receipt:
    """A receipt from an order's row (confirmed) or its ledger entry (being confirmed):
    both carry the same fields."""
    return Receipt(
        order_id=str(order.order_id),
        sale_id=order.sale_id,
        quantity=order.quantity,
        unit_price=order.unit_price,
        accepted_at=order.accepted_at,
        status=status,
        shopper=order.user_id,
    )


def _of_row(order: Order) -> Receipt:
    return _receipt(order, ReceiptStatus.CONFIRMED)


def _ledger_order(raw: bytes) -> IncomingOrder | None:
    try:
        return order_decode(raw)
    except PoisonMessage:
        return None  # never an order (the consumer dead-letters it): no receipt either


def _of_ledger(order: IncomingOrder) -> Receipt:
    return _receipt(order, ReceiptStatus.BEING_CONFIRMED)


def receipt_get(*, sale_id: int, order_id: str) -> Receipt | None:
    """One order's receipt: its row, or its ledger entry while it has no row; None
    when the sale accepted no such order. ServiceUnavailable: no row and Redis down."""
    try:
        uuid.UUID(order_id)
    except ValueError:
        return None
    row = Order.objects.filter(sale_id=sale_id, order_id=order_id).first()
    if row is not None:
        return _of_row(row)
    try:
        raw = redis_client().hget(keys.ledger_key(sale_id), order_id)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    order = _ledger_order(raw) if raw is not None else None
    return _of_ledger(order) if order is not None and order.sale_id == sale_id else None


@dataclass(frozen=True, slots=True)
class ShopperReceipts:
    receipts: list[Receipt]  # newest first
    # Units the shopper was sold (buy.lua's per-shopper count) that no receipt above
    # shows yet: accepted, and neither in PostgreSQL nor found in the ledger this moment.
    units_unlisted: int


def shopper_receipts(*, sale_id: int, shopper: str) -> ShopperReceipts:
    """Every order the server accepted for `shopper` on the sale: the rows, then the
    ledger entries of the units buy.lua counted for the shopper beyond them. The
    ledger is looked through only when the shopper has such units (rarely: the
    consumer writes an order within a second), and only its pending entries."""
    rows = [
        _of_row(order) for order in Order.objects.filter(sale_id=sale_id, user_id=shopper)[:SHOWN_PER_SHOPPER]
    ]
    try:
        counted = redis_client().hget(keys.users_key(sale_id), shopper)
        unlisted = max(0, int(counted or 0) - sum(receipt.quantity for receipt in rows))
        pending: list[Receipt] = []
        if unlisted:
            pending = _pending_of(sale_id=sale_id, shopper=shopper, known={r.order_id for r in rows})
            unlisted = max(0, unlisted - sum(receipt.quantity for receipt in pending))
    except redis.RedisError:
        return ShopperReceipts(receipts=rows, units_unlisted=0)  # the rows are still the truth
    receipts = sorted(pending + rows, key=lambda receipt: receipt.accepted_at, reverse=True)
    return ShopperReceipts(receipts=receipts, units_unlisted=unlisted)


LEDGER_LOOKED_AT = 5_000  # pending entries read for one page at most (the newest)


def _pending_of(*, sale_id: int, shopper: str, known: set[str]) -> list[Receipt]:
    client = redis_client()
    order_ids = [raw.decode() for raw in client.zrevrange(keys.pending_key(sale_id), 0, LEDGER_LOOKED_AT - 1)]
    found = []
    for raw in client.hmget(keys.ledger_key(sale_id), order_ids) if order_ids else []:
        order = _ledger_order(raw) if raw is not None else None
        if order is not None and order.user_id == shopper and str(order.order_id) not in known:
            found.append(_of_ledger(order))
    return found


def receipt_time(receipt: Receipt) -> str:
    """The accepted time as the pages write it: UTC, the zone of every page."""
    return receipt.accepted_at.astimezone(UTC).strftime("%d %b %Y, %H:%M:%S UTC")
