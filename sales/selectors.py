"""Reads on sales, always scoped to who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from flux_admin.errors import ApplicationError
from orders.selectors import order_count_persisted
from sales.live import LiveState, live_state, live_states
from sales.models import Sale


def can_see_all(user: Any) -> bool:
    """Platform operators (superusers) see every merchant's sales."""
    return bool(user.is_superuser)


def sale_list(*, user: Any) -> QuerySet[Sale]:
    sales = Sale.objects.select_related("merchant")
    return sales if can_see_all(user) else sales.filter(merchant=user)


def sale_get(*, user: Any, sale_id: int) -> Sale:
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
        return SaleFigures(sale.quantity, 0, sale.quantity, persisted_orders, None)
    return SaleFigures(state.quantity, state.sold, state.remaining, persisted_orders, state.status)


def sale_figures(*, sale: Sale) -> SaleFigures:
    """Sold and remaining from the live state in Redis, orders from PostgreSQL."""
    return _figures(sale, live_state(sale.pk), order_count_persisted(sale_id=sale.pk))


def sale_figures_many(*, sales: list[Sale]) -> dict[int, SaleFigures]:
    from django.db.models import Count

    from orders.models import Order

    states = live_states([sale.pk for sale in sales])
    counts = dict(
        Order.objects.filter(sale__in=sales).values("sale").annotate(n=Count("pk")).values_list("sale", "n")
    )
    return {sale.pk: _figures(sale, states[sale.pk], counts.get(sale.pk, 0)) for sale in sales}
