"""The re-publisher: reservations that never reached Kafka get there.

A reservation is committed in Redis (the sale's ledger) before its message is
produced. If the web process dies in between, or its acknowledgement came too
late (202 accepted_pending), only the ledger knows the order. Every few seconds
this task looks at each sale's pending set for reservations older than a grace
period: those with an order row are removed from the ledger; the others are
produced again, same order id, and the consumer de-duplicates.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

from infra.clients import kafka_producer_config, per_process, redis_client, redis_ms
from orders.models import Order
from sales import keys
from sales.selectors import sale_ids_open_or_ended_since

logger = logging.getLogger(__name__)

GRACE_MS = 5_000  # a normal hand-off is acknowledged in milliseconds
BATCH = 1_000


def _sales_with_a_ledger() -> list[int]:
    return sale_ids_open_or_ended_since(since=timezone.now() - timedelta(days=1))


def ledger_republish(*, grace_ms: int = GRACE_MS) -> dict[str, int]:
    """One pass over the sales' pending reservations; returns what it did."""
    from confluent_kafka import Producer

    client = redis_client()
    cutoff = redis_ms(client.time()) - grace_ms
    done = {"republished": 0, "released": 0, "missing": 0, "unreplicated": 0}
    producer: Producer | None = None
    for sale_id in _sales_with_a_ledger():
        pending_key, ledger_key = keys.pending_key(sale_id), keys.ledger_key(sale_id)
        order_ids = [
            raw.decode() for raw in client.zrangebyscore(pending_key, "-inf", cutoff, start=0, num=BATCH)
        ]
        if not order_ids:
            continue
        persisted = {
            str(pk) for pk in Order.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True)
        }
        if persisted:
            client.hdel(ledger_key, *persisted)
            client.zrem(pending_key, *persisted)
            done["released"] += len(persisted)
        waiting = [order_id for order_id in order_ids if order_id not in persisted]
        if not waiting:
            continue
        # One producer per process, kept between passes: messages a pass could not
        # flush in time stay queued and are delivered, not dropped with it.
        producer = producer or per_process("republisher", lambda: Producer(kafka_producer_config()))
        messages = client.hmget(ledger_key, waiting)
        if not _replicas_hold_what_was_read(client, sale_id):
            done["unreplicated"] += 1
            logger.warning("sale %s: no replica acknowledged its reservations yet; not re-published", sale_id)
            continue
        sent = []
        for order_id, message in zip(waiting, messages, strict=True):
            if message is None:  # pending without a reservation: nothing to send
                client.zrem(pending_key, order_id)
                done["missing"] += 1
                continue
            producer.produce(settings.KAFKA_ORDERS_TOPIC, key=order_id.encode(), value=message)
            sent.append(order_id)
        if sent and producer.flush(10) == 0:
            # Acknowledged: look again only after another grace period.
            client.zadd(pending_key, dict.fromkeys(sent, redis_ms(client.time())), xx=True)
            done["republished"] += len(sent)
            logger.warning("sale %s: re-published %d reservation(s) not yet persisted", sale_id, len(sent))
    return done


def _replicas_hold_what_was_read(client: redis.Redis, sale_id: int) -> bool:
    """HA (REDIS_WAIT_REPLICAS): are the reservations just read held by a replica?
    A reservation whose WAIT timed out (its shopper was told 503) may still be on the
    primary alone: handed to Kafka now, it would be persisted while a failover could
    take it out of the promoted replica's stock, and its units be sold twice. Redis
    replicates in order, so a write made after the read, acknowledged by WAIT, proves
    the replica has everything before it. Always True on a single Redis."""
    replicas = settings.REDIS_WAIT_REPLICAS
    if not replicas:
        return True
    pipe = client.pipeline(transaction=False)
    pipe.set(keys.replicated_mark_key(sale_id), 1, px=60_000)
    pipe.execute_command("WAIT", replicas, settings.REDIS_WAIT_TIMEOUT_MS)
    return pipe.execute()[-1] >= replicas


def ledger_republish_safely() -> dict[str, int]:
    try:
        return ledger_republish()
    except redis.RedisError as error:
        logger.warning("re-publisher skipped a pass: Redis %s", error)
        return {}
