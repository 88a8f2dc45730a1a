"""What the shopper's pages show (the sale page, the waiting room and its polling
endpoint): reads only, from the sale's row and its live state in Redis.

The figures here are the ones the admitter broadcasts each tick
(waitingroom/broadcast.py, tick_message), read on demand for a page that polls
instead of holding a websocket, so that the page draws both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import redis

from infra.clients import redis_client, redis_ms
from infra.errors import ServiceUnavailable
from sales import keys
from sales.models import Sale, SaleStatus

SHOWCASE_FIELDS = (
    "product_name", "unit_price", "currency", "quantity", "per_user_limit", "starts_at", "ends_at",
    "queue_opens_at", "admission_rate", "image_url", "proof_bits",
)  # fmt: skip
STATE_FIELDS = ("status", "remaining", "admission_rate", "starts_ms", "ends_ms", "quantity")


@dataclass(frozen=True, slots=True)
class RoomFigures:
    """A sale's queue as every watcher sees it (the tick message's fields)."""

    sale_id: int
    status: str  # live, scheduled, paused, sold_out, ended: the shopper's view, as admit.lua's
    serving: int  # the highest ticket admitted or passed so far
    waiting: int
    admission_rate: int
    remaining: int
    quantity: int  # the units on sale, restocks included
    now_ms: int  # Redis's clock when these were read (the pages set their clock by it)
    drawn_ms: int = 0  # when the pre-queue was shuffled at the start (0: not, or none)

    def as_message(self) -> dict[str, object]:
        return {
            "sale_id": self.sale_id,
            "status": self.status,
            "serving": self.serving,
            "waiting": self.waiting,
            "admission_rate": self.admission_rate,
            "remaining": self.remaining,
            "quantity": self.quantity,
            "now_ms": self.now_ms,
            "drawn_ms": self.drawn_ms,
        }


def shopper_status(*, status: str, remaining: int, starts_ms: int, ends_ms: int, now_ms: int) -> str:
    """The sale's status as a shopper sees it, in admit.lua's order (which the
    broadcast carries): ended, scheduled, paused, sold out, live."""
    if status == SaleStatus.ENDED or 0 < ends_ms <= now_ms:
        return "ended"
    if status == SaleStatus.SCHEDULED or now_ms < starts_ms:
        return "scheduled"
    if status != SaleStatus.PAUSED and remaining <= 0:
        return "sold_out"
    return "paused" if status == SaleStatus.PAUSED else "live"


def room_figures(*, sale_id: int) -> RoomFigures | None:
    """The sale's queue figures now (one Redis round trip), or None when the sale
    has no live state (a draft, unknown, or Redis lost it)."""
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            pipe.hmget(keys.state_key(sale_id), *STATE_FIELDS)
            pipe.get(keys.queue_key(sale_id, "serving"))
            pipe.zcard(keys.queue_key(sale_id, "waiting"))
            pipe.hget(keys.queue_key(sale_id, "draw"), "drawn_ms")
            pipe.time()
            state, serving, waiting, drawn_ms, redis_time = pipe.execute()
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    status, remaining, admission_rate, starts_ms, ends_ms, quantity = state
    if status is None:
        return None
    now_ms = redis_ms(redis_time)
    return RoomFigures(
        sale_id=sale_id,
        status=shopper_status(
            status=status.decode(),
            remaining=int(remaining or 0),
            starts_ms=int(starts_ms or 0),
            ends_ms=int(ends_ms or 0),
            now_ms=now_ms,
        ),
        serving=int(serving or 0),
        waiting=int(waiting),
        admission_rate=int(admission_rate or 0),
        remaining=int(remaining or 0),
        quantity=int(quantity or 0),
        now_ms=now_ms,
        drawn_ms=int(drawn_ms or 0),
    )


@dataclass(frozen=True, slots=True)
class SaleShowcase:
    """What the sale page shows: the product and its terms (public fields only)."""

    sale_id: int
    product_name: str
    unit_price: Decimal
    currency: str
    quantity: int
    per_user_limit: int
    starts_at: datetime | None
    ends_at: datetime | None
    queue_opens_at: datetime | None = None  # the pre-queue opens then (None: once scheduled)
    admission_rate: int = 0  # shoppers let in from the line per second (the wait's estimate)
    image_url: str = ""  # the product's picture, if the merchant gave one
    proof_bits: int = 0  # the proof of work a browser does for a shopper cookie (waitingroom/proof.py)


def sale_showcase(*, sale_id: int) -> SaleShowcase | None:
    """A public sale's product and terms; None for an unknown sale or a draft
    (drafts are not public)."""
    sale = Sale.objects.filter(pk=sale_id).exclude(status=SaleStatus.DRAFT).only(*SHOWCASE_FIELDS).first()
    if sale is None:
        return None
    return SaleShowcase(
        sale_id=sale.pk,
        product_name=sale.product_name,
        unit_price=sale.unit_price,
        currency=sale.currency,
        quantity=sale.quantity,
        per_user_limit=sale.per_user_limit,
        starts_at=sale.starts_at,
        ends_at=sale.ends_at,
        queue_opens_at=sale.queue_opens_at,
        admission_rate=sale.admission_rate,
        image_url=sale.image_url,
        proof_bits=sale.proof_bits,
    )
