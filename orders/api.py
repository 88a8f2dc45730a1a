"""The merchant's books of a sale over the API: GET /api/v1/sales/<id>/books.

What reconcile (orders/reconcile.py) says, for a program rather than a terminal:
a rehearsal (rehearsal/) judges "every accepted order persisted exactly once" by it
against any Flux-Gate address. Thin: the merchant's own sale, else 404."""

from __future__ import annotations

import redis
from django.http import HttpRequest
from ninja import Router, Schema

from infra.errors import ServiceUnavailable
from orders.reconcile import sale_reconcile
from sales import selectors
from sales.api import ERRORS, SaleId
from sales.merchants import merchant_auth

router = Router(tags=["orders"])


class BooksOut(Schema):
    sale_id: int
    status: str
    quantity: int
    remaining: int | None
    sold: int | None
    reservations_in_ledger: int
    pending_reservations: int
    orders_persisted: int
    units_persisted: int
    consumer_lag: int | None
    anomalies: int
    drift: int | None
    settled: bool


@router.get(
    "/{int:sale_id}/books",
    response={200: BooksOut, **ERRORS},
    auth=merchant_auth,
    summary="A sale's books: sold in Redis, in flight, persisted in PostgreSQL, and whether they agree",
)
def sale_books(request: HttpRequest, sale_id: SaleId) -> BooksOut:
    selectors.sale_get(user=request.user, sale_id=sale_id)  # 404 unless it is yours
    try:
        books = sale_reconcile(sale_id=sale_id)
    except redis.RedisError as error:
        raise ServiceUnavailable(f"Redis does not answer: {error}") from error
    return BooksOut(**books.__dict__, settled=books.settled)
