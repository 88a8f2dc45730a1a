"""Reconciliation: do Redis (what was sold), the ledger (what is in flight) and
PostgreSQL (what is persisted) agree about a sale?"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from infra.clients import redis_client
from infra.kafka import orders_backlog
from orders.models import Order, OrderAnomaly
from sales import keys
from sales.live import live_states
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


def orders_lag() -> int | None:
    """The order consumer's backlog on Kafka, None when Kafka does not answer."""
    try:
        return orders_backlog()
    except Exception:
        return None


def sale_reconcile(*, sale_id: int) -> Reconciliation:
    """One sale's books (Sale.DoesNotExist when there is no such sale)."""
    report = sales_reconcile(sale_ids=[sale_id], consumer_lag=orders_lag()).get(sale_id)
    if report is None:
        raise Sale.DoesNotExist(f"No sale {sale_id}.")
    return report


def sales_reconcile(*, sale_ids: list[int], consumer_lag: int | None) -> dict[int, Reconciliation]:
    """The books of several sales at once (the live dashboard's ticker reads them
    every second): one Redis round trip and four queries whatever their number.
    The consumer lag is the topic's, the same for every sale: the caller measures
    it (orders_lag), once. Sales that do not exist are left out."""
    sales = Sale.objects.in_bulk(sale_ids)
    ids = sorted(sales)
    states = live_states(ids)
    pipe = redis_client().pipeline(transaction=False)
    for sale_id in ids:
        pipe.hlen(keys.ledger_key(sale_id))
        pipe.zcard(keys.pending_key(sale_id))
    in_redis = pipe.execute()
    persisted = {
        row["sale_id"]: row
        for row in Order.objects.filter(sale_id__in=ids)
        .values("sale_id")
        .annotate(orders=Count("order_id"), units=Sum("quantity"))
    }
    anomalies = dict(
        OrderAnomaly.objects.filter(sale_id__in=ids)
        .values("sale_id")
        .annotate(n=Count("pk"))
        .values_list("sale_id", "n")
    )
    reports = {}
    for index, sale_id in enumerate(ids):
        sale, state = sales[sale_id], states[sale_id]
        units = persisted.get(sale_id, {}).get("units") or 0
        reports[sale_id] = Reconciliation(
            sale_id=sale_id,
            status=sale.status,
            quantity=state.quantity if state else sale.quantity,
            remaining=state.remaining if state else None,
            sold=state.sold if state else None,
            reservations_in_ledger=in_redis[2 * index],
            pending_reservations=in_redis[2 * index + 1],
            orders_persisted=persisted.get(sale_id, {}).get("orders") or 0,
            units_persisted=units,
            consumer_lag=consumer_lag,
            anomalies=anomalies.get(sale_id, 0),
            drift=(state.sold - units) if state else None,
        )
    return reports


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
