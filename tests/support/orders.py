"""Order messages for tests: one made by hand as the API would send it, the
orders on the topic for a sale, and a consumer group moved to the topic's end."""

from __future__ import annotations

import json
import uuid


def message(sale_id: int, *, quantity: int = 1, at_ms: int = 1_800_000_000_000, **extra) -> bytes:
    body = {
        "order_id": str(uuid.uuid4()), "sale_id": sale_id, "sku": "s", "user_id": f"u-{uuid.uuid4().hex[:6]}",
        "quantity": quantity, "unit_price": "449.00", "currency": "EUR", "accepted_at_ms": at_ms, **extra,
    }  # fmt: skip
    return json.dumps(body).encode()


def commit_orders_topic_to_end(group_id: str | None = None) -> None:
    """Mark every message on the orders topic as consumed by a consumer group (by
    default the order consumer's): the state a drained pipeline leaves behind, or
    a clean start for a test's own consumer group."""
    from django.conf import settings

    from infra.kafka import group_commit_to_end

    group_commit_to_end(settings.KAFKA_ORDERS_TOPIC, group_id or settings.KAFKA_ORDERS_GROUP)


def orders_on_topic(sale_id: int) -> list[dict]:
    """Every order message for the sale on the orders topic, read from the start
    up to the end offsets as they are now."""
    from orders.topics import sale_order_messages

    return sale_order_messages(sale_id)
