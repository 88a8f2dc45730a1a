"""Reads about orders: what PostgreSQL holds, and what Kafka still holds for us."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from django.db.models import Sum

from orders.models import Order

KAFKA_TIMEOUT_SECONDS = 5.0


def order_units_persisted(*, sale_id: int) -> int:
    """Units of a sale that have an order row."""
    return Order.objects.filter(sale_id=sale_id).aggregate(units=Sum("quantity"))["units"] or 0


def order_count_persisted(*, sale_id: int) -> int:
    return Order.objects.filter(sale_id=sale_id).count()


def orders_backlog() -> int:
    """Messages on the orders topic that the consumer group has not committed yet.

    A partition the group never committed counts from its low watermark.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
            "group.id": settings.KAFKA_ORDERS_GROUP,
            "enable.auto.commit": False,
            "log_level": 3,
        }
    )
    try:
        topic = settings.KAFKA_ORDERS_TOPIC
        metadata = consumer.list_topics(topic, timeout=KAFKA_TIMEOUT_SECONDS)
        partitions = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
        committed = consumer.committed(partitions, timeout=KAFKA_TIMEOUT_SECONDS)
        backlog = 0
        for partition in committed:
            low, high = consumer.get_watermark_offsets(partition, timeout=KAFKA_TIMEOUT_SECONDS)
            start = partition.offset if partition.offset >= 0 else low
            backlog += max(0, high - start)
        return backlog
    finally:
        consumer.close()
