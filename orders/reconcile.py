"""Reconciliation: do Redis (what was sold), the ledger (what is in flight) and
PostgreSQL (what is persisted) agree about a sale?"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from infra.clients import redis_client
from infra.kafka import orders_backlog
from orders.models import Order, OrderAnomaly
from sales import keys
from sales.live import live_state
from sales.models import Sale, SaleStatus


@dataclass(frozen=True)
class Reconciliation:
    sale_id: int
    status: str
    quantity: int
    remaining: int | None  # Redis
    sold: int | None  # Redis: units reserved
    reservations_in_ledger: int
    pending_reservations: int
    orders_persisted: int
    units_persisted: int
    consumer_lag: int | None
    anomalies: int
    drift: int | None  # sold - units persisted: in flight now, a loss if it never settles

    @property
    def settled(self) -> bool:
        return (
            self.drift == 0
            and self.anomalies == 0
            and self.remaining is not None
            and self.remaining + self.units_persisted == self.quantity
        )

    def lines(self) -> list[str]:
        return [f"{name:24} {value}" for name, value in asdict(self).items()] + [
            f"{'settled':24} {self.settled}"
        ]


def sale_reconcile(*, sale_id: int) -> Reconciliation:
    sale = Sale.objects.get(pk=sale_id)
    state = live_state(sale_id)
    client = redis_client()
    persisted = Order.objects.filter(sale_id=sale_id).aggregate(units=Sum("quantity"))["units"] or 0
    try:
        lag = orders_backlog()
    except Exception:
        lag = None
    quantity = state.quantity if state else sale.quantity
    return Reconciliation(
        sale_id=sale_id,
        status=sale.status,
        quantity=quantity,
        remaining=state.remaining if state else None,
        sold=state.sold if state else None,
        reservations_in_ledger=client.hlen(keys.ledger_key(sale_id)),
        pending_reservations=client.zcard(keys.pending_key(sale_id)),
        orders_persisted=Order.objects.filter(sale_id=sale_id).count(),
        units_persisted=persisted,
        consumer_lag=lag,
        anomalies=OrderAnomaly.objects.filter(sale_id=sale_id).count(),
        drift=(state.sold - persisted) if state else None,
    )


def sale_reconcile_until_settled(*, sale_id: int, seconds: float) -> Reconciliation:
    """Re-check for up to `seconds` while orders are still in flight."""
    deadline = time.monotonic() + seconds
    report = sale_reconcile(sale_id=sale_id)
    while not report.settled and time.monotonic() < deadline:
        time.sleep(1)
        report = sale_reconcile(sale_id=sale_id)
    return report


def final_reports_store() -> list[int]:
    """Store the final report of ended sales whose books have settled."""
    stored = []
    recent = timezone.now() - timedelta(days=1)
    for sale_id in Sale.objects.filter(
        status=SaleStatus.ENDED, final_report__isnull=True, ended_at__gte=recent
    ).values_list("pk", flat=True):
        report = sale_reconcile(sale_id=sale_id)
        if report.settled:
            Sale.objects.filter(pk=sale_id).update(final_report={**asdict(report), "settled": True})
            stored.append(sale_id)
    return stored
