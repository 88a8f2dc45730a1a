"""Orders' services: the writes of the order pipeline, apart from the Kafka loop that
drives them (orders/consumer.py) and the re-publisher (orders/republish.py).

    order_persist_batch  a batch of orders into PostgreSQL in one transaction, exactly
                         once: INSERT ... ON CONFLICT (order_id) DO NOTHING, then each
                         sale's persisted-units count raised with an optimistic lock on
                         its version, never past its quantity (the excess, which a
                         correct system never produces, becomes anomalies)
    ledger_release       persisted orders leave their sale's Redis ledger

The batch is written with raw SQL on one cursor (sales_sale's count included, in the
same transaction as the orders): as ORM statements, binding each order's fields in
Python cost a third of the consumer's time under load.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import redis
from django.db import connection, transaction

from infra.clients import redis_client
from orders.message import IncomingOrder
from sales import keys

logger = logging.getLogger(__name__)

MAX_VERSION_RETRIES = 20


@dataclass
class BatchResult:
    inserted: list[IncomingOrder] = field(default_factory=list)
    duplicates: list[IncomingOrder] = field(default_factory=list)
    excess: list[IncomingOrder] = field(default_factory=list)  # refused: past the quantity
    unknown_sale: list[IncomingOrder] = field(default_factory=list)


class VersionConflict(Exception):
    """Another consumer moved a sale's persisted count first: redo the transaction."""


def order_persist_batch(*, orders: list[IncomingOrder]) -> BatchResult:
    """Write a batch of orders in one transaction (redone on a version conflict)."""
    for _ in range(MAX_VERSION_RETRIES):
        try:
            with transaction.atomic():
                return _persist_once(orders)
        except VersionConflict:
            continue
    raise RuntimeError(f"sale versions kept moving for {MAX_VERSION_RETRIES} attempts")


def _persist_once(orders: list[IncomingOrder]) -> BatchResult:
    result = BatchResult()
    unique: dict[uuid.UUID, IncomingOrder] = {}
    for order in orders:
        if order.order_id in unique:
            result.duplicates.append(order)  # the same order twice in one batch (re-published)
        else:
            unique[order.order_id] = order
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, quantity, persisted_units, version FROM sales_sale WHERE id = ANY(%s)",
            [list({o.sale_id for o in unique.values()})],
        )
        sales = {row[0]: row[1:] for row in cursor.fetchall()}
        known = [o for o in unique.values() if o.sale_id in sales]
        result.unknown_sale = [o for o in unique.values() if o.sale_id not in sales]
        if not known:
            return result
        # The batch goes as one JSON parameter, unpacked by PostgreSQL: as arrays, each
        # element was quoted by psycopg in Python (Django's cursors bind client-side),
        # a third of this process's time under load.
        cursor.execute(
            """
            INSERT INTO orders_order
                (order_id, sale_id, user_id, quantity, unit_price, accepted_at, persisted_at,
                 kafka_partition, kafka_offset, status)
            SELECT (r->>0)::uuid, (r->>1)::bigint, r->>2, (r->>3)::int, (r->>4)::numeric,
                   (r->>5)::timestamptz, now(), (r->>6)::int, (r->>7)::bigint, 'confirmed'
            FROM jsonb_array_elements(%s::jsonb) AS r
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
            """,
            [
                json.dumps(
                    [
                        [str(o.order_id), o.sale_id, o.user_id, o.quantity, str(o.unit_price),
                         o.accepted_at.isoformat(), o.partition, o.offset]
                        for o in known
                    ]
                )
            ],
        )  # fmt: skip
        new_ids = {row[0] for row in cursor.fetchall()}
        new_by_sale: dict[int, list[IncomingOrder]] = defaultdict(list)
        for order in known:
            if order.order_id in new_ids:
                new_by_sale[order.sale_id].append(order)
            else:
                result.duplicates.append(order)  # persisted by an earlier delivery
        for sale_id, new_orders in new_by_sale.items():
            quantity, persisted, version = sales[sale_id]
            kept, excess = _fit(new_orders, quantity - persisted)
            if excess:
                _record_excess(cursor, sale_id, quantity, excess)
            cursor.execute(
                "UPDATE sales_sale SET persisted_units = persisted_units + %s, version = version + 1, "
                "oversold_flag = oversold_flag OR %s WHERE id = %s AND version = %s",
                [sum(o.quantity for o in kept), bool(excess), sale_id, version],
            )
            if cursor.rowcount != 1:
                raise VersionConflict(sale_id)
            result.inserted += kept
            result.excess += excess
    return result


def _fit(orders: list[IncomingOrder], capacity: int) -> tuple[list[IncomingOrder], list[IncomingOrder]]:
    """Keep orders first come first served while they fit; the rest is excess."""
    kept, excess = [], []
    for order in sorted(orders, key=lambda o: (o.accepted_at, str(o.order_id))):
        if order.quantity <= capacity:
            kept.append(order)
            capacity -= order.quantity
        else:
            excess.append(order)
    return kept, excess


def _record_excess(cursor: Any, sale_id: int, quantity: int, excess: list[IncomingOrder]) -> None:
    reason = f"would take sale {sale_id} past its quantity of {quantity}"
    cursor.execute("DELETE FROM orders_order WHERE order_id = ANY(%s)", [[o.order_id for o in excess]])
    cursor.execute(
        "INSERT INTO orders_orderanomaly (order_id, sale_id, reason, message, detected_at) "
        "SELECT a, %s, %s, b::jsonb, now() FROM unnest(%s::uuid[], %s::text[]) AS t(a, b) "
        "ON CONFLICT (order_id) DO NOTHING",
        [sale_id, reason, [o.order_id for o in excess], [o.raw.decode() for o in excess]],
    )
    logger.error("sale %s: %d order(s) refused, %s", sale_id, len(excess), reason)


def ledger_release(*, orders: list[IncomingOrder]) -> None:
    """Persisted orders leave their sale's Redis ledger (best effort: the
    re-publisher finds any left behind and removes them once it sees the row)."""
    by_sale: dict[int, list[str]] = defaultdict(list)
    for order in orders:
        by_sale[order.sale_id].append(str(order.order_id))
    try:
        pipe = redis_client().pipeline(transaction=False)
        for sale_id, order_ids in by_sale.items():
            pipe.hdel(keys.ledger_key(sale_id), *order_ids)
            pipe.zrem(keys.pending_key(sale_id), *order_ids)
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("ledger not trimmed (Redis: %s); the re-publisher will do it", error)
