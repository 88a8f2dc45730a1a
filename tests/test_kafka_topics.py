"""The project creates the Kafka topics it needs (orders/topics.py, run by
`manage.py kafka_topics` and the test session): the orders topic with
KAFKA_ORDERS_PARTITIONS partitions, and the dead-letter topic."""

from __future__ import annotations

from django.conf import settings

from infra.clients import kafka_admin


def test_orders_topics_exist_with_partitions() -> None:
    topics = kafka_admin().list_topics(timeout=10).topics
    assert len(topics[settings.KAFKA_ORDERS_TOPIC].partitions) == settings.KAFKA_ORDERS_PARTITIONS
    assert settings.KAFKA_ORDERS_DLQ_TOPIC in topics
