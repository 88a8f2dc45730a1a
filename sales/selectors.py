"""Reads on sales, always scoped to who is asking."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from infra.errors import ApplicationError, ServiceUnavailable
from sales.live import LiveState, live_state, live_states
from sales.merchants import can_see_all
from sales.models import OPEN_STATUSES, Sale, SaleStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User as Merchant


def sale_list(*, user: Merchant) -> QuerySet[Sale]:
    sales = Sale.objects.select_related("merchant")
    return sales if can_see_all(user) else sales.filter(merchant=user)


def sale_ids_open_or_ended_since(*, since: datetime) -> list[int]:
    """Every open sale's id (scheduled, live, paused, sold out) and those that ended at
    `since` or later, in id order: what the loops that look after live sales visit (the
    admitter's ticks, the re-publisher's pass over the ledgers)."""
    recent = Sale.objects.filter(Q(status__in=OPEN_STATUSES) | Q(ended_at__gte=since))
    return list(recent.order_by("pk").values_list("pk", flat=True))


def sale_get(*, user: Merchant, sale_id: int) -> Sale:
    """The sale if the user may see it. Another merchant's sale is "not found",
    exactly like a missing one, so ids cannot be probed."""
    sale = sale_list(user=user).filter(pk=sale_id).first()
    if sale is None:
        raise ApplicationError("not_found", f"No sale {sale_id}.")
    return sale


@dataclass(frozen=True)
class SaleFigures:
    quantity: int
    sold: int
    remaining: int
    persisted_orders: int
    live_status: str | None  # None: no state in Redis (draft, or lost)


def _figures(sale: Sale, state: LiveState | None, persisted_orders: int) -> SaleFigures:
    if state is None:
        # A draft, a sale whose state was lost, or an ended one whose state expired:
        # the system of record's figures (units with an order row).
        sold = sale.persisted_units
        return SaleFigures(sale.quantity, sold, max(0, sale.quantity - sold), persisted_orders, None)
    return SaleFigures(state.quantity, state.sold, state.remaining, persisted_orders, state.status)


def sale_figures(*, sale: Sale) -> SaleFigures:
    """Sold and remaining from the live state in Redis, orders from PostgreSQL."""
    return sale_figures_many(sales=[sale])[sale.pk]


def sale_figures_many(*, sales: list[Sale]) -> dict[int, SaleFigures]:
    """The figures of several sales: one Redis round trip, one query. Orders are
    counted through the sale's reverse relation: sales never imports the orders
    app (orders depends on sales, not the other way)."""
    states = live_states([sale.pk for sale in sales])
    counts = dict(
        Sale.objects.filter(pk__in=[sale.pk for sale in sales])
        .annotate(persisted_orders=Count("orders"))
        .values_list("pk", "persisted_orders")
    )
    return {sale.pk: _figures(sale, states[sale.pk], counts.get(sale.pk, 0)) for sale in sales}


class ShopperSaleState(StrEnum):
    """What a shopper may be told about a sale on a public page."""

    UNKNOWN = "unknown"  # no such sale, or a draft (drafts are not public)
    OPEN = "open"  # scheduled, live or paused: it may still sell
    SOLD_OUT = "sold_out"
    ENDED = "ended"


def _shopper_state_of_live(state: LiveState) -> ShopperSaleState:
    # The buy script's order (orders/buy/buy.lua): ended first, then not started or
    # paused, then stock; so the page says what a Buy would be answered.
    if state.status == SaleStatus.ENDED or 0 < state.ends_ms <= time.time() * 1000:
        return ShopperSaleState.ENDED
    if state.status in (SaleStatus.SCHEDULED, SaleStatus.PAUSED):
        return ShopperSaleState.OPEN
    if state.status == SaleStatus.SOLD_OUT or state.remaining <= 0:
        return ShopperSaleState.SOLD_OUT
    return ShopperSaleState.OPEN


def sale_shopper_state(*, sale_id: int) -> ShopperSaleState:
    """Any sale's public state, whoever asks (not scoped: shoppers see it).

    From the live state in Redis where the sale has one: it is what the buy API
    decides against (Redis knows a sale sold out before the sweep records it),
    and the herd sent to the waiting room reads it without touching PostgreSQL.
    Else from the row: a draft, a sale whose state Redis lost, or Redis down (the
    page can still say something true)."""
    try:
        state = live_state(sale_id)
    except ServiceUnavailable:
        state = None
    if state is not None:
        return _shopper_state_of_live(state)
    sale = Sale.objects.filter(pk=sale_id).only("status", "ends_at").first()
    if sale is None or sale.status == SaleStatus.DRAFT:
        return ShopperSaleState.UNKNOWN
    if sale.status == SaleStatus.ENDED or (sale.ends_at is not None and sale.ends_at <= timezone.now()):
        return ShopperSaleState.ENDED
    if sale.status == SaleStatus.SOLD_OUT:
        return ShopperSaleState.SOLD_OUT
    return ShopperSaleState.OPEN


def sale_needs_rearm(*, sale: Sale) -> bool:
    """Whether Re-arm has work to do: an open sale (one that should hold live
    state in Redis, the statuses services.TRANSITIONS["rearm"] starts from) has
    none, so Redis lost it. A draft never had any; an ended sale keeps its own."""
    return sale.status in OPEN_STATUSES and live_state(sale.pk) is None
